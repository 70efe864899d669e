package audittest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Logs lists a folder's family in the order the harness wrote it: the
// ground truth names the files of the file run oldest first.
func TestLogsInTheHarnessOrder(t *testing.T) {
	if os.Getenv("KAUDITUI_TESTDATA") == "" {
		if got, want := Dir(), filepath.Join("..", "..", "testdata"); got != want {
			t.Errorf("Dir() = %q from audit/audittest, want %q", got, want)
		}
	}
	var got, want []string
	for _, p := range Logs(t, "file") {
		got = append(got, filepath.Base(p))
	}
	for _, f := range Truth(t).Get("runs.file.files").Array() {
		want = append(want, f.Get("name").Str)
	}
	if len(want) < 3 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Logs(file) = %v, the ground truth's files %v", got, want)
	}
	if p := Rotated(t, "file", "audit-*.log"); filepath.Base(p) != want[1] {
		t.Errorf("Rotated(file, audit-*.log) = %s, want the plain backup %s", p, want[1])
	}
}
