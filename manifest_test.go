package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/setup"
	"time"

	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/source"
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
		{"stdout mode", write("stdout.yaml", withFlag("--audit-log-path=-")), "-", ""},
		{"no manifest", filepath.Join(dir, "missing.yaml"), "", "no kubeadm apiserver manifest"},
		{"not YAML", write("bad.yaml", "{{{"), "", "does not parse"},
	} {
		got, err := setup.AuditLogFromManifest(tc.manifest)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: got %q, %v; want %q, error containing %q", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// In stdout mode, with no SOURCE, kauditui reads the apiserver container's
// log files on the node (here the real CRI log of the stdout run, as the
// kubelet lays it out, rotated once); without them it says what to do.
func TestStdoutModeReadsThePodLogFiles(t *testing.T) {
	kubeadm, err := os.ReadFile(filepath.Join("testdata", "kubeadm", "kube-apiserver.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	manifest := filepath.Join(dir, "kube-apiserver.yaml")
	os.WriteFile(manifest, []byte(strings.Replace(string(kubeadm), "    - kube-apiserver\n", "    - kube-apiserver\n    - --audit-log-path=-\n", 1)), 0o600)
	cri, err := os.ReadFile(audittest.Path("stdout", "cri", "0.log"))
	if err != nil {
		t.Fatal(err)
	}
	pods := filepath.Join(dir, "pods", "kube-system_kube-apiserver-node1_0c1f", "kube-apiserver")
	os.MkdirAll(pods, 0o755)
	lines := strings.SplitAfter(string(cri), "\n")
	half := len(lines) / 2
	for half < len(lines) && strings.Contains(lines[half-1], " P ") {
		half++ // rotate between whole lines, as the kubelet does
	}
	os.WriteFile(filepath.Join(pods, "0.log.20261126-035900"), []byte(strings.Join(lines[:half], "")), 0o600)
	os.WriteFile(filepath.Join(pods, "0.log"), []byte(strings.Join(lines[half:], "")), 0o600)
	glob := filepath.Join(dir, "pods", "kube-system_kube-apiserver-*", "kube-apiserver", "*.log")

	want := runQueryTest(t, "", "--count", audittest.Path("stdout", "cri", "0.log")).stdout
	var out, errOut strings.Builder
	o := &queryOptions{IO: &IO{Out: &out, Err: &errOut, Getenv: func(string) string { return "" }}, Now: time.Now,
		Manifest: manifest, PodLogs: glob, Output: "table", Count: true,
		Pods: source.PodFlags{Kubeconfig: filepath.Join(dir, "no-kubeconfig")}} // no API here: the node's files
	if err := runQuery(context.Background(), o); err != nil || out.String() != want {
		t.Errorf("stdout mode, no SOURCE: %v, %q, want %q (%s)", err, out.String(), want, errOut.String())
	}
	if !strings.Contains(errOut.String(), "reading this node's apiserver container logs instead") {
		t.Errorf("stdout mode without an API: no word of the fallback: %q", errOut.String())
	}
	o = &queryOptions{IO: &IO{Out: &out, Err: &errOut, Getenv: func(string) string { return "" }}, Now: time.Now,
		Manifest: manifest, PodLogs: filepath.Join(dir, "none", "*.log"), Output: "table", Count: true,
		Pods: source.PodFlags{Kubeconfig: filepath.Join(dir, "no-kubeconfig")}}
	if err := runQuery(context.Background(), o); err == nil || !strings.Contains(err.Error(), "kubectl -n kube-system logs") {
		t.Errorf("stdout mode without pod log files: %v", err)
	}
}
