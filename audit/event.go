package audit

import (
	"bytes"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
)

// Event is the part of one audit event line that the model uses.
type Event struct {
	AuditID string
	Level   string
	Stage   string

	Received time.Time
	StageAt  time.Time

	User, UA, Verb, URI           string
	Groups, SourceIPs             []string
	ImpUser                       string
	ImpGroups                     []string
	Group, Version, Resource, Sub string
	Namespace, Name               string
	Code                          int
	Message                       string
	Decision, Reason              string
	CredentialID                  string // X509SHA256=<hex> or JTI=<id>, see Request.CredentialID
}

// rawEvent holds the fields of one event line as strings that alias the
// line: nothing is copied until the store decides to keep a value.
type rawEvent struct {
	kind, apiVersion, auditID, level, stage string
	received, stageAt                       string
	timestamp                               string // v1beta1 of Kubernetes 1.8: see times
	user, groups, impUser, impGroups        string // groups: the raw JSON array
	sourceIPs, ua, verb, uri                string
	group, version, resource, sub, ns, name string
	message, decision, reason               string
	credID                                  string // the raw JSON array
	code                                    int
	esc                                     uint64 // fields (1<<f) still holding JSON escapes

	// times' answer, once asked (a loader's workers ask it while scanning,
	// so the merge need not parse the times again)
	timed            bool
	recvAt, stagedAt time.Time

	// idHash's answer, once asked (also asked by the scanning goroutines)
	hashed bool
	idh    uint64
}

// idHash is the hash of the auditID (unescaped: see scanEventBytes) that a
// streaming store remembers forgotten requests by (goneSet).
func (e *rawEvent) idHash() uint64 {
	if !e.hashed {
		e.idh, e.hashed = idHash(e.auditID), true
	}
	return e.idh
}

// times are the event's requestReceivedTimestamp and stageTimestamp, cut
// to the microsecond as the store keeps them (see stamp). An
// audit.k8s.io/v1beta1 event of Kubernetes 1.8 has neither, only
// timestamp (when the request reached the apiserver, to the second): it
// stands in for both, so such a request has a time and no latency.
func (e *rawEvent) times() (received, stageAt time.Time) {
	if e.timed {
		return e.recvAt, e.stagedAt
	}
	received, stageAt = ParseTime(e.received), ParseTime(e.stageAt)
	if received.IsZero() && stageAt.IsZero() && e.timestamp != "" {
		received = ParseTime(e.timestamp)
		stageAt = received
	}
	e.timed, e.recvAt, e.stagedAt = true, micro(received), micro(stageAt)
	return e.recvAt, e.stagedAt
}

// bytesString views b as a string without copying; the string must not
// outlive the next change of b.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// scanEvent reads the fields of an event line in one validating pass (see
// scan.go) and reports whether the line is a valid JSON object.
// Every string field comes back unescaped (allocating when there were
// escapes); the store uses scanEventBytes and unescapes only what it keeps.
func scanEvent(s string, e *rawEvent) bool {
	if !scanEventBytes(unsafe.Slice(unsafe.StringData(s), len(s)), e) {
		return false
	}
	e.unescape(e.esc)
	return true
}

func (e *rawEvent) isEvent() bool {
	return e.kind == "Event" && isAuditAPIVersion(e.apiVersion)
}

func isAuditAPIVersion(v string) bool {
	return len(v) > 13 && v[:13] == "audit.k8s.io/"
}

// IsEvent reports whether a JSON line is an audit event (kind Event,
// apiVersion audit.k8s.io/*).
func IsEvent(line []byte) bool {
	r := gjson.GetManyBytes(line, "kind", "apiVersion")
	return r[0].Str == "Event" && isAuditAPIVersion(r[1].Str)
}

