package source

// The kube-apiserver pods' logs through the API server: `kubectl logs -f
// --timestamps` of every apiserver pod at once, one timeline for the history,
// reconnecting without losing or repeating a line.

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// PodOptions says which pods StreamPods reads and how.
type PodOptions struct {
	Client                 kubernetes.Interface
	Namespace              string         // default "kube-system"
	Selector               string         // default "component=kube-apiserver"
	Container              string         // default "kube-apiserver"
	TailLines              *int64         // history per pod (nil: all the kubelet has)
	Since                  time.Time      // history from (zero: TailLines decides)
	Follow                 bool           // keep streaming after the history
	MinBackoff, MaxBackoff time.Duration  // reconnect backoff (defaults 500ms, 30s)
	State                  func(PodState) // told whenever a stream's state changes (may be nil)
	// Live, when set, is called once the history is read, when the pods
	// start to be followed (Follow only).
	Live func()
}

// StreamState is the state of one live stream: an apiserver pod's log
// (PodOptions.State) or a node's audit log file read through the node proxy
// (NodeOptions.State). Both speak one vocabulary (StateStreaming...), and
// what an error means for a stream is decided in one place (streamStateOf).
type StreamState struct {
	Pod  string // the pod; "" for a node's file
	Node string // the pod's node, or the node whose file it is
	// State is StateStreaming, StateReconnecting, StateForbidden,
	// StateGone or StateDone.
	State   string
	RetryIn time.Duration // for StateReconnecting (and StateForbidden, when it is asked again)
	Err     string        // one line, for forbidden/gone/reconnecting (and done, when the history failed): what the API said
}

// PodState is the state of one pod's stream (the name StreamState had
// when only pods had one).
type PodState = StreamState

// The values of StreamState.State.
const (
	StateStreaming    = "streaming"    // read, and read on as it grows
	StateReconnecting = "reconnecting" // the stream failed or ended; RetryIn says when the next try is
	StateForbidden    = "forbidden"    // refused (pods/log, nodes/proxy); asked again now and then
	StateGone         = "gone"         // the pod was deleted; the node or its file is not there
	StateDone         = "done"         // history read (without Follow), or ctx ended
)

// The values of StreamState.State under the names they had when only pods
// had one.
const (
	PodStreaming    = StateStreaming
	PodReconnecting = StateReconnecting
	PodGone         = StateGone
	PodDone         = StateDone
)

// PodLine is one line of a pod's log.
type PodLine struct {
	Pod, Node string
	Time      time.Time // the kubelet's timestamp of the line (timestamps=true)
	Text      []byte    // the line as logged, without the timestamp prefix and newline; valid only during the call
}

// podWatchTimeout bounds one watch of the pods; each new watch starts with a list.
const podWatchTimeout = 5 * time.Minute

