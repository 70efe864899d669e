package ui

import (
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// filtered is the model layer under the root: one filter's result over the
// store's requests, kept up to date incrementally as the store grows.
//
// A request can still change after it was matched (its later stages bring
// the code, the latency, the final stage), so requests not yet complete when
// matched are kept in pending and matched again on every update.
type filtered struct {
	expr string
	f    *filter.Filter // nil: everything
	raw  func(audit.Ref) ([]byte, error)
	// stop, when closed, cuts a run short (the result is then partial and
	// must not be used: see stopped). nil: never.
	stop <-chan struct{}

	shown    []*audit.Request // matches, in store order (append-only between resets)
	bits     []uint64         // bit i: request i matches (nil when f is nil)
	scanned  int              // requests of the store already matched
	pending  []int32          // indices matched before their last stage
	lateSeen int              // entries of the store's Snapshot.Late looked at
}

// maxPending bounds pending: requests that never complete (a policy that
// omits ResponseComplete, endless watches) are matched once more and left.
const maxPending = 1 << 16

func newFiltered(expr string, f *filter.Filter, raw func(audit.Ref) ([]byte, error)) *filtered {
	if f != nil && f.Empty() {
		f = nil
	}
	return &filtered{expr: expr, f: f, raw: raw}
}

// stopped reports whether stop was closed.
func (fs *filtered) stopped() bool {
	select {
	case <-fs.stop:
		return true
	default:
		return false
	}
}

func (fs *filtered) match(r *audit.Request) bool {
	if fs.f.NeedsRaw() {
		return fs.f.MatchRaw(r, fs.raw)
	}
	return fs.f.Match(r)
}

// Requests matched under one hold of the store's read lock (multiples of
// 64, so parallel workers never share a word of the bit set): about a
// millisecond of matching. A re-filter of a big store takes many holds, so a loader waiting
// for the write lock gets in between two of them, and readers (the screen)
// do not queue behind the loader for the whole re-filter. Reading the raw
// lines (bare words) is slower: fewer per hold. Variables: tests change them.
var (
	lockChunk    = 1 << 13
	lockChunkRaw = 1 << 9
)

func (fs *filtered) lockChunk() int {
	if fs.f.NeedsRaw() {
		return lockChunkRaw
	}
	return lockChunk
}

// readLocked runs fn under st's read lock (nil: no store, no lock).
func readLocked(st *audit.Store, fn func()) {
	if st == nil {
		fn()
		return
	}
	st.Read(func(audit.Snapshot) { fn() })
}

// run matches every request of a snapshot of st from scratch, on all cores
// for big stores, and returns the snapshot (unless stopped). It takes the store's read lock
// for one chunk of requests at a time (a request's fields change only under
// the write lock; the snapshot's requests stay where they are as the store
// grows), so do not call it under Store.Read.
func (fs *filtered) run(st *audit.Store) audit.Snapshot {
	s := st.Snapshot()
	fs.lateSeen = len(s.Late)
	reqs := s.Requests
	n := len(reqs)
	fs.scanned = n
	fs.pending = fs.pending[:0]
	if fs.f == nil {
		fs.shown = reqs
		return s
	}
	fs.bits = make([]uint64, (n+63)/64+1)
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<14 || fs.f.NeedsRaw() && n < 1<<10 {
		workers = 1
	}
	chunk := fs.lockChunk()
	chunks := (n + chunk - 1) / chunk
	workers = max(1, min(workers, chunks))
	counts := make([]int, workers)
	pend := make([][]int32, chunks) // by chunk, so they list in store order
	// Workers take the next chunk to match from next.
	var next atomic.Int64
	work := func(w int) {
		matched := 0
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks || fs.stopped() {
				break
			}
			lo, hi := c*chunk, min(n, (c+1)*chunk)
			// Let other goroutines run between chunks: the UI's, and a
			// reader the loader let in. Without this, the workers and the
			// loader hand the lock and the cores to each other, and another
			// goroutine can wait a hundred milliseconds to be scheduled.
			runtime.Gosched()
			readLocked(st, func() {
				for i := lo; i < hi; i++ {
					if i&63 == 0 && fs.stopped() {
						return // raw lines can be slow to read
					}
					r := reqs[i]
					if fs.match(r) {
						fs.bits[i>>6] |= 1 << (i & 63)
						matched++
					}
					if !r.Done() {
						pend[c] = append(pend[c], int32(i))
					}
				}
			})
		}
		counts[w] = matched
	}
	if workers == 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				work(w)
			}()
		}
		wg.Wait()
	}
	total := 0
	for _, c := range counts {
		total += c
	}
	for _, p := range pend {
		fs.pending = append(fs.pending, p...)
	}
	fs.trimPending()
	fs.shown = collect(reqs, fs.bits, total)
	return s
}

