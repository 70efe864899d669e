package setup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The readiness probe is injected here: no kubelet runs on this machine to
// restart a static pod. hack/setup-e2e.sh starts the real apiserver with the
// patched flags instead.

// probeSequence answers with each step in turn, then repeats the last one.
func probeSequence(steps ...error) probe {
	i := 0
	return func(context.Context) (bool, string, error) {
		s := steps[min(i, len(steps)-1)]
		i++
		return s == nil, "apiserver-1", s
	}
}

func TestWaitsForRestartThenReady(t *testing.T) {
	root := newRoot(t, fixtures[1])
	var o outputs
	opts := testOptions(root, &o)
	opts.NoWait = false
	// Before the write: the old apiserver; then down twice; then ready.
	down := errors.New("connection refused")
	opts.Probe = probeSequence(nil, nil, down, down, nil)
	opts.Timeout = 5 * time.Second
	opts.ErrTTY = true
	if err := Run(context.Background(), opts); err != nil {
		t.Fatalf("%v\n%s", err, o.err.String())
	}
	if !strings.Contains(o.err.String(), "waiting for the apiserver: ready after") {
		t.Errorf("no progress line: %q", o.err.String())
	}
	if !strings.Contains(o.err.String(), "\r") || !strings.Contains(o.err.String(), "connection refused") {
		t.Errorf("progress line does not update in place or say why it waits: %q", o.err.String())
	}
	// Not a terminal: plain lines, no carriage returns.
	root = newRoot(t, fixtures[1])
	o = outputs{}
	opts = testOptions(root, &o)
	opts.NoWait = false
	opts.Probe = probeSequence(nil, down, nil)
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(o.err.String(), "\r") || !strings.Contains(o.err.String(), "ready after") {
		t.Errorf("log output: %q", o.err.String())
	}
}

func TestTimeoutRestoresBackupAndShowsErrors(t *testing.T) {
	fx := fixtures[2] // the 2019 recipe, with its v1beta1 policy
	root := newRoot(t, fx)
	before := snapshot(t, root)
	// The container log the kubelet would keep for the crash-looping
	// apiserver (CRI format), as on a node.
	logDir := filepath.Join(root, "var/log/pods/kube-system_kube-apiserver-cp-1_0123/kube-apiserver")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	crilog := "2026-11-26T03:04:05.1Z stderr F I1126 03:04:05.100000       1 options.go:263] external host was not specified\n" +
		"2026-11-26T03:04:05.2Z stderr F E1126 03:04:05.200000       1 run.go:72] \"command failed\" err=\"unrecognized feature gate: Bogus\"\n"
	if err := os.WriteFile(filepath.Join(logDir, "0.log"), []byte(crilog), 0o600); err != nil {
		t.Fatal(err)
	}
	var o outputs
	opts := testOptions(root, &o)
	opts.NoWait = false
	opts.Probe = probeSequence(nil, errors.New("connection refused"))
	opts.Timeout = 50 * time.Millisecond
	opts.Now = time.Now
	err := Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "the previous manifest is restored") {
		t.Fatalf("want a rollback error, got %v", err)
	}
	if got := readFile(t, filepath.Join(root, manifestRel)); !bytes.Equal(got, []byte(before["/"+manifestRel])) {
		t.Error("the manifest was not restored")
	}
	if got := readFile(t, filepath.Join(root, "etc/kubernetes/audit-policy.yaml")); string(got) != before["/etc/kubernetes/audit-policy.yaml"] {
		t.Error("the policy was not restored")
	}
	if !strings.Contains(o.err.String(), `unrecognized feature gate: Bogus`) {
		t.Errorf("the apiserver's error is not shown:\n%s", o.err.String())
	}
	if strings.Contains(o.err.String(), "external host was not specified") {
		t.Error("an info line was shown as an error")
	}
}

func TestCannotReachApiserverWritesNothing(t *testing.T) {
	root := newRoot(t, fixtures[1])
	before := snapshot(t, root)
	var o outputs
	opts := testOptions(root, &o)
	opts.NoWait = false // no admin.conf in this root
	err := Run(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "nothing written (use --no-wait") {
		t.Fatalf("got %v", err)
	}
	if after := snapshot(t, root); len(after) != len(before) {
		t.Error("files were written")
	}
}

func TestAuditEventsAt(t *testing.T) {
	root := t.TempDir()
	cfg := config{Mode: "file", LogPath: "/var/log/kubernetes/audit/audit.log"}
	if ok, _ := auditEventsAt(root, cfg); ok {
		t.Fatal("events found in an empty root")
	}
	p := filepath.Join(root, cfg.LogPath)
	os.MkdirAll(filepath.Dir(p), 0o755)
	// A real event line from the harness's file-mode log, when it is there.
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata"}` + "\n")
	if b, err := os.ReadFile("../testdata/file/audit.log"); err == nil {
		line, _, _ = bytes.Cut(b, []byte("\n"))
	}
	os.WriteFile(p, line, 0o600)
	if ok, where := auditEventsAt(root, cfg); !ok || where != p {
		t.Errorf("events not found at %s", where)
	}
}
