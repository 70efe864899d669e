package audit

import (
	"math/bits"
	"slices"
)

// The indexing store: a store that keeps its requests in an Index instead
// of as *Requests, so that the explorer's memory follows the index (about
// 60 bytes a request) and the requests in flight, not the log.
//
// It is a streaming store (stream.go): a request is merged as in any store
// (Store.owner, merge's latest-stage rule) and, when Done, handed on and
// later forgotten. Handed to the index, it becomes a row, in the order the
// requests were first read (Seq: the full store's order). A request the
// rows after it wait on (not done when sealLag requests after it are) is
// sealed open: it is read from the store's open requests until it is done,
// then written again. A stage merged into a request already handed on (its
// lines out of order, within the stream's recentDone requests) writes its
// row again. Finish hands on the requests still open at the end of the
// input, which no stage can change any more: they are written as they are.

// NewIndexingStore returns a store whose requests go to ix (empty, and fed
// by no other store). Read its requests through ix, under Store.Read; its
// Snapshot lists none (the counts are kept).
func NewIndexingStore(ix *Index) *Store {
	s := NewStreamingStore(ix.handed)
	s.stream.late = ix.changed
	s.stream.sharedGone = ix.flagShared
	s.stream.forgotten = ix.forgotten
	s.stream.touchForgotten = ix.ids.touch
	ix.src = s
	return s
}

// handed takes a request the indexing store hands on: done, or open at
// Finish. The store is locked.
func (ix *Index) handed(r *Request) {
	row := int(r.seq)
	// by its ID from now on: the store forgets it (sealed open or not)
	if r.AuditID != "" {
		ix.ids.add(ix, row, idHash(r.AuditID))
	}
	if row < ix.sealed {
		ix.Update(row, r) // sealed open: now done
		return
	}
	k := row - ix.sealed
	if k >= len(ix.tail) {
		ix.tail = slices.Grow(ix.tail, k+1-len(ix.tail))[:k+1]
	}
	ix.tail[k] = r
	ix.sealHanded()
}

// sealHanded seals the handed requests at the head of the tail, and the
// head still open when sealLag rows wait behind it.
func (ix *Index) sealHanded() {
	k := 0
	for ; k < len(ix.tail); k++ {
		r := ix.tail[k]
		if r == nil {
			if len(ix.tail)-k <= sealLag {
				break
			}
			r = ix.src.openRequest(uint64(ix.sealed))
			if r == nil {
				break // cannot happen: a request not handed on is open
			}
			ix.put(r, true)
			continue
		}
		ix.put(r, false)
	}
	ix.dropSealed(k)
}

// changed takes a request handed on that gained a stage (lines out of
// order). The store is locked.
func (ix *Index) changed(r *Request) {
	if row := int(r.seq); row < ix.sealed && ix.Live(row) == nil {
		ix.Update(row, r)
	}
	// in the tail: sealed later with what it holds then
}

// openRequest is the request with Seq seq that a streaming store holds
// open, or nil; s.mu is held (by a reader or the writer).
func (s *Store) openRequest(seq uint64) *Request {
	if s == nil || s.stream == nil {
		return nil // an index of Sync: no row past its tail
	}
	st := s.stream
	i, ok := slices.BinarySearch(st.seqs[st.head:], seq)
	if !ok {
		return nil
	}
	return st.open[st.head+i]
}

// flagShared flags the rows carrying auditID, which a new request carries
// too while the one handed on before is forgotten by the store (a full
// store flags them all). The store is locked.
func (ix *Index) flagShared(auditID string) {
	ix.ids.each(ix, auditID, idHash(auditID), func(row int) bool {
		if r := ix.Live(row); r != nil {
			r.SharedID = true // in the tail, or sealed open
		}
		if row < ix.sealed {
			ix.chunks[row/chunkRows].flags[row%chunkRows] |= flagShared
			ix.rewritten = append(ix.rewritten, int32(row))
		}
		return true
	})
}

// forgotten is the indexing store's wasForgotten (see goneSet, which it
// replaces there): for an auditID no request in the store's byID carries,
// whether a row carries it with that received time (dup: a repeat or a
// late stage of a request forgotten), or with another (shared). Exact,
// where goneSet compares hashes. The store is locked.
func (ix *Index) forgotten(auditID string, h uint64, received int64) (dup, shared bool) {
	found := false
	ix.ids.each(ix, auditID, h, func(row int) bool {
		found = true
		if received == 0 || ix.firstOf(row) == received {
			dup = true
			return false
		}
		return true
	})
	return dup, found && !dup
}

// firstOf is a handed row's received stamp.
func (ix *Index) firstOf(row int) int64 {
	if row >= ix.sealed {
		return ix.tail[row-ix.sealed].first
	}
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	switch d := c.first[i]; d {
	case firstNone:
		return 0
	case firstOver:
		return ix.firstOver[int32(row)]
	default:
		return c.tbase[i/evEvery] + int64(d)
	}
}

