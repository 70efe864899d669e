package ui

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/kauditui/kauditui/audit"
)

// Rows is a list of requests a page shows, in the list's order: the
// requests passing the filter, every request, an answer's matches, a
// sorted list. A page holds a Rows, never a *audit.Request per request of
// the log: the explorer's memory follows the rows on screen, not the trail
// (issue 21). Two kinds back it:
//
//   - the columnar index (indexRows, below): rows of an audit.Index, each
//     filled from the columns when it is drawn (audit.Index.Fill);
//   - a store read lazily (a pager over VictoriaLogs: the screen's rows and
//     a margin fetched as the list scrolls, its Len from the store's count).
//
// A Rows value is one moment of the list: the root makes a new one with
// each DataMsg (the list grew, the filter changed); a value handed out is
// never changed under its holder.
//
// Calls come from the UI goroutine only; none may be made under
// Store.Read (a Rows takes the locks it needs).
type Rows interface {
	// Len is the number of requests in the list. A pager may know it (the
	// store's count) before it has fetched a row.
	Len() int
	// Key names the list's i-th request however the list changes (grown,
	// sorted, filtered anew): the index's row number; for a pager a
	// number of its own that it can find the request by again (its
	// position in the store's answer, oldest first). The explorer keeps
	// the selected request across a new filter by its Key.
	Key(i int) int
	// At is the list's i-th request for drawing and for answers that read
	// its fields (user, verb, object, code, times, auditID: what a filter,
	// a table row and the Summary read); its events may lack their stage
	// and time. nil: not fetched yet (a pager fetches the rows around i and
	// the next DataMsg brings them). The same *Request for the same i
	// until the next DataMsg; read it only, and keep it no longer.
	At(i int) *audit.Request
	// Open is the list's i-th request whole, as Detail, w, History, RBAC,
	// y/Y and the export read it: every event with its stage, time and
	// Ref (the index reads the lines back and merges them again,
	// audit.Index.Request; a pager returns what it fetched). A request
	// still in flight is the store's own *Request, read under Store.Read.
	Open(i int) (*audit.Request, error)
}

// RequestList is a Rows of requests held whole (an embedder's few, a
// test's): Key is the position, At and Open the request.
type RequestList []*audit.Request

// Len implements Rows.
func (l RequestList) Len() int { return len(l) }

// Key implements Rows.
func (l RequestList) Key(i int) int { return i }

// At implements Rows.
func (l RequestList) At(i int) *audit.Request { return l[i] }

// Open implements Rows.
func (l RequestList) Open(i int) (*audit.Request, error) { return l[i], nil }

// rowsLen is rows' length, 0 for nil.
func rowsLen(r Rows) int {
	if r == nil {
		return 0
	}
	return r.Len()
}

// indexOfKey is the position of the request named key in rows, or -1.
func indexOfKey(rows Rows, key int) int {
	if ir, ok := rows.(*indexRows); ok {
		return ir.find(key)
	}
	for i := range rowsLen(rows) {
		if rows.Key(i) == key {
			return i
		}
	}
	return -1
}

// rowCache holds the rows At filled since the list was made: the screen's
// rows (and a few pages of margin), not the log's.
const rowCacheMax = 1 << 10

// indexRows is a Rows of an audit.Index: the rows listed in rows, or the
// rows in set (a filter's result: a bit a row of the log), or when both are
// nil every row below n (the list of every request, no filter), so that no
// list holds a number per request it does not need to.
type indexRows struct {
	src  *indexSource
	rows []int32 // the index's rows, in the list's order
	set  *rowSet // or the rows in a set, in order
	n    int

	cache map[int32]*audit.Request
}

// Len implements Rows.
func (r *indexRows) Len() int {
	if r == nil {
		return 0
	}
	return r.n
}

// Key implements Rows: the index's row.
func (r *indexRows) Key(i int) int {
	switch {
	case r.rows != nil:
		return int(r.rows[i])
	case r.set != nil:
		return r.set.sel(i)
	}
	return i
}

// find is the position of row in the list, or -1 (the list is in the
// index's order unless sorted).
func (r *indexRows) find(row int) int {
	switch {
	case r.rows != nil:
		for i, x := range r.rows[:r.n] {
			if int(x) == row {
				return i
			}
		}
		return -1
	case r.set != nil:
		return r.set.rank(row)
	}
	if row < r.n {
		return row
	}
	return -1
}

