package filter

import (
	"math/bits"
	"slices"
	"sync"

	"github.com/kauditui/kauditui/audit"
)

// IndexMatcher runs a filter over the columns of an audit.Index: each term
// on a field that reads one dictionary column (fieldDef.col: who, what,
// name) is decided once per value of that dictionary, the first time a row
// holds it; a row then passes those terms when each of its ids does (an
// array look-up). The other terms (uri, id, since, until, latency) and bare
// words run on the request filled from the row (audit.Index.Fill), a row
// whose request may still change on its *Request: the terms are the
// filter's own predicates either way, so the answer is Match's (MatchRaw's
// with bare words). The differential test (engines_diff_test.go, engine
// index) holds it to that on every log.
type IndexMatcher struct {
	f     *Filter
	raw   func(audit.Ref) ([]byte, error)
	byCol [audit.NumColumns][]pred
	rest  []pred
	parts audit.Parts // what of a row rest reads
	// dec[c][id]: 0 not decided yet, 1 passes, 2 fails (see Prepare)
	dec   [audit.NumColumns][]uint8
	probe audit.Request
}

// ForIndex makes the matcher of f over an index; raw reads an event line
// back for bare words (as MatchRaw's raw).
func (f *Filter) ForIndex(raw func(audit.Ref) ([]byte, error)) *IndexMatcher {
	m := &IndexMatcher{f: f, raw: raw}
	if f == nil {
		return m
	}
	for _, t := range f.terms {
		if t.field == "" {
			continue
		}
		p := t.pred
		if t.neg {
			p = notPred{p}
		}
		switch fieldByName[t.field].col {
		case selWho:
			m.byCol[audit.ColWho] = append(m.byCol[audit.ColWho], p)
		case selWhat:
			m.byCol[audit.ColWhat] = append(m.byCol[audit.ColWhat], p)
		case selName:
			m.byCol[audit.ColName] = append(m.byCol[audit.ColName], p)
		case selTimes:
			m.rest, m.parts = append(m.rest, p), m.parts|audit.PartTimes
		case selID:
			m.rest, m.parts = append(m.rest, p), m.parts|audit.PartID
		case selURI:
			m.rest, m.parts = append(m.rest, p), m.parts|audit.PartURI
		default:
			m.rest, m.parts = append(m.rest, p), m.parts|audit.PartAll
		}
	}
	if f.NeedsRaw() {
		m.parts = audit.PartAll | audit.PartEvents
	}
	return m
}

// Prepare decides the column terms on every value the index's dictionaries
// hold now. Match and Scan then only read the matcher (several goroutines
// may run them at once, each with its own Probe) for rows made before the
// Prepare; a value added since is decided on the row, not kept.
func (m *IndexMatcher) Prepare(ix *audit.Index) {
	for c := range audit.NumColumns {
		if len(m.byCol[c]) == 0 {
			continue
		}
		n := ix.DictLen(c)
		for id := len(m.dec[c]); id < n; id++ {
			d := uint8(2)
			if m.decide(ix, c, uint32(id), &m.probe) {
				d = 1
			}
			m.dec[c] = append(m.dec[c], d)
		}
	}
}

// decide runs the terms of column c on its value id alone.
func (m *IndexMatcher) decide(ix *audit.Index, c audit.Column, id uint32, probe *audit.Request) bool {
	ix.Value(c, id, probe)
	for _, p := range m.byCol[c] {
		if !p.match(probe) {
			return false
		}
	}
	return true
}

// Match reports whether row passes the filter.
func (m *IndexMatcher) Match(ix *audit.Index, row int, p *audit.Probe) bool {
	if m.f == nil {
		return true
	}
	if r := ix.Live(row); r != nil {
		if m.f.NeedsRaw() {
			return m.f.MatchRaw(r, m.raw)
		}
		return m.f.Match(r)
	}
	for c := range audit.NumColumns {
		if len(m.byCol[c]) == 0 {
			continue
		}
		id := ix.ID(c, row)
		if int(id) < len(m.dec[c]) {
			if m.dec[c][id] != 1 {
				return false
			}
		} else if !m.decide(ix, c, id, &p.Request) {
			return false
		}
	}
	if len(m.rest) == 0 && !m.f.NeedsRaw() {
		return true
	}
	return m.matchRest(ix, row, p)
}

