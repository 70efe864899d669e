// Package audit is kauditui's model: audit events read with gjson (never
// unmarshalled whole) and merged by auditID into one Request per API call.
//
// It imports nothing of the project's: source feeds it, filter and ui read it.
package audit

import (
	"math"
	"time"
)

// Ref says where one raw event line can be read again: an input of the
// source set and a byte range in it. The model keeps Refs, not bytes, so a
// log read from a file does not live in the Go heap.
type Ref struct {
	Input int32 // index of the input in the source set
	Len   int32 // length of the line in bytes, without the newline
	Off   int64 // offset of the line in the input's (decompressed) byte stream
	Line  int64 // 1-based line number in that input
}

// EventRef is one stage event of a request: where to read it again, its
// stage and time (kept small: a million requests hold two each).
type EventRef struct {
	Ref
	at    int64 // stageTimestamp as a stamp (see stamp): 0 is none
	stage stageID
}

// NewEventRef makes the EventRef of a stage event read at ref.
func NewEventRef(ref Ref, stage string, at time.Time) EventRef {
	return EventRef{Ref: ref, stage: stageIDOf(stage), at: stamp(at)}
}

// At is the event's stageTimestamp (zero when it had none).
func (e EventRef) At() time.Time { return fromStamp(e.at) }

// Stage is the event's stage as logged.
func (e EventRef) Stage() string { return stageName(e.stage) }

// Request is one API request: every stage event sharing an auditID, merged.
// Strings from the log are kept as written (unsanitised): escape them before
// they reach a terminal.
//
// Who made it and what it asked are values many requests share (a million
// requests of a few clients doing a few things): they are kept once, in an
// interned Who and What the request points to, and read through them as
// fields of the request (r.User, r.Verb). They are never written through a
// request: the store replaces the pointer when a later stage adds a value.
type Request struct {
	*Who
	*What

	AuditID string
	// first is the requestReceivedTimestamp, last the latest
	// stageTimestamp, as stamps (0: none): see First, Last and stamp.
	first, last int64

	// uri is the requestURI, or when uriTail only what follows the path
	// the object reference spells (the query): most URIs are that path,
	// and it need not be kept twice. See RequestURI.
	uri  string
	Name string

	Events []EventRef // in the order read

	prevSameID *Request // the request that had this auditID before
	seq        uint64   // order of first read (streaming store)

	// SharedID is set when another request in the store carries the same
	// auditID: clients can choose their auditID, so it identifies nothing.
	SharedID  bool
	uriTail   bool // uri is what follows canonicalPath
	done      bool // streaming: handed on complete
	forgotten bool // streaming: no longer in byID
}

// Who is who made a request. Shared between requests: never write to one
// reached through a request.
type Who struct {
	User               string
	Groups             []string
	ImpersonatedUser   string
	ImpersonatedGroups []string
	SourceIPs          []string
	UserAgent          string
	// CredentialID is user.extra["authentication.kubernetes.io/credential-id"]
	// (1.32+): X509SHA256=<hex> for a client certificate, JTI=<id> for a
	// service-account token. It tells apart people who share a user name
	// (everyone with admin.conf is kubernetes-admin); see Credential.
	CredentialID string
}

// What is what a request asked and how it ended. Shared between requests:
// never write to one reached through a request.
type What struct {
	Level       string
	Stage       string // the last stage seen (ResponseComplete, ResponseStarted, Panic, RequestReceived)
	Verb        string
	APIGroup    string
	APIVersion  string
	Resource    string // empty for non-resource requests
	Subresource string
	Namespace   string

	Code     int    // responseStatus.code, 0 when no stage carried one
	Message  string // responseStatus.message
	Decision string // annotation authorization.k8s.io/decision: allow or forbid
	Reason   string // annotation authorization.k8s.io/reason
}

// noWho and noWhat are what a request points to before a stage told
// anything (never written: the store interns new values).
var (
	noWho  = &Who{}
	noWhat = &What{}
)

// NewRequest makes a request of these values, for callers that build
// requests themselves (tests, examples); the store makes its own.
func NewRequest(who Who, what What, auditID, uri, name string) *Request {
	return &Request{Who: &who, What: &what, AuditID: auditID, uri: uri, Name: name}
}