// idOf is a handed row's auditID; canonical: as u (s is then "").
func (ix *Index) idOf(row int) (u [16]byte, s string, canonical bool) {
	if row >= ix.sealed {
		s = ix.tail[row-ix.sealed].AuditID
		u, canonical = parseUUID(s)
		return u, s, canonical
	}
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	if c.flags[i]&flagIDSide != 0 {
		return u, ix.idSide[int32(row)], false
	}
	return c.id[i], "", true
}

// idTable finds the rows handed on by auditID: open addressing over row
// numbers (row+1; 0 is empty), the IDs compared in the rows themselves, so
// it costs 4 bytes a slot (5 to 11 a request) where goneSet costs 12. The
// bits of a slot above its row's are a tag of the ID's hash (idHash, which
// a loader's scanning workers take): a probe for an ID reads no row whose
// tag differs (every new request's look-up was about three rows read,
// each a cache miss, for an ID that no row carries).
type idTable struct {
	slots   []uint32
	n       int
	rowBits int // bits of row+1 in a slot: the rest is the tag
}

// idTableRowBits is the rowBits a table starts with (a million rows; it
// gives up tag bits as the rows outgrow it). A variable: a test makes the
// rows outgrow it.
var idTableRowBits = 20

func (t *idTable) slot(h uint64) uint64 { return h >> 1 & uint64(len(t.slots)-1) } // (idHash sets the lowest bit)

func (t *idTable) tag(h uint64) uint32 { return uint32(h >> (32 + t.rowBits)) }

// rowHash is the idHash of a handed row's auditID.
func (ix *Index) rowHash(row int) uint64 {
	u, s, canonical := ix.idOf(row)
	if !canonical {
		return idHash(s)
	}
	var b [36]byte
	formatUUID(&b, &u)
	return idHash(bytesString(b[:]))
}

// add adds row, whose auditID's idHash is h.
func (t *idTable) add(ix *Index, row int, h uint64) {
	if t.rowBits == 0 {
		t.rowBits = idTableRowBits
	}
	if uint64(row)+1 >= 1<<t.rowBits {
		// the row does not fit: fewer tag bits (four times the rows)
		old := t.rowBits
		t.rowBits = min(32, bits.Len64(uint64(row)+1)+2)
		t.rehash(ix, len(t.slots), old)
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.rehash(ix, max(1<<10, 2*len(t.slots)), t.rowBits)
	}
	t.put(h, row)
	t.n++
}

func (t *idTable) put(h uint64, row int) {
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		if t.slots[i] == 0 {
			t.slots[i] = t.tag(h)<<t.rowBits | uint32(row+1)
			return
		}
	}
}

// rehash makes the table n slots of t.rowBits, its rows (in slots of
// oldBits) hashed again.
func (t *idTable) rehash(ix *Index, n, oldBits int) {
	old := t.slots
	t.slots = make([]uint32, n)
	for _, v := range old {
		if v != 0 {
			row := int(v&(1<<oldBits-1)) - 1
			t.put(ix.rowHash(row), row)
		}
	}
}

// each calls fn with each row carrying auditID (whose idHash is h), until
// fn returns false.
func (t *idTable) each(ix *Index, auditID string, h uint64, fn func(row int) bool) {
	if len(t.slots) == 0 {
		return
	}
	var u [16]byte
	parsed, canonical := false, false
	mask, rowMask, tag := uint64(len(t.slots)-1), uint32(1<<t.rowBits-1), t.tag(h)
	for i := t.slot(h); t.slots[i] != 0; i = (i + 1) & mask {
		v := t.slots[i]
		if v>>t.rowBits != tag {
			continue
		}
		if !parsed {
			u, canonical = parseUUID(auditID)
			parsed = true
		}
		row := int(v&rowMask) - 1
		ru, rs, rc := ix.idOf(row)
		if rc == canonical && (canonical && ru == u || !canonical && rs == auditID) && !fn(row) {
			return
		}
	}
}

// touch reads the slot where a probe for h starts, for Store.Prefetch.
func (t *idTable) touch(h uint64) uint32 {
	if len(t.slots) == 0 {
		return 0
	}
	return t.slots[t.slot(h)]
}

// WithID is the rows carrying auditID, in order: one, unless a client
// reused an ID. Read it as the index is read (Store.Read held).
func (ix *Index) WithID(auditID string) []int {
	var rows []int
	if ix.src == nil { // an index of Sync: no table of IDs
		for row := range ix.Len() {
			if u, s, canonical := ix.idOf(row); canonical && formatUUIDString(u) == auditID || !canonical && s == auditID {
				rows = append(rows, row)
			}
		}
		return rows
	}
	ix.ids.each(ix, auditID, idHash(auditID), func(row int) bool {
		rows = append(rows, row)
		return true
	})
	// the requests the store still holds (open, or done and not yet
	// handed on): their Seq is their row
	for r := ix.src.byID.get(idHash(auditID), auditID); r != nil; r = r.prevSameID {
		if row := int(r.seq); row < ix.Len() {
			rows = append(rows, row)
		}
	}
	slices.Sort(rows)
	return slices.Compact(rows)
}

func formatUUIDString(u [16]byte) string {
	var b [36]byte
	formatUUID(&b, &u)
	return string(b[:])
}
