package main

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// failingWriter takes n bytes, then fails every write with err.
type failingWriter struct {
	n   int
	err error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, w.err
}

// queryOutputCases are the outputs of query: the table, --count, -o json,
// --top and the answers, each on the real log.
func queryOutputCases() map[string][]string {
	log := audittest.Path("file", "audit.log")
	return map[string][]string{
		"table":    {log},
		"wide":     {"-o", "wide", log},
		"count":    {"--count", log},
		"json":     {"-o", "json", log},
		"top":      {"--top", "user", log},
		"exec":     {"--exec", log},
		"coverage": {"--coverage", log},
		"timeline": {"--timeline", log},
		"history":  {"--history", "deploy/team-a/kubyk-web", log},
		"klog":     {"-o", "klog", audittest.Path("stdout", "kube-apiserver.log")},
	}
}

// kauditui query > /dev/full: the output cannot be written, and query says
// so in one line and exits 3, for every output (it used to exit 0 with
// nothing written).
func TestQueryOutputThatCannotBeWrittenFails(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	for name, args := range queryOutputCases() {
		t.Run(name, func(t *testing.T) {
			ios, _, errOut := testIO("")
			ios.Out = full
			code := run(append([]string{"query"}, args...), ios)
			msg := errOut.String()
			if code != exitFailed || !strings.Contains(msg, "kauditui: query: the output could not be written, so it is incomplete: ") || !strings.Contains(msg, "no space left on device") {
				t.Fatalf("kauditui query %s > /dev/full: exit %d, want %d with one line saying the output could not be written:\n%s", strings.Join(args, " "), code, exitFailed, msg)
			}
			if strings.Count(msg, "could not be written") != 1 {
				t.Errorf("the failure is said more than once:\n%s", msg)
			}
		})
	}
}

// A disk that fills part-way: what was written is kept, the rest is
// refused, and query fails instead of exiting 0 over a cut answer.
func TestQueryOutputFillsPartWay(t *testing.T) {
	ios, _, errOut := testIO("")
	ios.Out = &failingWriter{n: 1000, err: syscall.ENOSPC}
	if code := run([]string{"query", "-o", "json", audittest.Path("file", "audit.log")}, ios); code != exitFailed {
		t.Fatalf("exit %d, want %d: %s", code, exitFailed, errOut)
	}
}

// | head -1: the reader closed the pipe after what it wanted. That is not
// a failure to report: nothing on standard error, the exit of the query.
func TestQueryClosedPipeStaysQuiet(t *testing.T) {
	for name, args := range queryOutputCases() {
		t.Run(name, func(t *testing.T) {
			ios, _, errOut := testIO("")
			ios.Out = &failingWriter{n: 10, err: syscall.EPIPE}
			code := run(append([]string{"query"}, args...), ios)
			if code != exitOK || errOut.Len() != 0 {
				t.Fatalf("kauditui query %s | head -c 10: exit %d, stderr %q; want 0 and nothing", strings.Join(args, " "), code, errOut)
			}
		})
	}
}
