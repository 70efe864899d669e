package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// TestExplorerInTmux runs hack/tui-test.sh: the real kauditui binary driven
// in tmux on the testdata as a person would (filter, detail, apiserver-log
// tab, answers, quit), asserting on the captured screens. CI installs tmux;
// without it (or jq) the test is skipped and says so.
func TestExplorerInTmux(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the tmux end-to-end test builds and drives the binary (about 20 s)")
	}
	for _, tool := range []string{"tmux", "jq", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: the explorer's tmux end-to-end test needs it (apt-get install %s)", tool, tool)
		}
	}
	bin := filepath.Join(t.TempDir(), "kauditui")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building kauditui: %v", err)
	}
	cmd := exec.Command("bash", "hack/tui-test.sh", "--bin", bin, "--testdata", audittest.Dir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("hack/tui-test.sh: %v", err)
	}
}
