package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With no SOURCE, kauditui reads the audit log path from the real kubeadm
// manifest, or says in one line what to do.
func TestAuditLogFromManifest(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("testdata", "kubeadm", "kube-apiserver.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withFlag := func(flags ...string) string {
		return strings.Replace(string(kubeadm), "    - kube-apiserver\n", "    - kube-apiserver\n    - "+strings.Join(flags, "\n    - ")+"\n", 1)
	}
	for _, tc := range []struct {
		name, manifest, want, err string
	}{
		{"kubeadm default", write("plain.yaml", string(kubeadm)), "", "auditing is not enabled"},
		{"file mode", write("file.yaml", withFlag("--audit-log-path=/var/log/kubernetes/audit/audit.log")), "/var/log/kubernetes/audit/audit.log", ""},
		{"last flag wins", write("twice.yaml", withFlag("--audit-log-path=/old.log", "--audit-log-path=/new.log")), "/new.log", ""},
		{"stdout mode", write("stdout.yaml", withFlag("--audit-log-path=-")), "", "kubectl -n kube-system logs"},
		{"no manifest", filepath.Join(dir, "missing.yaml"), "", "no kubeadm apiserver manifest"},
		{"not YAML", write("bad.yaml", "{{{"), "", "does not parse"},
	} {
		got, err := auditLogFromManifest(tc.manifest)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got %q, %v; want %q, error containing %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}
