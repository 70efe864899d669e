package source

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"time"
	"unsafe"

	"github.com/kauditui/kauditui/audit"
	"github.com/tidwall/gjson"
)

// Audit events as managed Kubernetes services export them. Each export
// wraps the apiserver's event in a record of its own; the record is read
// where a JSON value is found not to be an audit event (jsonLine, addItems),
// so plain audit lines never pay for it.
//
//   - EKS, CloudWatch Logs: `aws logs filter-log-events` and `get-log-events`
//     print {"events":[{"timestamp":<ms>,"message":"<event line>",...}],...};
//     one such event per line is what `jq -c '.events[]'` gives, and a
//     subscription filter delivers {"messageType":"DATA_MESSAGE",...,
//     "logEvents":[{"id","timestamp","message"}]}. The message is the
//     apiserver's line (an audit event, or a klog line of the
//     kube-apiserver streams), read as if it stood alone on a line. An export
//     to S3 writes "<RFC3339 time> <message>" lines: the timestamp prefix of
//     kubectl logs --timestamps below.
//   - AKS, diagnostic settings (categories kube-audit, kube-audit-admin):
//     {"records":[{"time","resourceId","category","operationName",
//     "properties":{"log":<event>,"stream","pod"}}]} (an event hub's message),
//     or one record per line (a storage account's blob); the event in
//     properties.log as a string (as AKS writes it) or as an object.
//   - GKE, Cloud Audit Logs: a LogEntry (one a line, or an array as
//     `gcloud logging read --format=json` prints) whose protoPayload is an
//     AuditLog of serviceName k8s.io; it is not the apiserver's event but a
//     translation of it, mapped back by gkeEvent.
//   - kubectl logs --timestamps: "<RFC3339Nano time> " before each line of a
//     stdout-mode log (tsPrefix).

// mayWrap says whether a JSON line that the prefilter refused could be an
// export record: its events are tested one by one once unwrapped, since the
// record spells them escaped (a message string) or not at all (a GKE entry).
// A line that starts as the apiserver writes an event is one; anything else
// holding a key of a record is kept.
func mayWrap(text []byte) bool {
	t := bytes.TrimLeft(text, " \t")
	if bytes.HasPrefix(t, eventStart) {
		return false
	}
	return bytes.Contains(t, []byte(`"message"`)) || bytes.Contains(t, []byte(`"properties"`)) ||
		bytes.Contains(t, []byte(`"protoPayload"`))
}

var eventStart = []byte(`{"kind":"Event"`)

// Export names, as Input.Format and the tests call them.
const (
	exportCloudWatch = "cloudwatch"
	exportAKS        = "aks"
	exportGKE        = "gke"
	exportTimestamps = "timestamps"
)

// exportLooks says what an input of export records without an audit event
// holds, and where the events are (Input.Looks).
var exportLooks = map[string]string{
	exportCloudWatch: "CloudWatch Logs events without audit events (EKS writes them to the log streams kube-apiserver-audit-*)",
	exportAKS:        "AKS resource logs without audit events (they are in the categories kube-audit and kube-audit-admin)",
	exportGKE:        `Cloud Audit Logs entries of no Kubernetes API request (GKE writes those with serviceName "k8s.io", resource.type "k8s_cluster")`,
}

// exportOf says which export record a JSON object is ("" for none), from
// its top-level keys alone.
func exportOf(f gjson.Result) string {
	switch {
	case f.Get("protoPayload").IsObject():
		return exportGKE
	case f.Get("records").IsArray():
		return exportAKS
	case f.Get("properties.log").Exists() && f.Get("category").Type == gjson.String:
		return exportAKS
	case f.Get("events").IsArray(), f.Get("logEvents").IsArray():
		return exportCloudWatch
	case f.Get("message").Type == gjson.String && f.Get("timestamp").Type == gjson.Number:
		return exportCloudWatch
	}
	return ""
}

