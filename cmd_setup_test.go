package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	var o, e bytes.Buffer
	code = run(append([]string{"setup"}, args...), &IO{In: strings.NewReader(""), Out: &o, Err: &e, Getenv: func(string) string { return "" }})
	return code, o.String(), e.String()
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
	if code, _, errOut := runSetup("--root", root, "--yes", "--no-wait", "--policy", "nonesuch"); code != 1 || !strings.Contains(errOut, "no such preset") {
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
	if code, _, errOut := runSetup("--root", t.TempDir(), "--yes"); code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "control-plane node") {
		t.Errorf("not a master: code %d %q", code, errOut)
	}
}