// StreamPods lists the pods, reads every pod's history (merged by Time across
// pods, oldest first, so the caller gets one timeline), then, with Follow,
// follows every pod (lines in arrival order), reconnecting with backoff from
// the last timestamp seen (sinceTime; it has one-second granularity) and
// dropping what the new stream sends up to the last line handed on (matched
// by Time and text: the rest of its second, and earlier lines of that second
// that TailLines left out; see podDedupe); pods that
// appear later (a new master, an apiserver restarted as a new pod) join with
// all they logged (from Since), pods deleted end as "gone". emit is never
// called concurrently, nor at the same time as State. It returns when ctx
// ends (nil) or, without Follow, after the history; an error only when
// nothing could be read at all (listing pods fails, no pod matches, or every
// pod's log was refused).
//
// Discovery lists the pods, then watches them from the list's
// resourceVersion, and lists again (adding and ending pods by the
// difference) whenever a watch ends: new pods join at once, an idle watch
// costs nothing, and whatever a broken watch missed is caught by the next
// list. If watching is refused or fails, it lists again after a backoff that
// grows to MaxBackoff, so it degrades to polling.
func StreamPods(ctx context.Context, opt PodOptions, emit func(PodLine)) error {
	opt.defaults()
	if opt.Client == nil {
		return errors.New("reading the apiserver pods' logs: no Kubernetes client")
	}
	api := opt.Client.CoreV1().Pods(opt.Namespace)
	list, err := api.List(ctx, metav1.ListOptions{LabelSelector: opt.Selector})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return podRefusal(opt, fmt.Sprintf("listing pods in %s (-l %s)", opt.Namespace, opt.Selector), err)
	}
	s := newPodStreamer(opt, func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		return api.GetLogs(pod, lo).Stream(ctx)
	}, emit)
	var pods []*podStream
	for i := range list.Items {
		if p := &list.Items[i]; p.Spec.NodeName != "" {
			pods = append(pods, s.newStream(p.Name, p.Spec.NodeName, p.UID, opt.TailLines))
		}
	}
	if len(pods) == 0 {
		return fmt.Errorf("no pod on a node in namespace %s matches -l %s: is the API server run as a pod in this cluster? "+
			"(managed clusters hide it: read its audit log files instead)", opt.Namespace, opt.Selector)
	}
	if err := s.history(ctx, pods); err != nil {
		var r *podRefusedError
		if !opt.Follow || errors.As(err, &r) {
			return err
		}
	}
	if !opt.Follow || ctx.Err() != nil {
		return nil
	}
	if opt.Live != nil {
		opt.Live()
	}
	for _, p := range pods {
		if p.state.State != StateGone {
			s.start(ctx, p)
		}
	}
	s.discover(ctx, api, list.ResourceVersion)
	s.wg.Wait()
	return nil
}

func (o *PodOptions) defaults() {
	if o.Namespace == "" {
		o.Namespace = "kube-system"
	}
	if o.Selector == "" {
		o.Selector = "component=kube-apiserver"
	}
	if o.Container == "" {
		o.Container = "kube-apiserver"
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
}

// podOpenFunc opens one pod's log (GetLogs(...).Stream); the seam for tests.
type podOpenFunc func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error)

type podStreamer struct {
	opt  PodOptions
	open podOpenFunc
	emit func(PodLine)
	mu   sync.Mutex // serialises emit and State
	wg   sync.WaitGroup
	// following: the pods being followed, by name; only the discovery
	// goroutine (StreamPods' own) touches it.
	following map[string]*podFollower
}

// podStream is one pod's stream; one goroutine at a time owns it (history,
// then its follower).
type podStream struct {
	name, node string
	uid        types.UID
	tail       *int64    // TailLines of the first request
	last       time.Time // time of the last line read: lines without a timestamp get it
	seen       podDedupe
	bo         podBackoff
	state      PodState // last reported
}

type podFollower struct {
	p      *podStream
	cancel context.CancelCauseFunc
}

var errPodDeleted = errors.New("pod deleted")

// podRefusedError is an error that waiting will not cure (forbidden,
// unauthorized): StreamPods returns it even when following.
type podRefusedError struct{ msg string }

func (e *podRefusedError) Error() string { return e.msg }

func newPodStreamer(opt PodOptions, open podOpenFunc, emit func(PodLine)) *podStreamer {
	return &podStreamer{opt: opt, open: open, emit: emit, following: map[string]*podFollower{}}
}

func (s *podStreamer) newStream(name, node string, uid types.UID, tail *int64) *podStream {
	return &podStream{name: name, node: node, uid: uid, tail: tail, bo: podBackoff{min: s.opt.MinBackoff, max: s.opt.MaxBackoff}}
}

// logOptions asks for the log from the second of the last line handed on
// (the lines of that second again: the dedupe drops them) or, before any line,
// as the options say.
func (s *podStreamer) logOptions(p *podStream, follow bool) *corev1.PodLogOptions {
	lo := &corev1.PodLogOptions{Container: s.opt.Container, Timestamps: true, Follow: follow}
	if t, ok := p.seen.since(); ok {
		lo.SinceTime = &metav1.Time{Time: t}
		return lo
	}
	lo.TailLines = p.tail
	if !s.opt.Since.IsZero() {
		lo.SinceTime = &metav1.Time{Time: s.opt.Since.Truncate(time.Second)}
	}
	return lo
}

