// Command crilog stands in for the container runtime when the harness runs
// kube-apiserver as a plain process: no container runtime can run on the
// machines that generate kauditui's testdata, so this program does the one
// part of containerd's job that matters for logs.
//
// It starts the command after "--" with its stdout and stderr on two pipes,
// reads both the way containerd's CRI plugin does (internal/cri/io/logger.go)
// and writes:
//
//   - with -cri, a CRI container log: one record per line,
//     "<RFC3339Nano time> <stdout|stderr> <P|F> <text>\n"; a line longer than
//     -max-line (16 KiB, containerd's default max_container_log_line_size) is
//     cut into P (partial) records of exactly that many bytes, and the rest of
//     the line goes in an F (full) record. Text that ends without a newline when
//     the stream closes is written as a P record, as containerd does.
//   - with -text, what `kubectl logs` shows for that CRI log: the records'
//     text in the same order, partial records joined, each F record ending a
//     line. Both files come from the same records, so they always agree.
//
// Records are written whole, one write per record, under one lock, so the two
// streams interleave only at record boundaries, as in a real CRI log.
// SIGINT and SIGTERM are passed to the command; crilog exits when it does,
// after draining both pipes, with its exit status.
//
// Usage:
//
//	crilog [-cri FILE] [-text FILE] [-max-line N] -- COMMAND [ARG...]
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

func main() {
	criPath := flag.String("cri", "", "write the CRI container log to `FILE`")
	textPath := flag.String("text", "", "write the kubectl-logs view (stdout and stderr interleaved) to `FILE`")
	maxLine := flag.Int("max-line", 16*1024, "split lines longer than `N` bytes into partial records")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: crilog [-cri FILE] [-text FILE] [-max-line N] -- COMMAND [ARG...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 || *maxLine <= 0 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Args(), *criPath, *textPath, *maxLine))
}

func run(command []string, criPath, textPath string, maxLine int) int {
	out := &recordWriter{}
	for _, o := range []struct {
		path string
		dst  **os.File
	}{{criPath, &out.cri}, {textPath, &out.text}} {
		if o.path == "" {
			continue
		}
		f, err := os.OpenFile(o.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(os.Stderr, "crilog: %v\n", err)
			return 1
		}
		defer f.Close()
		*o.dst = f
	}

	cmd := exec.Command(command[0], command[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "crilog: %v\n", err)
		return 1
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "crilog: %v\n", err)
		return 1
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "crilog: %v\n", err)
		return 1
	}
	go func() {
		for s := range signals {
			_ = cmd.Process.Signal(s)
		}
	}()

	var wg sync.WaitGroup
	for _, s := range []struct {
		name string
		r    io.Reader
	}{{"stdout", stdout}, {"stderr", stderr}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			redirect(s.r, s.name, maxLine, out)
		}()
	}
	// Wait must come after the pipes are drained: it closes them.
	wg.Wait()
	err = cmd.Wait()
	if out.err != nil {
		fmt.Fprintf(os.Stderr, "crilog: %v\n", out.err)
		return 1
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crilog: %v\n", err)
		return 1
	}
	return 0
}

// recordWriter writes each record to both outputs under one lock.
type recordWriter struct {
	mu   sync.Mutex
	cri  *os.File
	text *os.File
	buf  []byte
	err  error // the first write error
}

func (w *recordWriter) write(stream string, full bool, text [][]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	tag := "P"
	if full {
		tag = "F"
	}
	if w.cri != nil {
		b := time.Now().UTC().AppendFormat(w.buf[:0], time.RFC3339Nano)
		b = append(b, ' ')
		b = append(b, stream...)
		b = append(b, ' ')
		b = append(b, tag...)
		b = append(b, ' ')
		for _, t := range text {
			b = append(b, t...)
		}
		b = append(b, '\n')
		w.buf = b
		if _, err := w.cri.Write(b); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.text != nil {
		b := w.buf[:0]
		for _, t := range text {
			b = append(b, t...)
		}
		if full {
			b = append(b, '\n')
		}
		w.buf = b
		if _, err := w.text.Write(b); err != nil && w.err == nil {
			w.err = err
		}
	}
}

// redirect copies one stream into records, as containerd's redirectLogs:
// read a line in buffer-sized pieces, cut a partial record whenever the line
// so far exceeds maxLine, write the rest as a full record at the newline.
func redirect(r io.Reader, stream string, maxLine int, out *recordWriter) {
	size := 4096
	if maxLine < size {
		size = maxLine
	}
	br := bufio.NewReaderSize(r, size)
	var (
		pieces [][]byte
		length int
	)
	for {
		piece, isPrefix, err := readLine(br)
		stop := false
		if len(piece) > 0 {
			pieces = append(pieces, append([]byte(nil), piece...))
			length += len(piece)
		}
		if err != nil {
			if length == 0 {
				return
			}
			stop = true
		}
		if length > maxLine {
			exceed := length - maxLine
			last := pieces[len(pieces)-1]
			pieces[len(pieces)-1] = last[:len(last)-exceed]
			out.write(stream, false, pieces)
			pieces = [][]byte{last[len(last)-exceed:]}
			length = exceed
		}
		if isPrefix && !stop {
			continue
		}
		// Text still pending when the stream ends had no newline: partial.
		out.write(stream, !stop, pieces)
		pieces, length = nil, 0
		if stop {
			return
		}
	}
}

// readLine returns the next piece of a line without its newline (and a
// carriage return before it). isPrefix is true when the buffer filled before
// the newline. Unlike bufio.Reader.ReadLine it returns the text that precedes
// an error together with the error, so text without a final newline can be
// told apart.
func readLine(br *bufio.Reader) (piece []byte, isPrefix bool, err error) {
	piece, err = br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return piece, true, nil
	}
	if err != nil {
		return piece, false, err
	}
	piece = piece[:len(piece)-1]
	if n := len(piece); n > 0 && piece[n-1] == '\r' {
		piece = piece[:n-1]
	}
	return piece, false, nil
}
