package source

import (
	"context"
	"sync"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// The apiserver pods' logs as inputs of a set: each pod is an input of its
// own, named for the pod and its node, whose lines (already joined by the
// kubelet, timestamps stripped by StreamPods) go through the same
// classification as any stream's (audit, klog, JSON logs, other) and are kept
// in the spool. StreamPods merges the pods' history by time and dedupes
// across reconnects; the store drops a repeated audit stage as well.

// podKind is the apiserver pods' logs: it streams them itself (StreamPods),
// beside the set's tailer.
type podKind struct {
	noKind
	opt PodOptions
}

func (k *podKind) describe() []string { return []string{"kube-apiserver pods"} }

func (k *podKind) run(ctx context.Context, s *Set, st *audit.Store) error {
	return s.loadPods(ctx, st, k.opt)
}

// loadPods streams the pods of opt into st until the history is read (or,
// following, until ctx ends).
func (s *Set) loadPods(ctx context.Context, st *audit.Store, opt PodOptions) error {
	var mu sync.Mutex // emit is never concurrent; the klog flusher is
	readers := map[string]*reader{}
	emit := func(l PodLine) {
		mu.Lock()
		defer mu.Unlock()
		r := readers[l.Pod]
		if r == nil {
			r = s.podReader(l.Pod, l.Node, st)
			readers[l.Pod] = r
		}
		r.podLine(l)
	}
	stop := make(chan struct{})
	var flusher sync.WaitGroup
	flusher.Add(1)
	go func() {
		// a klog message is complete once no continuation line came for
		// a poll
		defer flusher.Done()
		tick := time.NewTicker(s.opt.PollInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				mu.Lock()
				for _, r := range readers {
					r.flushKlog()
				}
				mu.Unlock()
			}
		}
	}()
	err := StreamPods(ctx, opt, emit)
	close(stop)
	flusher.Wait()
	for _, r := range readers {
		r.finish()
	}
	return err
}

// podReader adds an input for one pod's log.
func (s *Set) podReader(pod, node string, st *audit.Store) *reader {
	name := "pod " + pod
	if node != "" {
		name += " on " + node
	}
	in := &input{Input: Input{Name: name, Format: "pod"}, spooled: true, family: "pod/" + pod, read: true}
	return &reader{set: s, in: in, idx: s.addInput(in), st: st, files: map[string]string{}, lr: &lineReader{}}
}

// podLine handles one line of a pod's log.
func (r *reader) podLine(l PodLine) {
	if l.Time.After(r.near) {
		r.near = l.Time
	}
	r.lr.lineNo++
	ref := audit.Ref{Input: r.idx, Line: r.lr.lineNo, Len: int32(min(len(l.Text), 1<<31-1))}
	if len(l.Text) > r.set.opt.MaxLine {
		r.endSplice()
		r.other(ref, "line over the limit")
		return
	}
	r.text(l.Text, ref, false)
}
