package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunSplitsLikeContainerd runs a real child process and checks the CRI
// records and the kubectl-logs view crilog writes for it.
func TestRunSplitsLikeContainerd(t *testing.T) {
	dir := t.TempDir()
	cri, text := filepath.Join(dir, "0.log"), filepath.Join(dir, "view.log")
	long := strings.Repeat("a", 25) // 10 + 10 + 5 with -max-line 10
	script := "echo short; printf '%s\\n' " + long + "; printf 'exactly10\\n'; printf 'no newline'"
	if code := run([]string{"sh", "-c", script}, cri, text, 10); code != 0 {
		t.Fatalf("exit %d", code)
	}
	got, err := os.ReadFile(cri)
	if err != nil {
		t.Fatal(err)
	}
	record := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z stdout ([PF]) (.*)$`)
	var tags, texts []string
	for _, l := range strings.Split(strings.TrimSuffix(string(got), "\n"), "\n") {
		m := record.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a CRI record: %q", l)
		}
		tags = append(tags, m[2])
		texts = append(texts, m[3])
	}
	wantTags := []string{"F", "P", "P", "F", "F", "P"}
	wantTexts := []string{"short", long[:10], long[10:20], long[20:], "exactly10", "no newline"}
	if strings.Join(tags, " ") != strings.Join(wantTags, " ") || strings.Join(texts, "|") != strings.Join(wantTexts, "|") {
		t.Errorf("records: tags %v texts %q\nwant tags %v texts %q", tags, texts, wantTags, wantTexts)
	}
	view, err := os.ReadFile(text)
	if err != nil {
		t.Fatal(err)
	}
	if want := "short\n" + long + "\nexactly10\nno newline"; string(view) != want {
		t.Errorf("view = %q, want %q", view, want)
	}
}

func TestRunPassesExitCodeAndStderr(t *testing.T) {
	dir := t.TempDir()
	cri := filepath.Join(dir, "0.log")
	if code := run([]string{"sh", "-c", "echo oops >&2; exit 3"}, cri, "", 16*1024); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	got, _ := os.ReadFile(cri)
	if !regexp.MustCompile(`^\S+ stderr F oops\n$`).Match(got) {
		t.Errorf("cri log = %q", got)
	}
}
