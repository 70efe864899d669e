package audit

import (
	"slices"
	"strconv"
	"sync"
	"time"
)

// KlogLine is one apiserver log line (klog header format), possibly with
// continuation lines folded into Msg (joined by "\n").
type KlogLine struct {
	Ref
	Severity byte // I, W, E or F
	Time     time.Time
	PID      int
	File     string // file:line as written
	Msg      string
}

// OtherLine is a line that is neither an audit event nor klog: broken JSON,
// truncated or binary data, or an unknown format. It is counted, never fatal.
type OtherLine struct {
	Ref
	Why string // "not JSON", "line over 64 MiB", "truncated gzip", ...
}

// slabSize is how many Requests (and EventRefs) are allocated at once: the
// loader then makes about one allocation per thousand requests.
const slabSize = 1024

// Store is the demixed log: requests merged by auditID, klog lines, other
// lines. It is safe for one writer and many readers.
type Store struct {
	wmu sync.Mutex // serialises writers (parsing happens outside mu)

	mu       sync.RWMutex
	byID     byIDTable  // the latest request with each auditID
	requests []*Request // in order of first event read
	klog     []KlogLine
	other    []OtherLine
	events   int        // audit event lines accepted
	shared   int        // requests whose auditID another request also carries
	dups     int        // event lines dropped as exact repeats of a stage already merged
	late     []*Request // requests that changed after they were done
	version  uint64

	stream *stream // set for a streaming store (stream.go)

	// writer-only state
	in         interner
	reqSlab    []Request
	eventPool  []EventRef
	scratch    []byte
	uriScratch []byte   // a requestURI until it is kept (keepURI)
	pathBuf    []byte   // a canonical path (appendCanonicalPath)
	ev         rawEvent // the event being added (kept here so it does not escape)
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{}
}

// AddEvent merges one audit event line (a JSON object of kind Event) into the
// store. It returns the request it belongs to and whether it is new, or
// ok=false when the line is not a usable audit event. line may be reused by
// the caller once AddEvent returns.
func (s *Store) AddEvent(line []byte, ref Ref) (req *Request, isNew bool, ok bool) {
	return s.addEvent(line, ref, true)
}

// AddEventItem merges one item of a webhook EventList batch. Items carry no
// kind or apiVersion of their own (the list does), so only the JSON is
// checked.
func (s *Store) AddEventItem(item []byte, ref Ref) (req *Request, isNew bool, ok bool) {
	return s.addEvent(item, ref, false)
}

func (s *Store) addEvent(line []byte, ref Ref, needKind bool) (req *Request, isNew bool, ok bool) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	e := &s.ev
	*e = rawEvent{}
	if !scanEventBytes(line, e) {
		return nil, false, false
	}
	return s.addScanned(e, ref, needKind)
}

// Prescan is an event line scanned ahead of its merge, so that a loader can
// scan lines on several goroutines and merge them in order with
// AddPrescanned. Its strings alias the line it scanned.
type Prescan struct {
	ev    rawEvent
	valid bool
}

// Scan reads line (a JSON audit event line) into p. Different Prescans may
// be scanned concurrently; nothing of the store is touched.
func (p *Prescan) Scan(line []byte) {
	p.ev = rawEvent{}
	p.valid = scanEventBytes(line, &p.ev)
	if p.valid {
		p.ev.times() // parsed here, on the scanning goroutine
		if p.ev.auditID != "" {
			p.ev.idHash() // and hashed
		}
	}
}

// Hint is what Store.Prefetch takes of a scanned line: the hash of its
// auditID, or 0.
func (p *Prescan) Hint() uint64 {
	if !p.valid || !p.ev.hashed {
		return 0
	}
	return p.ev.idh
}

