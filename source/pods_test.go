package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// The pure logic of StreamPods, driven through its seam (podOpenFunc) by a
// fake kubelet that answers the way the real one does (crilogs.ReadLogs):
// lines at or after sinceTime (a whole second), the last TailLines, each
// prefixed with its RFC3339Nano time. hack/pods-e2e.sh runs the real thing.

type fakeLine struct {
	t    time.Time // zero: the kubelet sends no prefix (the line continues the one before)
	text string
}

var podT0 = time.Date(2026, 11, 26, 3, 58, 50, 0, time.UTC)

// at is podT0 plus ms milliseconds.
func at(ms int) time.Time { return podT0.Add(time.Duration(ms) * time.Millisecond) }

// kubeletOut is what the kubelet sends for lines under lo.
func kubeletOut(lines []fakeLine, lo *corev1.PodLogOptions) string {
	if lo.TailLines != nil && int(*lo.TailLines) < len(lines) {
		lines = lines[len(lines)-int(*lo.TailLines):]
	}
	var b strings.Builder
	for _, l := range lines {
		if lo.SinceTime != nil && !l.t.IsZero() && l.t.Before(lo.SinceTime.Time) {
			continue
		}
		if !l.t.IsZero() {
			b.WriteString(l.t.Format("2006-01-02T15:04:05.000000000Z07:00") + " ")
		}
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

// then is a reader giving s, then failing with err (nil: blocking until ctx ends).
func then(ctx context.Context, s string, err error) io.ReadCloser {
	return io.NopCloser(io.MultiReader(strings.NewReader(s), failReader{ctx, err}))
}

type failReader struct {
	ctx context.Context
	err error
}

func (f failReader) Read([]byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	<-f.ctx.Done()
	return 0, f.ctx.Err()
}

// recorder collects what StreamPods hands on, checking emit is never
// called concurrently.
type recorder struct {
	busy   atomic.Bool
	mu     sync.Mutex
	t      *testing.T
	lines  []string // "pod time text"
	times  []time.Time
	states []PodState
	got    chan struct{}
}

func newRecorder(t *testing.T) *recorder { return &recorder{t: t, got: make(chan struct{}, 1000)} }

func (r *recorder) emit(l PodLine) {
	r.enter()
	defer r.leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf("%s %s %s", l.Pod, l.Time.Format("05.000"), l.Text))
	r.times = append(r.times, l.Time)
	r.got <- struct{}{}
}

func (r *recorder) state(st PodState) {
	r.enter()
	defer r.leave()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.states = append(r.states, st)
}

func (r *recorder) enter() {
	if !r.busy.CompareAndSwap(false, true) {
		r.t.Error("emit or State called concurrently")
	}
}

func (r *recorder) leave() { r.busy.Store(false) }

func (r *recorder) snapshot() ([]string, []PodState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.lines), slices.Clone(r.states)
}

// waitLines waits until n lines have come.
func (r *recorder) waitLines(n int) {
	r.t.Helper()
	for {
		r.mu.Lock()
		have := len(r.lines)
		r.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-r.got:
		case <-time.After(5 * time.Second):
			r.t.Fatalf("only %d of %d lines came", have, n)
		}
	}
}

func testStreamer(opt PodOptions, open podOpenFunc, r *recorder) *podStreamer {
	opt.State = r.state
	opt.defaults()
	return newPodStreamer(opt, open, r.emit)
}