// ParseEvent reads one audit event line. ok is false when the line is not a
// JSON audit event. The returned strings are copies: line may be reused.
// (The store does not use it: it reads lines with scanEvent and interns.)
func ParseEvent(line []byte) (ev Event, ok bool) {
	var e rawEvent
	if !scanEvent(string(line), &e) || !e.isEvent() {
		return ev, false
	}
	received, stageAt := e.times()
	ev = Event{
		AuditID: e.auditID, Level: e.level, Stage: e.stage,
		Received: received, StageAt: stageAt,
		User: e.user, UA: e.ua, Verb: e.verb, URI: e.uri,
		Groups: parseList(e.groups), SourceIPs: parseList(e.sourceIPs),
		ImpUser: e.impUser, ImpGroups: parseList(e.impGroups),
		Group: e.group, Version: e.version, Resource: e.resource, Sub: e.sub,
		Namespace: e.ns, Name: e.name,
		Code: e.code, Message: e.message, Decision: e.decision, Reason: e.reason,
	}
	if v, esc := firstString(e.credID); esc {
		ev.CredentialID = unescape(v)
	} else {
		ev.CredentialID = v
	}
	return ev, true
}

// parseList reads a JSON array of strings; nil for "" (absent).
func parseList(raw string) []string {
	if raw == "" {
		return nil
	}
	out := []string{}
	gjson.Parse(raw).ForEach(func(_, v gjson.Result) bool {
		out = append(out, v.String())
		return true
	})
	return out
}