// unwrap reads the events of an export record (text, a JSON object or one
// item of an array); false when text is none. ref is where the record is:
// an event that the record holds as a string is kept in the spool, one it
// holds as an object is its byte range inside the record.
func (r *reader) unwrap(text []byte, ref audit.Ref) bool {
	if r.unwrapping || len(text) == 0 {
		return false // an export inside an export is not one
	}
	s := unsafe.String(&text[0], len(text))
	v := gjson.Parse(s)
	kind := exportOf(v)
	if kind == "" {
		return false
	}
	r.seenExport = kind
	r.unwrapping = true
	r.pre = nil // the prescan was of the record, not of what it holds
	defer func() { r.unwrapping = false }()
	r.flushKlog()
	before := r.nAudit
	switch kind {
	case exportCloudWatch:
		events := v.Get("events")
		if !events.Exists() {
			events = v.Get("logEvents")
		}
		if !events.Exists() {
			r.message(v.Get("message").Str, ref)
			break
		}
		events.ForEach(func(_, e gjson.Result) bool {
			if m := e.Get("message"); m.Type == gjson.String {
				r.message(m.Str, ref)
			} else {
				r.other(ref, "CloudWatch Logs event without a message")
			}
			return true
		})
	case exportAKS:
		records := v.Get("records")
		if !records.Exists() {
			r.record(text, v, ref)
			break
		}
		records.ForEach(func(_, rec gjson.Result) bool {
			r.record(text, rec, ref)
			return true
		})
	case exportGKE:
		ev, why := gkeEvent(v)
		if why != "" {
			r.other(ref, why)
			break
		}
		r.text(ev, ref, false)
	}
	r.flushKlog()
	if r.nAudit > before {
		r.export = kind
	}
	return true
}

// message reads a CloudWatch Logs message: the line the apiserver wrote
// (several, if a message holds line breaks).
func (r *reader) message(m string, ref audit.Ref) {
	for line := range strings.SplitSeq(strings.TrimRight(m, "\r\n"), "\n") {
		r.text([]byte(strings.TrimSuffix(line, "\r")), ref, false)
	}
}

// record reads one AKS resource log record (an item of records, or the
// whole line); rec's Raw aliases text when it holds the event as an object.
func (r *reader) record(text []byte, rec gjson.Result, ref audit.Ref) {
	log := rec.Get("properties.log")
	switch {
	case log.Type == gjson.String:
		r.message(log.Str, ref)
	case log.IsObject():
		item, iref, ok := within(text, log.Raw, ref)
		if !ok {
			r.text([]byte(log.Raw), ref, false)
			return
		}
		r.text(item, iref, true)
	default:
		r.other(ref, "AKS resource log record without properties.log")
	}
}

// within returns the bytes of raw (a gjson value that aliases text: an item
// of an EventList or array, an event inside a record) and their Ref, the
// range inside text's ref (in the input, or in the spool).
func within(text []byte, raw string, ref audit.Ref) ([]byte, audit.Ref, bool) {
	if raw == "" {
		return nil, ref, false
	}
	base := uintptr(unsafe.Pointer(&text[0]))
	p := uintptr(unsafe.Pointer(unsafe.StringData(raw)))
	if p < base || p+uintptr(len(raw)) > base+uintptr(len(text)) {
		return nil, ref, false
	}
	at := int64(p - base)
	item := text[at : at+int64(len(raw))]
	iref := ref
	iref.Len = int32(len(item))
	if isSpooled(ref) {
		iref.Off = spooledOff(spooledOff(ref.Off) + at)
	} else {
		iref.Off = ref.Off + at
	}
	return item, iref, true
}

// inTimeOrder walks a JSON array (ForEach's way) in time order: backwards
// when it holds GKE entries newest first, as gcloud logging read prints them
// (its default --order desc), so that the store holds them as it holds a
// log, oldest first (an object's history is told in that order).
func inTimeOrder(items gjson.Result) func(func(k, v gjson.Result) bool) {
	first := items.Get("0")
	if !first.Get("protoPayload").IsObject() {
		return items.ForEach
	}
	all := items.Array()
	t0 := audit.ParseTime(first.Get("timestamp").Str)
	tn := audit.ParseTime(all[len(all)-1].Get("timestamp").Str)
	if t0.IsZero() || tn.IsZero() || !t0.After(tn) {
		return items.ForEach
	}
	return func(fn func(k, v gjson.Result) bool) {
		for i := len(all) - 1; i >= 0; i-- {
			if !fn(gjson.Result{}, all[i]) {
				return
			}
		}
	}
}

// tsPrefix reads the timestamp kubectl logs --timestamps (and a CloudWatch
// export to S3) puts before a line: "<RFC3339 time> <line>", and the
// "<time> <log stream> " of aws logs tail. ok only when
// the rest is what a stdout-mode log holds (an audit event or other JSON, a
// klog header) or when cont (a klog message is open: its continuation
// lines carry a timestamp too); a legacy audit line ("<time> AUDIT: ...")
// stays as it is, so that it is named for what it is.
func tsPrefix(text []byte, cont bool) (at time.Time, rest []byte, ok bool) {
	if len(text) < 21 || text[0] < '0' || text[0] > '9' || text[4] != '-' || text[10] != 'T' {
		return at, nil, false
	}
	sp := bytes.IndexByte(text[:min(len(text), 41)], ' ')
	if sp < 20 {
		return at, nil, false
	}
	at = audit.ParseTime(bytesString(text[:sp]))
	if at.IsZero() {
		return at, nil, false
	}
	rest = text[sp+1:]
	if len(rest) > 0 && (rest[0] == '{' || isKlogHeader(rest)) {
		return at, rest, true
	}
	// aws logs tail, in its default (detailed) format, puts the log stream's
	// name between: the apiserver's streams of an EKS log group are
	// kube-apiserver-audit-<id> and kube-apiserver-<id>
	if i := bytes.IndexByte(rest[:min(len(rest), 513)], ' '); i > 0 && bytes.HasPrefix(rest, []byte("kube-apiserver")) {
		if after := rest[i+1:]; len(after) > 0 && (after[0] == '{' || cont || isKlogHeader(after)) {
			return at, after, true
		}
	}
	if cont && len(rest) > 0 {
		return at, rest, true
	}
	return at, nil, false
}

