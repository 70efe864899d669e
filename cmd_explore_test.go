package main

import (
	"bytes"
	"strings"
	"testing"
)

// Usage problems stop before the terminal is taken over: one line, exit 2.
func TestExploreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-q", "code=4x", "testdata/sample.log"}, `term 1 "code=4x"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--demo", "testdata/sample.log"}, "--demo reads the built-in sample data"},
		{[]string{"/nonexistent/audit.log"}, "/nonexistent/audit.log"},
	} {
		var out, errb bytes.Buffer
		io := &IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
		code := run(c.args, io)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, errb.String())
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, errb.String(), c.want)
		}
		if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); c.args[0] != "--bogus" && lines > 0 {
			t.Errorf("%v: the error takes %d lines: %q", c.args, lines+1, errb.String())
		}
	}
}