// merge folds one stage into its request: the first non-empty value of each
// field wins, except stage, time, status and the authorization decision and
// reason, which follow the latest stage.
// Values are interned (or copied) only when the request keeps them, since
// e's strings alias the reader's buffer.
func (s *Store) merge(r *Request, e *rawEvent, ref Ref) {
	in := &s.in
	// val unescapes field f into the scratch buffer when it has escapes.
	val := func(v string, f int) string {
		if e.esc&(1<<f) == 0 {
			return v
		}
		s.scratch = unescapeAppend(s.scratch[:0], v)
		return bytesString(s.scratch)
	}
	firstCopy := func(dst *string, v string, f int) {
		if *dst == "" && v != "" {
			*dst = in.copy(val(v, f))
		}
	}
	// Who and what are shared: filled in copies, interned when changed.
	who, what := *r.Who, *r.What
	oldWhat, oldName := r.What, r.Name
	newWho, newWhat := false, false
	// str interns field f's value v
	str := func(v string, f int) string {
		if e.esc&(1<<f) != 0 {
			return in.strEsc(v)
		}
		return in.str(v)
	}
	fill := func(dst *string, v string, f int, changed *bool) {
		if *dst == "" && v != "" {
			*dst = str(v, f)
			*changed = true
		}
	}
	fill(&what.Level, e.level, fLevel, &newWhat)
	fill(&who.User, e.user, fUsername, &newWho)
	fill(&who.ImpersonatedUser, e.impUser, fImpUsername, &newWho)
	fill(&who.UserAgent, e.ua, fUA, &newWho)
	fill(&what.Verb, e.verb, fVerb, &newWhat)
	newURI := r.uri == "" && !r.uriTail && e.uri != ""
	if newURI {
		// kept aside until the object reference is known: see keepURI
		s.uriScratch = append(s.uriScratch[:0], val(e.uri, fURI)...)
	}
	fill(&what.APIGroup, e.group, fGroup, &newWhat)
	fill(&what.APIVersion, e.version, fVersion, &newWhat)
	fill(&what.Resource, e.resource, fResource, &newWhat)
	fill(&what.Subresource, e.sub, fSub, &newWhat)
	fill(&what.Namespace, e.ns, fNS, &newWhat)
	firstCopy(&r.Name, e.name, fName)
	if who.Groups == nil && e.groups != "" {
		who.Groups, newWho = in.list(e.groups), true
	}
	if who.ImpersonatedGroups == nil && e.impGroups != "" {
		who.ImpersonatedGroups, newWho = in.list(e.impGroups), true
	}
	if who.SourceIPs == nil && e.sourceIPs != "" {
		who.SourceIPs, newWho = in.list(e.sourceIPs), true
	}
	if who.CredentialID == "" && e.credID != "" {
		if v, esc := firstString(e.credID); v != "" {
			if esc {
				s.scratch = unescapeAppend(s.scratch[:0], v)
				v = bytesString(s.scratch)
			}
			who.CredentialID, newWho = in.str(v), true
		}
	}
	received, stageAt := e.times()
	if r.First().IsZero() || (!received.IsZero() && received.Before(r.First())) {
		r.first = stamp(received)
	}
	// the four stages of audit.k8s.io/v1 are constants (stageName): only
	// another name is interned
	sid := stageIDOf(e.stage)
	var stage string
	if sid != 0 && sid < stageOther && int(sid) < 5 {
		stage = stageName(sid)
	} else {
		stage = in.str(e.stage)
	}
	// The latest stage wins; stages logged in the same microsecond are
	// ordered by the request's life (ResponseComplete after ResponseStarted).
	// Its status is the request's: a watch that started 200 and ended in a
	// Panic 500 is a 500, whichever line was read first.
	latest := r.Last().IsZero() || stageAt.After(r.Last()) || stageAt.Equal(r.Last()) && stageRank(stage) > stageRank(what.Stage)
	if latest {
		r.last = stamp(stageAt)
		what.Stage, newWhat = stage, true
	}
	// The authorization decision and reason are the last stage's too, as
	// the field table says (filter: lastStage): whichever stage carries
	// them last in the request's life wins, whatever order lines come in.
	lastFill := func(dst *string, v string, f int) {
		if v != "" && (latest || *dst == "") {
			if e.esc&(1<<f) == 0 && v == *dst {
				return // as the stage before said (most do): nothing to intern
			}
			if nv := str(v, f); nv != *dst {
				*dst, newWhat = nv, true
			}
		}
	}
	lastFill(&what.Decision, e.decision, fDecision)
	lastFill(&what.Reason, e.reason, fReason)
	if e.code != 0 && (latest || what.Code == 0) {
		what.Code, newWhat = e.code, true
		if (e.message != "" || what.Message != "") && (e.esc&(1<<fMessage) != 0 || e.message != what.Message) {
			what.Message = in.strRare(e.message, e.esc&(1<<fMessage) != 0)
		}
	}
	if newWho {
		r.Who = in.who(who)
	}
	if newWhat {
		r.What = in.what(what)
	}
	switch {
	case newURI:
		s.keepURI(r, s.uriScratch)
	case r.uriTail && (r.Name != oldName || pathDiffers(oldWhat, r.What)):
		// the path the URI was cut against changed (a stage that names
		// what an earlier one did not): keep the URI whole from now on
		old := *r
		old.What, old.Name = oldWhat, oldName
		s.pathBuf = appendCanonicalPath(s.pathBuf[:0], &old)
		s.pathBuf = append(s.pathBuf, r.uri...)
		r.uri, r.uriTail = in.copy(bytesString(s.pathBuf)), false
	}
	if r.Events == nil {
		r.Events = s.eventSlab()
	}
	r.Events = append(r.Events, EventRef{Ref: ref, stage: sid, at: stamp(stageAt)})
}

// keepURI keeps a request's requestURI: only what follows the path when
// the URI starts with the path its object reference spells (most do), the
// whole URI otherwise.
func (s *Store) keepURI(r *Request, uri []byte) {
	if r.Resource != "" {
		s.pathBuf = appendCanonicalPath(s.pathBuf[:0], r)
		if n := len(s.pathBuf); bytes.HasPrefix(uri, s.pathBuf) && (len(uri) == n || uri[n] == '?') {
			r.uri, r.uriTail = s.in.copy(bytesString(uri[n:])), true
			return
		}
	}
	r.uri = s.in.copy(bytesString(uri))
}

// pathDiffers reports whether two Whats spell different paths.
func pathDiffers(a, b *What) bool {
	return a.APIGroup != b.APIGroup || a.APIVersion != b.APIVersion || a.Namespace != b.Namespace ||
		a.Resource != b.Resource || a.Subresource != b.Subresource
}

// stageRank orders the stages of one request.
func stageRank(stage string) int {
	switch stage {
	case "RequestReceived":
		return 1
	case "ResponseStarted":
		return 2
	case "ResponseComplete":
		return 3
	case "Panic":
		return 4
	}
	return 0
}