// walk calls fn with the position and row of each entry from the from-th
// on, in order, until it returns false.
func (r *indexRows) walk(from int, fn func(i, row int) bool) {
	switch {
	case r.rows != nil:
		for i := from; i < r.n; i++ {
			if !fn(i, int(r.rows[i])) {
				return
			}
		}
	case r.set != nil:
		if from >= r.n {
			return
		}
		i, row := from, r.set.sel(from)
		for wi := row >> 6; wi < len(r.set.bits) && i < r.n; wi++ {
			w := r.set.bits[wi]
			if wi == row>>6 {
				w &^= (uint64(1) << (row & 63)) - 1
			}
			for ; w != 0 && i < r.n; w &= w - 1 {
				if !fn(i, wi<<6+bits.TrailingZeros64(w)) {
					return
				}
				i++
			}
		}
	default:
		for i := from; i < r.n; i++ {
			if !fn(i, i) {
				return
			}
		}
	}
}

// rowSet is a set of rows as one bit a row (a filter's result over 6 M
// rows is 750 KB, where a list of them would be 24 MB), with the count of
// rows before each block of selBlock words, so that the i-th row is found
// by a binary search and a few popcounts.
type rowSet struct {
	bits []uint64
	cum  []int32 // rows in the set before block k (words [k*selBlock, ...))
}

const selBlock = 8

// newRowSet is the set of the rows whose bit is set in bits (copied).
func newRowSet(src []uint64) *rowSet {
	s := &rowSet{bits: slices.Clone(src), cum: make([]int32, (len(src)+selBlock-1)/selBlock)}
	n := 0
	for k := range s.cum {
		s.cum[k] = int32(n)
		for _, w := range s.bits[k*selBlock : min(len(s.bits), (k+1)*selBlock)] {
			n += bits.OnesCount64(w)
		}
	}
	return s
}

// sel is the i-th row of the set (0-based).
func (s *rowSet) sel(i int) int {
	k := sort.Search(len(s.cum), func(k int) bool { return int(s.cum[k]) > i }) - 1
	left := i - int(s.cum[k])
	for wi := k * selBlock; wi < len(s.bits); wi++ {
		w := s.bits[wi]
		if c := bits.OnesCount64(w); left >= c {
			left -= c
			continue
		}
		for ; left > 0; left-- {
			w &= w - 1
		}
		return wi<<6 + bits.TrailingZeros64(w)
	}
	return -1
}

// rank is the position of row in the set, or -1 when it is not in it.
func (s *rowSet) rank(row int) int {
	wi := row >> 6
	if wi >= len(s.bits) || s.bits[wi]&(uint64(1)<<(row&63)) == 0 {
		return -1
	}
	k := wi / selBlock
	n := int(s.cum[k])
	for _, w := range s.bits[k*selBlock : wi] {
		n += bits.OnesCount64(w)
	}
	return n + bits.OnesCount64(s.bits[wi]&((uint64(1)<<(row&63))-1))
}

// At implements Rows: the row filled from the columns (a copy kept until
// the list is replaced), or the store's own request while it is in
// flight, copied under the lock without its events.
func (r *indexRows) At(i int) *audit.Request {
	if i < 0 || i >= r.n {
		return nil
	}
	row := int32(r.Key(i))
	if q := r.cache[row]; q != nil {
		return q
	}
	if r.cache == nil || len(r.cache) >= rowCacheMax {
		r.cache = make(map[int32]*audit.Request, 64)
	}
	q := new(audit.Request)
	r.src.read(func(ix *audit.Index) {
		var p audit.Probe
		*q = *r.src.fill(ix, int(row), &p, false)
		q.AuditID = strings.Clone(q.AuditID)
		q.Events = nil // At is for drawing: Open reads the events
	})
	r.cache[row] = q
	return q
}

// Open implements Rows.
func (r *indexRows) Open(i int) (*audit.Request, error) {
	return r.src.open(r.Key(i))
}