// gkeEvent maps a Cloud Audit Logs LogEntry of a GKE cluster back to an
// audit.k8s.io/v1 event, with what the entry keeps of one:
//
//	protoPayload.authenticationInfo.principalEmail   user.username
//	protoPayload.methodName  io.k8s.<group>.<version>.<resource>[.<subresource>].<verb>
//	                                                  verb (its last part)
//	protoPayload.resourceName <group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
//	                                                  objectRef (group "core" is the core group "")
//	protoPayload.status.code (gRPC)                   responseStatus.code, by Google's
//	                                                  mapping of gRPC codes to HTTP; OK is 201 for
//	                                                  a create, 200 otherwise; a Kubernetes Status
//	                                                  in protoPayload.response gives its own code
//	protoPayload.status.message                       responseStatus.message
//	protoPayload.requestMetadata.callerIp             sourceIPs[0]
//	protoPayload.requestMetadata.callerSuppliedUserAgent userAgent
//	protoPayload.request, protoPayload.response      requestObject, responseObject (and level)
//	labels (authorization.k8s.io/decision, reason…)   annotations
//	operation.id, else insertId                       auditID
//	timestamp                                         timestamp: the request's one time
//	operation.first without operation.last            stage ResponseStarted (else ResponseComplete)
//
// No equivalent in the entry, so absent from the event: user groups, uid and
// extra (so the credential ID), impersonatedUser, the requestURI (so an
// exec's command, a list's selectors), every sourceIP but the caller's,
// requestReceivedTimestamp (no latency), the stages before the last,
// objectRef uid and resourceVersion, and the 1xx/2xx code the apiserver
// answered where OK covers several (101 for an exec). why names what is
// wrong with an entry that cannot be mapped.
func gkeEvent(v gjson.Result) (ev []byte, why string) {
	p := v.Get("protoPayload")
	if svc := p.Get("serviceName").Str; svc != "k8s.io" {
		return nil, "Cloud Audit Logs entry of " + quoteStart([]byte(svc)) + ", not of the Kubernetes API (serviceName k8s.io)"
	}
	method := p.Get("methodName").Str
	if method == "" {
		return nil, "Cloud Audit Logs entry without protoPayload.methodName"
	}
	e := gkeAuditEvent{Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: "Metadata", Stage: "ResponseComplete"}
	e.AuditID = v.Get("operation.id").Str
	if e.AuditID == "" {
		e.AuditID = v.Get("insertId").Str
	}
	op := v.Get("operation")
	if op.Get("first").Bool() && !op.Get("last").Bool() {
		e.Stage = "ResponseStarted"
	}
	e.Timestamp = v.Get("timestamp").Str
	res, sub, verb := gkeMethod(method)
	e.Verb = verb
	e.User.Username = p.Get("authenticationInfo.principalEmail").Str
	if ip := p.Get("requestMetadata.callerIp"); ip.Type == gjson.String && ip.Str != "" {
		e.SourceIPs = []string{ip.Str}
	}
	e.UserAgent = p.Get("requestMetadata.callerSuppliedUserAgent").Str
	if name := p.Get("resourceName").Str; name != "" || res != "" {
		e.ObjectRef = gkeObjectRef(name, res, sub)
		if e.ObjectRef == nil && strings.HasPrefix(name, "/") {
			e.RequestURI = name // a non-resource request's path
		}
	}
	if rq := p.Get("request"); rq.IsObject() {
		e.RequestObject = json.RawMessage(rq.Raw)
		e.Level = "Request"
	}
	code := int(p.Get("status.code").Int())
	e.ResponseStatus.Code = grpcToHTTP(code, verb)
	e.ResponseStatus.Message = p.Get("status.message").Str
	if rs := p.Get("response"); rs.IsObject() {
		e.ResponseObject = json.RawMessage(rs.Raw)
		e.Level = "RequestResponse"
		if rs.Get("kind").Str == "Status" || strings.HasSuffix(rs.Get("@type").Str, ".Status") {
			if c := rs.Get("code"); c.Type == gjson.Number && c.Int() >= 100 && c.Int() <= 599 {
				e.ResponseStatus.Code = int(c.Int())
			}
		}
	}
	if labels := v.Get("labels"); labels.IsObject() {
		e.Annotations = map[string]string{}
		labels.ForEach(func(k, l gjson.Result) bool {
			if l.Type == gjson.String {
				e.Annotations[k.Str] = l.Str
			}
			return true
		})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&e); err != nil {
		return nil, "Cloud Audit Logs entry that does not map to an audit event: " + err.Error()
	}
	return bytes.TrimRight(b.Bytes(), "\n"), ""
}