// RequestURI is the request's requestURI as logged.
func (r *Request) RequestURI() string {
	if !r.uriTail {
		return r.uri
	}
	return string(r.AppendRequestURI(nil))
}

// AppendRequestURI appends the requestURI to b: RequestURI without a new
// string, for matching a million requests.
func (r *Request) AppendRequestURI(b []byte) []byte {
	if r.uriTail {
		b = appendCanonicalPath(b, r)
	}
	return append(b, r.uri...)
}

// appendCanonicalPath appends the path the apiserver serves r's object
// reference at: /api/v1 or /apis/GROUP/VERSION, then namespaces/NS,
// RESOURCE, NAME and SUBRESOURCE where r has them.
func appendCanonicalPath(b []byte, r *Request) []byte {
	if r.APIGroup == "" {
		b = append(b, "/api/"...)
	} else {
		b = append(b, "/apis/"...)
		b = append(b, r.APIGroup...)
		b = append(b, '/')
	}
	b = append(b, r.APIVersion...)
	if r.Namespace != "" && !(r.Resource == "namespaces" && r.APIGroup == "") {
		b = append(b, "/namespaces/"...)
		b = append(b, r.Namespace...)
	}
	b = append(b, '/')
	b = append(b, r.Resource...)
	if r.Name != "" {
		b = append(b, '/')
		b = append(b, r.Name...)
		if r.Subresource != "" {
			b = append(b, '/')
			b = append(b, r.Subresource...)
		}
	}
	return b
}

// First is the request's requestReceivedTimestamp (zero when no stage had one).
func (r *Request) First() time.Time { return fromStamp(r.first) }

// Last is the latest stageTimestamp of its stages (zero when none had one).
func (r *Request) Last() time.Time { return fromStamp(r.last) }

// A stamp keeps a time in 8 bytes: Unix microseconds (audit times are
// microsecond-precise; finer digits are cut) shifted by stampShift, so that
// every time a log can spell (years 0000 to 9999) is a positive stamp in
// order, and 0, the zero value, is no time at all. Unix nanoseconds
// wrapped outside 1678 to 2262 and had 0 for both 1970-01-01T00:00:00Z and
// "none".
const stampShift = 1 << 62

// stamp is t as a stamp; the zero Time is 0.
func stamp(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro() + stampShift
}

func fromStamp(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n - stampShift).UTC()
}

// micro is t as a stamp keeps it: cut to the microsecond.
func micro(t time.Time) time.Time { return fromStamp(stamp(t)) }

// Latency is the last stageTimestamp minus requestReceivedTimestamp (the
// longest Duration when that is longer than a Duration holds).
func (r *Request) Latency() time.Duration {
	if r.first == 0 || r.last == 0 {
		return 0
	}
	const most = math.MaxInt64 / int64(time.Microsecond)
	d := r.last - r.first
	switch {
	case d > most:
		return math.MaxInt64
	case d < -most:
		return math.MinInt64
	}
	return time.Duration(d) * time.Microsecond
}

// SourceIP is the address that really connected: the last of sourceIPs
// (the earlier ones come from X-Forwarded-For and are client-chosen).
func (r *Request) SourceIP() string {
	if len(r.SourceIPs) == 0 {
		return ""
	}
	return r.SourceIPs[len(r.SourceIPs)-1]
}

// Actor is "user" or "user (as impersonated)".
func (r *Request) Actor() string { return r.Who.actor() }

func (w *Who) actor() string {
	if w.ImpersonatedUser == "" {
		return w.User
	}
	return w.User + " (as " + w.ImpersonatedUser + ")"
}

// ResourcePath is resource[/subresource], with the API group prefixed when
// it is not the core group: "apps/deployments/scale", "pods/exec".
func (r *Request) ResourcePath() string {
	s := r.Resource
	if r.Subresource != "" {
		s += "/" + r.Subresource
	}
	if r.APIGroup != "" && s != "" {
		s = r.APIGroup + "/" + s
	}
	return s
}