func TestPodHistoryMergeByTime(t *testing.T) {
	logs := map[string][]fakeLine{
		"kube-apiserver-a": {{at(100), "a1"}, {at(900), "a2 klog header"}, {time.Time{}, "a2 continued"}, {at(2500), "a3"}, {at(2500), "a3 same time"}},
		"kube-apiserver-b": {{at(50), "b0 before Since"}, {at(200), "b1"}, {at(900), "b2 same time as a2"}, {at(3000), "b3"}},
		"kube-apiserver-c": {{at(1000), "c1"}, {at(1001), "c2 {\"kind\":\"Event\"} unterminated"}},
	}
	var mu sync.Mutex
	var asked []*corev1.PodLogOptions
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		mu.Lock()
		asked = append(asked, lo)
		mu.Unlock()
		out := kubeletOut(logs[pod], lo)
		if pod == "kube-apiserver-c" {
			out = strings.TrimSuffix(out, "\n") // the last line still being written
		}
		return io.NopCloser(strings.NewReader(out)), nil
	}
	r := newRecorder(t)
	tail := int64(100)
	s := testStreamer(PodOptions{TailLines: &tail, Since: at(100)}, open, r)
	var pods []*podStream
	for _, name := range []string{"kube-apiserver-a", "kube-apiserver-b", "kube-apiserver-c"} {
		pods = append(pods, s.newStream(name, "node-"+name[len(name)-1:], "", &tail))
	}
	if err := s.history(context.Background(), pods); err != nil {
		t.Fatal(err)
	}
	lines, states := r.snapshot()
	want := []string{
		"kube-apiserver-a 50.100 a1", // b0 (50.050) is before Since: the kubelet sends its second, StreamPods drops it
		"kube-apiserver-b 50.200 b1",
		"kube-apiserver-a 50.900 a2 klog header",
		"kube-apiserver-a 50.900 a2 continued", // no timestamp: the time of the line before, and stays after it
		"kube-apiserver-b 50.900 b2 same time as a2",
		"kube-apiserver-c 51.000 c1",
		`kube-apiserver-c 51.001 c2 {"kind":"Event"} unterminated`, // without Follow the last line is all there is
		"kube-apiserver-a 52.500 a3",
		"kube-apiserver-a 52.500 a3 same time",
		"kube-apiserver-b 53.000 b3",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, lo := range asked {
		if lo.Follow || !lo.Timestamps || lo.Container != "kube-apiserver" || lo.TailLines == nil || *lo.TailLines != 100 ||
			lo.SinceTime == nil || !lo.SinceTime.Time.Equal(at(0)) {
			t.Errorf("history asked %+v; want container kube-apiserver, timestamps, tail 100, since %s (Since to the second)", lo, at(0))
		}
	}
	var done []string
	for _, st := range states {
		if st.State == PodDone {
			done = append(done, st.Pod+"@"+st.Node)
		}
	}
	if len(done) != 3 || done[0] != "kube-apiserver-a@node-a" {
		t.Errorf("states %+v: want streaming then done for each pod", states)
	}
}