// matchRest runs the terms and words that read more than one column on row
// (sealed, not open), whose column terms passed.
func (m *IndexMatcher) matchRest(ix *audit.Index, row int, p *audit.Probe) bool {
	if len(m.rest) == 0 && !m.f.NeedsRaw() {
		return true
	}
	r := ix.FillParts(row, p, m.parts)
	for _, pr := range m.rest {
		if !pr.match(r) {
			return false
		}
	}
	if m.f.NeedsRaw() {
		return m.f.MatchRaw(r, m.raw)
	}
	return true
}

// Scan appends the rows of [lo, hi) that pass to out: a chunk of sealed
// rows at a time, each column term an array look-up per row.
func (m *IndexMatcher) Scan(ix *audit.Index, lo, hi int, p *audit.Probe, out []int32) []int32 {
	if m.f == nil {
		for row := lo; row < hi; row++ {
			out = append(out, int32(row))
		}
		return out
	}
	var ok [audit.ChunkRows]bool
	for row := lo; row < min(hi, ix.Sealed()); {
		v := ix.Chunk(row)
		a, b := row-v.Lo, min(hi-v.Lo, v.N)
		for i := a; i < b; i++ {
			ok[i] = true
		}
		for c := range audit.NumColumns {
			if len(m.byCol[c]) > 0 {
				m.scanColumn(ix, c, v, a, b, &ok, p)
			}
		}
		for i := a; i < b; i++ {
			switch {
			case v.Open(i):
				if m.Match(ix, v.Lo+i, p) {
					out = append(out, int32(v.Lo+i))
				}
			case ok[i] && m.matchRest(ix, v.Lo+i, p):
				out = append(out, int32(v.Lo+i))
			}
		}
		row = v.Lo + b
	}
	for row := max(lo, ix.Sealed()); row < hi; row++ {
		if m.Match(ix, row, p) {
			out = append(out, int32(row))
		}
	}
	return out
}

// scanColumn clears ok[i] for the rows [a, b) of v whose value of column c
// fails its terms.
func (m *IndexMatcher) scanColumn(ix *audit.Index, c audit.Column, v audit.ChunkView, a, b int, ok *[audit.ChunkRows]bool, p *audit.Probe) {
	dec := m.dec[c]
	pass := func(id uint32) bool {
		if int(id) < len(dec) {
			return dec[id] == 1
		}
		return m.decide(ix, c, id, &p.Request)
	}
	b8, b16, b32 := v.IDs(c)
	switch {
	case len(b8) > 0:
		for i := a; i < b; i++ {
			if id := b8[i]; int(id) >= len(dec) || dec[id] != 1 {
				ok[i] = ok[i] && pass(uint32(id))
			}
		}
	case len(b16) > 0:
		for i := a; i < b; i++ {
			if id := b16[i]; int(id) >= len(dec) || dec[id] != 1 {
				ok[i] = ok[i] && pass(uint32(id))
			}
		}
	default:
		for i := a; i < b; i++ {
			if id := b32[i]; int(id) >= len(dec) || dec[id] != 1 {
				ok[i] = ok[i] && pass(uint32(id))
			}
		}
	}
}

// IndexResult is a filter's result over an index kept up to date as the
// index grows (the explorer's incremental re-filter, on rows): the rows
// added since are matched, and again the rows whose answer may have
// changed, those read from their *Request when last matched (not yet
// done) and those the index wrote again (Index.Rewritten).
type IndexResult struct {
	m         *IndexMatcher
	bits      []uint64 // bit row: it matches
	n         int      // rows matching
	scanned   int      // rows matched so far
	pending   []int32  // rows live when matched
	rewritten int      // entries of Index.Rewritten looked at
	changed   int      // lowest row below scanned whose answer changed (TakeChanged), or -1
	probes    []audit.Probe
}

// Result starts an empty result of m (Update fills it).
func (m *IndexMatcher) Result() *IndexResult { return &IndexResult{m: m, changed: -1} }

// Update brings the result up to ix as it is now; the index and its store
// must hold still (Store.Read).
func (r *IndexResult) Update(ix *audit.Index) { r.UpdateTo(ix, ix.Len(), 1) }

// scanPerWorker is the fewest new rows a worker is started for.
const scanPerWorker = 1 << 16

