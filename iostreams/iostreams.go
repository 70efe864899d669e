// Package iostreams is the streams a command talks to, so tests can run
// commands with fake terminals (gh's iostreams, reduced to what kauditui
// needs), and an output that remembers its first write error.
package iostreams

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// IO is the streams a command talks to, so tests can run commands with fake
// terminals (gh's iostreams, reduced to what kauditui needs).
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// InTTY, OutTTY and ErrTTY say which streams are terminals: colour and
	// width follow Out, prompts need In and Err.
	InTTY, OutTTY, ErrTTY bool
	Width                 int
	Getenv                func(string) string

	// FlagsOnly, when set, is handed a command's FlagSet instead of the
	// command running (shell completion reads the flags there are).
	FlagsOnly func(*pflag.FlagSet)
}

// CanPrompt reports whether a question can be asked and answered: on
// standard error, read from standard input, both terminals.
func (s *IO) CanPrompt() bool { return s.InTTY && s.ErrTTY }

// System is the process's standard streams.
func System() *IO {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	w := 0
	if tty {
		w, _, _ = term.GetSize(int(os.Stdout.Fd()))
	}
	return &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, OutTTY: tty, Width: w, Getenv: os.Getenv,
		InTTY: term.IsTerminal(int(os.Stdin.Fd())), ErrTTY: term.IsTerminal(int(os.Stderr.Fd()))}
}

// NoColorEnv reports whether the environment asks for no colour: NO_COLOR
// set (https://no-color.org), or TERM=dumb (a terminal that draws no
// escapes, as Emacs' shell or a CI log). A non-terminal output gets none
// either: that is OutTTY's to say.
func (s *IO) NoColorEnv() bool {
	return s.Getenv != nil && (s.Getenv("NO_COLOR") != "" || s.Getenv("TERM") == "dumb")
}

// CheckedWriter passes writes to w until one fails, then refuses the rest
// with that error (and calls failed, once).
type CheckedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	err    error
	failed func()
}

func (o *CheckedWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
		o.failed()
	}
	return n, err
}

// NewCheckedWriter writes to w; failed is called at the first error.
func NewCheckedWriter(w io.Writer, failed func()) *CheckedWriter {
	return &CheckedWriter{w: w, failed: failed}
}

// Err is the first write error, or nil.
func (o *CheckedWriter) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// RunChecked runs cmd with an output that remembers its first write error,
// and a context that ends on it (the rest of a 5 GB log need not be read
// for nobody). lost is the output's write error when it is a failure,
// whatever cmd returned: never a silent exit 0 over a truncated answer. A
// closed pipe (| head -1) is not: the reader has what it wanted, so that
// stays quiet (on the real standard output the Go runtime ends the program
// with SIGPIPE first) and err is nil unless cmd failed otherwise.
func RunChecked(ios *IO, cmd func(context.Context, *IO) error) (err, lost error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewCheckedWriter(ios.Out, cancel)
	wios := *ios
	wios.Out = w
	err = cmd(ctx, &wios)
	if w.Err() == nil {
		return err, nil
	}
	if errors.Is(w.Err(), syscall.EPIPE) {
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, context.Canceled) || errors.Is(err, w.Err()) {
			return nil, nil // the reader left: what it read was right
		}
		return err, nil
	}
	return err, w.Err()
}
