package ui

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// statusLine is the screen's status bar.
func statusLine(m *model) string {
	lines := strings.Split(screen(m), "\n")
	return lines[len(lines)-2]
}

// liveModel is the explorer with a loader that the test plays itself: it
// adds lines to the store (add), tells the progress as main wires
// source.Options to it (Progress.Set, Progress.Live), and ends the load
// with loadDoneMsg. Init is not run: nothing else loads.
func liveModel(t *testing.T, follow bool) (m *model, prog *Progress, add func(n int)) {
	t.Helper()
	b, err := os.ReadFile(sampleLog(t))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(strings.TrimSpace(string(b)), "\n")
	st := audit.NewStore()
	prog = &Progress{}
	next := 0
	add = func(n int) {
		for ; n > 0 && next < len(all); n-- {
			st.AddEvent([]byte(all[next]), audit.Ref{Line: int64(next + 1)})
			next++
		}
	}
	m = newTestModel(t, st, nil, 160, 16, func(o *Options) {
		o.Load = func(context.Context) error { return nil } // played by the test
		o.Progress = prog
		o.Follow = follow
	})
	return m, prog, add
}

// klogHeader is the apiserver-log page's first line.
func klogHeader(m *model) string {
	press(m, "3")
	defer press(m, "1")
	return strings.Split(screen(m), "\n")[2]
}

// Following a live source, the status bar says "loading" while the history
// is read, "following" once it is (when the loader says so: the pods' and
// nodes' streams have no size to reach), "paused" while p holds the list,
// and "source ended" when the loader ends; the apiserver log page says
// "following" only while it is.
func TestStatusBarFollowing(t *testing.T) {
	for _, size := range []int64{0, 4000} { // streams (pods, nodes), files
		m, prog, add := liveModel(t, true)
		add(10)
		prog.Set(1000, size)
		send(m, tickMsg{})
		if s := statusLine(m); !strings.Contains(s, "loading") || strings.Contains(s, "following") {
			t.Errorf("size %d: reading the history: %q", size, s)
		}
		if h := klogHeader(m); strings.Contains(h, "following") {
			t.Errorf("size %d: the apiserver log says %q while the history is read", size, h)
		}
		add(10)
		prog.Set(size, size)
		prog.Live() // source.Options.Live: the history is read, following
		send(m, tickMsg{})
		if s := statusLine(m); !strings.Contains(s, "● following") || strings.Contains(s, "loading") {
			t.Errorf("size %d: history read, following: %q", size, s)
		}
		if h := klogHeader(m); !strings.Contains(h, "following") {
			t.Errorf("size %d: the apiserver log says %q while following", size, h)
		}
		press(m, "p")
		held := selected(m)
		add(10)
		send(m, tickMsg{})
		if s := statusLine(m); !strings.Contains(s, "paused") || strings.Contains(s, "following") {
			t.Errorf("size %d: after p: %q", size, s)
		}
		if selected(m) != held {
			t.Errorf("size %d: paused, the list moved on to new requests", size)
		}
		press(m, "p")
		if s := statusLine(m); !strings.Contains(s, "● following") || selected(m) != m.flt.shownReqs()[len(m.flt.shownReqs())-1] {
			t.Errorf("size %d: p again: %q, not on the newest request", size, s)
		}
		send(m, loadDoneMsg{errors.New("the API server went away")})
		if s := statusLine(m); !strings.Contains(s, "the API server went away") {
			t.Errorf("size %d: the loader's error is not said: %q", size, s)
		}
		send(m, clearMsg{m.messageSeq}) // the message is gone after a while
		if s := statusLine(m); !strings.Contains(s, "source ended") || strings.Contains(s, "following") {
			t.Errorf("size %d: the loader ended: %q", size, s)
		}
		if h := klogHeader(m); strings.Contains(h, "following") {
			t.Errorf("size %d: the apiserver log says %q once the source ended", size, h)
		}
	}
}

// Not following (--no-follow), or nothing to follow (stdin that ended,
// backups alone: the loader ends without Progress.Live): a snapshot, and
// the apiserver log page never says "following".
func TestStatusBarSnapshot(t *testing.T) {
	for _, follow := range []bool{false, true} {
		m, prog, add := liveModel(t, follow)
		add(20)
		prog.Set(100, 400)
		send(m, tickMsg{})
		if s := statusLine(m); !strings.Contains(s, "loading") {
			t.Errorf("follow %v: reading: %q", follow, s)
		}
		prog.Set(400, 400)
		send(m, loadDoneMsg{})
		s := statusLine(m)
		if !strings.Contains(s, "snapshot") || strings.Contains(s, "following") || strings.Contains(s, "loading") || strings.Contains(s, "ended") {
			t.Errorf("follow %v: read: %q", follow, s)
		}
		if h := klogHeader(m); strings.Contains(h, "following") {
			t.Errorf("follow %v: the apiserver log says %q on a snapshot", follow, h)
		}
	}
}

// The nodes' files are counted by state beside the pods' streams, in the
// same words.
func TestStatusBarCountsNodeStreams(t *testing.T) {
	m, prog, add := liveModel(t, true)
	add(5)
	prog.Live()
	prog.Stream("kube-apiserver-m1", "streaming", 0, "")
	prog.NodeStream("m1", "streaming", 0, "")
	prog.NodeStream("m2", "streaming", 0, "")
	prog.NodeStream("m3", "reconnecting", 3*time.Second, "m3: the API server did not answer")
	send(m, tickMsg{})
	if s := statusLine(m); !strings.Contains(s, "● following") || !strings.Contains(s, "pods: 1 streaming; nodes: 2 streaming, 1 reconnecting in 3s") {
		t.Errorf("status bar: %q", s)
	}
	prog.NodeStream("m3", "forbidden", 0, "nodes/proxy refused")
	prog.NodeStream("m2", "gone", 0, "m2:/var/log/kubernetes/audit/audit.log: not there any more")
	send(m, tickMsg{})
	if s := statusLine(m); !strings.Contains(s, "nodes: 1 streaming, 1 forbidden, 1 gone") {
		t.Errorf("status bar: %q", s)
	}
}