// A follow stream fails; the next one asks from the second of the last line
// handed on and gets that second's lines again: each line is handed on once,
// identical lines in the log (same time, same text) as often as they are in
// it, also when the last line handed on is one of them.
func TestPodDedupeAcrossReconnect(t *testing.T) {
	log := []fakeLine{
		{at(100), "l1"}, {at(1100), "l2"}, {at(1500), "l3"}, {at(1500), "l3 twin"}, {at(1500), "l3 twin"}, {at(1700), "l4"},
		{at(1900), "l5 cut by the failure"}, // the first stream breaks inside it
		{at(1950), "l6"}, {at(2100), "l7"},
		{at(2300), "l8"}, {at(2300), "l8"}, {at(3000), "l9"},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var asked []*corev1.PodLogOptions
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		asked = append(asked, lo)
		switch len(asked) {
		case 1: // up to l4 and half of l5, then the connection breaks
			out := kubeletOut(log[:7], lo)
			return then(ctx, out[:len(out)-8], io.ErrUnexpectedEOF), nil
		case 2: // the stream ends after the twin l8s
			return then(ctx, kubeletOut(log[:11], lo), io.EOF), nil
		default:
			return then(ctx, kubeletOut(log, lo), nil), nil // follows until ctx ends
		}
	}
	r := newRecorder(t)
	s := testStreamer(PodOptions{Follow: true, MinBackoff: time.Millisecond}, open, r)
	p := s.newStream("kube-apiserver-a", "node-a", "", nil)
	done := make(chan struct{})
	go func() { s.follow(ctx, p); close(done) }()
	r.waitLines(len(log))
	cancel()
	<-done
	lines, states := r.snapshot()
	var want []string
	for _, l := range log {
		want = append(want, "kube-apiserver-a "+l.t.Format("05.000")+" "+l.text)
	}
	if !slices.Equal(lines, want) {
		t.Errorf("lines:\n%s\nwant each once:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	wantSince := []time.Time{{}, at(1000), at(2000)}
	for i, lo := range asked {
		var since time.Time
		if lo.SinceTime != nil {
			since = lo.SinceTime.Time
		}
		if !lo.Follow || lo.TailLines != nil || !since.Equal(wantSince[i]) {
			t.Errorf("request %d: %+v; want follow, no tail, sinceTime %s", i+1, lo, wantSince[i])
		}
	}
	if len(states) == 0 || states[1].State != PodReconnecting || states[1].Err != "unexpected EOF" {
		t.Errorf("states %+v: want streaming, then reconnecting saying why", states)
	}
}

func TestPodBackoffGrowsAndResets(t *testing.T) {
	b := podBackoff{min: time.Second, max: 8 * time.Second}
	var got []time.Duration
	for range 5 {
		got = append(got, b.delay())
	}
	b.reset()
	got = append(got, b.delay())
	if want := []time.Duration{1e9, 2e9, 4e9, 8e9, 8e9, 1e9}; !slices.Equal(got, want) {
		t.Errorf("delays %v, want %v", got, want)
	}

	// Through follow: failures double the wait; a stream bringing a new line
	// resets it; one bringing only lines already handed on does not.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := []fakeLine{{at(100), "old"}, {at(200), "new"}}
	n := 0
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		n++
		switch n {
		case 5: // new line, then the stream ends
			return then(ctx, kubeletOut(log, lo), io.EOF), nil
		case 6: // only what was handed on
			return then(ctx, kubeletOut(log, lo), io.EOF), nil
		case 10:
			cancel()
		}
		return nil, apierrors.NewInternalError(errors.New(`dial tcp 10.0.0.1:10250: connect: connection refused`))
	}
	r := newRecorder(t)
	s := testStreamer(PodOptions{Follow: true, MinBackoff: time.Millisecond, MaxBackoff: 8 * time.Millisecond}, open, r)
	p := s.newStream("kube-apiserver-a", "node-a", "", nil)
	p.seen.fresh(at(100), []byte("old")) // handed on by the history
	s.follow(ctx, p)
	_, states := r.snapshot()
	var retry []time.Duration
	const ms = time.Millisecond
	for _, st := range states {
		if st.State == PodReconnecting {
			retry = append(retry, st.RetryIn)
			if !strings.Contains(st.Err, "connection refused") && !strings.Contains(st.Err, "stream ended") {
				t.Errorf("reconnecting state without the reason: %+v", st)
			}
		}
	}
	// (the ninth failure waits 8ms again: the same state, not told twice)
	if want := []time.Duration{1 * ms, 2 * ms, 4 * ms, 8 * ms, 1 * ms, 2 * ms, 4 * ms, 8 * ms}; !slices.Equal(retry, want) {
		t.Errorf("retry in %v, want %v", retry, want)
	}
}

func TestPodForbiddenAndGone(t *testing.T) {
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods/log"}, "kube-apiserver-a",
		errors.New(`User "lou-viewer" cannot get resource "pods/log" in API group "" in the namespace "kube-system"`))
	gone := apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "kube-apiserver-a")
	n := 0
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		n++
		if n == 1 {
			return nil, forbidden
		}
		return nil, gone
	}
	r := newRecorder(t)
	s := testStreamer(PodOptions{Follow: true, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, open, r)
	s.follow(context.Background(), s.newStream("kube-apiserver-a", "node-a", "", nil)) // returns once gone
	_, states := r.snapshot()
	if len(states) != 2 || states[0].State != StateForbidden || !strings.Contains(states[0].Err, `User "lou-viewer" cannot get resource "pods/log"`) ||
		states[1].State != PodGone || states[1].Node != "node-a" {
		t.Errorf("states %+v: want forbidden (with the API's reason), then gone", states)
	}

	// Every pod's log refused: nothing can be read, one line says what to do.
	open = func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		return nil, forbidden
	}
	s = testStreamer(PodOptions{Follow: true}, open, newRecorder(t))
	err := s.history(context.Background(), []*podStream{s.newStream("kube-apiserver-a", "n", "", nil), s.newStream("kube-apiserver-b", "n", "", nil)})
	var refused *podRefusedError
	if !errors.As(err, &refused) || strings.Contains(err.Error(), "\n") ||
		!strings.Contains(err.Error(), `reading the log of pod kube-apiserver-a: pods/log "kube-apiserver-a" is forbidden: User "lou-viewer" cannot get resource "pods/log"`) ||
		!strings.Contains(err.Error(), "kubectl create role kauditui-logs -n kube-system --verb=get,list,watch --resource=pods,pods/log") {
		t.Errorf("error %q: want one line naming the user, verb, resource and the fix", err)
	}
}

