// Command nodes-e2e checks `kauditui --nodes` (other masters' audit files
// through the API server's node proxy, source/nodefiles.go) against a real
// kube-apiserver. hack/nodes-e2e.sh starts etcd and the apiserver in a network
// namespace and runs it; it exits non-zero, saying why, when a check fails.
//
// The kubelets are stand-ins: kwok (the kubelet of hack/pods-e2e.sh) does not
// serve the kubelet's /logs/ file server (it answers MethodNotAllowed), so each
// node's kubelet endpoint here is an HTTPS server running what the kubelet runs
// there, http.StripPrefix("/logs/", http.FileServer(http.Dir(<its /var/log>)))
// (pkg/kubelet/kubelet.go), on the node's InternalIP and
// status.daemonEndpoints.kubeletEndpoint.Port, inside the namespace. Everything
// between kauditui and that handler is real: client-go, the API server's
// authentication, RBAC, its node proxy (URL rewriting of the folder's HTML
// included) and its kubelet client.
//
// Nodes: master-a, master-b, master-c (label node-role.kubernetes.io/control-plane)
// holding the real testdata (a live log with a plain and a gzipped backup; the
// stdout-mode log, audit and klog mixed; the hostile log) under
// /var/log/kubernetes/audit/; master-off, a kubelet whose log handler is off
// (its 405, as the kubelet's getHandlerForDisabledEndpoint answers); master-down,
// a node with nothing listening on its kubelet port.
//
// Checks: `query --nodes` finds what `query` finds in the same files (--count,
// a filter, -o json, -o klog); refused users, the handler off, an unreachable
// node, an unknown node each give one line saying what to do; a user bound to
// the ClusterRole of docs/kauditui-reader.yaml reads the nodes; `query --nodes
// --follow -o json` prints every event appended and rotated (lumberjack, with
// and without compression, several rotations between two polls) exactly once.
// Last (-explore), a script drives the explorer on --nodes in tmux while the
// stand-in kubelets serve, taking master-a's down and up again by signals.
// Figures: history read time through the proxy against the local files, follow
// latency, events/s through rotations, idle CPU of kauditui and the apiserver.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/kauditui/kauditui/hack/internal/e2e"
	"github.com/kauditui/kauditui/hack/internal/e2e/kube"
)

var (
	dir      = flag.String("dir", "", "the cluster folder of hack/nodes-e2e.sh (kubeconfigs, pids/)")
	testdata = flag.String("testdata", "testdata", "the repository's testdata folder")
	kauditui = flag.String("kauditui", "kauditui", "the kauditui binary")
	ip       = flag.String("ip", "", "the nodes' InternalIP (inside the namespace)")
	apiPid   = flag.Int("apiserver-pid", 0, "for the apiserver's CPU while kauditui follows")
	explore  = flag.String("explore", "", "a script to run last, driving the explorer (hack/nodes-e2e/explore.sh)")
)

func main() {
	flag.Parse()
	e2e.Main("nodes-e2e", run)
}

func say(format string, a ...any) { fmt.Printf("nodes-e2e: "+format+"\n", a...) }

const auditDir = "kubernetes/audit"

type node struct {
	name    string
	port    int
	varLog  string // its /var/log
	control bool
	handler http.Handler // nil: nothing listens
}

func (n *node) live() string { return filepath.Join(n.varLog, auditDir, "audit.log") }