// collect lists the requests whose bit is set.
func collect(reqs []*audit.Request, set []uint64, total int) []*audit.Request {
	out := make([]*audit.Request, 0, total+total/4+16)
	for wi, w := range set {
		for w != 0 {
			i := wi<<6 + bits.TrailingZeros64(w)
			if i >= len(reqs) {
				break
			}
			out = append(out, reqs[i])
			w &= w - 1
		}
	}
	return out
}

// extend brings the result up to a new snapshot of the same store: the
// new requests, and the pending ones again. It returns the snapshot. Like
// run, it takes the read lock a chunk at a time: do not call it under
// Store.Read.
func (fs *filtered) extend(st *audit.Store) audit.Snapshot {
	s := st.Snapshot()
	fs.extendTo(st, s.Requests)
	return s
}

// extendTo is extend to reqs, the requests of a snapshot of st taken
// after the ones matched so far (the Answers page matches the snapshot it
// was published, not a newer one). st nil: nothing changes the requests.
func (fs *filtered) extendTo(st *audit.Store, reqs []*audit.Request) {
	n := len(reqs)
	if fs.f == nil {
		fs.shown = reqs
		fs.scanned = n
		return
	}
	if need := (n+63)/64 + 1; need > len(fs.bits) {
		fs.bits = append(fs.bits, make([]uint64, need-len(fs.bits)+need/4)...)
	}
	chunk := fs.lockChunk()
	changed := false
	pending := fs.pending
	if st != nil {
		// Requests that changed after they were done (stages out of
		// order) are matched again, with the pending ones.
		late := st.Snapshot().Late
		if fresh := late[min(fs.lateSeen, len(late)):]; len(fresh) > 0 {
			// rare (stages out of order): find them among those scanned
			is := make(map[*audit.Request]bool, len(fresh))
			for _, r := range fresh {
				is[r] = true
			}
			for i := range min(fs.scanned, n) {
				if is[reqs[i]] {
					pending = append(pending, int32(i))
				}
			}
		}
		fs.lateSeen = len(late)
		if len(pending) > len(fs.pending) {
			slices.Sort(pending)
			pending = slices.Compact(pending)
		}
	}
	keep := fs.pending[:0] // never ahead of the index read
	for lo := 0; lo < len(pending); lo += chunk {
		readLocked(st, func() {
			for _, i := range pending[lo:min(len(pending), lo+chunk)] {
				r := reqs[i]
				was := fs.bits[i>>6]&(1<<(i&63)) != 0
				if now := fs.match(r); now != was {
					fs.bits[i>>6] ^= 1 << (i & 63)
					changed = true
				}
				if !r.Done() {
					keep = append(keep, i)
				}
			}
		})
	}
	fs.pending = keep
	added := 0
	for lo := fs.scanned; lo < n; lo += chunk {
		readLocked(st, func() {
			for i := lo; i < min(n, lo+chunk); i++ {
				r := reqs[i]
				if fs.match(r) {
					fs.bits[i>>6] |= 1 << (i & 63)
					added++
					if !changed {
						fs.shown = append(fs.shown, r)
					}
				}
				if !r.Done() {
					fs.pending = append(fs.pending, int32(i))
				}
			}
		})
	}
	fs.scanned = n
	fs.trimPending()
	if changed {
		// A request in the middle came in or went out: list again (a scan
		// of the bit set, ~1 ms per million requests).
		fs.shown = collect(reqs, fs.bits, len(fs.shown)+added)
	}
}

func (fs *filtered) trimPending() {
	if len(fs.pending) > maxPending {
		fs.pending = append(fs.pending[:0], fs.pending[len(fs.pending)-maxPending:]...)
	}
}
