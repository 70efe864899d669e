// Command pods-e2e checks source.StreamPods against a real kube-apiserver
// whose pods' logs are served by kwok. hack/pods-e2e.sh starts the cluster
// (three fake masters, kwok Logs resources naming one CRI file per pod) and
// runs it; it exits non-zero, saying why, when a check fails.
//
// The lines are the logical lines (P records joined up to F) of a real
// apiserver's CRI log, testdata/stdout/cri/0.log, dealt in time order:
//
//	first half        alternately to master-a and master-b before streaming (the history)
//	next eighth       appended alternately while following
//	next eighth       appended while kwok is killed (SIGKILL) and started again
//	last quarter      master-c: half written, its pod created while streaming, half appended
//	the whole file    30 times, later each time, to kauditui-bulk (lines/s of a history read; then
//	                  its last 100 lines and following: TailLines inside a busy second)
//
// Every pod must receive exactly its file's lines, each once, in file order;
// the history must come merged by time across pods.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kauditui/kauditui/hack/internal/e2e"
	"github.com/kauditui/kauditui/hack/internal/e2e/kube"
	"github.com/kauditui/kauditui/source"
)

var (
	dir     = flag.String("dir", "", "the cluster folder of hack/pods-e2e.sh (kubeconfigs, podlogs/, pids/)")
	criPath = flag.String("cri", "testdata/stdout/cri/0.log", "a real CRI log to deal out")
	kwokCtl = flag.String("kwok-ctl", "", "script: kwok-ctl start|kill")
	apiPid  = flag.Int("apiserver-pid", 0, "for the apiserver's CPU while idle")
)

const ns = "kube-system"

func main() {
	flag.Parse()
	e2e.Main("pods-e2e", run)
}

func say(format string, a ...any) { fmt.Printf("pods-e2e: "+format+"\n", a...) }

var started = time.Now()

// mark prints when a step happens, on the clock of the state lines.
func mark(what string) { say("  %7.3fs %s", time.Since(started).Seconds(), what) }

// --- the data ------------------------------------------------------------------

type record struct {
	t       time.Time
	stderr  bool
	partial bool
	text    string
}

// logical is one line as the kubelet hands it on: its records joined.
type logical struct {
	t    time.Time
	text string
	recs []record
}

func load(path string) ([]logical, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []logical
	pending := map[bool]*logical{}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		r, ok := source.ParseCRI(line)
		if !ok {
			return nil, fmt.Errorf("%s:%d: not a CRI record", path, i+1)
		}
		p := pending[r.Stderr]
		if p == nil {
			p = &logical{t: r.Time}
			pending[r.Stderr] = p
		}
		p.recs = append(p.recs, record{r.Time, r.Stderr, r.Partial, string(r.Text)})
		p.text += string(r.Text)
		if !r.Partial {
			out = append(out, *p)
			delete(pending, r.Stderr)
		}
	}
	return out, nil
}

// shifted is l with every time moved by d.
func (l logical) shifted(d time.Duration) logical {
	l.t = l.t.Add(d)
	l.recs = slices.Clone(l.recs)
	for i := range l.recs {
		l.recs[i].t = l.recs[i].t.Add(d)
	}
	return l
}

// cri is l as the container runtime writes it.
func (l logical) cri() []byte {
	var b bytes.Buffer
	for _, r := range l.recs {
		stream, tag := "stdout", "F"
		if r.stderr {
			stream = "stderr"
		}
		if r.partial {
			tag = "P"
		}
		fmt.Fprintf(&b, "%s %s %s %s\n", r.t.Format(time.RFC3339Nano), stream, tag, r.text)
	}
	return b.Bytes()
}

// --- pods and their files --------------------------------------------------------

type podLog struct {
	name, node string
	path       string
	lines      []logical   // written so far, in order
	appended   []time.Time // when each was written (zero: before streaming)
}