func run() error {
	ctx := context.Background()
	admin, err := kube.Client(*dir, "admin")
	if err != nil {
		return err
	}
	root := filepath.Join(*dir, "nodes")
	mk := func(name string, port int, control bool) *node {
		n := &node{name: name, port: port, varLog: filepath.Join(root, name), control: control}
		os.MkdirAll(filepath.Join(n.varLog, auditDir), 0o755)
		// the kubelet's /logs/ (pkg/kubelet/kubelet.go), and nothing else
		mux := http.NewServeMux()
		mux.Handle("/logs/", http.StripPrefix("/logs/", http.FileServer(http.Dir(n.varLog))))
		n.handler = mux
		return n
	}
	a, b, c := mk("master-a", 10250, true), mk("master-b", 10251, true), mk("master-c", 10252, true)
	off := &node{name: "master-off", port: 10253, handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// pkg/kubelet/server: getHandlerForDisabledEndpoint("logs endpoint is disabled.")
		http.Error(w, "logs endpoint is disabled.", http.StatusMethodNotAllowed)
	})}
	down := &node{name: "master-down", port: 10254}
	bulk := mk("bulk", 10255, false) // a big log: how fast the proxy path reads
	nodes := []*node{a, b, c, off, down, bulk}

	// the real testdata as the masters' audit folders
	if err := copyFiles(filepath.Join(*testdata, "file"), filepath.Join(a.varLog, auditDir), nil); err != nil {
		return err
	}
	if err := copyFiles(filepath.Join(*testdata, "stdout"), filepath.Join(b.varLog, auditDir), map[string]string{"kube-apiserver.log": "audit.log"}); err != nil {
		return err
	}
	if err := copyFiles(filepath.Join(*testdata, "hostile"), filepath.Join(c.varLog, auditDir), map[string]string{"audit.log": "audit.log"}); err != nil {
		return err
	}

	cert, err := e2e.StandInKubeletCert(*ip)
	if err != nil {
		return err
	}
	kubelets := map[string]*kubelet{}
	for _, n := range nodes {
		if n.handler == nil {
			continue
		}
		k := &kubelet{n: n, cert: cert}
		if err := k.up(); err != nil {
			return err
		}
		defer k.down()
		kubelets[n.name] = k
	}
	for _, n := range nodes {
		if err := createNode(ctx, admin, n); err != nil {
			return err
		}
	}
	say("6 nodes on %s: master-a/b/c (control-plane) serve their /var/log on ports 10250-10252, master-off answers 405, master-down has no listener, bulk (10255) holds a big log", *ip)

	localLogs := []string{a.live(), b.live(), c.live()}
	adminKC := filepath.Join(*dir, "admin.kubeconfig")

	// 1. the history: what the files hold, through the proxy
	for _, q := range [][]string{{"--count"}, {"--count", "-q", "verb=delete"}, {"-o", "json"}, {"-o", "klog"}} {
		t0 := time.Now()
		want, werr, _ := kq(append(slices.Clone(q), localLogs...)...)
		local := time.Since(t0)
		t0 = time.Now()
		got, gerr, code := kq(append(slices.Clone(q), "--nodes", "--kubeconfig", adminKC)...)
		remote := time.Since(t0)
		// the files' own warnings (an input with no klog line is named), said
		// of the same files by their names on the nodes
		for _, n := range []*node{a, b, c} {
			werr = strings.ReplaceAll(werr, n.varLog+"/", n.name+":/var/log/")
		}
		if code > 1 || got != want || gerr != werr {
			return fmt.Errorf("query %s --nodes: exit %d, %s, stderr %q; the files give %s (stderr %q)", strings.Join(q, " "), code, short(got), gerr, short(want), werr)
		}
		say("query %s --nodes: %s, as the 3 masters' files give (%s through the proxy, %s locally)",
			strings.Join(q, " "), short(got), remote.Round(time.Millisecond), local.Round(time.Millisecond))
	}

	// 2. what cannot be read: one line naming who and what to do
	readerCount, _, _ := kq("--count", "--nodes", "--kubeconfig", filepath.Join(*dir, "reader.kubeconfig"))
	adminCount, _, _ := kq("--count", "--nodes", "--kubeconfig", adminKC)
	if readerCount != adminCount {
		return fmt.Errorf("as a user bound to docs/kauditui-reader.yaml's kauditui-node-files: %q, want %q", readerCount, adminCount)
	}
	say("as kauditui-reader (ClusterRole kauditui-node-files of docs/kauditui-reader.yaml): %s requests, as admin", strings.TrimSpace(readerCount))
	for _, c := range []struct {
		kc   string
		args []string
		want string
	}{
		{"nobody", []string{"--nodes"}, `User "kauditui-nobody" cannot list resource "nodes"`},
		{"nobody", []string{"--node", "master-a"}, `User "kauditui-nobody" cannot get resource "nodes/proxy"`},
		{"admin", []string{"--node", "master-off"}, "enableSystemLogHandler: true"},
		{"admin", []string{"--node", "master-down"}, "master-down: the node is unreachable"},
		{"admin", []string{"--node", "nosuch"}, `nosuch: no node "nosuch" in the cluster`},
		{"admin", []string{"--node", "master-a", "--node-log-path", "/var/log/kube-apiserver/audit.log"}, "master-a: no folder /var/log/kube-apiserver/"},
	} {
		out, errOut, code := kq(append([]string{"--count", "--kubeconfig", filepath.Join(*dir, c.kc+".kubeconfig")}, c.args...)...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") != 1 {
			return fmt.Errorf("as %s, %s: exit %d, stdout %q, stderr %q; want exit 2 and one line with %q", c.kc, strings.Join(c.args, " "), code, out, errOut, c.want)
		}
		say("as %s, %s: %s", c.kc, strings.Join(c.args, " "), strings.TrimSpace(errOut))
	}
	// a master that cannot be read beside ones that can: a warning
	out, errOut, _ := kq("--count", "--kubeconfig", adminKC, "--node", "master-a", "--node", "master-down")
	if want, _, _ := kq("--count", a.live()); out != want || !strings.Contains(errOut, "warning: master-down: the node is unreachable") {
		return fmt.Errorf("--node master-a --node master-down: %q, stderr %q; want %q and a warning", out, errOut, want)
	}
	say("--node master-a --node master-down: master-a's %s requests, and %s", strings.TrimSpace(out), strings.TrimSpace(errOut))

	// 3. a big log: MB/s through the proxy against the same file read here
	if err := bulkLog(bulk); err != nil {
		return err
	}
	fi, _ := os.Stat(bulk.live())
	t0 := time.Now()
	want, _, _ := kq("--count", bulk.live())
	local := time.Since(t0)
	t0 = time.Now()
	got, errOut, _ := kq("--count", "--node", "bulk", "--kubeconfig", adminKC)
	remote := time.Since(t0)
	if got != want {
		return fmt.Errorf("--node bulk: %q (stderr %q), the file gives %q", got, errOut, want)
	}
	mb := float64(fi.Size()) / 1e6
	say("a %.0f MB log (%s requests): %s through the proxy (%.0f MB/s), %s read here (%.0f MB/s)",
		mb, strings.TrimSpace(got), remote.Round(time.Millisecond), mb/remote.Seconds(), local.Round(time.Millisecond), mb/local.Seconds())

	// 4. following
	if err := follow(a, b, c, adminKC); err != nil {
		return err
	}

	// 5. the explorer, driven by a script while the kubelets serve
	if *explore == "" {
		return nil
	}
	return runExplore(kubelets[a.name], adminKC)
}