// parse splits the kubelet's "<RFC3339Nano> " prefix off a line; a line
// without one gets the time of the line before it.
func (p *podStream) parse(raw []byte) PodLine {
	l := PodLine{Pod: p.name, Node: p.node, Time: p.last, Text: raw}
	if sp := podTimeEnd(raw, 40); sp >= 20 && raw[0] >= '0' && raw[0] <= '9' {
		if t, err := time.Parse(time.RFC3339Nano, string(raw[:sp])); err == nil {
			l.Time, l.Text = t, raw[sp+1:]
		}
	}
	p.last = l.Time
	return l
}

func podTimeEnd(b []byte, limit int) int {
	for i := 0; i < len(b) && i <= limit; i++ {
		if b[i] == ' ' {
			return i
		}
	}
	return -1
}

// deliver hands a line on unless it is older than Since or was handed on
// before; it reports whether it did.
func (s *podStreamer) deliver(p *podStream, l PodLine) bool {
	if l.Time.Before(s.opt.Since) || !p.seen.fresh(l.Time, l.Text) {
		return false
	}
	s.mu.Lock()
	s.emit(l)
	s.mu.Unlock()
	return true
}

func (s *podStreamer) setState(p *podStream, st PodState) {
	st.Pod, st.Node = p.name, p.node
	if st == p.state {
		return
	}
	p.state = st
	if s.opt.State != nil {
		s.mu.Lock()
		s.opt.State(st)
		s.mu.Unlock()
	}
}

// history reads every pod's log as it is now and hands the lines on merged
// by time, oldest first (ties in pod order). It fails, with a one-line
// error, only when no pod's log could be opened.
func (s *podStreamer) history(ctx context.Context, pods []*podStream) error {
	type head struct {
		p    *podStream
		r    *lineReader
		body io.Closer
		line PodLine
		ok   bool
		err  error
	}
	advance := func(h *head) {
		for {
			l, err := h.r.next()
			if err != nil {
				h.ok = false
				if err != io.EOF {
					h.err = err
				}
				return
			}
			if l.tooLong || l.cut {
				continue // over DefaultMaxLine, or cut by a failure: a follower reads it again
			}
			h.line, h.ok = h.p.parse(l.text), true
			return
		}
	}
	var heads []*head
	var firstErr error
	for _, p := range pods {
		rc, err := s.open(ctx, p.name, s.logOptions(p, false))
		if err != nil {
			if firstErr == nil {
				firstErr = podRefusal(s.opt, "reading the log of pod "+p.name, err)
			}
			switch st := streamStateOf(err); {
			case st != StateReconnecting:
				s.setState(p, PodState{State: st, Err: podErrLine(err)})
			case !s.opt.Follow:
				s.setState(p, PodState{State: StateDone, Err: podErrLine(err)})
			} // following, the follower retries and says so
			continue
		}
		s.setState(p, PodState{State: StateStreaming})
		h := &head{p: p, r: newLineReader(rc, 0), body: rc}
		// Following, an unterminated last line is still being written: the
		// follower reads it whole from its second.
		h.r.hold = s.opt.Follow
		heads = append(heads, h)
		advance(h)
	}
	for {
		var first *head
		for _, h := range heads {
			if h.ok && (first == nil || h.line.Time.Before(first.line.Time)) {
				first = h
			}
		}
		if first == nil {
			break
		}
		s.deliver(first.p, first.line)
		advance(first)
	}
	for _, h := range heads {
		h.body.Close()
		if !s.opt.Follow {
			st := PodState{State: StateDone}
			if h.err != nil && ctx.Err() == nil {
				st.Err = podErrLine(h.err)
			}
			s.setState(h.p, st)
		}
	}
	if len(heads) == 0 && ctx.Err() == nil {
		return firstErr
	}
	return nil
}

// start follows p in its own goroutine until ctx ends or stop is called.
func (s *podStreamer) start(ctx context.Context, p *podStream) {
	ctx, cancel := context.WithCancelCause(ctx)
	s.following[p.name] = &podFollower{p: p, cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.follow(ctx, p)
		switch {
		case p.state.State == StateGone:
		case errors.Is(context.Cause(ctx), errPodDeleted):
			s.setState(p, PodState{State: StateGone, Err: errPodDeleted.Error()})
		default:
			s.setState(p, PodState{State: StateDone})
		}
	}()
}