// indexSource is the explorer's columnar index of the store's requests and
// how it is read. Fed two ways: by the store itself (an indexing store,
// audit.NewIndexingStore: the explorer's load path, which keeps no
// *Request per request), or, for a full store (tests, embedders that hand
// ui a store of their own), by Sync from its snapshots.
type indexSource struct {
	store *audit.Store
	ix    *audit.Index
	raw   func(audit.Ref) ([]byte, error)

	// sync: the index is fed by Sync from a full store, under mu (the
	// store's read lock lets readers in together; Sync writes the index).
	sync bool
	mu   sync.RWMutex
}

func newIndexSource(d Data) *indexSource {
	s := &indexSource{store: d.Store, ix: d.Index, raw: d.Raw}
	if s.ix == nil {
		s.ix, s.sync = audit.NewIndex(), true
	}
	return s
}

// read runs fn with the index holding still.
func (s *indexSource) read(fn func(ix *audit.Index)) {
	s.readSnap(func(ix *audit.Index, _ audit.Snapshot) { fn(ix) })
}

// readSnap is read with the store's snapshot.
func (s *indexSource) readSnap(fn func(ix *audit.Index, snap audit.Snapshot)) {
	if s.store == nil {
		fn(s.ix, audit.Snapshot{})
		return
	}
	s.store.Read(func(snap audit.Snapshot) {
		if s.sync {
			s.mu.RLock()
			defer s.mu.RUnlock()
		}
		fn(s.ix, snap)
	})
}

// update brings a synced index up to its store (nothing to do for an
// indexing store, which feeds its index as it merges) and returns the
// store's snapshot and the number of rows.
func (s *indexSource) update() (audit.Snapshot, int) {
	var snap audit.Snapshot
	n := 0
	if s.store == nil {
		return snap, s.ix.Len()
	}
	s.store.Read(func(sn audit.Snapshot) {
		snap = sn
		if s.sync {
			s.mu.Lock()
			s.ix.Sync(sn)
			s.mu.Unlock()
		}
		n = s.ix.Len()
	})
	return snap, n
}

// fill is ix.Fill (the index held still).
func (s *indexSource) fill(ix *audit.Index, row int, p *audit.Probe, events bool) *audit.Request {
	return ix.Fill(row, p, events)
}

// open is row's request whole: a full store's own *Request, or the
// index's lines read back and merged (audit.Index.Request); a request in
// flight is the store's.
func (s *indexSource) open(row int) (*audit.Request, error) {
	var r *audit.Request
	var err error
	s.readSnap(func(ix *audit.Index, snap audit.Snapshot) {
		if s.sync {
			if row < len(snap.Requests) {
				r = snap.Requests[row]
			}
			return
		}
		if row < ix.Len() {
			r, err = ix.Request(row, s.raw)
		}
	})
	if r == nil && err == nil {
		err = errNoRow
	}
	return r, err
}

var errNoRow = errors.New("that request is no longer in the index")

// eachRow calls fn with the requests of rows in order until it returns
// false; r is filled from the index into one Probe reused from row to row
// (with its events' Refs when events), so it is fn's only until fn
// returns. The index is held still a chunk of rows at a time: fn must not
// take the store's lock. A list that is not the index's (a pager) is read
// with At, its rows not fetched yet left out.
func eachRow(rows Rows, events bool, fn func(i int, r *audit.Request) bool) {
	eachRowFrom(rows, 0, events, fn)
}

// eachRowFrom is eachRow from the list's from-th request on.
func eachRowFrom(rows Rows, from int, events bool, fn func(i int, r *audit.Request) bool) {
	parts := audit.PartAll
	if events {
		parts |= audit.PartEvents
	}
	eachRowParts(rows, from, parts, fn)
}

// eachRowParts is eachRowFrom filling only parts of each row (the others
// empty; a request in flight is whole): a count of codes reads the What,
// a histogram the times.
func eachRowParts(rows Rows, from int, parts audit.Parts, fn func(i int, r *audit.Request) bool) {
	ir, ok := rows.(*indexRows)
	if !ok {
		for i := max(0, from); i < rowsLen(rows); i++ {
			if r := rows.At(i); r != nil && !fn(i, r) {
				return
			}
		}
		return
	}
	if ir == nil || ir.src == nil {
		return
	}
	var p audit.Probe
	const chunk = 1 << 13
	for at := max(0, from); at < ir.n; {
		more := true
		ir.src.read(func(ix *audit.Index) {
			end := min(ir.n, at+chunk)
			ir.walk(at, func(i, row int) bool {
				if i >= end {
					return false
				}
				at = i + 1
				more = fn(i, ix.FillParts(row, &p, parts))
				return more
			})
			at = max(at, end)
		})
		if !more {
			return
		}
	}
}