// kubelet is a node's stand-in kubelet server, which can be taken down
// (its listener and connections closed) and brought up again.
type kubelet struct {
	n    *node
	cert tls.Certificate
	mu   sync.Mutex
	srv  *http.Server
}

func (k *kubelet) up() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.srv != nil {
		return nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(*ip, strconv.Itoa(k.n.port)))
	if err != nil {
		return err
	}
	k.srv = &http.Server{Handler: k.n.handler, TLSConfig: &tls.Config{Certificates: []tls.Certificate{k.cert}}, ReadHeaderTimeout: 10 * time.Second}
	go k.srv.ServeTLS(l, "", "")
	return nil
}

func (k *kubelet) down() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.srv != nil {
		k.srv.Close()
		k.srv = nil
	}
}

// runExplore runs the -explore script: it drives the explorer on --nodes
// and takes master-a's kubelet down (SIGUSR1 to this process) and up again
// (SIGUSR2); this process answers each signal by touching
// NODES_E2E_ACK.down or .up once done.
func runExplore(k *kubelet, kc string) error {
	ack := filepath.Join(*dir, "kubelet-ack")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sig)
	go func() {
		for s := range sig {
			state := "down"
			if s == syscall.SIGUSR2 {
				state = "up"
				if err := k.up(); err != nil {
					say("master-a's kubelet: %v", err)
					continue
				}
			} else {
				k.down()
			}
			os.WriteFile(ack+"."+state, nil, 0o600)
		}
	}()
	cmd := exec.Command("bash", *explore)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(),
		"NODES_E2E_PID="+strconv.Itoa(os.Getpid()),
		"NODES_E2E_ACK="+ack,
		"NODES_E2E_DIR="+*dir,
		"NODES_E2E_KUBECONFIG="+kc,
		"NODES_E2E_LIVE="+k.n.live(),
		"NODES_E2E_TEMPLATE="+filepath.Join(*testdata, "file", "audit.log"),
		"KAUDITUI_BIN="+*kauditui,
	)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v", *explore, err)
	}
	return nil
}