func (p *podLog) write(ls []logical, live bool) error {
	f, err := os.OpenFile(p.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, l := range ls {
		if _, err := f.Write(l.cri()); err != nil { // one write per line: kwok never sees half of one
			return err
		}
		var at time.Time
		if live {
			at = time.Now()
		}
		p.lines = append(p.lines, l)
		p.appended = append(p.appended, at)
	}
	return nil
}

func apiserverPod(name, node, component string) *corev1.Pod {
	no := false
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns,
			Labels: map[string]string{"component": component, "tier": "control-plane"}},
		Spec: corev1.PodSpec{
			NodeName:                     node,
			AutomountServiceAccountToken: &no,
			Containers:                   []corev1.Container{{Name: "kube-apiserver", Image: "registry.k8s.io/kube-apiserver:v1.37.2"}},
		},
	}
}

func createRunning(ctx context.Context, c kubernetes.Interface, p *corev1.Pod) error {
	if _, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
		return err
	}
	return e2e.WaitUntil(30*time.Second, func() bool {
		got, err := c.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		return err == nil && got.Status.Phase == corev1.PodRunning
	}, "pod "+p.Name+" running")
}

// --- what arrives ---------------------------------------------------------------

type arrival struct {
	t    time.Time
	text string
	at   time.Time
}

type collector struct {
	busy   atomic.Bool
	mu     sync.Mutex
	lines  map[string][]arrival
	order  []arrival // all, in arrival order
	states []source.PodState
	bytes  int64
}

func newCollector() *collector { return &collector{lines: map[string][]arrival{}} }

func (c *collector) emit(l source.PodLine) {
	if !c.busy.CompareAndSwap(false, true) {
		panic("emit called concurrently")
	}
	defer c.busy.Store(false)
	a := arrival{l.Time, string(l.Text), time.Now()}
	c.mu.Lock()
	c.lines[l.Pod] = append(c.lines[l.Pod], a)
	c.order = append(c.order, a)
	c.bytes += int64(len(l.Text))
	c.mu.Unlock()
}

func (c *collector) state(st source.PodState) {
	c.mu.Lock()
	c.states = append(c.states, st)
	c.mu.Unlock()
	say("  %7.3fs state %s@%s %s%s %.160s", time.Since(started).Seconds(), st.Pod, st.Node, st.State, retryIn(st.RetryIn), st.Err)
}

func retryIn(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return " (retry in " + d.String() + ")"
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

func (c *collector) sawState(pod, state string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.states {
		if st.Pod == pod && st.State == state {
			return true
		}
	}
	return false
}

// check: every pod got exactly its lines, once each, in file order.
func (c *collector) check(pods []*podLog) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range pods {
		got := c.lines[p.name]
		for i := range max(len(got), len(p.lines)) {
			switch {
			case i >= len(got):
				return fmt.Errorf("%s: %d of %d lines arrived; missing from %s %.80q", p.name, len(got), len(p.lines), p.lines[i].t.Format(time.RFC3339Nano), p.lines[i].text)
			case i >= len(p.lines):
				return fmt.Errorf("%s: %d lines arrived, %d written; extra: %s %.80q", p.name, len(got), len(p.lines), got[i].t.Format(time.RFC3339Nano), got[i].text)
			case !got[i].t.Equal(p.lines[i].t) || got[i].text != p.lines[i].text:
				return fmt.Errorf("%s: line %d is %s %.80q, want %s %.80q", p.name, i+1, got[i].t.Format(time.RFC3339Nano), got[i].text, p.lines[i].t.Format(time.RFC3339Nano), p.lines[i].text)
			}
		}
	}
	return nil
}

func (c *collector) waitCount(n int, limit time.Duration, what string) error {
	return e2e.WaitUntil(limit, func() bool { return c.count() >= n }, fmt.Sprintf("%s (%d lines, have %d)", what, n, c.count()))
}

// --- CPU -------------------------------------------------------------------------

