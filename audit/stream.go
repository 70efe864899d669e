package audit

// Streaming is the store's mode for one-shot queries (count, top, table):
// a request is handed to a callback when its last stage arrives and then
// forgotten, so memory follows the requests in flight, not the size of the
// log. Identity rules are the same as a full store's: a completed request
// stays findable by its auditID for a while (recentDone requests), so a late
// or repeated stage still joins it or is dropped as a repeat, and a reused
// auditID still makes a request of its own.

// recentDone is how many completed requests stay findable by auditID.
const recentDone = 1 << 12

type stream struct {
	done func(*Request)
	// open holds the requests of seq base+i that have not completed (nil
	// once they have), so the oldest open one is known in O(1) amortised:
	// open[head:] is the window, compacted once head passes its half.
	open []*Request
	head int
	base uint64
	next uint64
	// recent is a ring of completed requests still in byID.
	recent []*Request
	pos    int
}

// NewStreamingStore returns a store that calls done, on the merging
// goroutine and with the store locked, when a request is complete (its
// ResponseComplete or Panic stage is merged) and, at Finish, for every
// request still open, oldest first. done must not keep the request. Snapshot then lists no requests; its counts are kept.
func NewStreamingStore(done func(*Request)) *Store {
	s := NewStore()
	s.stream = &stream{done: done, recent: make([]*Request, 0, recentDone)}
	s.in.forget = 1 << 12
	return s
}

// Seq is the request's place in the order requests were first read (0, 1,
// 2, ...): a streaming store completes requests out of that order.
func (r *Request) Seq() uint64 { return r.seq }

// OldestOpen is the Seq of the oldest request not yet complete, or the Seq
// the next request will get when none is open: every request with a lower
// Seq has been handed to done.
func (s *Store) OldestOpen() uint64 {
	if s.stream == nil {
		return 0
	}
	return s.stream.base
}

// Finish hands every request still open to done, oldest first (requests
// whose last stage is not in the log). It is for a streaming store that has
// read all its input.
func (s *Store) Finish() {
	st := s.stream
	if st == nil {
		return
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	open := st.open[st.head:]
	st.open, st.head = nil, 0
	for _, r := range open {
		if r != nil {
			st.base = r.seq + 1
			r.done = true
			st.done(r)
		}
	}
	st.base = st.next
}

// opened registers a new request.
func (st *stream) opened(r *Request) {
	r.seq = st.next
	st.next++
	st.open = append(st.open, r)
}

// isLast reports whether r has had its last stage: ResponseComplete,
// Panic, or the ResponseStarted 401 that is all the apiserver logs of a
// request that failed authentication. (Other ResponseStarted stages with
// an error, a failed exec's 400, are followed by a ResponseComplete.)
func isLast(r *Request) bool {
	return r.Stage == "ResponseComplete" || r.Stage == "Panic" ||
		r.Stage == "ResponseStarted" && r.Code == 401
}

// completed hands r on and keeps it findable for a while; s.mu is held.
func (s *Store) completed(r *Request) {
	st := s.stream
	r.done = true
	st.open[st.head+int(r.seq-st.base)] = nil
	// Drop the completed ones from the front of open first, so that done
	// sees OldestOpen past r.
	i := st.head
	for i < len(st.open) && st.open[i] == nil {
		i++
	}
	st.base += uint64(i - st.head)
	st.head = i
	if st.head > 1024 && st.head > len(st.open)/2 {
		n := copy(st.open, st.open[st.head:])
		clear(st.open[n:])
		st.open, st.head = st.open[:n], 0
	}
	st.done(r)
	if len(st.recent) < cap(st.recent) {
		st.recent = append(st.recent, r)
		return
	}
	old := st.recent[st.pos]
	st.recent[st.pos] = r
	st.pos = (st.pos + 1) % len(st.recent)
	s.forget(old)
}

// forget takes a completed request out of byID, for the garbage collector.
// (Reusing it was tried: its text kept the arena chunks it pointed to.)
func (s *Store) forget(r *Request) {
	r.forgotten = true
	// Lookups stop at a forgotten request: cut the chain behind it, or a
	// client reusing one auditID would keep every request it made alive.
	r.prevSameID = nil
	if s.byID[r.AuditID] == r {
		delete(s.byID, r.AuditID)
	}
}
