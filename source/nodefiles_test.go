package source

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kauditui/kauditui/audit"
)

// Other masters' audit files through the API server's node proxy. The
// kubelet's /logs/ is http.StripPrefix("/logs/", http.FileServer(http.Dir("/var/log")));
// here the same handler serves a temporary folder per node behind the proxy's
// path (/api/v1/nodes/<node>/proxy/logs/), written by lumberjack (the
// apiserver's own rotator). What the real API server adds (its proxy, its
// errors) is checked by hack/nodes-e2e.sh.

// fakeNodes is an API server with a node proxy in front of kubelet file
// servers.
type fakeNodes struct {
	srv   *httptest.Server
	dirs  map[string]string // node -> its /var/log
	hook  func(node string, w http.ResponseWriter, r *http.Request) bool
	mu    sync.Mutex
	calls map[string]int // requests per node
	nodes atomic.Value   // []string: what GET /api/v1/nodes lists
}

func newFakeNodes(t *testing.T, nodes ...string) *fakeNodes {
	t.Helper()
	f := &fakeNodes{dirs: map[string]string{}, calls: map[string]int{}}
	for _, n := range nodes {
		f.dirs[n] = t.TempDir()
		if err := os.MkdirAll(filepath.Join(f.dirs[n], "kubernetes", "audit"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f.nodes.Store(nodes)
	status := func(w http.ResponseWriter, code int, reason, msg string, details string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"reason":%q,%s"code":%d}`, msg, reason, details, code)
	}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/nodes" {
			if sel := r.URL.Query().Get("labelSelector"); sel != ControlPlaneLabel {
				status(w, 400, "BadRequest", "unexpected selector "+sel, "")
				return
			}
			var items []string
			for _, n := range f.nodes.Load().([]string) {
				items = append(items, fmt.Sprintf(`{"metadata":{"name":%q}}`, n))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"kind":"NodeList","apiVersion":"v1","metadata":{},"items":[%s]}`, strings.Join(items, ","))
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/nodes/")
		node, _, _ := strings.Cut(rest, "/")
		prefix := "/api/v1/nodes/" + node + "/proxy/logs/"
		if !ok || !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		f.mu.Lock()
		f.calls[node]++
		hook := f.hook
		f.mu.Unlock()
		if hook != nil && hook(node, w, r) {
			return
		}
		switch node {
		case "forbidden": // what the API server answers a user without nodes/proxy
			status(w, 403, "Forbidden", `nodes "forbidden" is forbidden: User "alice" cannot get resource "nodes/proxy" in API group "" at the cluster scope`,
				`"details":{"name":"forbidden","kind":"nodes"},`)
			return
		case "off": // a kubelet with enableSystemLogHandler: false (server.go)
			http.Error(w, "logs endpoint is disabled.", http.StatusMethodNotAllowed)
			return
		case "down": // the API server's proxy when the kubelet does not answer
			status(w, 503, "ServiceUnavailable", "error trying to reach service: dial tcp 10.0.0.9:10250: connect: connection refused", "")
			return
		}
		dir, ok := f.dirs[node]
		if !ok {
			status(w, 404, "NotFound", fmt.Sprintf("nodes %q not found", node), fmt.Sprintf(`"details":{"name":%q,"kind":"nodes"},`, node))
			return
		}
		http.StripPrefix(prefix, http.FileServer(http.Dir(dir))).ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNodes) client(t *testing.T) kubernetes.Interface {
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (f *fakeNodes) setHook(h func(node string, w http.ResponseWriter, r *http.Request) bool) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// log is node's audit log path on this machine.
func (f *fakeNodes) log(node string) string {
	return filepath.Join(f.dirs[node], "kubernetes", "audit", "audit.log")
}

func (f *fakeNodes) writer(node string, compress bool) *lumberjack.Logger {
	return &lumberjack.Logger{Filename: f.log(node), MaxSize: 1, Compress: compress}
}

var nodeT0 = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// timedLine is a real event of the sample with its own auditID and times
// (nodeT0 + ms), padded to about size bytes.
func timedLine(t testing.TB, id string, ms, size int) string {
	l := sampleLines(t)[1]
	l = strings.Replace(l, `"auditID":"`, fmt.Sprintf(`"auditID":"%s-%07d-`, id, ms), 1)
	at := nodeT0.Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z")
	l = strings.Replace(l, `"requestReceivedTimestamp":"2026-11-26T03:00:10.000000Z"`, `"requestReceivedTimestamp":"`+at+`"`, 1)
	l = strings.Replace(l, `"stageTimestamp":"2026-11-26T03:00:10.005000Z"`, `"stageTimestamp":"`+at+`"`, 1)
	if pad := size - len(l) - 20; pad > 0 {
		l = strings.Replace(l, `"userAgent":"`, `"userAgent":"`+strings.Repeat("x", pad), 1)
	}
	return l + "\n"
}

func writeLines(t testing.TB, w *lumberjack.Logger, lines ...string) {
	for _, l := range lines {
		if _, err := w.Write([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
}

// waitGzipped waits until lumberjack has compressed every backup in dir.
func waitGzipped(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; {
		backups, _ := Backups(filepath.Join(dir, "audit.log"))
		plain := 0
		for _, b := range backups {
			if !strings.HasSuffix(b, ".gz") {
				plain++
			}
		}
		if plain == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backups in %s not gzipped after 30 s", plain, dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func requestIDs(snap audit.Snapshot) []string {
	out := make([]string, len(snap.Requests))
	for i, r := range snap.Requests {
		out[i] = r.AuditID
	}
	return out
}

// Two masters, each with rotated backups (one gzipped): every event once,
// the nodes merged by time into one timeline, exactly as the same files
// read locally; inputs named NODE:/path, backups oldest first.
func TestNodeFilesHistoryMergedByTime(t *testing.T) {
	f := newFakeNodes(t, "master-a", "master-b")
	wa, wb := f.writer("master-a", false), f.writer("master-b", true)
	const n = 1500 // about 3 MiB per node: two rotations each
	for i := range n {
		writeLines(t, wa, timedLine(t, "a", 2*i, 2048))
		writeLines(t, wb, timedLine(t, "b", 2*i+1, 2048))
	}
	wa.Close()
	wb.Close()
	waitGzipped(t, filepath.Dir(f.log("master-b")))

	got := load(t, Spec{Nodes: &NodeOptions{Client: f.client(t), Nodes: []string{"master-a", "master-b"}}}, Options{})
	local := load(t, Spec{Paths: []string{f.log("master-a"), f.log("master-b")}}, Options{})
	if got.snap.Events != 2*n || len(got.snap.Requests) != 2*n || got.snap.Duplicates != 0 || len(got.snap.Other) != 0 {
		t.Fatalf("%d events, %d requests, %d duplicates, %d other; want %d once each", got.snap.Events, len(got.snap.Requests), got.snap.Duplicates, len(got.snap.Other), 2*n)
	}
	if !slices.Equal(requestIDs(got.snap), requestIDs(local.snap)) {
		t.Fatal("the requests through the node proxy are not those of the same files read locally, in the same order")
	}
	for i := 1; i < len(got.snap.Requests); i++ {
		if got.snap.Requests[i].Last().Before(got.snap.Requests[i-1].Last()) {
			t.Fatalf("request %d (%s) is older than the one before it: not merged by time", i, got.snap.Requests[i].AuditID)
		}
	}
	if len(got.warnings) != 0 {
		t.Errorf("warnings: %q", got.warnings)
	}
	var names []string
	for _, in := range got.set.Inputs() {
		names = append(names, in.Name+" "+in.Format)
	}
	if len(names) != 6 || !strings.HasPrefix(names[0], "master-a:/var/log/kubernetes/audit/audit-") || names[2] != "master-a:/var/log/kubernetes/audit/audit.log audit" ||
		!strings.HasSuffix(names[3], ".log.gz gzip+audit") || names[5] != "master-b:/var/log/kubernetes/audit/audit.log audit" {
		t.Errorf("inputs: %q", names)
	}
	if names[0] > names[1] {
		t.Errorf("backups not oldest first: %q", names[:2])
	}
	// a line of a node's file is shown again as it was logged
	for _, i := range []int{0, n, 2*n - 1} {
		b, err := got.set.Raw(got.snap.Requests[i].Events[0].Ref)
		if err != nil || !strings.Contains(string(b), got.snap.Requests[i].AuditID) {
			t.Errorf("request %d read again: %v %.80q", i, err, b)
		}
	}
}

// --nodes: the control-plane nodes, listed through the API.
func TestNodeFilesAllControlPlaneNodes(t *testing.T) {
	f := newFakeNodes(t, "master-a", "master-b")
	for _, node := range []string{"master-a", "master-b"} {
		os.WriteFile(f.log(node), []byte(timedLine(t, node, 1, 0)), 0o600)
	}
	got := load(t, Spec{Nodes: &NodeOptions{Client: f.client(t)}}, Options{})
	if got.snap.Events != 2 {
		t.Fatalf("%d events, want one of each node", got.snap.Events)
	}
}

// following is nodes' files loaded with Follow in the background.
func nodeFollowing(t *testing.T, f *fakeNodes, nodes ...string) (st *audit.Store, set *Set, warnings func() []string, stop func() audit.Snapshot) {
	return nodeFollowingWith(t, f, nil, nodes...)
}

func nodeFollowingWith(t *testing.T, f *fakeNodes, paths []string, nodes ...string) (st *audit.Store, set *Set, warnings func() []string, stop func() audit.Snapshot) {
	t.Helper()
	var mu sync.Mutex
	var warned []string
	st, set, stop = followingWith(t, Spec{Paths: paths, Nodes: &NodeOptions{Client: f.client(t), Nodes: nodes}}, Options{Warn: func(m string) { mu.Lock(); warned = append(warned, m); mu.Unlock(); t.Logf("warning: %s", m) }})
	return st, set, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(warned) }, stop
}

// The apiserver's rotator writes real events fast on two masters while
// kauditui follows them through the node proxy: every rotation is followed
// (several between two polls, too), nothing is lost, nothing read twice;
// with --audit-log-compress the backups are gzipped while kauditui follows.
func TestNodeFilesFollowThroughRotations(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			f := newFakeNodes(t, "master-a", "master-b")
			wa, wb := f.writer("master-a", compress), f.writer("master-b", compress)
			// history first: a backup and a live file each
			const hist = 300
			for i := range hist {
				writeLines(t, wa, timedLine(t, "a", 2*i, 4096))
				writeLines(t, wb, timedLine(t, "b", 2*i+1, 4096))
			}
			st, set, warnings, stop := nodeFollowing(t, f, "master-a", "master-b")
			waitEvents(t, st, 2*hist)
			const lineSize = 4096
			n := rotations * (1 << 20) / lineSize / 2 // per node
			start := time.Now()
			for i := hist; i < hist+n; i++ {
				writeLines(t, wa, timedLine(t, "a", 2*i, lineSize))
				writeLines(t, wb, timedLine(t, "b", 2*i+1, lineSize))
			}
			waitEvents(t, st, 2*(hist+n))
			took := time.Since(start)
			wa.Close()
			wb.Close()
			time.Sleep(50 * time.Millisecond) // a few more polls: nothing more may come
			snap := stop()
			if compress {
				// lumberjack gzips in a goroutine that Close does not wait
				// for: let it finish before the folders are removed
				waitGzipped(t, filepath.Dir(f.log("master-a")))
				waitGzipped(t, filepath.Dir(f.log("master-b")))
			}
			checkOnce(t, snap, set, 2*(hist+n))
			backups, _ := Backups(f.log("master-a"))
			if len(backups) < rotations/2-1 {
				t.Fatalf("%d rotations on master-a, want %d", len(backups), rotations/2)
			}
			if w := warnings(); len(w) != 0 {
				t.Errorf("warnings: %q", w)
			}
			t.Logf("%d events of 2 nodes through %d rotations each, followed through the node proxy in %v: %.0f events/s",
				2*n, len(backups), took, float64(2*n)/took.Seconds())
		})
	}
}

// A local file and a node's file followed side by side, both rotating:
// every event of each once.
func TestNodeFilesBesideALocalFile(t *testing.T) {
	f := newFakeNodes(t, "m")
	local := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(local, nil, 0o600)
	os.WriteFile(f.log("m"), nil, 0o600)
	wl := &lumberjack.Logger{Filename: local, MaxSize: 1}
	wm := f.writer("m", false)
	defer wl.Close()
	defer wm.Close()
	st, set, warnings, stop := nodeFollowingWith(t, f, []string{local}, "m")
	const n = 1000 // 4 MB each: 3 rotations
	for i := range n {
		writeLines(t, wl, timedLine(t, "l", 2*i, 4096))
		writeLines(t, wm, timedLine(t, "m", 2*i+1, 4096))
	}
	waitEvents(t, st, 2*n)
	snap := stop()
	checkOnce(t, snap, set, 2*n)
	if w := warnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
}

// A rotation between the listing of the folder and the first read of the
// live file (a long history read): the backup it made is read before the
// live file. And a rotation just after the live file was opened: that file
// is followed into its backup. Either way every event once, in order.
func TestNodeFilesRotationDuringHistory(t *testing.T) {
	for _, when := range []string{"before", "after"} {
		t.Run(when, func(t *testing.T) {
			f := newFakeNodes(t, "m")
			w := f.writer("m", false)
			defer w.Close()
			for i := range 100 {
				writeLines(t, w, timedLine(t, "m", i, 0))
			}
			var once atomic.Bool
			f.setHook(func(node string, rw http.ResponseWriter, r *http.Request) bool {
				if !strings.HasSuffix(r.URL.Path, "/audit.log") || r.Header.Get("Range") != "" || !once.CompareAndSwap(false, true) {
					return false
				}
				rotate := func() {
					writeLines(t, w, timedLine(t, "m", 100, 0))
					w.Rotate()
					writeLines(t, w, timedLine(t, "m", 101, 0))
				}
				if when == "before" {
					rotate()
					return false
				}
				rec := httptest.NewRecorder()
				http.StripPrefix("/api/v1/nodes/m/proxy/logs/", http.FileServer(http.Dir(f.dirs["m"]))).ServeHTTP(rec, r)
				rotate() // the file being sent is a backup now
				for k, v := range rec.Header() {
					rw.Header()[k] = v
				}
				rw.WriteHeader(rec.Code)
				rw.Write(rec.Body.Bytes())
				return true
			})
			st, _, warnings, stop := nodeFollowing(t, f, "m")
			waitEvents(t, st, 102)
			writeLines(t, w, timedLine(t, "m", 102, 0))
			waitEvents(t, st, 103)
			time.Sleep(30 * time.Millisecond)
			snap := stop()
			if snap.Events != 103 || len(snap.Requests) != 103 || snap.Duplicates != 0 {
				t.Fatalf("%d events, %d requests, %d duplicates; want 103 once each", snap.Events, len(snap.Requests), snap.Duplicates)
			}
			for i, r := range snap.Requests {
				if want := nodeT0.Add(time.Duration(i) * time.Millisecond); !r.Last().Equal(want) {
					t.Fatalf("request %d is of %s, want %s: out of order", i, r.Last(), want)
				}
			}
			if w := warnings(); len(w) != 0 {
				t.Errorf("warnings: %q", w)
			}
		})
	}
}

// copytruncate (no backup): followed from the new start, with a warning
// that lines written just before may be missing.
func TestNodeFilesFollowTruncated(t *testing.T) {
	f := newFakeNodes(t, "m")
	path := f.log("m")
	var b strings.Builder
	for i := range 50 {
		b.WriteString(timedLine(t, "m", i, 0))
	}
	os.WriteFile(path, []byte(b.String()), 0o600)
	st, _, warnings, stop := nodeFollowing(t, f, "m")
	waitEvents(t, st, 50)
	os.Truncate(path, 0)
	time.Sleep(30 * time.Millisecond)
	os.WriteFile(path, []byte(timedLine(t, "m", 50, 0)+timedLine(t, "m", 51, 0)), 0o600)
	waitEvents(t, st, 52)
	snap := stop()
	if snap.Events != 52 || snap.Duplicates != 0 {
		t.Fatalf("%d events, %d duplicates; want 52 once each", snap.Events, snap.Duplicates)
	}
	w := warnings()
	if len(w) != 1 || !strings.Contains(w[0], "m:/var/log/kubernetes/audit/audit.log: was truncated or replaced") {
		t.Errorf("warnings: %q", w)
	}
}

// A node that cannot be read is one line naming it and what to do: Load
// fails with it when nothing else is to be read, and warns otherwise.
func TestNodeFilesErrors(t *testing.T) {
	f := newFakeNodes(t, "ok", "nofolder", "nofile")
	os.WriteFile(f.log("ok"), []byte(timedLine(t, "ok", 1, 0)), 0o600)
	os.RemoveAll(filepath.Join(f.dirs["nofolder"], "kubernetes"))
	os.WriteFile(filepath.Join(f.dirs["nofile"], "kubernetes", "audit", "other.log"), nil, 0o600)
	cs := f.client(t)
	for _, c := range []struct {
		node string
		want []string
	}{
		{"forbidden", []string{`forbidden: reading /var/log/kubernetes/audit/ through the API server's node proxy: nodes "forbidden" is forbidden: User "alice" cannot get resource "nodes/proxy"`, "needs get on nodes/proxy"}},
		{"off", []string{"off: the kubelet does not serve /logs/", "enableSystemLogHandler: true"}},
		{"down", []string{"down: the node is unreachable (error trying to reach service: dial tcp 10.0.0.9:10250: connect: connection refused)"}},
		{"nosuch", []string{`nosuch: no node "nosuch" in the cluster`}},
		{"nofolder", []string{"nofolder: no folder /var/log/kubernetes/audit/", "--node-log-path"}},
		{"nofile", []string{"nofile: no /var/log/kubernetes/audit/audit.log (the folder holds other.log): give the audit log's path with --node-log-path"}},
	} {
		set, err := Open(context.Background(), Spec{Nodes: &NodeOptions{Client: cs, Nodes: []string{c.node}}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = set.Load(context.Background(), audit.NewStore())
		set.Close()
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v; want one line", c.node, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant it to say %q", c.node, err, w)
			}
		}
	}
	// one node readable: the others are warnings
	got := load(t, Spec{Nodes: &NodeOptions{Client: cs, Nodes: []string{"off", "ok", "forbidden"}}}, Options{})
	if got.snap.Events != 1 || len(got.warnings) != 2 || !strings.HasPrefix(got.warnings[0], "off: ") || !strings.HasPrefix(got.warnings[1], "forbidden: ") {
		t.Errorf("%d events, warnings %q; want the ok node's event and a warning for each other node", got.snap.Events, got.warnings)
	}
	// --nodes when no node is a control-plane node
	f.nodes.Store([]string(nil))
	set, _ := Open(context.Background(), Spec{Nodes: &NodeOptions{Client: cs}}, Options{})
	defer set.Close()
	if err := set.Load(context.Background(), audit.NewStore()); err == nil || !strings.Contains(err.Error(), "no node has the label node-role.kubernetes.io/control-plane: name the masters with --node") {
		t.Errorf("no control-plane node: %v", err)
	}
}

// An unreachable node while following: said once, and once when it can be
// read again; nothing lost.
func TestNodeFilesFollowOutage(t *testing.T) {
	f := newFakeNodes(t, "m")
	path := f.log("m")
	os.WriteFile(path, []byte(timedLine(t, "m", 0, 0)), 0o600)
	var down atomic.Bool
	st, _, warnings, stop := nodeFollowing(t, f, "m")
	waitEvents(t, st, 1)
	f.setHook(func(node string, _ http.ResponseWriter, r *http.Request) bool {
		if !down.Load() {
			return false
		}
		panic(http.ErrAbortHandler) // the connection drops
	})
	down.Store(true)
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(timedLine(t, "m", 1, 0))
	time.Sleep(100 * time.Millisecond)
	fh.WriteString(timedLine(t, "m", 2, 0))
	fh.Close()
	down.Store(false)
	waitEvents(t, st, 3)
	snap := stop()
	if snap.Events != 3 || snap.Duplicates != 0 {
		t.Fatalf("%d events, %d duplicates; want 3 once each", snap.Events, snap.Duplicates)
	}
	w := warnings()
	if len(w) != 2 || !strings.HasPrefix(w[0], "m: the API server did not answer") || w[1] != "m: reading m:/var/log/kubernetes/audit/audit.log again" {
		t.Errorf("warnings: %q", w)
	}
}

func TestNodeFilesLogPath(t *testing.T) {
	for p, want := range map[string]string{
		"":                                     "kubernetes/audit/audit.log",
		"/var/log/kube-apiserver/audit.log":    "kube-apiserver/audit.log",
		"/var/log/../log/kubernetes/audit.log": "kubernetes/audit.log",
		"/etc/kubernetes/audit.log":            "",
		"/var/log/":                            "",
		"/var/log/kubernetes/":                 "",
		"/var/logs/audit.log":                  "",
	} {
		got, err := NodeLogRel(p)
		if got != want || (err != nil) != (want == "") {
			t.Errorf("NodeLogRel(%q) = %q, %v; want %q", p, got, err, want)
		}
	}
}

// The folder listing of net/http's FileServer, as the kubelet sends it
// (and as the API server's proxy passes it on).
func TestNodeFilesListing(t *testing.T) {
	page := `<!doctype html>
<meta name="viewport" content="width=device-width">
<pre>
<a href="audit-2026-11-26T03-57-52.935.log.gz">audit-2026-11-26T03-57-52.935.log.gz</a>
<a href="audit-2026-11-26T03-58-36.453.log">audit-2026-11-26T03-58-36.453.log</a>
<a href="audit-2026-11-26T03-58-36.453.log.gz">audit-2026-11-26T03-58-36.453.log.gz</a>
<a href="audit.log">audit.log</a>
<a href="old/">old/</a>
<a href="./a:b.log">a:b.log</a>
<a href="x%20y.log">x y.log</a>
</pre>
`
	names := parseListing([]byte(page))
	if want := []string{"audit-2026-11-26T03-57-52.935.log.gz", "audit-2026-11-26T03-58-36.453.log", "audit-2026-11-26T03-58-36.453.log.gz", "audit.log", "old/", "a:b.log", "x y.log"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	backups, live := nodeBackups(names, "audit.log")
	if want := []string{"audit-2026-11-26T03-57-52.935.log.gz", "audit-2026-11-26T03-58-36.453.log"}; !slices.Equal(backups, want) || !live {
		t.Errorf("backups %q live %v; want %q (a backup being gzipped: the plain copy)", backups, live, want)
	}
}

// stateLog records NodeOptions.State (checking calls never overlap).
type stateLog struct {
	t    *testing.T
	busy atomic.Bool
	mu   sync.Mutex
	all  []StreamState
}

func (l *stateLog) state(st StreamState) {
	if !l.busy.CompareAndSwap(false, true) {
		l.t.Error("State called concurrently")
	}
	defer l.busy.Store(false)
	l.mu.Lock()
	l.all = append(l.all, st)
	l.mu.Unlock()
	l.t.Logf("state %+v", st)
}

// last is the node's last state ("" before any).
func (l *stateLog) last(node string) StreamState {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.all) - 1; i >= 0; i-- {
		if l.all[i].Node == node {
			return l.all[i]
		}
	}
	return StreamState{}
}

func (l *stateLog) wait(node, state string) StreamState {
	l.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if st := l.last(node); st.State == state {
			return st
		}
	}
	l.t.Fatalf("%s: state %+v after 10 s, want %s", node, l.last(node), state)
	return StreamState{}
}

// Each node's file says its state as the pods' streams do (one vocabulary,
// StreamState): streaming while it is read; reconnecting, with the next
// try, while the node does not answer; forbidden while nodes/proxy is
// refused; gone while the file is not there; streaming again after each;
// done when following ends. A node that cannot be read at the start:
// forbidden, gone (no such node) or done, with why.
func TestNodeFilesState(t *testing.T) {
	f := newFakeNodes(t, "m")
	path := f.log("m")
	os.WriteFile(path, []byte(timedLine(t, "m", 0, 0)), 0o600)
	states := &stateLog{t: t}
	var mode atomic.Value // "", "down", "forbidden"
	mode.Store("")
	f.setHook(func(node string, w http.ResponseWriter, r *http.Request) bool {
		switch mode.Load() {
		case "down":
			panic(http.ErrAbortHandler) // the connection drops
		case "forbidden":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes \"m\" is forbidden: User \"alice\" cannot get resource \"nodes/proxy\"","reason":"Forbidden","details":{"name":"m","kind":"nodes"},"code":403}`)
			return true
		}
		return false
	})
	st, _, stop := followingWith(t, Spec{
		Nodes: &NodeOptions{Client: f.client(t), Nodes: []string{"m", "forbidden", "nosuch", "down"}, State: states.state}}, Options{})
	waitEvents(t, st, 1)
	states.wait("m", StateStreaming)
	for node, want := range map[string]string{"forbidden": StateForbidden, "nosuch": StateGone, "down": StateDone} {
		if got := states.last(node); got.State != want || got.Err == "" {
			t.Errorf("%s at the start: %+v, want %s with why", node, got, want)
		}
	}

	mode.Store("down")
	if st := states.wait("m", StateReconnecting); st.RetryIn <= 0 || !strings.Contains(st.Err, "m: the API server did not answer") {
		t.Errorf("node down: %+v; want when the next try is, and why", st)
	}
	mode.Store("")
	states.wait("m", StateStreaming)

	mode.Store("forbidden")
	if st := states.wait("m", StateForbidden); !strings.Contains(st.Err, "nodes/proxy") {
		t.Errorf("refused: %+v; want why", st)
	}
	mode.Store("")
	states.wait("m", StateStreaming)

	os.Remove(path)
	if st := states.wait("m", StateGone); st.Err == "" {
		t.Errorf("file removed: %+v; want why", st)
	}
	os.WriteFile(path, []byte(timedLine(t, "m", 1, 0)), 0o600)
	waitEvents(t, st, 2)
	states.wait("m", StateStreaming)
	stop()
	if st := states.last("m"); st.State != StateDone {
		t.Errorf("following ended: %+v, want done", st)
	}
}

// Without Follow, each node's file is streaming while its history is read,
// then done.
func TestNodeFilesStateSnapshot(t *testing.T) {
	f := newFakeNodes(t, "a", "b")
	for _, n := range []string{"a", "b"} {
		os.WriteFile(f.log(n), []byte(timedLine(t, n, 0, 0)), 0o600)
	}
	states := &stateLog{t: t}
	load(t, Spec{Nodes: &NodeOptions{Client: f.client(t), Nodes: []string{"a", "b"}, State: states.state}}, Options{})
	var got []string
	for _, s := range states.all {
		got = append(got, s.Node+" "+s.State)
	}
	if want := []string{"a streaming", "b streaming", "a done", "b done"}; !slices.Equal(got, want) {
		t.Errorf("states %q, want %q", got, want)
	}
}
