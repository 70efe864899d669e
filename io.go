package main

import (
	"os"

	"golang.org/x/term"

	"github.com/kauditui/kauditui/render"
)

func systemIO() *IO {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	w := 0
	if tty {
		w, _, _ = term.GetSize(int(os.Stdout.Fd()))
	}
	return &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, OutTTY: tty, Width: w, Getenv: os.Getenv,
		InTTY: term.IsTerminal(int(os.Stdin.Fd())), ErrTTY: term.IsTerminal(int(os.Stderr.Fd()))}
}

// noColorEnv reports whether the environment asks for no colour: NO_COLOR
// set (https://no-color.org), or TERM=dumb (a terminal that draws no
// escapes, as Emacs' shell or a CI log). A non-terminal output gets none
// either: that is OutTTY's to say.
func (s *IO) noColorEnv() bool {
	return s.Getenv != nil && (s.Getenv("NO_COLOR") != "" || s.Getenv("TERM") == "dumb")
}

// sanitize escapes control characters in log text before it is printed.
var sanitize = render.Sanitize