func kwokPid() int {
	b, _ := os.ReadFile(filepath.Join(*dir, "pids", "kwok"))
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func kwok(what string) error {
	out, err := exec.Command(*kwokCtl, what).CombinedOutput()
	if err != nil {
		return fmt.Errorf("kwok-ctl %s: %v: %s", what, err, out)
	}
	return nil
}

// --- the run -------------------------------------------------------------------

func run() error {
	ctx := context.Background()
	all, err := load(*criPath)
	if err != nil {
		return err
	}
	n := len(all)
	hist, live, outage, third := all[:n/2], all[n/2:n/2+n/8], all[n/2+n/8:3*n/4], all[3*n/4:]
	audit := 0
	for _, l := range all {
		if source.Classify([]byte(l.text)) == source.KindAudit {
			audit++
		}
	}
	say("%s: %d logical lines (%d audit events, %d joined from partial records)", *criPath, n, audit, countPartial(all))

	admin, err := kube.Client(*dir, "admin")
	if err != nil {
		return err
	}
	pods := map[string]*podLog{}
	for _, m := range []string{"master-a", "master-b", "master-c"} {
		name := "kube-apiserver-" + m
		pods[m] = &podLog{name: name, node: m, path: filepath.Join(*dir, "podlogs", name+".log")}
	}
	a, b, c := pods["master-a"], pods["master-b"], pods["master-c"]
	deal := func(ls []logical, live bool) error {
		for i, l := range ls {
			p := a
			if i%2 == 1 {
				p = b
			}
			if err := p.write([]logical{l}, live); err != nil {
				return err
			}
		}
		return nil
	}
	if err := deal(hist, false); err != nil {
		return err
	}
	for _, p := range []*podLog{a, b} {
		if err := createRunning(ctx, admin, apiserverPod(p.name, p.node, "kube-apiserver")); err != nil {
			return err
		}
	}

	// Refused users: one line naming the user, the verb and the resource.
	if err := refused("nobody", `User "kauditui-nobody" cannot list resource "pods"`); err != nil {
		return err
	}
	if err := refused("lister", `User "kauditui-lister" cannot get resource "pods/log"`); err != nil {
		return err
	}

	// History, then follow.
	col := newCollector()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	t0 := time.Now()
	go func() {
		done <- source.StreamPods(sctx, source.PodOptions{Client: admin, Follow: true, State: col.state}, col.emit)
	}()
	defer stop()
	if err := col.waitCount(len(hist), 60*time.Second, "history"); err != nil {
		return err
	}
	histTime := time.Since(t0)
	col.mu.Lock()
	for i := 1; i < len(col.order); i++ {
		if col.order[i].t.Before(col.order[i-1].t) {
			col.mu.Unlock()
			return fmt.Errorf("history not in time order at line %d: %s after %s", i+1, col.order[i].t.Format(time.RFC3339Nano), col.order[i-1].t.Format(time.RFC3339Nano))
		}
	}
	histBytes := col.bytes
	col.mu.Unlock()
	if err := col.check([]*podLog{a, b}); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	say("history: %d lines of 2 pods merged in time order, each once, in %s (%.0f lines/s, %.1f MB/s, connecting included)",
		len(hist), histTime.Round(time.Millisecond), float64(len(hist))/histTime.Seconds(), float64(histBytes)/histTime.Seconds()/1e6)

	// Appended while following: 100 lines/s.
	for i := 0; i < len(live); i += 2 {
		if err := deal(live[i:min(i+2, len(live))], true); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := col.waitCount(len(hist)+len(live), 30*time.Second, "appended lines"); err != nil {
		return err
	}
	if err := col.check([]*podLog{a, b}); err != nil {
		return fmt.Errorf("following: %w", err)
	}
	say("following: %d appended lines arrived, each once; latency %s", len(live), latency(col, []*podLog{a, b}))

	// Idle: nothing written for 10 s.
	time.Sleep(time.Second)
	kp := kwokPid()
	c0, k0, a0, w0 := e2e.SelfCPU(), e2e.ProcCPU(kp), e2e.ProcCPU(*apiPid), time.Now()
	time.Sleep(10 * time.Second)
	c1, k1, a1, wall := e2e.SelfCPU(), e2e.ProcCPU(kp), e2e.ProcCPU(*apiPid), time.Since(w0)
	say("idle following, %s: CPU of this process (StreamPods) %s (%.2f%% of a core); kwok %s; kube-apiserver %s",
		wall.Round(time.Millisecond), (c1 - c0).Round(time.Microsecond), 100*(c1-c0).Seconds()/wall.Seconds(), k1-k0, a1-a0)

	// kwok killed and started again while lines are appended (50 lines/s).
	var tKill, tReady time.Time
	fed := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < len(outage) && err == nil; i += 2 {
			err = deal(outage[i:min(i+2, len(outage))], true)
			time.Sleep(40 * time.Millisecond)
		}
		fed <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	before := col.count()
	tKill = time.Now()
	mark("killing kwok")
	if err := kwok("kill"); err != nil {
		return err
	}
	mark("kwok gone")
	time.Sleep(2 * time.Second)
	tStart := time.Now()
	if err := kwok("start"); err != nil {
		return err
	}
	tReady = time.Now()
	mark("kwok ready")
	if err := <-fed; err != nil {
		return err
	}
	if err := col.waitCount(len(hist)+len(live)+len(outage), 60*time.Second, "lines across the kwok restart"); err != nil {
		return err
	}
	if err := col.check([]*podLog{a, b}); err != nil {
		return fmt.Errorf("across the kwok restart: %w", err)
	}
	col.mu.Lock()
	var firstAfter time.Time
	for _, x := range col.order[before:] {
		if x.at.After(tReady) {
			firstAfter = x.at
			break
		}
	}
	col.mu.Unlock()
	say("kwok killed (SIGKILL) and started again while %d lines were appended: each arrived once, in order; "+
		"kwok down %s (from the kill to healthz answering again; starting took %s); the stream resumed %s after kwok was ready "+
		"(at the follower's next retry: the backoff doubles from 500ms while kwok is down)",
		len(outage), tReady.Sub(tKill).Round(time.Millisecond), tReady.Sub(tStart).Round(time.Millisecond),
		firstAfter.Sub(tReady).Round(time.Millisecond))
	if !col.sawState(a.name, source.PodReconnecting) || !col.sawState(b.name, source.PodReconnecting) {
		return errors.New("no reconnecting state during the kwok restart")
	}

	// A third master joins while streaming.
	half := len(third) / 2
	if err := c.write(third[:half], false); err != nil {
		return err
	}
	tCreate := time.Now()
	if err := createRunning(ctx, admin, apiserverPod(c.name, c.node, "kube-apiserver")); err != nil {
		return err
	}
	want := len(hist) + len(live) + len(outage) + half
	if err := col.waitCount(want, 30*time.Second, "the third pod's log"); err != nil {
		return err
	}
	joined := time.Since(tCreate)
	for i := half; i < len(third); i += 2 {
		if err := c.write(third[i:min(i+2, len(third))], true); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := col.waitCount(want+len(third)-half, 30*time.Second, "the third pod's appended lines"); err != nil {
		return err
	}
	if err := col.check([]*podLog{a, b, c}); err != nil {
		return fmt.Errorf("third pod: %w", err)
	}
	say("third master: pod created while streaming, its %d lines and %d appended arrived, each once, %s after the create",
		half, len(third)-half, joined.Round(time.Millisecond))

	// A pod deleted ends as gone.
	if err := admin.CoreV1().Pods(ns).Delete(ctx, b.name, metav1.DeleteOptions{}); err != nil {
		return err
	}
	if err := e2e.WaitUntil(30*time.Second, func() bool { return col.sawState(b.name, source.PodGone) }, b.name+" gone"); err != nil {
		return err
	}
	say("deleted pod %s: gone", b.name)

	stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("StreamPods returned %v after ctx ended, want nil", err)
		}
	case <-time.After(10 * time.Second):
		return errors.New("StreamPods did not return 10 s after ctx ended")
	}
	if err := col.check([]*podLog{a, b, c}); err != nil {
		return err
	}
	auditGot := 0
	for _, x := range col.order {
		if source.Classify([]byte(x.text)) == source.KindAudit {
			auditGot++
		}
	}
	say("all: %d lines (%d audit events) of 3 pods, each exactly once", col.count(), auditGot)
	return bulk(ctx, admin, all)
}

func countPartial(ls []logical) int {
	k := 0
	for _, l := range ls {
		if len(l.recs) > 1 {
			k++
		}
	}
	return k
}

// latency of the live-appended lines: median and max of arrival - write.
func latency(c *collector, pods []*podLog) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var d []time.Duration
	for _, p := range pods {
		for i, at := range p.appended {
			if !at.IsZero() && i < len(c.lines[p.name]) {
				d = append(d, c.lines[p.name][i].at.Sub(at))
			}
		}
	}
	if len(d) == 0 {
		return "n/a"
	}
	slices.Sort(d)
	return fmt.Sprintf("median %s, max %s", d[len(d)/2].Round(time.Microsecond), d[len(d)-1].Round(time.Microsecond))
}

