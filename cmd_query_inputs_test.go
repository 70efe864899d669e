package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// Several inputs, some of which hold no audit event: the answer comes from
// the real log, and each input that gave nothing is named in one line with
// what it holds (before, they were skipped without a word). The extra inputs
// are crafted; one is named with an escape sequence, printed sanitised.
func TestQueryNamesInputsNotUsed(t *testing.T) {
	log, truth := fileRun(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.log")
	os.WriteFile(empty, nil, 0o600)
	klog := filepath.Join(dir, "klog.log")
	os.WriteFile(klog, []byte("I1126 03:58:50.564233   12364 flags.go:64] FLAG: --v=\"2\"\n"), 0o600)
	legacy := filepath.Join(dir, "legacy\x1b[31m.log")
	os.WriteFile(legacy, []byte(`2026-11-26T04:00:00.123456789Z AUDIT: id="1" stage="ResponseComplete" ip="10.0.0.1" method="get" user="alice"`+"\n"), 0o600)
	for _, args := range [][]string{{"--count"}, {"-o", "json"}, {"--top", "verb"}, {}} {
		r := runQueryTest(t, "", append(args, log, empty, klog, legacy)...)
		if r.code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		if len(args) > 0 && args[0] == "--count" && strings.TrimSpace(r.stdout) != truth.Get("runs.file.requests").String() {
			t.Errorf("--count %s, ground truth %s", r.stdout, truth.Get("runs.file.requests"))
		}
		want := "kauditui: warning: " + empty + ": not used: it holds nothing: it is empty\n" +
			"kauditui: warning: " + klog + ": not used: it holds only apiserver log lines, no audit events\n" +
			"kauditui: warning: " + filepath.Join(dir, `legacy\x1b[31m.log`) + ": not used: it holds legacy audit lines (--audit-log-format=legacy); set --audit-log-format=json, as `kauditui setup` does\n"
		if r.stderr != want {
			t.Errorf("%v: stderr\n%s\nwant\n%s", args, r.stderr, want)
		}
	}
	// A filter that refuses every line of the log unparsed still uses it:
	// only the inputs without audit events are named.
	r := runQueryTest(t, "", "--count", "-q", "user=nobody-at-all", log, empty)
	if r.code != exitNoMatch || r.stderr != "kauditui: warning: "+empty+": not used: it holds nothing: it is empty\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// -o klog: the inputs without apiserver log lines are the unused ones.
	backup := audittest.Rotated(t, "file", "audit-*.log") // a backup named alone is read alone
	r = runQueryTest(t, "", "-o", "klog", klog, backup)
	if r.code != exitOK || r.stderr != "kauditui: warning: "+backup+": not used: it holds no apiserver log line\n" {
		t.Errorf("-o klog: exit %d, stderr %q", r.code, r.stderr)
	}
}