// bulkLog writes about 100 MB of real events (new IDs) as n's live log.
func bulkLog(n *node) error {
	lines, err := eventLines(filepath.Join(*testdata, "file", "audit.log"))
	if err != nil {
		return err
	}
	f, err := os.Create(n.live())
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	t := time.Date(2026, 11, 26, 5, 0, 0, 0, time.UTC)
	for i, size := 0, 0; size < 100<<20; i++ {
		l := withID(lines[i%len(lines)], fmt.Sprintf("bulk-%08d", i), t.Add(time.Duration(i)*time.Millisecond)) + "\n"
		size += len(l)
		w.WriteString(l)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// follow: `query --nodes --follow -o json` while events are appended to
// master-a's live file and master-b and master-c rotate theirs (lumberjack at
// 1 MB, master-c compressing), in bursts of several rotations between polls.
func follow(a, b, c *node, kc string) error {
	lines, err := eventLines(filepath.Join(*testdata, "file", "audit.log"))
	if err != nil {
		return err
	}
	cmd := exec.Command(*kauditui, "query", "--nodes", "--follow", "-o", "json", "--kubeconfig", kc)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	type seen struct {
		n  int
		at time.Time
	}
	var mu sync.Mutex
	got := map[string]*seen{}
	printed := 0
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			var ev struct{ AuditID string }
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			mu.Lock()
			printed++
			if s := got[ev.AuditID]; s != nil {
				s.n++
			} else {
				got[ev.AuditID] = &seen{1, time.Now()}
			}
			mu.Unlock()
		}
		done <- sc.Err()
	}()
	count := func(prefix string) (n, twice int) {
		mu.Lock()
		defer mu.Unlock()
		for id, s := range got {
			if strings.HasPrefix(id, prefix) {
				n++
				if s.n > 1 {
					twice++
				}
			}
		}
		return n, twice
	}
	// the history first
	if err := e2e.WaitUntil(60*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return printed > 1000 }, "the history printed"); err != nil {
		return fmt.Errorf("%v; stderr %q", err, stderr.String())
	}
	time.Sleep(2 * time.Second)

	// appended to master-a's live file, 50 lines/s: the latency
	written := map[string]time.Time{}
	fa, err := os.OpenFile(a.live(), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	k := 0
	next := func(prefix string) string {
		l := lines[k%len(lines)]
		k++
		id := fmt.Sprintf("%s-%07d", prefix, k)
		written[id] = time.Now()
		return withID(l, id, time.Now())
	}
	for range 100 {
		if _, err := fa.WriteString(next("e2e-a") + "\n"); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	fa.Close()
	// master-b and master-c rotate: bursts of about 3 MB each, written in
	// less than a poll (several rotations between two polls), a second apart
	wb := &lumberjack.Logger{Filename: b.live(), MaxSize: 1}
	wc := &lumberjack.Logger{Filename: c.live(), MaxSize: 1, Compress: true}
	defer wb.Close()
	defer wc.Close()
	bytesOut := 0
	for range 6 {
		for range 3000 {
			for _, w := range []struct {
				l *lumberjack.Logger
				p string
			}{{wb, "e2e-b"}, {wc, "e2e-c"}} {
				l := next(w.p) + "\n"
				bytesOut += len(l)
				if _, err := w.l.Write([]byte(l)); err != nil {
					return err
				}
			}
		}
		time.Sleep(time.Second)
	}
	lastWrite := time.Now().Add(-time.Second)
	total := k
	if err := e2e.WaitUntil(120*time.Second, func() bool { n, _ := count("e2e-"); return n >= total }, fmt.Sprintf("the %d events appended", total)); err != nil {
		n, _ := count("e2e-")
		return fmt.Errorf("%v: %d arrived; stderr %q", err, n, stderr.String())
	}
	var lastPrint time.Time
	mu.Lock()
	for id, s := range got {
		if strings.HasPrefix(id, "e2e-") && s.at.After(lastPrint) {
			lastPrint = s.at
		}
	}
	mu.Unlock()
	took := lastPrint.Sub(lastWrite)
	backupsB, _ := filepath.Glob(filepath.Join(b.varLog, auditDir, "audit-*"))
	backupsC, _ := filepath.Glob(filepath.Join(c.varLog, auditDir, "audit-*.gz"))

	// idle: nothing written for 10 s
	time.Sleep(time.Second)
	k0, a0, w0 := e2e.ProcCPU(cmd.Process.Pid), e2e.ProcCPU(*apiPid), time.Now()
	time.Sleep(10 * time.Second)
	k1, a1, wall := e2e.ProcCPU(cmd.Process.Pid), e2e.ProcCPU(*apiPid), time.Since(w0)

	cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-time.After(20 * time.Second):
		return errors.New("kauditui query --follow did not end 20 s after SIGINT")
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("kauditui query --follow: %v; stderr %q", err, stderr.String())
	}
	n, twice := count("e2e-")
	if n != total || twice != 0 {
		return fmt.Errorf("following: %d of %d events printed, %d of them twice", n, total, twice)
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		return fmt.Errorf("following: stderr %q", s)
	}
	var lat []time.Duration
	mu.Lock()
	for id, at := range written {
		if strings.HasPrefix(id, "e2e-a") {
			lat = append(lat, got[id].at.Sub(at))
		}
	}
	mu.Unlock()
	slices.Sort(lat)
	say("following: 100 lines appended to master-a's live file at 50/s, each printed once; latency median %s, max %s (polls every 250 ms, printed every 200 ms)",
		lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	say("following: %d events (%.1f MB) written to master-b and master-c in 6 bursts of 3 MB each, a second apart, while their logs rotated "+
		"(%d backups on master-b, %d gzipped on master-c): each printed once, the last %s after the last burst",
		total-100, float64(bytesOut)/1e6, len(backupsB), len(backupsC), took.Round(time.Millisecond))
	say("idle following of 3 masters, %s: kauditui CPU %s (%.2f%% of a core), kube-apiserver CPU %s (%.2f%% of a core: 12 proxied polls a second)",
		wall.Round(time.Millisecond), k1-k0, 100*(k1-k0).Seconds()/wall.Seconds(), a1-a0, 100*(a1-a0).Seconds()/wall.Seconds())
	return nil
}

// kq runs `kauditui query ARGS...`: stdout (or its line count for -o json
// and -o klog), stderr, exit code.
func kq(args ...string) (string, string, int) {
	// --priority normal: this harness runs an etcd and an apiserver here, so
	// a read of local files would say it runs at low priority and one
	// through the proxy would not; what is compared is what they read
	cmd := exec.Command(*kauditui, append([]string{"query", "--priority", "normal"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		return "", err.Error(), -1
	}
	s := out.String()
	if slices.Contains(args, "json") || slices.Contains(args, "klog") {
		s = fmt.Sprintf("%d lines, sha %x", strings.Count(s, "\n"), sum(out.Bytes()))
	}
	return s, errOut.String(), code
}

func sum(b []byte) uint64 {
	var h uint64 = 14695981039346656037
	for _, c := range b {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return h
}

func short(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// createNode makes a Node whose kubelet is n's stand-in: InternalIP and
// kubeletEndpoint port in its status (what the API server's proxy dials).
func createNode(ctx context.Context, c kubernetes.Interface, n *node) error {
	labels := map[string]string{}
	if n.control {
		labels["node-role.kubernetes.io/control-plane"] = ""
	}
	if _, err := c.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	patch, _ := json.Marshal(map[string]any{"status": map[string]any{
		"addresses":       []map[string]string{{"type": "InternalIP", "address": *ip}},
		"daemonEndpoints": map[string]any{"kubeletEndpoint": map[string]int{"Port": n.port}},
	}})
	_, err := c.CoreV1().Nodes().Patch(ctx, n.name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// copyFiles copies the regular files of src into dst (renamed by names, or
// all of them as they are when names is nil).
func copyFiles(src, dst string, names map[string]string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		to := e.Name()
		if names != nil {
			if to = names[e.Name()]; to == "" {
				continue
			}
		}
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, to), data, 0o600); err != nil {
			return err
		}
		if fi, err := e.Info(); err == nil {
			os.Chtimes(filepath.Join(dst, to), fi.ModTime(), fi.ModTime())
		}
	}
	return nil
}

// eventLines are the complete requests of a real log (ResponseComplete).
func eventLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, `"stage":"ResponseComplete"`) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no ResponseComplete event", path)
	}
	return out, nil
}

var (
	idRE   = regexp.MustCompile(`"auditID":"[^"]*"`)
	timeRE = regexp.MustCompile(`"(requestReceivedTimestamp|stageTimestamp)":"[^"]*"`)
)

// withID is a real event line with another auditID and times.
func withID(l, id string, at time.Time) string {
	l = idRE.ReplaceAllLiteralString(l, `"auditID":"`+id+`"`)
	ts := at.UTC().Format("2006-01-02T15:04:05.000000Z")
	return timeRE.ReplaceAllString(l, `"$1":"`+ts+`"`)
}

// selfSigned is a serving certificate for the stand-in kubelets (the API
// server does not check kubelet certificates unless
// --kubelet-certificate-authority is set).