// refused: StreamPods as a user who may not read the logs fails at once, in one line.
func refused(user, want string) error {
	cl, err := kube.Client(*dir, user)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = source.StreamPods(ctx, source.PodOptions{Client: cl, Follow: true}, func(source.PodLine) {})
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") || ctx.Err() != nil {
		return fmt.Errorf("as %s: StreamPods returned %v; want one line containing %s", user, err, want)
	}
	say("as %s: %v", user, err)
	return nil
}

// bulk: the history of one pod with the whole file 30 times, without Follow.
func bulk(ctx context.Context, admin kubernetes.Interface, all []logical) error {
	p := &podLog{name: "kauditui-bulk", node: "master-a", path: filepath.Join(*dir, "podlogs", "kauditui-bulk.log")}
	span := all[len(all)-1].t.Sub(all[0].t) + time.Second
	var ls []logical
	for k := range 30 {
		for _, l := range all {
			ls = append(ls, l.shifted(time.Duration(k)*span))
		}
	}
	// It ends with the apiserver's first second (181 lines: its flags), so
	// that the tail below starts inside a busy second.
	for _, l := range all {
		if l.t.Sub(all[0].t) < 440*time.Millisecond {
			ls = append(ls, l.shifted(30*span))
		}
	}
	if err := p.write(ls, false); err != nil {
		return err
	}
	if err := createRunning(ctx, admin, apiserverPod(p.name, p.node, "kauditui-bulk")); err != nil {
		return err
	}
	col := newCollector()
	c0, t0 := e2e.SelfCPU(), time.Now()
	err := source.StreamPods(ctx, source.PodOptions{Client: admin, Selector: "component=kauditui-bulk"}, col.emit)
	wall, cpu := time.Since(t0), e2e.SelfCPU()-c0
	if err != nil {
		return err
	}
	if err := col.check([]*podLog{p}); err != nil {
		return fmt.Errorf("bulk: %w", err)
	}
	say("bulk history (no follow): %d lines, %.1f MB in %s: %.0f lines/s, %.1f MB/s; CPU of this process %s",
		len(ls), float64(col.bytes)/1e6, wall.Round(time.Millisecond), float64(len(ls))/wall.Seconds(), float64(col.bytes)/wall.Seconds()/1e6, cpu.Round(time.Millisecond))

	// TailLines then Follow: the follower asks from the second of the last
	// line, which holds many earlier lines the tail left out: none may come.
	const tail = 100
	var sec int
	for _, l := range p.lines[len(p.lines)-tail:] {
		if l.t.Truncate(time.Second).Equal(p.lines[len(p.lines)-1].t.Truncate(time.Second)) {
			sec++
		}
	}
	tp := &podLog{name: p.name, lines: slices.Clone(p.lines[len(p.lines)-tail:]), path: p.path}
	col = newCollector()
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	n := int64(tail)
	go func() {
		done <- source.StreamPods(sctx, source.PodOptions{Client: admin, Selector: "component=kauditui-bulk", TailLines: &n, Follow: true}, col.emit)
	}()
	if err := col.waitCount(tail, 30*time.Second, "the tail"); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the follower is streaming by now
	more := make([]logical, 10)
	for i := range more {
		more[i] = all[len(all)-10+i].shifted(30 * span)
	}
	if err := tp.write(more, true); err != nil {
		return err
	}
	if err := col.waitCount(tail+len(more), 30*time.Second, "lines appended after the tail"); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	stop()
	if err := <-done; err != nil {
		return err
	}
	if err := col.check([]*podLog{tp}); err != nil {
		return fmt.Errorf("tail then follow: %w", err)
	}
	say("tail %d then follow: the %d lines, then the %d appended, each once (the last second holds %d lines, %d of them in the tail)",
		tail, tail, len(more), countSecond(p.lines), sec)
	return nil
}

// countSecond: how many lines share the second of the last one.
func countSecond(ls []logical) int {
	last := ls[len(ls)-1].t.Truncate(time.Second)
	k := 0
	for _, l := range ls {
		if l.t.Truncate(time.Second).Equal(last) {
			k++
		}
	}
	return k
}
