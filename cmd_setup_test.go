package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/setup"
)

func setupRoot(t *testing.T) string {
	t.Helper()
	src := "testdata/setup/v1beta3-era/kube-apiserver.yaml"
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "etc/kubernetes/manifests")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "kube-apiserver.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	return root
}

func runSetup(args ...string) (code int, out, errOut string) {
	ios, o, e := testIO("")
	code = run(append([]string{"setup"}, args...), ios)
	return code, o.String(), e.String()
}

// On a terminal setup asks before it writes; the answer is read from
// standard input. No (or nothing) writes nothing and exits as cancelled.
// (--revert asks without the form, whose keys a test would have to type.)
func TestSetupAsksOnATerminal(t *testing.T) {
	root := setupRoot(t)
	manifest := filepath.Join(root, "etc/kubernetes/manifests/kube-apiserver.yaml")
	orig, _ := os.ReadFile(manifest)
	if code, _, errOut := runSetup("--root", root, "--yes", "--no-wait"); code != exitOK {
		t.Fatalf("setup: code %d %s", code, errOut)
	}
	changed, _ := os.ReadFile(manifest)
	for _, tc := range []struct {
		answer string
		code   int
		want   []byte
	}{{"n\n", exitCancelled, changed}, {"\n", exitCancelled, changed}, {"y\n", exitOK, orig}} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			ios, _, errOut := testIO(tc.answer)
			ios.InTTY, ios.ErrTTY = true, true
			if !ios.CanPrompt() {
				t.Fatal("CanPrompt is false on two terminals")
			}
			code := run([]string{"setup", "--root", root, "--no-wait", "--revert"}, ios)
			if code != tc.code || !strings.Contains(errOut.String(), "Write these changes? [y/N]") {
				t.Errorf("answer %q: code %d, want %d; stderr %q", tc.answer, code, tc.code, errOut.String())
			}
			if got, _ := os.ReadFile(manifest); !bytes.Equal(got, tc.want) {
				t.Errorf("answer %q: the manifest is not what it should be", tc.answer)
			}
		})
	}
}

func TestSetupCommand(t *testing.T) {
	root := setupRoot(t)
	manifest := filepath.Join(root, "etc/kubernetes/manifests/kube-apiserver.yaml")
	orig, _ := os.ReadFile(manifest)

	// Not a terminal and no --yes: refuse, say what to do.
	code, _, errOut := runSetup("--root", root)
	if code != 2 || !strings.Contains(errOut, "pass --yes to apply, or --dry-run") {
		t.Errorf("no --yes: code %d, %q", code, errOut)
	}
	code, out, _ := runSetup("--root", root, "--dry-run", "--mode", "stdout")
	if code != 0 || !strings.Contains(out, "+    - --audit-log-path=-") {
		t.Errorf("dry run: code %d\n%s", code, out)
	}
	if code, _, errOut := runSetup("--root", root, "--mode", "syslog", "--yes"); code != 2 || !strings.Contains(errOut, "use file or stdout") {
		t.Errorf("bad mode: code %d %q", code, errOut)
	}
	if code, _, errOut := runSetup("--root", root, "--yes", "--no-wait", "--policy", "nonesuch"); code != exitUsage || !strings.Contains(errOut, "no such preset") {
		t.Errorf("bad policy: code %d %q", code, errOut)
	}
	if code, out, errOut := runSetup("--root", root, "--yes", "--no-wait"); code != 0 || !strings.Contains(out, "backup: ") {
		t.Fatalf("setup: code %d\n%s\n%s", code, out, errOut)
	}
	if code, out, _ := runSetup("--root", root, "--yes", "--no-wait"); code != 0 || !strings.Contains(out, "Nothing to change") {
		t.Errorf("second run: code %d\n%s", code, out)
	}
	if code, _, errOut := runSetup("--root", root, "--yes", "--no-wait", "--revert"); code != 0 {
		t.Fatalf("revert: code %d %s", code, errOut)
	}
	if got, _ := os.ReadFile(manifest); !bytes.Equal(got, orig) {
		t.Error("revert is not byte-identical")
	}
	code, out, _ = runSetup("--print-kubeadm-config", "--root", root)
	if code != 0 || !strings.Contains(out, "kind: ClusterConfiguration") || !strings.Contains(out, "name: audit-policy-file") {
		t.Errorf("print-kubeadm-config: code %d\n%s", code, out)
	}
	if code, _, errOut := runSetup("--root", t.TempDir(), "--yes"); code != exitFailed || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "control-plane node") {
		t.Errorf("not a master: code %d %q", code, errOut)
	}
}

// kauditui with no SOURCE reads the log path with setup's flag reader: the
// two-item form, flags in args, the last one winning.
func TestSetupFlagReaderFindsTheAuditLog(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("testdata", "kubeadm", "kube-apiserver.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, edit, want string }{
		{"two items", "    - kube-apiserver\n    - --audit-log-path\n    - /var/log/old/audit.log\n", "/var/log/old/audit.log"},
		{"two items, stdout", "    - kube-apiserver\n    - --audit-log-path\n    - \"-\"\n", "-"},
		{"last wins across forms", "    - kube-apiserver\n    - --audit-log-path\n    - /a.log\n    - --audit-log-path=/b.log\n", "/b.log"},
		{"in args", "    - kube-apiserver\n    args:\n    - --audit-log-path\n    - /var/log/args/audit.log\n", "/var/log/args/audit.log"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
		os.WriteFile(p, []byte(strings.Replace(string(kubeadm), "    - kube-apiserver\n", c.edit, 1)), 0o600)
		if got, err := setup.AuditLogFromManifest(p); got != c.want || err != nil {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
}

// A setting not given as a flag keeps the manifest's; --to goes with --revert.
func TestSetupFlagsKeepUnlessGiven(t *testing.T) {
	root := setupRoot(t)
	manifest := filepath.Join(root, "etc/kubernetes/manifests/kube-apiserver.yaml")
	if code, _, errOut := runSetup("--root", root, "--to", "2"); code != 2 || !strings.Contains(errOut, "--to N goes with --revert") {
		t.Errorf("--to without --revert: %d %q", code, errOut)
	}
	if code, _, errOut := runSetup("--root", root, "--yes", "--max-age", "-1"); code != 2 || !strings.Contains(errOut, "take 0 or more") {
		t.Errorf("--max-age -1: %d %q", code, errOut)
	}
	if code, out, errOut := runSetup("--root", root, "--yes", "--no-wait", "--max-age", "7", "--compress"); code != 0 {
		t.Fatalf("setup: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runSetup("--root", root, "--yes", "--no-wait", "--max-backup", "4"); code != 0 ||
		!strings.Contains(out, "rotated files kept: 10 -> 4") || strings.Contains(out, "keep rotated logs") {
		t.Fatalf("second setup: %d\n%s%s", code, out, errOut)
	}
	b, _ := os.ReadFile(manifest)
	for _, want := range []string{"- --audit-log-maxage=7\n", "- --audit-log-maxbackup=4\n", "- --audit-log-compress=true\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("manifest lacks %q", want)
		}
	}
	if code, out, _ := runSetup("--root", root, "--revert", "--dry-run"); code != 0 || !strings.Contains(out, "   2  ") {
		t.Errorf("--revert --dry-run does not list two backups: %d\n%s", code, out)
	}
}