// wholeMax is the most requests an answer that needs them whole (their
// events' times and stages: the coverage report, the policy's dry run) reads
// back on its own while a page is drawn; past it, the answer is asked for.
const wholeMax = 50_000

// coverageCheap reports whether the coverage of n requests is quick to
// make: a full store holds them whole; the index reads each back.
func (s *indexSource) coverageCheap(n int) bool { return s.sync || n <= wholeMax }

// wholeLimit is the most requests an answer reads back whole from the
// log (their every event: History, RBAC, the findings, the coverage
// report): each is a *audit.Request for as long as the answer is made, the
// memory the index saves; past it the answer is refused, and says what to
// run instead (`kauditui query` streams).
const wholeLimit = 100_000

// errTooMany is an answer refused for the requests it would read whole.
type errTooMany struct {
	n     int
	query string // the query that streams it
}

func (e errTooMany) Error() string {
	return fmt.Sprintf("this answer reads %s requests back whole from the log, over the explorer's %s: narrow the filter, or run kauditui query %s (it streams)",
		thousands(e.n), thousands(wholeLimit), e.query)
}

// whole is the requests of rows read whole (Open): a full store's own; the
// index's read back one by one (slow: a line read and merged again for each
// event, and a *Request each for as long as the caller keeps them), at
// most wholeLimit of them (query names the command that streams them).
func (s *indexSource) whole(rows Rows, query string) ([]*audit.Request, error) {
	n := rowsLen(rows)
	if s.sync {
		var out []*audit.Request
		s.readSnap(func(_ *audit.Index, snap audit.Snapshot) {
			out = make([]*audit.Request, 0, n)
			for i := range n {
				if k := rows.Key(i); k < len(snap.Requests) {
					out = append(out, snap.Requests[k])
				}
			}
		})
		return out, nil
	}
	if n > wholeLimit {
		return nil, errTooMany{n, query}
	}
	out := make([]*audit.Request, 0, n)
	for i := range n {
		if r, err := rows.Open(i); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// coverage is audit.CoverageOf the requests of rows (read whole), and how
// many of them share their auditID.
func (s *indexSource) coverage(rows Rows) (c audit.Coverage, shared int, err error) {
	reqs, err := s.whole(rows, "--coverage")
	if err != nil {
		return c, 0, err
	}
	readLocked(s.store, func() {
		c = audit.CoverageOf(reqs, coverageGap)
		for _, r := range reqs {
			if r.SharedID {
				shared++
			}
		}
	})
	return c, shared, nil
}

// countLocked counts the requests for which in is true, every request of
// the store; call it under Store.Read (it takes no lock of its own).
func (s *indexSource) countLocked(snap audit.Snapshot, in func(*audit.Request) bool) int {
	n := 0
	if s.sync {
		for _, r := range snap.Requests {
			if in(r) {
				n++
			}
		}
		return n
	}
	var p audit.Probe
	for row := range s.ix.Len() {
		if in(s.ix.FillParts(row, &p, audit.PartWho|audit.PartWhat|audit.PartTimes)) {
			n++
		}
	}
	return n
}

// withID is the requests carrying auditID, oldest first, read whole: one,
// unless a client reused an ID.
func (s *indexSource) withID(auditID string) []*audit.Request {
	if s.sync {
		return s.store.WithID(auditID)
	}
	var rows []int
	s.read(func(ix *audit.Index) { rows = ix.WithID(auditID) })
	var out []*audit.Request
	for _, row := range rows {
		if r, err := s.open(row); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// settled reports whether row's request is done (no stage will change it):
// what is found of it may be kept.
func (s *indexSource) settled(row int) bool {
	done := false
	s.read(func(ix *audit.Index) { done = row < ix.Len() && ix.Live(row) == nil })
	return done
}