// gkeAuditEvent is the audit event a GKE entry maps to, its keys in the
// apiserver's order (kind first: see mayWrap).
type gkeAuditEvent struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Level      string `json:"level"`
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI,omitempty"`
	Verb       string `json:"verb"`
	User       struct {
		Username string `json:"username,omitempty"`
	} `json:"user"`
	SourceIPs      []string          `json:"sourceIPs,omitempty"`
	UserAgent      string            `json:"userAgent,omitempty"`
	ObjectRef      *gkeObjRef        `json:"objectRef,omitempty"`
	ResponseStatus gkeStatus         `json:"responseStatus"`
	RequestObject  json.RawMessage   `json:"requestObject,omitempty"`
	ResponseObject json.RawMessage   `json:"responseObject,omitempty"`
	Timestamp      string            `json:"timestamp,omitempty"`
	Annotations    map[string]string `json:"annotations,omitempty"`
}

type gkeObjRef struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

type gkeStatus struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

var apiVersionPart = regexp.MustCompile(`^v[0-9]+((alpha|beta)[0-9]+)?$`)

// gkeMethod splits a methodName (io.k8s.apps.v1.deployments.scale.patch)
// into resource, subresource and verb; the group before the version is
// spelled in its own way (io.k8s.authorization.rbac.v1 for
// rbac.authorization.k8s.io), so resourceName is its source.
func gkeMethod(m string) (resource, sub, verb string) {
	parts := strings.Split(strings.TrimPrefix(m, "io.k8s."), ".")
	verb = parts[len(parts)-1]
	for i := 0; i < len(parts)-1; i++ {
		if apiVersionPart.MatchString(parts[i]) {
			rest := parts[i+1 : len(parts)-1]
			if len(rest) > 0 {
				resource = rest[0]
			}
			if len(rest) > 1 {
				sub = rest[1]
			}
			break
		}
	}
	return resource, sub, verb
}

// gkeObjectRef reads a resourceName (core/v1/namespaces/team-a/pods/web/exec)
// with the resource and subresource the methodName gave, which tell
// "namespaces/team-a/finalize" (a subresource of a namespace) from
// "namespaces/team-a/pods" (pods in a namespace).
func gkeObjectRef(name, resource, sub string) *gkeObjRef {
	p := strings.Split(name, "/")
	if len(p) < 3 || strings.HasPrefix(name, "/") {
		if resource == "" {
			return nil
		}
		return &gkeObjRef{Resource: resource, Subresource: sub}
	}
	o := &gkeObjRef{APIGroup: p[0], APIVersion: p[1]}
	if o.APIGroup == "core" {
		o.APIGroup = ""
	}
	rest := p[2:]
	if len(rest) >= 3 && rest[0] == "namespaces" && resource != "namespaces" {
		o.Namespace, rest = rest[1], rest[2:]
	}
	o.Resource = rest[0]
	if len(rest) > 1 {
		o.Name = rest[1]
	}
	if len(rest) > 2 {
		o.Subresource = strings.Join(rest[2:], "/")
	}
	if resource != "" && resource != o.Resource {
		o.Resource = resource // the method names it without doubt
	}
	if o.Subresource == "" {
		o.Subresource = sub
	}
	return o
}

// grpcToHTTP is the HTTP code of a google.rpc.Code, by the mapping
// google/rpc/code.proto documents; OK (0) is 201 for a create, as the
// apiserver answers one, 200 otherwise. 0 for a code it does not know.
func grpcToHTTP(code int, verb string) int {
	switch code {
	case 0:
		if verb == "create" {
			return 201
		}
		return 200
	case 1:
		return 499
	case 2, 13, 15:
		return 500
	case 3, 9, 11:
		return 400
	case 4:
		return 504
	case 5:
		return 404
	case 6, 10:
		return 409
	case 7:
		return 403
	case 8:
		return 429
	case 12:
		return 501
	case 14:
		return 503
	case 16:
		return 401
	}
	return 0
}
