package audit

import (
	"hash/maphash"
	"math/bits"
	"slices"
)

// goneSet remembers the requests a streaming store has handed on and
// forgotten, 12 bytes each: a 64-bit hash of the auditID and 32 bits of the
// requestReceivedTimestamp's. A line of one of them read again, however
// much later (a log read twice, a shipper re-sending a chunk), is known for
// a repeat; another request with its auditID for a shared ID.
//
// New entries go to a small table (pend, 8,192 entries); full, it becomes
// a sorted run, and runs of like size are merged (as a binary counter
// carries), so an insert costs O(log n) amortised and a look-up a binary
// search per run (about 20 for six million requests). (A table of 65,536
// entries, for fewer merges, was tried: its probes missed the caches more
// than the merges saved.)
//
// The ID hashes are computed by the caller (Prescan.Scan does it on a
// loader's scanning goroutines: see rawEvent.idHash). Every request adds
// one entry and looks one up, on the merging goroutine, which every other
// core waits on: the structure is laid out for few cache misses.
type goneSet struct {
	// pend is open addressing over the newest entries (0: empty), and
	// pendAny a bit per slot of a small filter of them (8 KiB, in the
	// first-level cache), so that most look-ups never probe pend.
	pend    []goneEntry
	pendN   int
	pendAny []uint64
	runs    []goneRun // oldest first
	n       int
	// any has two bits set in one word for each ID hash in a run (2 MiB;
	// a blocked Bloom filter): most look-ups are of new IDs, and a clear
	// bit answers them without the runs' binary searches (wrongly sent to
	// them: 0.5% of new IDs after 600,000 requests, 26% after 6 million,
	// where one bit an ID sent 3.5% and 30%). Its bits are set when pend
	// becomes a run, all in one loop, which has many cache misses in
	// flight at once where a bit set a request was a miss the merging
	// goroutine waited on. The words a batch of lines will look up are
	// read together before it is merged (Store.Prefetch), for the same
	// reason.
	any []uint64
	// sortAt is sortPend's count of hashes by their leading bits
	sortAt []int32
}

type goneEntry struct {
	id uint64 // 0: empty
	ts uint32
}

const goneAnyBits = 24

// gonePendLog is the log2 of pend's slots; half of them are filled before
// it becomes a run. (A variable: tests of the runs make it small.)
var gonePendLog = 14

func goneBit(h uint64) (word, bits uint64) {
	return h >> (64 - goneAnyBits + 6), 1<<((h>>40)&63) | 1<<((h>>34)&63)
}

// pendBit is h's bit in pendAny (8 bits a pending entry).
func (g *goneSet) pendBit(h uint64) (word, bit uint64) {
	i := (h >> 20) & (uint64(len(g.pendAny))*64 - 1)
	return i >> 6, 1 << (i & 63)
}

type goneRun struct {
	ids []uint64 // sorted
	ts  []uint32
}

var goneSeed = maphash.MakeSeed()

// idHash is the hash goneSet knows an auditID by; never 0.
func idHash(id string) uint64 { return maphash.String(goneSeed, id) | 1 }

// timeHash is 32 bits of a time; never 0, which stands for "no time".
func timeHash(ns int64) uint32 {
	h := uint64(ns) * 0x9e3779b97f4a7c15
	return uint32(h>>32) | 1
}

// add remembers a forgotten request by its ID's hash (idHash) and its
// received stamp.
func (g *goneSet) add(h uint64, received int64) {
	if g.pend == nil {
		g.pend = make([]goneEntry, 1<<gonePendLog)
		g.pendAny = make([]uint64, 1<<(gonePendLog+2-6))
		g.sortAt = make([]int32, len(g.pend)/2+1)
		g.any = make([]uint64, 1<<(goneAnyBits-6))
	}
	e := g.pendSlot(h)
	if e.id == 0 {
		e.id = h
		g.pendN++
		w, b := g.pendBit(h)
		g.pendAny[w] |= b
	}
	e.ts = timeHash(received)
	g.n++
	if g.pendN < len(g.pend)/2 {
		return
	}
	run := g.sortPend()
	for _, id := range run.ids {
		w, b := goneBit(id)
		g.any[w] |= b
	}
	clear(g.pend)
	clear(g.pendAny)
	g.pendN = 0
	for len(g.runs) > 0 && len(g.runs[len(g.runs)-1].ids) <= len(run.ids) {
		run = mergeRuns(g.runs[len(g.runs)-1], run)
		g.runs = g.runs[:len(g.runs)-1]
	}
	g.runs = append(g.runs, run)
}

