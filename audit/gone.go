package audit

import (
	"hash/maphash"
	"slices"
)

// goneSet remembers the requests a streaming store has handed on and
// forgotten, 12 bytes each: a 64-bit hash of the auditID and 32 bits of the
// requestReceivedTimestamp's. A line of one of them read again, however
// much later (a log read twice, a shipper re-sending a chunk), is known for
// a repeat; another request with its auditID for a shared ID.
//
// New entries go to a small map; full, it becomes a sorted run, and runs of
// like size are merged (as a binary counter carries), so an insert costs
// O(log n) amortised and a look-up a binary search per run (about 20 for
// six million requests).
type goneSet struct {
	pend map[uint64]uint32
	runs []goneRun // oldest first
	n    int
	// any has a bit set for each ID hash added (2 MiB): most look-ups are
	// of new IDs, and a clear bit answers them without the runs' binary
	// searches, which were the merging goroutine's hot spot.
	any []uint64
}

const goneAnyBits = 24

func goneBit(h uint64) (word, bit uint64) {
	i := h >> (64 - goneAnyBits)
	return i >> 6, 1 << (i & 63)
}

type goneRun struct {
	ids []uint64 // sorted
	ts  []uint32
}

const gonePend = 1 << 13

var goneSeed = maphash.MakeSeed()

func idHash(id string) uint64 { return maphash.String(goneSeed, id) }

// timeHash is 32 bits of a time; never 0, which stands for "no time".
func timeHash(ns int64) uint32 {
	h := uint64(ns) * 0x9e3779b97f4a7c15
	return uint32(h>>32) | 1
}

func (g *goneSet) add(auditID string, received int64) {
	if g.pend == nil {
		g.pend = make(map[uint64]uint32, gonePend)
		g.any = make([]uint64, 1<<(goneAnyBits-6))
	}
	h := idHash(auditID)
	w, b := goneBit(h)
	g.any[w] |= b
	g.pend[h] = timeHash(received)
	g.n++
	if len(g.pend) < gonePend {
		return
	}
	run := goneRun{ids: make([]uint64, 0, len(g.pend)), ts: make([]uint32, len(g.pend))}
	for id := range g.pend {
		run.ids = append(run.ids, id)
	}
	slices.Sort(run.ids)
	for i, id := range run.ids {
		run.ts[i] = g.pend[id]
	}
	clear(g.pend)
	for len(g.runs) > 0 && len(g.runs[len(g.runs)-1].ids) <= len(run.ids) {
		run = mergeRuns(g.runs[len(g.runs)-1], run)
		g.runs = g.runs[:len(g.runs)-1]
	}
	g.runs = append(g.runs, run)
}

// mergeRuns merges two sorted runs; for an ID in both, newer's entry wins.
func mergeRuns(older, newer goneRun) goneRun {
	n := len(older.ids) + len(newer.ids)
	out := goneRun{ids: make([]uint64, 0, n), ts: make([]uint32, 0, n)}
	i, j := 0, 0
	for i < len(older.ids) || j < len(newer.ids) {
		switch {
		case j == len(newer.ids) || i < len(older.ids) && older.ids[i] < newer.ids[j]:
			out.ids, out.ts = append(out.ids, older.ids[i]), append(out.ts, older.ts[i])
			i++
		default:
			if i < len(older.ids) && older.ids[i] == newer.ids[j] {
				i++
			}
			out.ids, out.ts = append(out.ids, newer.ids[j]), append(out.ts, newer.ts[j])
			j++
		}
	}
	return out
}

// find returns the time hash of the latest forgotten request with this
// auditID.
func (g *goneSet) find(auditID string) (uint32, bool) {
	if g.n == 0 {
		return 0, false
	}
	h := idHash(auditID)
	if w, b := goneBit(h); g.any[w]&b == 0 {
		return 0, false
	}
	if t, ok := g.pend[h]; ok {
		return t, true
	}
	for i := len(g.runs) - 1; i >= 0; i-- {
		r := &g.runs[i]
		if k, ok := slices.BinarySearch(r.ids, h); ok {
			return r.ts[k], true
		}
	}
	return 0, false
}
