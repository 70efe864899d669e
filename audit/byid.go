package audit

// byIDTable is the store's latest request with each auditID: open
// addressing over (hash, request) slots, probed linearly, emptied by
// shifting back. It is keyed by idHash, which a loader's scanning
// goroutines take (Prescan.Scan), so the merging goroutine hashes no ID
// where a map[string] hashed each three times (look-up, insert, delete);
// every hash that matches is checked against the request's own auditID.
type byIDTable struct {
	slots []idSlot
	n     int
}

type idSlot struct {
	h uint64 // idHash of r.AuditID
	r *Request
}

// slot is where h's probe starts (idHash sets the lowest bit).
func (t *byIDTable) slot(h uint64) uint64 { return h >> 1 & uint64(len(t.slots)-1) }

// get is the request put last with auditID id (whose idHash is h), or nil.
func (t *byIDTable) get(h uint64, id string) *Request {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.r == nil {
			return nil
		}
		if sl.h == h && sl.r.AuditID == id {
			return sl.r
		}
	}
}

// put makes r the request of its auditID (h its idHash), in place of the
// one there was.
func (t *byIDTable) put(h uint64, r *Request) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.r == nil {
			*sl = idSlot{h, r}
			t.n++
			return
		}
		if sl.h == h && sl.r.AuditID == r.AuditID {
			sl.r = r
			return
		}
	}
}

// replace puts n where old is (the same auditID), if old is there.
func (t *byIDTable) replace(h uint64, old, n *Request) bool {
	if i, ok := t.find(h, old); ok {
		t.slots[i].r = n
		return true
	}
	return false
}

// remove takes r out if it is there (it is not when a later request with
// its auditID took its place).
func (t *byIDTable) remove(h uint64, r *Request) {
	i, ok := t.find(h, r)
	if !ok {
		return
	}
	// Shift back the entries after the hole that may not stay behind it
	// (their probe started at or before it), so no probe crosses a hole.
	mask := uint64(len(t.slots) - 1)
	for j := (i + 1) & mask; t.slots[j].r != nil; j = (j + 1) & mask {
		if k := t.slot(t.slots[j].h); (j-k)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = idSlot{}
	t.n--
}

// find is the slot holding r.
func (t *byIDTable) find(h uint64, r *Request) (uint64, bool) {
	if t.n == 0 {
		return 0, false
	}
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(h); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.r == nil {
			return 0, false
		}
		if sl.r == r {
			return i, true
		}
	}
}

func (t *byIDTable) grow() {
	old := t.slots
	t.slots = make([]idSlot, max(1<<10, 2*len(old)))
	mask := uint64(len(t.slots) - 1)
	for _, sl := range old {
		if sl.r == nil {
			continue
		}
		i := t.slot(sl.h)
		for t.slots[i].r != nil {
			i = (i + 1) & mask
		}
		t.slots[i] = sl
	}
}

// touch reads the slot where a probe for h starts, for Store.Prefetch.
func (t *byIDTable) touch(h uint64) uint64 {
	if len(t.slots) == 0 {
		return 0
	}
	return t.slots[t.slot(h)].h
}