// stop ends the follower of pod name (deleted, or replaced by a pod of
// that name with another uid).
func (s *podStreamer) stop(name string) {
	if f, ok := s.following[name]; ok {
		f.cancel(errPodDeleted)
		delete(s.following, name)
	}
}

// follow streams p's log until ctx ends or the pod is gone, reconnecting
// after a backoff that doubles while attempts bring no new line.
func (s *podStreamer) follow(ctx context.Context, p *podStream) {
	for {
		p.seen.resume()
		rc, err := s.open(ctx, p.name, s.logOptions(p, true))
		got := false
		if err == nil {
			s.setState(p, PodState{State: StateStreaming})
			got, err = s.copy(p, rc)
			rc.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if got {
			p.bo.reset()
		}
		st := PodState{State: streamStateOf(err), Err: podErrLine(err)}
		switch st.State {
		case StateGone:
			s.setState(p, st)
			return
		case StateForbidden:
			s.setState(p, st) // RBAC may change: ask again now and then
			st.RetryIn = s.opt.MaxBackoff
		default:
			st.RetryIn = p.bo.delay()
			s.setState(p, st)
		}
		t := time.NewTimer(st.RetryIn)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

var errPodStreamEnded = errors.New("the log stream ended")

// copy hands on the lines of one followed stream; it reports whether any
// was new, and why the stream ended.
func (s *podStreamer) copy(p *podStream, r io.Reader) (got bool, err error) {
	lr := newLineReader(r, 0)
	lr.hold = true // a line without its newline is read again on reconnecting
	for {
		l, err := lr.next()
		if err == io.EOF {
			return got, errPodStreamEnded
		}
		if err != nil {
			return got, err
		}
		if l.tooLong || l.cut {
			continue
		}
		if s.deliver(p, p.parse(l.text)) {
			got = true
		}
	}
}

// discover keeps s.following in step with the pods: a watch from
// resourceVersion rv, then, whenever a watch ends, a list and a new watch.
func (s *podStreamer) discover(ctx context.Context, api typedcorev1.PodInterface, rv string) {
	bo := podBackoff{min: s.opt.MinBackoff, max: s.opt.MaxBackoff}
	timeout := int64(podWatchTimeout / time.Second)
	for ctx.Err() == nil {
		if rv == "" {
			list, err := api.List(ctx, metav1.ListOptions{LabelSelector: s.opt.Selector})
			if err != nil {
				podSleep(ctx, bo.delay())
				continue
			}
			s.sync(ctx, list.Items)
			rv = list.ResourceVersion
		}
		w, err := api.Watch(ctx, metav1.ListOptions{LabelSelector: s.opt.Selector, ResourceVersion: rv, TimeoutSeconds: &timeout})
		rv = ""
		if err != nil {
			podSleep(ctx, bo.delay())
			continue
		}
		start := time.Now()
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				break // an error event (410 Gone: too old): list again
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				s.add(ctx, pod)
			case watch.Deleted:
				if f, ok := s.following[pod.Name]; ok && f.p.uid == pod.UID {
					s.stop(pod.Name)
				}
			}
		}
		w.Stop()
		if time.Since(start) > time.Second {
			bo.reset()
		} else {
			podSleep(ctx, bo.delay()) // a watch that keeps ending at once: do not spin
		}
	}
}

// sync follows the pods of a list and stops following those not in it.
func (s *podStreamer) sync(ctx context.Context, pods []corev1.Pod) {
	in := map[string]bool{}
	for i := range pods {
		in[pods[i].Name] = true
		s.add(ctx, &pods[i])
	}
	for name := range s.following {
		if !in[name] {
			s.stop(name)
		}
	}
}

// add follows a pod that has a node and is not followed yet (or replaces a
// deleted pod of the same name). A pod that joins is read from its start
// (or Since): everything it logged is new.
func (s *podStreamer) add(ctx context.Context, pod *corev1.Pod) {
	if pod.Spec.NodeName == "" {
		return
	}
	if f, ok := s.following[pod.Name]; ok {
		if f.p.uid == pod.UID {
			return
		}
		s.stop(pod.Name)
	}
	s.start(ctx, s.newStream(pod.Name, pod.Spec.NodeName, pod.UID, nil))
}

func podSleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// streamStateOf says what an error opening or reading a log means for its
// stream (a pod's log, a node's file: nodeAPI.refusal keeps the API's
// Status in its errors): refused, not there, or worth trying again.
func streamStateOf(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return StateForbidden
	case apierrors.IsNotFound(err):
		return StateGone
	}
	return StateReconnecting
}

func podErrLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// podRefusal words an error that leaves nothing to read: what was refused (the
// API's message names the user, the verb and the resource) and what to do.
func podRefusal(opt PodOptions, what string, err error) error {
	msg := podErrLine(err)
	switch {
	case apierrors.IsForbidden(err):
		return &podRefusedError{fmt.Sprintf("%s: %s; reading the apiserver logs needs get, list and watch on pods and get on pods/log "+
			"in namespace %s (kubectl create role kauditui-logs -n %s --verb=get,list,watch --resource=pods,pods/log, and a rolebinding to you)",
			what, msg, opt.Namespace, opt.Namespace)}
	case apierrors.IsUnauthorized(err):
		return &podRefusedError{fmt.Sprintf("%s: %s; the API server did not accept the credentials: check the kubeconfig or log in again", what, msg)}
	}
	return fmt.Errorf("%s: %s", what, msg)
}

// podDedupe drops what a resumed stream sends again. A stream resumed from
// the second of the last line handed on sends the lines of that second
// before it again, then it, then new lines; the history's TailLines may also
// have left out earlier lines of that second, which it now sends too. So a
// resumed stream is "catching up" until it sends the last line again (as
// many times as it was handed on: lines can repeat, same time and text), and
// drops everything until then; a line newer than any handed on also ends
// it (the last line is not coming again: the kubelet rotated the log or the
// container restarted, and reads a new file).
type podDedupe struct {
	handed   bool
	lastT    time.Time      // time of the last line handed on
	lastH    uint64         // hash of its text
	atLastT  map[uint64]int // the lines handed on at exactly lastT, by hash
	newest   time.Time      // newest time handed on
	catching bool           // a resumed stream has not sent the last line again yet
	again    int            // how many times it has
}

var podLineSeed = maphash.MakeSeed()

// since is the sinceTime to resume from (the second of the last line
// handed on); false before any line.
func (d *podDedupe) since() (time.Time, bool) {
	return d.lastT.Truncate(time.Second), d.handed
}

// resume is called before each new stream.
func (d *podDedupe) resume() { d.catching, d.again = d.handed, 0 }

// fresh reports whether a line is new, and remembers it if so.
func (d *podDedupe) fresh(t time.Time, text []byte) bool {
	if d.catching {
		if !t.After(d.newest) {
			if t.Equal(d.lastT) && maphash.Bytes(podLineSeed, text) == d.lastH {
				d.again++
				d.catching = d.again < d.atLastT[d.lastH]
			}
			return false
		}
		d.catching = false
	}
	h := maphash.Bytes(podLineSeed, text)
	if d.atLastT == nil {
		d.atLastT = map[uint64]int{}
	}
	if !t.Equal(d.lastT) {
		clear(d.atLastT)
	}
	d.atLastT[h]++
	d.handed, d.lastT, d.lastH = true, t, h
	if t.After(d.newest) {
		d.newest = t
	}
	return true
}

// podBackoff doubles from min to max; reset starts again from min.
type podBackoff struct{ min, max, next time.Duration }

func (b *podBackoff) delay() time.Duration {
	d := max(b.next, b.min)
	b.next = min(2*d, b.max)
	return d
}

func (b *podBackoff) reset() { b.next = b.min }

// String words the state for a warning line: "pod NAME on NODE: STATE in
// 2s (why)".
func (s PodState) String() string {
	where := s.Pod
	if s.Node != "" {
		where += " on " + s.Node
	}
	msg := fmt.Sprintf("pod %s: %s", where, s.State)
	if s.RetryIn > 0 {
		msg += fmt.Sprintf(" in %s", s.RetryIn.Round(100*time.Millisecond))
	}
	if s.Err != "" {
		msg += " (" + s.Err + ")"
	}
	return msg
}
