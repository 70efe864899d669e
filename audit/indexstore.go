package audit

import "slices"

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
	ix.src = s
	return s
}

// handed takes a request the indexing store hands on: done, or open at
// Finish. The store is locked.
func (ix *Index) handed(r *Request) {
	row := int(r.seq)
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
	if k == 0 {
		return
	}
	n := copy(ix.tail, ix.tail[k:])
	clear(ix.tail[n:])
	ix.tail = ix.tail[:n]
	if cap(ix.tail) > 4*sealLag && n < sealLag {
		ix.tail = append([]*Request(nil), ix.tail...)
	}
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
	st := s.stream
	if st == nil {
		return nil
	}
	i, ok := slices.BinarySearch(st.seqs[st.head:], seq)
	if !ok {
		return nil
	}
	return st.open[st.head+i]
}

// flagShared flags the rows and waiting requests carrying auditID (a new
// request carries it too, and the one handed on before is forgotten by
// the store). The rows are searched from where the last search for that
// ID stopped: once per row for every reused ID. The store is locked.
func (ix *Index) flagShared(auditID string) {
	from := ix.sharedScanned[auditID]
	u, canonical := parseUUID(auditID)
	for row := from; row < ix.sealed; row++ {
		c, i := ix.chunks[row/chunkRows], row%chunkRows
		fl := c.flags[i]
		if fl&flagShared != 0 {
			continue
		}
		var same bool
		if fl&flagIDSide != 0 {
			same = ix.idSide[int32(row)] == auditID
		} else {
			same = canonical && c.id[i] == u
		}
		if same {
			c.flags[i] |= flagShared
			if r := ix.Live(row); r != nil {
				r.SharedID = true
			}
		}
	}
	for _, r := range ix.tail {
		if r != nil && r.AuditID == auditID {
			r.SharedID = true
		}
	}
	if ix.sharedScanned == nil {
		ix.sharedScanned = map[string]int{}
	}
	ix.sharedScanned[string([]byte(auditID))] = ix.sealed
}
