package audit

import (
	"slices"
	"strings"
)

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
	// late, when set, is told of a stage merged into a request already
	// handed to done (an indexing store writes its row again).
	late func(*Request)
	// sharedGone, when set, is told of an auditID that a new request
	// shares with a request already forgotten (an indexing store flags
	// its row, as a full store flags the request).
	sharedGone func(auditID string)
	// open holds the requests not yet complete, in Seq order; a completed
	// one leaves a nil behind, and the nils are swept out once they are
	// most of the slice, so a request that never completes (a watch open
	// all day, a stage the policy omits) holds back no memory but its own.
	open  []*Request
	seqs  []uint64 // the Seq of each entry of open, nil ones included
	head  int      // open[:head] are all nil
	holes int      // nils in open[head:]
	base  uint64   // OldestOpen
	next  uint64
	// recent is a ring of completed requests still in byID, and recentH
	// their auditIDs' hashes (idHash), for gone.
	recent  []*Request
	recentH []uint64
	pos     int
	// gone remembers the requests forgotten (see goneSet).
	gone goneSet
	// forgotten, when set, answers wasForgotten instead of gone (an
	// indexing store's index has every request handed on, exactly).
	forgotten func(auditID string, h uint64, received int64) (dup, shared bool)
	// touchForgotten reads what forgotten will, for Store.Prefetch.
	touchForgotten func(h uint64) uint32
	// sink keeps what Prefetch read, so that the reads are done
	sink uint64
	// moved: every open request of a lower Seq has been moved out of the
	// slabs and arena chunks it was made in (see evacuate).
	moved uint64
}

// evacuateAfter is how many requests after one that is still open it is
// moved to memory of its own: a request in a slab keeps the whole slab
// (a thousand requests, their events and the chunks of their strings)
// alive, so one request that never completes among every few hundred
// would keep the whole log.
const evacuateAfter = 2 * slabSize

// NewStreamingStore returns a store that calls done, on the merging
// goroutine and with the store locked, when a request is complete (its
// ResponseComplete or Panic stage is merged) and, at Finish, for every
// request still open, oldest first. done must not keep the request. Snapshot then lists no requests; its counts are kept.
func NewStreamingStore(done func(*Request)) *Store {
	s := NewStore()
	s.stream = &stream{done: done, recent: make([]*Request, 0, recentDone), recentH: make([]uint64, 0, recentDone)}
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
	st.open, st.seqs, st.head, st.holes = nil, nil, 0, 0
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
	st.seqs = append(st.seqs, r.seq)
}

// evacuateOld moves the requests open for evacuateAfter requests to memory
// of their own, a slab's worth at a time; s.mu is held.
func (s *Store) evacuateOld() {
	st := s.stream
	if st.next < st.moved+evacuateAfter+slabSize {
		return
	}
	upTo := st.next - evacuateAfter
	i, _ := slices.BinarySearch(st.seqs[st.head:], st.moved)
	for i += st.head; i < len(st.open) && st.seqs[i] < upTo; i++ {
		if r := st.open[i]; r != nil {
			st.open[i] = s.evacuate(r)
		}
	}
	st.moved = upTo
}

// evacuate copies r, its events and every string it holds into memory of
// their own and puts the copy where r was (byID, a newer request's
// prevSameID); s.mu is held.
func (s *Store) evacuate(r *Request) *Request {
	n := new(Request)
	*n = *r
	n.Events = slices.Clone(r.Events)
	n.AuditID, n.uri, n.Name = strings.Clone(r.AuditID), strings.Clone(r.uri), strings.Clone(r.Name)
	who, what := *r.Who, *r.What
	who.User, who.ImpersonatedUser, who.UserAgent, who.CredentialID = strings.Clone(who.User), strings.Clone(who.ImpersonatedUser), strings.Clone(who.UserAgent), strings.Clone(who.CredentialID)
	who.Groups, who.ImpersonatedGroups, who.SourceIPs = cloneList(who.Groups), cloneList(who.ImpersonatedGroups), cloneList(who.SourceIPs)
	for _, f := range []*string{&what.Level, &what.Stage, &what.Verb, &what.APIGroup, &what.APIVersion, &what.Resource, &what.Subresource, &what.Namespace, &what.Message, &what.Decision, &what.Reason} {
		*f = strings.Clone(*f)
	}
	n.Who, n.What = &who, &what
	if h := idHash(r.AuditID); r.AuditID != "" && !s.byID.replace(h, r, n) {
		for q := s.byID.get(h, r.AuditID); q != nil; q = q.prevSameID {
			if q.prevSameID == r {
				q.prevSameID = n
				break
			}
		}
	}
	return n
}

func cloneList(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = strings.Clone(v)
	}
	return out
}

// completed hands r on and keeps it findable for a while; e is the stage
// that completed it (its auditID is r's); s.mu is held.
func (s *Store) completed(r *Request, e *rawEvent) {
	st := s.stream
	r.done = true
	if i, ok := slices.BinarySearch(st.seqs[st.head:], r.seq); ok && st.open[st.head+i] == r {
		st.open[st.head+i] = nil
		st.holes++
	}
	// Drop the completed ones from the front first, so that done sees
	// OldestOpen past r.
	for st.head < len(st.open) && st.open[st.head] == nil {
		st.head++
		st.holes--
	}
	if st.head < len(st.open) {
		st.base = st.open[st.head].seq
	} else {
		st.base = st.next
	}
	if live := len(st.open) - st.head - st.holes; st.head+st.holes > 1024 && st.head+st.holes > 2*live {
		n := 0
		for j, o := range st.open[st.head:] {
			if o != nil {
				st.open[n], st.seqs[n] = o, st.seqs[st.head+j]
				n++
			}
		}
		clear(st.open[n:])
		st.open, st.seqs, st.head, st.holes = st.open[:n], st.seqs[:n], 0, 0
	}
	st.done(r)
	var h uint64
	if r.AuditID != "" {
		h = e.idHash()
	}
	if len(st.recent) < cap(st.recent) {
		st.recent = append(st.recent, r)
		st.recentH = append(st.recentH, h)
		return
	}
	old, oldH := st.recent[st.pos], st.recentH[st.pos]
	st.recent[st.pos], st.recentH[st.pos] = r, h
	st.pos = (st.pos + 1) % len(st.recent)
	s.forget(old, oldH)
}

// forget takes a completed request out of byID, for the garbage collector.
// (Reusing it was tried: its text kept the arena chunks it pointed to.)
// h is its auditID's idHash.
func (s *Store) forget(r *Request, h uint64) {
	r.forgotten = true
	if s.stream.forgotten == nil && r.AuditID != "" {
		s.stream.gone.add(h, r.first)
	}
	// Lookups stop at a forgotten request: cut the chain behind it, or a
	// client reusing one auditID would keep every request it made alive.
	r.prevSameID = nil
	if r.AuditID != "" {
		s.byID.remove(h, r) // unless a later request with its ID took its place
	}
}

// wasForgotten reports, for an event whose auditID no request in byID
// carries, whether it belongs to a request already handed on and forgotten
// (dup: a repeat or a late stage of it), or whether another request with
// its ID was (shared). s.mu is held.
func (st *stream) wasForgotten(e *rawEvent, received int64) (dup, shared bool) {
	if st.forgotten != nil {
		return st.forgotten(e.auditID, e.idHash(), received)
	}
	h, ok := st.gone.find(e.idHash())
	if !ok {
		return false, false
	}
	if received == 0 || h == timeHash(received) {
		return true, false
	}
	return false, true
}
