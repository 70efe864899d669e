package main

// What the log says, however it is written: a real kube-apiserver log
// (the backup in testdata/answers/) written as other tools write it again: with a
// UTF-8 byte-order mark in front (Windows editors, PowerShell's Out-File),
// with its codes as floats (a JSON re-encoder that keeps numbers as doubles).

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit/audittest"
)

// writeVariant writes the real log (the backup of testdata/answers, which
// holds the 403s) as it is and changed by edit, each alone in a folder as
// audit.log.
func writeVariant(t *testing.T, edit func([]byte) []byte) (orig, variant string) {
	t.Helper()
	b, err := os.ReadFile(audittest.Rotated(t, "answers", "audit-*.log"))
	if err != nil {
		t.Fatal(err)
	}
	orig = filepath.Join(t.TempDir(), "audit.log")
	variant = filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(orig, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(variant, edit(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return orig, variant
}

// A byte-order mark before the first event does not cost that event: every
// request is counted, and -o json gives the first event back as the
// apiserver wrote it (without the mark), from a file and from stdin.
func TestQueryReadsPastAByteOrderMark(t *testing.T) {
	orig, bom := writeVariant(t, func(b []byte) []byte { return append([]byte("\xef\xbb\xbf"), b...) })
	want := runQueryTest(t, "", "--count", orig)
	if want.code != 0 {
		t.Fatalf("the real log: exit %d, %s", want.code, want.stderr)
	}
	raw, err := os.ReadFile(bom)
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{bom}, {"-"}} {
		stdin := ""
		if args[0] == "-" {
			stdin = string(raw)
		}
		got := runQueryTest(t, stdin, append([]string{"--count"}, args...)...)
		if got.stdout != want.stdout || got.stderr != "" {
			t.Errorf("%s with a BOM: %q requests (stderr %q), without %q", args[0], got.stdout, got.stderr, want.stdout)
		}
	}
	first := readLines(t, orig)[0]
	id := gjson.Get(first, "auditID").String()
	for _, args := range [][]string{{bom}, {"-"}} {
		stdin := ""
		if args[0] == "-" {
			stdin = string(raw)
		}
		r := runQueryTest(t, stdin, append([]string{"-o", "json", "-q", "id=" + id}, args...)...)
		if got, _, _ := strings.Cut(r.stdout, "\n"); got != first {
			t.Errorf("%s: the first event with a BOM before it reads back as %.120q, want %.120q", args[0], got, first)
		}
	}
}

// "code":403.0 is a 403: the count of code=403 (and of every code) is the
// same when each code is written as a float.
func TestQueryReadsACodeWrittenAsAFloat(t *testing.T) {
	codeRe := regexp.MustCompile(`"code":([0-9]+)([,}])`)
	orig, float := writeVariant(t, func(b []byte) []byte { return codeRe.ReplaceAll(b, []byte(`"code":${1}.0$2`)) })
	if b, _ := os.ReadFile(float); !strings.Contains(string(b), `"code":403.0}`) {
		t.Fatal("the rewritten log has no 403.0: the test checks nothing")
	}
	for _, args := range [][]string{
		{"--count", "-q", "code=403"},
		{"--count", "-q", "code=2xx"},
		{"--top", "code"},
	} {
		want := runQueryTest(t, "", append(args, orig)...)
		got := runQueryTest(t, "", append(args, float)...)
		if want.code != 0 || got.stdout != want.stdout {
			t.Errorf("%s: with codes as floats %q (exit %d), as written %q (exit %d)", strings.Join(args, " "), got.stdout, got.code, want.stdout, want.code)
		}
	}
}
