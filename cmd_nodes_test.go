package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// nodeProxy is an API server's node proxy in front of kubelet file servers
// (http.FileServer over a folder per node, as the kubelet serves /var/log),
// and the node list; it returns a kubeconfig for it.
func nodeProxy(t *testing.T, dirs map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/nodes" {
			var items []string
			for n := range dirs {
				items = append(items, fmt.Sprintf(`{"metadata":{"name":%q}}`, n))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[%s]}`, strings.Join(items, ","))
			return
		}
		rest, _ := strings.CutPrefix(r.URL.Path, "/api/v1/nodes/")
		node, _, _ := strings.Cut(rest, "/")
		prefix := "/api/v1/nodes/" + node + "/proxy/logs/"
		dir, ok := dirs[node]
		if !ok || !strings.HasPrefix(r.URL.Path, prefix) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(404)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"nodes \"%s\" not found","reason":"NotFound","details":{"name":%q,"kind":"nodes"},"code":404}`, node, node)
			return
		}
		http.StripPrefix(prefix, http.FileServer(http.Dir(dir))).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, srv.URL)), 0o600)
	return kc
}

// auditFolder is a node's /var/log holding files (source path -> name) in
// kubernetes/audit.
func auditFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	dst := filepath.Join(root, "kubernetes", "audit")
	os.MkdirAll(dst, 0o755)
	for src, name := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dst, name), b, 0o600)
	}
	return root
}

// the files of testdata/file (a live log, a plain and a gzipped backup)
func fileRunFiles(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[filepath.Join(dir, e.Name())] = e.Name()
	}
	return out
}

// `query --nodes` finds what `query` finds in the same files: the real
// testdata (a live log, a plain and a gzipped backup) as two masters' logs.
func TestQueryNodesCountsAsTheFiles(t *testing.T) {
	files, stdout := audittest.Path("file"), audittest.Path("stdout", "kube-apiserver.log")
	kc := nodeProxy(t, map[string]string{
		"master-a": auditFolder(t, fileRunFiles(t, files)),
		"master-b": auditFolder(t, map[string]string{stdout: "audit.log"}), // audit and klog lines mixed
	})
	for _, q := range []string{"", "verb=delete", "code>=400"} {
		want := runQueryTest(t, "", "--count", "-q", q, filepath.Join(files, "audit.log"), stdout)
		got := runQueryTest(t, "", "--count", "-q", q, "--nodes", "--kubeconfig", kc)
		if got.code != want.code || got.stdout != want.stdout || got.stderr != "" {
			t.Errorf("-q %q: --nodes: %d %q %q; the files: %d %q", q, got.code, got.stdout, got.stderr, want.code, want.stdout)
		}
	}
	if want := runQueryTest(t, "", "-o", "klog", stdout); runQueryTest(t, "", "-o", "klog", "--nodes", "--kubeconfig", kc).stdout != want.stdout {
		t.Error("-o klog --nodes: not the klog lines of the files")
	}
	// one node by name
	got := runQueryTest(t, "", "--count", "--node", "master-a", "--kubeconfig", kc)
	want := runQueryTest(t, "", "--count", filepath.Join(files, "audit.log"))
	if got.stdout != want.stdout {
		t.Errorf("--node master-b: %q, want %q (stderr %q)", got.stdout, want.stdout, got.stderr)
	}
	// a node that is not there: one line naming it
	got = runQueryTest(t, "", "--count", "--node", "master-z", "--kubeconfig", kc)
	if got.code != 2 || !strings.Contains(got.stderr, `master-z: no node "master-z" in the cluster`) || strings.Count(got.stderr, "\n") != 1 {
		t.Errorf("--node master-z: exit %d, stderr %q", got.code, got.stderr)
	}
}

func TestNodeFlagsUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--node", "m", "--node-log-path", "/etc/kubernetes/audit.log"}, "--node-log-path /etc/kubernetes/audit.log: the kubelet serves only files under /var/log"},
		{[]string{"--node-log-path", "/var/log/audit/audit.log", "x.log"}, "--node-log-path goes with --nodes or --node"},
		{[]string{"--nodes", "--node", "m"}, "give one or the other"},
	} {
		r := runQueryTest(t, "", c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