// Prefetch reads ahead what the merge of a batch of scanned lines (their
// Hints, in order) will look up in a streaming store's tables, and what
// the requests they complete will make it forget: a cache miss each that
// the merging goroutine would wait on in turn, here in flight together.
// It changes nothing; a loader calls it before it merges the batch.
func (s *Store) Prefetch(hints []uint64) {
	st := s.stream
	if st == nil {
		return
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var x uint64
	for _, h := range hints {
		if h == 0 {
			continue
		}
		x ^= s.byID.touch(h)
		if st.forgotten == nil {
			x ^= st.gone.touchFind(h)
		} else if st.touchForgotten != nil {
			x ^= uint64(st.touchForgotten(h))
		}
	}
	// About one line in two completes a request, which makes the store
	// forget the one completed recentDone requests before it.
	if n := len(st.recent); n == cap(st.recent) && n > 0 {
		for k := range min(len(hints)/2, n) {
			i := (st.pos + k) % n
			if st.forgotten == nil {
				x ^= st.gone.touchAdd(st.recentH[i])
			}
			x ^= uint64(st.recent[i].first)
		}
	}
	st.sink = x
}

// AddPrescanned is AddEvent for a line already read by p.Scan; the line's
// bytes must not have changed since. The result is AddEvent's.
func (s *Store) AddPrescanned(p *Prescan, ref Ref) (req *Request, isNew bool, ok bool) {
	if !p.valid {
		return nil, false, false
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.addScanned(&p.ev, ref, true)
}

// AddPrescannedRun merges n lines already read by Prescan.Scan, in order,
// as n calls of AddPrescanned would, taking the store's locks once (a
// loader's run of event lines): line(i) is the i-th line's scan and Ref.
// It stops before the first line that is not a usable audit event
// (AddPrescanned's ok=false) and returns how many it merged, and the
// latest Last of the requests they went to.
func (s *Store) AddPrescannedRun(n int, line func(i int) (*Prescan, Ref)) (merged int, last time.Time) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	var latest int64
	for ; merged < n; merged++ {
		p, ref := line(merged)
		if !p.valid || !p.ev.isEvent() {
			break
		}
		req, _, _ := s.addLocked(&p.ev, ref)
		latest = max(latest, req.last)
	}
	return merged, fromStamp(latest)
}

// addScanned merges a scanned event; s.wmu is held.
func (s *Store) addScanned(e *rawEvent, ref Ref, needKind bool) (req *Request, isNew bool, ok bool) {
	if needKind && !e.isEvent() {
		return nil, false, false
	}
	if !needKind && e.auditID == "" && e.stage == "" {
		return nil, false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addLocked(e, ref)
}

// addLocked merges a scanned event that is one (addScanned's checks
// passed); s.wmu and s.mu are held. ok is always true.
func (s *Store) addLocked(e *rawEvent, ref Ref) (req *Request, isNew bool, ok bool) {
	var latest *Request
	goneShared := false // shares its ID with a request a streaming store forgot
	if e.auditID != "" {
		latest = s.byID.get(e.idHash(), e.auditID)
		var dup bool
		req, dup = s.owner(latest, e)
		if dup {
			s.dups++
			s.version++
			return req, false, true
		}
		if latest == nil && s.stream != nil {
			received, _ := e.times()
			if dup, shared := s.stream.wasForgotten(e, stamp(received)); dup {
				s.dups++
				s.version++
				return forgottenRequest, false, true
			} else if shared {
				s.shared++ // the one handed on was not flagged: it was gone
				if s.stream.sharedGone != nil {
					s.stream.sharedGone(s.unescaped(e.auditID, e.esc&(1<<fAuditID) != 0))
				}
				latest = nil
				goneShared = true
			}
		}
	}
	if req == nil {
		req = s.newRequest()
		if goneShared { // flagged before it can be handed on (done)
			req.SharedID = true
			s.shared++
		}
		if s.stream != nil {
			s.stream.opened(req)
			s.evacuateOld()
		}
		if e.auditID != "" {
			if latest != nil {
				// A client chose an auditID already used (kube-apiserver takes
				// the Audit-ID header as given): a request of its own, flagged.
				req.AuditID = latest.AuditID
				req.prevSameID = latest
				if !latest.SharedID {
					latest.SharedID = true
					s.shared++
					if s.stream != nil && latest.done && s.stream.late != nil {
						s.stream.late(latest) // handed on: its row is flagged too
					}
				}
				req.SharedID = true
				s.shared++
			} else {
				req.AuditID = s.in.copy(e.auditID)
			}
			s.byID.put(e.idHash(), req)
		}
		if s.stream == nil {
			s.requests = append(s.requests, req)
		}
		isNew = true
	}
	if !isNew && s.stream == nil && req.Done() && len(s.late) < maxLate {
		// A stage read after the one that ended the request (a log whose
		// lines are not in the order they were written): a reader that
		// stopped looking at it once done must look again.
		s.late = append(s.late, req)
	}
	handed := !isNew && s.stream != nil && req.done
	s.merge(req, e, ref)
	s.events++
	s.version++
	if s.stream != nil && !req.done && req.Done() {
		s.completed(req, e)
	}
	if handed && s.stream.late != nil {
		s.stream.late(req)
	}
	return req, isNew, true
}

// forgottenRequest is what AddEvent returns for a repeated line of a
// request a streaming store has handed on and forgotten: nothing to read.
var forgottenRequest = &Request{Who: noWho, What: noWhat}

// unescaped is v unescaped into the scratch buffer when esc.
func (s *Store) unescaped(v string, esc bool) string {
	if !esc {
		return v
	}
	s.scratch = unescapeAppend(s.scratch[:0], v)
	return bytesString(s.scratch)
}

// maxSameID bounds how many earlier requests with one auditID a stage is
// tried against: a client reusing one ID a million times must not make
// loading quadratic (a stage of a request older than that becomes a request
// of its own, still flagged as sharing its ID).
const maxSameID = 64

// owner finds, among the requests carrying e's auditID (latest first), the
// one e is a stage of. Stages belong to one request only when they agree on
// what identifies it (verb, requestURI, user, requestReceivedTimestamp) and
// the request does not have that stage yet: the auditID alone is chosen by
// the client and proves nothing. dup is true when e repeats a stage already
// merged, to the microsecond (the same line read twice).
func (s *Store) owner(latest *Request, e *rawEvent) (req *Request, dup bool) {
	received, stageAt := e.times()
	n := 0
	for r := latest; r != nil && !r.forgotten && n < maxSameID; r, n = r.prevSameID, n+1 {
		if !s.sameRequest(r, e, received) {
			continue
		}
		for _, ev := range r.Events {
			if ev.Stage() == e.stage {
				if ev.At().Equal(stageAt) {
					return r, true
				}
				return nil, false // a second stage of one kind: another request
			}
		}
		return r, false
	}
	return nil, false
}

// sameRequest compares the identifying fields of r with those of e, where
// both have them (a stage may lack a field its request has).
func (s *Store) sameRequest(r *Request, e *rawEvent, received time.Time) bool {
	if s.differ(r.Verb, e.verb, e.esc&(1<<fVerb) != 0) || s.uriDiffers(r, e.uri, e.esc&(1<<fURI) != 0) ||
		s.differ(r.User, e.user, e.esc&(1<<fUsername) != 0) {
		return false
	}
	return r.First().IsZero() || received.IsZero() || r.First().Equal(received)
}

// uriDiffers is differ for the requestURI, which r may keep in part.
func (s *Store) uriDiffers(r *Request, v string, esc bool) bool {
	if !r.uriTail {
		return s.differ(r.uri, v, esc)
	}
	if v == "" {
		return false
	}
	if esc {
		s.scratch = unescapeAppend(s.scratch[:0], v)
		v = bytesString(s.scratch)
	}
	s.pathBuf = appendCanonicalPath(s.pathBuf[:0], r)
	n := len(s.pathBuf)
	return len(v) != n+len(r.uri) || v[:n] != bytesString(s.pathBuf) || v[n:] != r.uri
}

// differ compares a kept value with a logged one (still JSON-escaped when
// esc), unescaping into the scratch buffer rather than a new string.
func (s *Store) differ(have, v string, esc bool) bool {
	if have == "" || v == "" {
		return false
	}
	if esc {
		s.scratch = unescapeAppend(s.scratch[:0], v)
		return have != bytesString(s.scratch)
	}
	return have != v
}

func (s *Store) newRequest() *Request {
	if len(s.reqSlab) == 0 {
		s.reqSlab = make([]Request, slabSize)
	}
	r := &s.reqSlab[0]
	s.reqSlab = s.reqSlab[1:]
	r.Who, r.What = noWho, noWhat
	return r
}

// eventSlab returns an empty slice with room for the two stages most
// requests have, cut from a shared slab.
func (s *Store) eventSlab() []EventRef {
	if len(s.eventPool) < 2 {
		s.eventPool = make([]EventRef, 2*slabSize)
	}
	e := s.eventPool[:0:2]
	s.eventPool = s.eventPool[2:]
	return e
}

// AddKlog appends an apiserver log line.
func (s *Store) AddKlog(l KlogLine) {
	s.mu.Lock()
	s.klog = append(s.klog, l)
	s.version++
	s.mu.Unlock()
}

// AddOther counts and keeps a line that was neither audit nor klog.
func (s *Store) AddOther(l OtherLine) {
	s.mu.Lock()
	s.other = append(s.other, l)
	s.version++
	s.mu.Unlock()
}

// maxLate bounds Snapshot.Late (past it, a reader that relies on it may
// miss a change; only logs whose stages are far out of order get there).
const maxLate = 1 << 20

// Snapshot is a consistent view of the store at one moment. Its slices are
// shared with the store (append-only): do not modify them. A Request may
// still gain stages after the snapshot; read it under Store.Read if that
// matters.
type Snapshot struct {
	Requests []*Request
	Klog     []KlogLine
	Other    []OtherLine
	Events   int
	Version  uint64
	// SharedIDs counts requests whose auditID another request also carries
	// (a client chose it): each is still a request of its own.
	SharedIDs int
	// Duplicates counts event lines dropped as repeats of a stage already
	// read (the same log read twice, overlapping pod-log streams).
	Duplicates int
	// Late lists, in the order it happened, the requests that gained a
	// stage after they were done: a reader that re-checks only requests
	// not yet done (the explorer's re-filter) checks these again.
	Late []*Request
}

// Snapshot returns the store's current contents.
func (s *Store) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.snapshot()
}

func (s *Store) snapshot() Snapshot {
	return Snapshot{
		Requests:   s.requests[:len(s.requests):len(s.requests)],
		Klog:       s.klog[:len(s.klog):len(s.klog)],
		Other:      s.other[:len(s.other):len(s.other)],
		Events:     s.events,
		Version:    s.version,
		SharedIDs:  s.shared,
		Duplicates: s.dups,
		Late:       s.late[:len(s.late):len(s.late)],
	}
}

// Read runs fn while no event is being merged, for readers that need
// requests not to change under them (filtering, rendering).
func (s *Store) Read(fn func(Snapshot)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.snapshot())
}

// Version changes every time the store does.
func (s *Store) Version() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}

// WithID returns the requests that carry auditID, oldest first: one, unless
// a client reused an ID.
func (s *Store) WithID(auditID string) []*Request {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []*Request
	for r := s.byID.get(idHash(auditID), auditID); r != nil; r = r.prevSameID {
		out = append(out, r)
	}
	slices.Reverse(out)
	return out
}

// Warnings are what the log says about itself that a reader must know,
// one sentence each: auditIDs that several requests carry, repeated lines.
func (s Snapshot) Warnings() []string {
	var out []string
	if s.SharedIDs > 0 {
		out = append(out, strconv.Itoa(s.SharedIDs)+" requests carry an auditID that another request carries too (clients can choose their Audit-ID header); each is shown as a request of its own (-q 'id=...' lists them)")
	}
	if s.Duplicates > 0 {
		out = append(out, strconv.Itoa(s.Duplicates)+" event lines repeat lines already read (the same log named twice?); each was counted once")
	}
	return out
}
