package ui

import (
	"math/bits"
	"runtime"
	"sync"

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

	shown   []*audit.Request // matches, in store order (append-only between resets)
	bits    []uint64         // bit i: request i matches (nil when f is nil)
	scanned int              // requests of the store already matched
	pending []int32          // indices matched before their last stage
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

func finalStage(r *audit.Request) bool {
	return r.Stage == "ResponseComplete" || r.Stage == "Panic"
}

func (fs *filtered) match(r *audit.Request) bool {
	if fs.f.NeedsRaw() {
		return fs.f.MatchRaw(r, fs.raw)
	}
	return fs.f.Match(r)
}

// run matches every request from scratch, on all cores for big stores. Call
// it under Store.Read.
func (fs *filtered) run(reqs []*audit.Request) {
	n := len(reqs)
	fs.scanned = n
	fs.pending = fs.pending[:0]
	if fs.f == nil {
		fs.shown = reqs
		return
	}
	fs.bits = make([]uint64, (n+63)/64+1)
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<14 || fs.f.NeedsRaw() && n < 1<<10 {
		workers = 1
	}
	// Chunks are whole words of the bit set, so workers never share a word.
	chunk := ((n+workers-1)/workers + 63) &^ 63
	counts := make([]int, workers)
	pend := make([][]int32, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*chunk, min(n, (w+1)*chunk)
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func(w, lo, hi int) {
			defer wg.Done()
			c := 0
			for i := lo; i < hi; i++ {
				r := reqs[i]
				if fs.match(r) {
					fs.bits[i>>6] |= 1 << (i & 63)
					c++
				}
				if !finalStage(r) {
					pend[w] = append(pend[w], int32(i))
				}
			}
			counts[w] = c
		}(w, lo, hi)
	}
	wg.Wait()
	total := 0
	for w := range counts {
		total += counts[w]
		fs.pending = append(fs.pending, pend[w]...)
	}
	fs.trimPending()
	fs.shown = collect(reqs, fs.bits, total)
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

// extend brings the result up to a later snapshot of the same store: the
// new requests, and the pending ones again. Call it under Store.Read.
func (fs *filtered) extend(reqs []*audit.Request) {
	n := len(reqs)
	if fs.f == nil {
		fs.shown = reqs
		fs.scanned = n
		return
	}
	if need := (n+63)/64 + 1; need > len(fs.bits) {
		fs.bits = append(fs.bits, make([]uint64, need-len(fs.bits)+need/4)...)
	}
	changed := false
	keep := fs.pending[:0]
	for _, i := range fs.pending {
		r := reqs[i]
		was := fs.bits[i>>6]&(1<<(i&63)) != 0
		if now := fs.match(r); now != was {
			fs.bits[i>>6] ^= 1 << (i & 63)
			changed = true
		}
		if !finalStage(r) {
			keep = append(keep, i)
		}
	}
	fs.pending = keep
	added := 0
	for i := fs.scanned; i < n; i++ {
		r := reqs[i]
		if fs.match(r) {
			fs.bits[i>>6] |= 1 << (i & 63)
			added++
			if !changed {
				fs.shown = append(fs.shown, r)
			}
		}
		if !finalStage(r) {
			fs.pending = append(fs.pending, int32(i))
		}
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
