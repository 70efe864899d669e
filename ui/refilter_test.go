package ui

import (
	"math/rand"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// Filtering as the store grows gives the same list as filtering the whole
// store at the end, also for requests whose match changes with a later
// stage (code=403 is known only at ResponseComplete), at any chunking of
// the store's growth and of the requests matched under one hold of its lock.
func TestIncrementalFilterMatchesFull(t *testing.T) {
	b, err := os.ReadFile(sampleLog(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	rng := rand.New(rand.NewSource(1))
	defer func(n, r int) { lockChunk, lockChunkRaw = n, r }(lockChunk, lockChunkRaw)
	for _, expr := range []string{"", "code>=400", "code=200 verb=delete", "stage=ResponseComplete",
		"user=kubernetes-admin", "latency>1s", "kubyk"} {
		f, err := filter.Parse(expr, testNow)
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 30; round++ {
			// Chunks under 64 requests are fine with one worker (a store
			// this small).
			lockChunk = []int{1 << 13, 1, 3}[round%3]
			lockChunkRaw = lockChunk
			st := audit.NewStore()
			raw := func(r audit.Ref) ([]byte, error) { return []byte(lines[r.Line-1]), nil }
			inc := newFiltered(expr, f, raw)
			for i := 0; i < len(lines); {
				n := 1 + rng.Intn(6)
				for j := i; j < min(len(lines), i+n); j++ {
					st.AddEvent([]byte(lines[j]), audit.Ref{Line: int64(j + 1)})
				}
				i += n
				inc.extend(testSrc(st))
				full := newFiltered(expr, f, raw)
				full.run(testSrc(st))
				if !sameRequests(inc.shownReqs(), full.shownReqs()) {
					t.Fatalf("%q after %d lines: incremental shows %d, full %d", expr, i, len(inc.shownReqs()), len(full.shownReqs()))
				}
			}
		}
	}
}

func sameRequests(a, b []*audit.Request) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The parallel full run agrees with a plain loop on a big store (chunk
// boundaries, bit set words).
func TestParallelRunMatchesLoop(t *testing.T) {
	st := audit.NewStore()
	for i, l := range variedLines(t, 70_001) {
		st.AddEvent(l, audit.Ref{Line: int64(i + 1)})
	}
	f, _ := filter.Parse("code>=400", testNow)
	var want []*audit.Request
	for _, r := range st.Snapshot().Requests {
		if f.Match(r) {
			want = append(want, r)
		}
	}
	defer func(n int) { lockChunk = n }(lockChunk)
	for _, chunk := range []int{lockChunk, 64, 64 * 7} {
		lockChunk = chunk
		fs := newFiltered("code>=400", f, nil)
		fs.run(testSrc(st))
		if !sameRequests(fs.shownReqs(), want) {
			t.Fatalf("parallel run in chunks of %d: %d, loop: %d", chunk, len(fs.shownReqs()), len(want))
		}
	}
}

// A full re-filter in the background does not keep the store locked: while
// it runs over a big store that a loader keeps growing, the store stays
// readable (the explorer reads it on keypresses and ticks: a reader that
// waits is a frozen screen) and the loader keeps adding. Before, the
// re-filter held the read lock for its whole run; the loader waited for the
// write lock, and every new reader waited behind the loader. Matching in
// chunks lets the loader in; the workers also yield between chunks, or a
// reader let in can wait tens of milliseconds more for a core.
func TestRefilterLetsReadersAndLoaderIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store of 300k requests")
	}
	n := 300_000
	if raceEnabled {
		n = 100_000 // as long a re-filter, in a third of the requests
	}
	lines := variedLines(t, n+20_000)
	st := audit.NewStore()
	for i, l := range lines[:n] {
		st.AddEvent(l, audit.Ref{Line: int64(i + 1)})
	}
	raw := func(ref audit.Ref) ([]byte, error) { return lines[ref.Line-1], nil }
	m := newTestModel(t, st, raw, 120, 40)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var added atomic.Int64
	wg.Add(2)
	go func() { // the loader: adds events as fast as it can
		defer wg.Done()
		for i := n; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			j := i % len(lines)
			st.AddEvent(lines[j], audit.Ref{Line: int64(j + 1)})
			added.Add(1)
		}
	}()
	type sample struct {
		at   time.Time
		wait time.Duration
	}
	var samples []sample
	go func() { // the screen: reads the store every millisecond
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t0 := time.Now()
			st.Snapshot()
			samples = append(samples, sample{t0, time.Since(t0)})
			time.Sleep(time.Millisecond)
		}
	}()

	// A word searched in the raw lines: the slowest filter.
	const expr = "deployer"
	_, cmd := m.Update(setFilterMsg{Expr: expr})
	if !m.refiltering {
		t.Fatal("the re-filter does not run in the background")
	}
	time.Sleep(20 * time.Millisecond) // the loader and the reader are going
	addedBefore := added.Load()
	start := time.Now()
	msg := cmd() // as bubbletea runs a command: off the UI goroutine
	took := time.Since(start)
	addedDuring := added.Load() - addedBefore
	close(stop)
	wg.Wait()

	var worst time.Duration
	during := 0
	for _, s := range samples {
		if s.at.Before(start) || s.at.After(start.Add(took)) {
			continue
		}
		during++
		worst = max(worst, s.wait)
	}
	t.Logf("re-filter of %d requests: %v; %d reads during it, the longest waited %v; the loader added %d events meanwhile",
		n, took, during, worst, addedDuring)
	if worst > took/4 {
		t.Errorf("a read of the store waited %v during a re-filter of %v: the screen froze", worst, took)
	}
	if addedDuring < 10 {
		t.Errorf("the loader added %d events during a re-filter of %v: it waited for the write lock", addedDuring, took)
	}

	// The result, caught up with what the loader added, is the filter's
	// result over the whole store.
	send(m, msg)
	f, _ := filter.Parse(expr, testNow)
	var want []*audit.Request
	for _, r := range st.Snapshot().Requests {
		if f.MatchRaw(r, raw) {
			want = append(want, r)
		}
	}
	if m.flt.expr != expr || !sameRequests(m.flt.shownReqs(), want) {
		t.Fatalf("filter %q shows %d requests, the store has %d matches", m.flt.expr, len(m.flt.shownReqs()), len(want))
	}
}