// sortPend is pend's entries as a sorted run. The hashes are uniform, so
// a counting sort by their leading bits leaves each a place or two from
// where it belongs, and an insertion sort finishes: two passes where a
// comparison sort took thirteen, and the times come along (they were
// looked up in pend again, a probe each).
func (g *goneSet) sortPend() goneRun {
	run := goneRun{ids: make([]uint64, g.pendN), ts: make([]uint32, g.pendN)}
	at := g.sortAt // a count for each value of the hashes' leading bits, one a pending entry
	clear(at)
	shift := 64 - bits.TrailingZeros(uint(len(at)-1))
	for _, e := range g.pend {
		if e.id != 0 {
			at[e.id>>shift+1]++
		}
	}
	for i := 1; i < len(at); i++ {
		at[i] += at[i-1]
	}
	for _, e := range g.pend {
		if e.id != 0 {
			k := &at[e.id>>shift]
			run.ids[*k], run.ts[*k] = e.id, e.ts
			*k++
		}
	}
	ids, ts := run.ids, run.ts[:len(run.ids)]
	for i := 1; i < len(ids); i++ {
		id, t := ids[i], ts[i]
		j := i
		for ; j > 0 && ids[j-1] > id; j-- {
			ids[j], ts[j] = ids[j-1], ts[j-1]
		}
		ids[j], ts[j] = id, t
	}
	return run
}

// pendSlot is h's slot in pend, or the empty one where it would go.
func (g *goneSet) pendSlot(h uint64) *goneEntry {
	mask := uint64(len(g.pend) - 1)
	for i := h >> 1 & mask; ; i = (i + 1) & mask { // (idHash sets the lowest bit)
		if e := &g.pend[i]; e.id == h || e.id == 0 {
			return e
		}
	}
}

// mergeRuns merges two sorted runs. An ID in both keeps both entries,
// older's first (find reads the last): telling them apart would cost the
// merge a branch an entry that it mispredicts half the time, and an ID
// forgotten twice is rare (a client reusing it).
func mergeRuns(older, newer goneRun) goneRun {
	n := len(older.ids) + len(newer.ids)
	out := goneRun{ids: make([]uint64, n), ts: make([]uint32, n)}
	a, at, b, bt := older.ids, older.ts[:len(older.ids)], newer.ids, newer.ts[:len(newer.ids)]
	oi, ot := out.ids, out.ts
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) && k < len(oi) && k < len(ot) {
		x, y := a[i], b[j]
		_, d := bits.Sub64(y, x, 0) // 1 when y < x: newer's goes first
		m := -d
		tx, ty := at[i], bt[j]
		oi[k] = x ^ (x^y)&m
		ot[k] = tx ^ (tx^ty)&uint32(m)
		j += int(d)
		i += 1 - int(d)
		k++
	}
	copy(oi[k:], a[i:])
	copy(ot[k:], at[i:])
	k += len(a) - i
	copy(oi[k:], b[j:])
	copy(ot[k:], bt[j:])
	return out
}

// find returns the time hash of the latest forgotten request whose ID
// hashes to h.
func (g *goneSet) find(h uint64) (uint32, bool) {
	if g.n == 0 {
		return 0, false
	}
	if w, b := g.pendBit(h); g.pendAny[w]&b != 0 {
		if e := g.pendSlot(h); e.id != 0 {
			return e.ts, true
		}
	}
	if w, b := goneBit(h); g.any[w]&b != b {
		return 0, false
	}
	for i := len(g.runs) - 1; i >= 0; i-- {
		r := &g.runs[i]
		if k, ok := slices.BinarySearch(r.ids, h); ok {
			for k+1 < len(r.ids) && r.ids[k+1] == h {
				k++ // the newer entry of an ID forgotten twice (mergeRuns)
			}
			return r.ts[k], true
		}
	}
	return 0, false
}

// touchFind reads what find(h) will read of g, and touchAdd what add(h,
// ...) will, for a batch of them whose misses then overlap
// (Store.Prefetch); the results mean nothing.
func (g *goneSet) touchFind(h uint64) uint64 {
	if g.any == nil {
		return 0
	}
	w, _ := goneBit(h)
	return g.any[w]
}

func (g *goneSet) touchAdd(h uint64) uint64 {
	if g.pend == nil {
		return 0
	}
	return g.pend[h>>1&uint64(len(g.pend)-1)].id
}