// UpdateTo is Update up to row hi (at most ix.Len()), the new rows
// scanned on up to workers goroutines (each a range of whole chunks), so
// that a caller can bring a big result up a part at a time, letting the
// index's writer in between, and use every core.
func (r *IndexResult) UpdateTo(ix *audit.Index, hi, workers int) {
	hi = min(hi, ix.Len())
	if need := (hi + 63) / 64; need > len(r.bits) {
		r.bits = append(r.bits, make([]uint64, need-len(r.bits)+need/4)...)
	}
	if len(r.probes) == 0 {
		r.probes = make([]audit.Probe, 1)
	}
	r.m.Prepare(ix)
	again := r.pending
	r.pending = nil
	rw := ix.Rewritten()
	for _, row := range rw[min(r.rewritten, len(rw)):] {
		if int(row) < r.scanned {
			again = append(again, row)
		}
	}
	r.rewritten = len(rw)
	for _, row := range again {
		if r.set(int(row), r.m.Match(ix, int(row), &r.probes[0])) && (r.changed < 0 || int(row) < r.changed) {
			r.changed = int(row)
		}
		if ix.Live(int(row)) != nil {
			r.pending = append(r.pending, row)
		}
	}
	slices.Sort(r.pending)
	r.pending = slices.Compact(r.pending)
	lo := r.scanned
	for _, row := range r.scan(ix, lo, hi, workers) {
		r.set(int(row), true)
	}
	for row := max(lo, ix.Sealed()); row < hi; row++ {
		r.pending = append(r.pending, int32(row))
	}
	for row := lo; row < min(hi, ix.Sealed()); row++ {
		if ix.Live(row) != nil { // sealed open
			r.pending = append(r.pending, int32(row))
		}
	}
	r.scanned = max(r.scanned, hi)
}

// scan is m.Scan of [lo, hi) on up to workers goroutines.
func (r *IndexResult) scan(ix *audit.Index, lo, hi, workers int) []int32 {
	workers = max(1, min(workers, (hi-lo)/scanPerWorker))
	if workers == 1 {
		return r.m.Scan(ix, lo, hi, &r.probes[0], nil)
	}
	for len(r.probes) < workers {
		r.probes = append(r.probes, audit.Probe{})
	}
	step := ((hi-lo)/workers + audit.ChunkRows - 1) / audit.ChunkRows * audit.ChunkRows
	outs := make([][]int32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		a, b := min(hi, lo+w*step), min(hi, lo+(w+1)*step)
		if w == workers-1 {
			b = hi
		}
		wg.Go(func() { outs[w] = r.m.Scan(ix, a, b, &r.probes[w], nil) })
	}
	wg.Wait()
	return slices.Concat(outs...)
}

// set records row's answer; true when it changed.
func (r *IndexResult) set(row int, match bool) bool {
	w, b := row>>6, uint64(1)<<(row&63)
	switch was := r.bits[w]&b != 0; {
	case match && !was:
		r.bits[w] |= b
		r.n++
	case !match && was:
		r.bits[w] &^= b
		r.n--
	default:
		return false
	}
	return true
}

// Count is the number of rows matching.
func (r *IndexResult) Count() int { return r.n }

// Scanned is the number of rows the result has answered (rows [0, Scanned)).
func (r *IndexResult) Scanned() int { return r.scanned }

// TakeChanged is the lowest row, of those already answered when an update
// looked at them again, whose answer changed since the last TakeChanged
// (a request not done when matched, or written again), or -1: a list of
// the rows kept by the caller is good up to it.
func (r *IndexResult) TakeChanged() int {
	c := r.changed
	r.changed = -1
	return c
}

// Bits is the result as a bit a row (bit row%64 of word row/64: it
// matches), up to Scanned; the result's own, changed by the next update:
// copy what is kept.
func (r *IndexResult) Bits() []uint64 { return r.bits[:min(len(r.bits), (r.scanned+63)/64)] }

// Rows lists the rows matching, in order.
func (r *IndexResult) Rows() []int32 {
	return r.AppendRows(make([]int32, 0, r.n), 0, r.scanned)
}

// AppendRows appends the rows of [lo, hi) matching to dst, in order.
func (r *IndexResult) AppendRows(dst []int32, lo, hi int) []int32 {
	hi = min(hi, r.scanned)
	for wi := lo >> 6; wi < (hi+63)>>6 && wi < len(r.bits); wi++ {
		w := r.bits[wi]
		if wi == lo>>6 {
			w &^= (uint64(1) << (lo & 63)) - 1
		}
		for w != 0 {
			row := wi<<6 + bits.TrailingZeros64(w)
			if row >= hi {
				break
			}
			dst = append(dst, int32(row))
			w &= w - 1
		}
	}
	return dst
}
