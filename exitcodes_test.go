package main

import (
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// Every command exits with a code from one table (main.go, README: Exit
// status): what a script sees for each outcome.
func TestExitCodes(t *testing.T) {
	log := audittest.Path("file", "audit.log")
	for _, tc := range []struct {
		name string
		args []string
		in   string
		code int
	}{
		{"query matched", []string{"query", "--count", "-q", "verb=delete", log}, "", exitOK},
		{"query matched nothing", []string{"query", "-q", "user=nobody-at-all", log}, "", exitNoMatch},
		{"query empty input", []string{"query", "-"}, "", exitNoMatch},
		{"query bad filter", []string{"query", "-q", "code=abc", log}, "", exitUsage},
		{"query bad flag", []string{"query", "--nonesuch", log}, "", exitUsage},
		{"query missing file", []string{"query", "testdata/no/such.log"}, "", exitUsage},
		{"query not audit", []string{"query", "-"}, "hello\nworld\n", exitUsage},
		{"explorer bad flag", []string{"--nonesuch"}, "", exitUsage},
		{"setup not a master", []string{"setup", "--root", t.TempDir(), "--yes"}, "", exitFailed},
		{"setup usage", []string{"setup", "--to", "2"}, "", exitUsage},
		{"version", []string{"version"}, "", exitOK},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			ios, _, errOut := testIO(tc.in)
			if code := run(tc.args, ios); code != tc.code {
				t.Errorf("kauditui %s: exit %d, want %d (%s)", strings.Join(tc.args, " "), code, tc.code, strings.TrimSpace(errOut.String()))
			}
		})
	}
}
