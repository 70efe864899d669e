package audit

import (
	"sync"
	"time"
)

// KlogLine is one apiserver log line (klog header format), possibly with
// continuation lines folded into Msg.
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

// Store is the demixed log: requests merged by auditID, klog lines, other
// lines. It is safe for one writer and many readers.
type Store struct {
	mu       sync.RWMutex
	byID     map[string]*Request
	requests []*Request // in order of first event read
	klog     []KlogLine
	other    []OtherLine
	events   int // audit event lines accepted
	version  uint64
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{byID: make(map[string]*Request)}
}

// AddEvent merges one audit event line (a JSON object of kind Event) into the
// store. It returns the request it belongs to and whether it is new, or
// ok=false when the line is not a usable audit event.
func (s *Store) AddEvent(line []byte, ref Ref) (req *Request, isNew bool, ok bool) {
	ev, ok := ParseEvent(line)
	if !ok {
		return nil, false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req = s.byID[ev.AuditID]
	if req == nil {
		req = &Request{}
		if ev.AuditID != "" {
			s.byID[ev.AuditID] = req
		}
		s.requests = append(s.requests, req)
		isNew = true
	}
	ev.mergeInto(req, ref)
	s.events++
	s.version++
	return req, isNew, true
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
}

// Snapshot returns the store's current contents.
func (s *Store) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Snapshot{
		Requests: s.requests[:len(s.requests):len(s.requests)],
		Klog:     s.klog[:len(s.klog):len(s.klog)],
		Other:    s.other[:len(s.other):len(s.other)],
		Events:   s.events,
		Version:  s.version,
	}
}

// Read runs fn while no event is being merged, for readers that need
// requests not to change under them (filtering, rendering).
func (s *Store) Read(fn func(Snapshot)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(Snapshot{
		Requests: s.requests[:len(s.requests):len(s.requests)],
		Klog:     s.klog[:len(s.klog):len(s.klog)],
		Other:    s.other[:len(s.other):len(s.other)],
		Events:   s.events,
		Version:  s.version,
	})
}

// Version changes every time the store does.
func (s *Store) Version() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version
}
