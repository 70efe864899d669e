package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/completion"
)

// The -o values completion offers are the formats query takes.
func TestCompletionOutputsAreFormats(t *testing.T) {
	for _, o := range completion.QueryOutputs {
		ios, _, _ := testIO("")
		opts := &queryOptions{IO: ios, Output: o}
		if err := opts.validate(); err != nil {
			t.Errorf("completion offers -o %s, which query refuses: %v", o, err)
		}
	}
}

// Values come from the newest part of the log only, so a Tab on a master
// with a 100 MB log answers at once: a user seen only before the last
// maxBytes is not offered. (A crafted log: the real log's lines, with the
// user renamed in the older half.)
func TestCompletionReadsTheNewestPartOfTheLog(t *testing.T) {
	real, err := os.ReadFile("testdata/file/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	old := bytes.ReplaceAll(real, []byte(`"username":"erin-editor"`), []byte(`"username":"old-user"`))
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, append(old, real...), 0o600); err != nil {
		t.Fatal(err)
	}
	got := completion.LogValues(path, "user", time.Second, int64(len(real)))
	if !slices.Contains(got, "erin-editor") || slices.Contains(got, "old-user") {
		t.Errorf("users from the newest %d bytes: %q; want erin-editor and not old-user", len(real), got)
	}
	if got := completion.LogValues(path, "user", time.Second, int64(len(real)*2)); !slices.Contains(got, "old-user") {
		t.Errorf("users from the whole log: %q; want old-user too", got)
	}
}

// A hostile value (a user name with an escape sequence or a blank) is not
// offered: it would be written to the terminal and split by the shell.
// (Crafted log.)
func TestCompletionLeavesOutHostileValues(t *testing.T) {
	real, err := os.ReadFile("testdata/file/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	hostile := bytes.ReplaceAll(real, []byte(`"username":"erin-editor"`), []byte(`"username":"evil\u001b]52;c;cm0gLXJm\u0007 x"`))
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, hostile, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, v := range completion.LogValues(path, "user", time.Second, completion.Bytes) {
		if strings.Contains(v, "evil") {
			t.Errorf("offered %q", v)
		}
	}
}

// TERM=dumb gives no colour even on a terminal; another TERM does (so the
// test can tell).
func TestQueryNoColourOnDumbTerminal(t *testing.T) {
	for _, term := range []string{"dumb", "xterm-256color"} {
		ios, out, _ := testIO("")
		ios.OutTTY = true
		ios.Getenv = func(k string) string {
			if k == "TERM" {
				return term
			}
			return ""
		}
		if code := run([]string{"query", "testdata/file/audit.log"}, ios); code != 0 {
			t.Fatalf("TERM=%s: exit %d", term, code)
		}
		if coloured := strings.Contains(out.String(), "\x1b["); coloured != (term != "dumb") {
			t.Errorf("TERM=%s: coloured=%v", term, coloured)
		}
	}
}