// Pods that appear join with their whole log; pods no longer listed end as gone.
func TestPodDiscoverySync(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	asked := map[string]*corev1.PodLogOptions{}
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		mu.Lock()
		asked[pod] = lo
		mu.Unlock()
		return then(ctx, kubeletOut([]fakeLine{{at(100), pod + " line"}}, lo), nil), nil
	}
	r := newRecorder(t)
	tail := int64(5)
	s := testStreamer(PodOptions{Follow: true, TailLines: &tail}, open, r)
	pod := func(name, node string, uid types.UID) corev1.Pod {
		var p corev1.Pod
		p.Name, p.UID, p.Spec.NodeName = name, uid, node
		return p
	}
	s.sync(ctx, []corev1.Pod{pod("kube-apiserver-a", "a", "1"), pod("kube-apiserver-b", "", "2")}) // b: not scheduled yet
	r.waitLines(1)
	s.sync(ctx, []corev1.Pod{pod("kube-apiserver-b", "b", "2")}) // a deleted, b scheduled
	r.waitLines(2)
	s.sync(ctx, []corev1.Pod{pod("kube-apiserver-b", "b", "3")}) // b re-created under the same name
	r.waitLines(3)
	cancel()
	s.wg.Wait()
	lines, states := r.snapshot()
	if want := []string{"kube-apiserver-a 50.100 kube-apiserver-a line", "kube-apiserver-b 50.100 kube-apiserver-b line",
		"kube-apiserver-b 50.100 kube-apiserver-b line"}; !slices.Equal(lines, want) {
		t.Errorf("lines %q, want %q", lines, want)
	}
	for pod, lo := range asked {
		if lo.TailLines != nil || lo.SinceTime != nil || !lo.Follow {
			t.Errorf("%s joined with %+v: want all its log, followed", pod, lo)
		}
	}
	var ends []string
	for _, st := range states {
		if st.State == PodGone || st.State == PodDone {
			ends = append(ends, st.Pod+" "+st.State)
		}
	}
	slices.Sort(ends[1:]) // the two ends at cancel come in any order
	if want := []string{"kube-apiserver-a gone", "kube-apiserver-b done", "kube-apiserver-b gone"}; !slices.Equal(ends, want) {
		t.Errorf("ends %q, want %q", ends, want)
	}
}

func TestPodLongLine(t *testing.T) {
	big := `{"kind":"Event","requestObject":"` + strings.Repeat("x", 5<<20) + `"}`
	log := []fakeLine{{at(100), "short"}, {at(200), big}, {at(300), "after"}}
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(kubeletOut(log, lo))), nil
	}
	var got []int
	s := newPodStreamer(PodOptions{}, open, func(l PodLine) { got = append(got, len(l.Text)) })
	s.opt.defaults()
	if err := s.history(context.Background(), []*podStream{s.newStream("p", "n", "", nil)}); err != nil {
		t.Fatal(err)
	}
	if want := []int{5, len(big), 5}; !slices.Equal(got, want) {
		t.Errorf("line lengths %v, want %v", got, want)
	}
}

// TailLines then Follow: the history's last lines share their second with
// earlier lines the tail left out; the follower, asking from that second, gets
// those too and must not hand them on. After a rotation (a new log file
// without the last line), newer lines are new.
func TestPodTailThenFollow(t *testing.T) {
	log := []fakeLine{{at(1100), "x1"}, {at(1200), "x2"}, {at(1300), "x3"}, {at(1400), "x4"}, {at(1500), "x5"}}
	rotated := []fakeLine{{at(1600), "y1 in the new file"}, {at(1600), "y1 in the new file"}, {at(1700), "y2"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		n++
		switch n {
		case 1: // history
			return io.NopCloser(strings.NewReader(kubeletOut(log, lo))), nil
		case 2: // follow from the second of x5, then the kubelet rotates its log
			return then(ctx, kubeletOut(log, lo), io.EOF), nil
		default: // the new file only
			return then(ctx, kubeletOut(rotated, lo), nil), nil
		}
	}
	r := newRecorder(t)
	tail := int64(2)
	s := testStreamer(PodOptions{Follow: true, TailLines: &tail, MinBackoff: time.Millisecond}, open, r)
	p := s.newStream("kube-apiserver-a", "node-a", "", &tail)
	if err := s.history(ctx, []*podStream{p}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { s.follow(ctx, p); close(done) }()
	r.waitLines(5)
	cancel()
	<-done
	lines, _ := r.snapshot()
	want := []string{"kube-apiserver-a 51.400 x4", "kube-apiserver-a 51.500 x5",
		"kube-apiserver-a 51.600 y1 in the new file", "kube-apiserver-a 51.600 y1 in the new file", "kube-apiserver-a 51.700 y2"}
	if !slices.Equal(lines, want) {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
