package filter

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// fieldHelp describes one field of the language, for completion and help.
type fieldHelp struct {
	Name    string   // canonical name, as String writes it
	Aliases []string // other accepted names
	Help    string   // one line
	Example string   // a term using the field
}

// pred is one compiled field term.
type pred interface {
	match(r *audit.Request) bool
}

// term is what a field's compiler sees.
type term struct {
	expr   string
	text   string // the whole term
	pos    int    // byte offset of the term
	index  int    // 1-based term number
	op     string
	opPos  int
	values []value
	now    time.Time
}

func (t *term) fail(pos int, expected string) *syntaxError {
	return &syntaxError{Term: t.text, Pos: pos, Expected: expected, index: t.index}
}

// fieldDef is one field of the language with every behaviour it has: how a
// term on it matches a request (compile), where its value is logged and in
// which stages (the prefilters read that), what the store calls it
// (LogsQL), and what --top counts. One table, so the engines cannot
// disagree on what a field means.
type fieldDef struct {
	fieldHelp
	cost    int // rough cost of matching; cheap terms run first
	compile func(t *term) (pred, *syntaxError)

	// key is the JSON key the value is logged under ("" when no prefilter
	// may look for it: bare words, latency, cred, stage).
	key string
	// stages says which stage lines carry the value (see carry).
	stages carry
	// literal: a line without the value's longest literal part (ignoring
	// case) cannot hold it, as grep would tell (free text; not short
	// enums like level and decision, whose words are everywhere).
	literal bool
	// logsql is the flattened field the store keeps a string value under
	// ("" when the term is translated by its kind or left to kauditui).
	logsql string
	// top is the value --top counts (nil: not a --top field).
	top func(r *audit.Request) string
	// col is what of an audit.Index's row a term on the field reads: one
	// dictionary column (its match depends on that value alone, so it is
	// decided once per value: column.go), or the row values it needs
	// filled; selRow, the zero value, the whole row.
	col colSel
}

// colSel is the dictionary column of an audit.Index a field reads alone.
type colSel uint8

const (
	selRow  colSel = iota // more than one column, or the row's own values
	selWho                // audit.Who: user, groups, impersonation, IPs, agent, credential
	selWhat               // audit.What: level, stage, verb, resource, namespace, status, decision, reason
	selName               // the object name
	// row values, read from a request filled with only them
	selTimes // received and last times
	selID    // the auditID
	selURI   // the requestURI
)

// carry is which stage lines of a request carry a field's value.
type carry uint8

const (
	// everyStage: each stage logs the same value (it comes from the URL,
	// authentication or authorization).
	everyStage carry = iota
	// laterToo: the value may be missing from RequestReceived and filled in
	// by a later stage (impersonatedUser; a generateName create's name;
	// a namespace taken from the body).
	laterToo
	// lastStage: the value is the last stage's (code, decision, reason,
	// message): RequestReceived never has it, and ResponseStarted may be
	// contradicted by what ends the request.
	lastStage
)

var fields = []fieldDef{
	{fieldHelp: fieldHelp{"user", []string{"username"}, "the user, or the user it impersonated (glob)", "user=alice"}, cost: 2, compile: compileUser,
		key: "username", stages: laterToo, literal: true, top: (*audit.Request).Actor, col: selWho},
	{fieldHelp: fieldHelp{"group", []string{"groups"}, "any group of the user or of the impersonated user (glob)", "group=system:masters"}, cost: 3, compile: compileGroup,
		stages: laterToo, literal: true, col: selWho},
	{fieldHelp: fieldHelp{"verb", nil, "the verb: get, list, watch, create, update, patch, delete, deletecollection, ...", "verb=delete,deletecollection"}, cost: 1, compile: strField(func(r *audit.Request) string { return r.Verb }),
		key: "verb", literal: true, logsql: "verb", top: func(r *audit.Request) string { return r.Verb }, col: selWhat},
	{fieldHelp: fieldHelp{"resource", []string{"res"}, "[group/]resource[/subresource]; kubectl short, singular or plural names", "resource=deploy"}, cost: 2, compile: compileResource,
		key: "resource", top: topResource, col: selWhat},
	{fieldHelp: fieldHelp{"ns", []string{"namespace"}, "the namespace; \"\" for cluster-scoped and non-resource requests (glob)", "ns=kube-*"}, cost: 2, compile: strField(func(r *audit.Request) string { return r.Namespace }),
		key: "namespace", stages: laterToo, literal: true, logsql: "objectRef.namespace", top: func(r *audit.Request) string { return r.Namespace }, col: selWhat},
	{fieldHelp: fieldHelp{"name", nil, "the object name (glob)", "name=web-*"}, cost: 2, compile: strField(func(r *audit.Request) string { return r.Name }),
		key: "name", stages: laterToo, literal: true, logsql: "objectRef.name", col: selName},
	{fieldHelp: fieldHelp{"code", []string{"status"}, "the HTTP status: 404, 4xx, >=400, <300", "code>=400"}, cost: 0, compile: compileCode,
		key: "code", stages: lastStage, top: func(r *audit.Request) string { return strconv.Itoa(r.Code) }, col: selWhat},
	{fieldHelp: fieldHelp{"stage", nil, "the last stage: ResponseComplete (complete), ResponseStarted (started), RequestReceived (received), Panic", "stage=started"}, cost: 1, compile: compileStage,
		logsql: "stage", col: selWhat},
	{fieldHelp: fieldHelp{"level", nil, "the audit level: Metadata, Request, RequestResponse", "level=RequestResponse"}, cost: 1, compile: compileEnum(func(r *audit.Request) string { return r.Level }, "none", "metadata", "request", "requestresponse"),
		key: "level", logsql: "level", col: selWhat},
	{fieldHelp: fieldHelp{"ip", []string{"sourceip"}, "any source IP; an address, a CIDR or a glob", "ip=10.0.0.0/8"}, cost: 4, compile: compileIP, col: selWho},
	{fieldHelp: fieldHelp{"agent", []string{"useragent", "ua"}, "the user agent (glob)", `agent="kubectl/*"`}, cost: 3, compile: strField(func(r *audit.Request) string { return r.UserAgent }),
		key: "userAgent", literal: true, logsql: "userAgent", top: func(r *audit.Request) string { return r.UserAgent }, col: selWho},
	{fieldHelp: fieldHelp{"uri", []string{"url"}, "the request URI with its query (glob)", "uri=/api/v1/namespaces/default/*"}, cost: 3, compile: uriField,
		key: "requestURI", literal: true, logsql: "requestURI", col: selURI},
	{fieldHelp: fieldHelp{"decision", nil, "the authorization decision: allow or forbid", "decision=forbid"}, cost: 1, compile: compileEnum(func(r *audit.Request) string { return r.Decision }, "allow", "forbid"),
		key: "authorization.k8s.io/decision", stages: lastStage, logsql: "annotations.authorization.k8s.io/decision", col: selWhat},
	{fieldHelp: fieldHelp{"reason", nil, "the authorization reason annotation (glob)", `reason=*ClusterRole*`}, cost: 3, compile: strField(func(r *audit.Request) string { return r.Reason }),
		key: "authorization.k8s.io/reason", stages: lastStage, literal: true, logsql: "annotations.authorization.k8s.io/reason", col: selWhat},
	{fieldHelp: fieldHelp{"message", []string{"msg"}, "the response status message (glob)", "msg=*forbidden*"}, cost: 3, compile: strField(func(r *audit.Request) string { return r.Message }),
		key: "message", stages: lastStage, literal: true, logsql: "responseStatus.message", col: selWhat},
	{fieldHelp: fieldHelp{"id", []string{"auditid"}, "the auditID (glob)", "id=3f2a*"}, cost: 2, compile: strField(func(r *audit.Request) string { return r.AuditID }),
		key: "auditID", literal: true, logsql: "auditID", col: selID},
	{fieldHelp: fieldHelp{"since", nil, "received at or after: 30m, 2h, 7d (before now) or RFC3339", "since=2h"}, cost: 0, compile: compileTime(true),
		key: "requestReceivedTimestamp", col: selTimes},
	{fieldHelp: fieldHelp{"until", nil, "received at or before: 30m, 2h, 7d (before now) or RFC3339", "until=2026-11-26T10:00:00Z"}, cost: 0, compile: compileTime(false),
		key: "requestReceivedTimestamp", col: selTimes},
	{fieldHelp: fieldHelp{"cred", []string{"credential"}, "the credential: the kubeconfig holding the client certificate (admin.conf on this node), unknown certificate <fingerprint>, token <id>, or the id X509SHA256=<hex> (glob)", `cred="admin.conf on this node"`}, cost: 3, compile: compileCred,
		top: (*audit.Request).Credential, col: selWho},
	{fieldHelp: fieldHelp{"latency", nil, "time from received to the last stage: >1s, <=200ms", "latency>1s"}, cost: 0, compile: compileLatency, col: selTimes},
}

// topResource is what --top resource counts: resource[/subresource] with
// its group, or the URL of a non-resource request (which says what it was).
func topResource(r *audit.Request) string {
	if r.Resource == "" {
		return r.RequestURI()
	}
	return r.ResourcePath()
}

// TopFields are the fields --top counts by, in the table's order.
func TopFields() []string {
	var out []string
	for _, f := range fields {
		if f.top != nil {
			out = append(out, f.Name)
		}
	}
	return out
}

// TopValue is the value of a request that --top counts under field (one of
// TopFields), "" for another field.
func TopValue(r *audit.Request, field string) string {
	if f := fieldByName[field]; f != nil && f.top != nil {
		return f.top(r)
	}
	return ""
}

var fieldByName = func() map[string]*fieldDef {
	m := make(map[string]*fieldDef)
	for i := range fields {
		f := &fields[i]
		m[f.Name] = f
		for _, a := range f.Aliases {
			m[a] = f
		}
	}
	return m
}()

// Fields lists the fields of the language with one-line help.
func Fields() []fieldHelp {
	out := make([]fieldHelp, len(fields))
	for i, f := range fields {
		out[i] = f.fieldHelp
		out[i].Aliases = append([]string(nil), f.Aliases...)
	}
	return out
}

func fieldNames() string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// nearestField suggests the field closest to a mistyped name, or "".
func nearestField(name string) string {
	name = lowerASCII(name)
	best, bestD := "", 3
	if len(name) <= 3 {
		bestD = 2
	}
	for _, f := range fields {
		for _, n := range append([]string{f.Name}, f.Aliases...) {
			d := editDistance(name, n)
			if len(name) >= 2 && strings.HasPrefix(n, name) {
				d = min(d, 1)
			}
			if d < bestD {
				best, bestD = f.Name, d
			}
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// --- string fields ---------------------------------------------------------

type strPred struct {
	get  func(*audit.Request) string
	alts []glob
}

func (p *strPred) match(r *audit.Request) bool { return anyOf(p.alts, p.get(r)) }

// equalityOnly rejects <, <=, > and >= for fields that are not numbers.
func equalityOnly(t *term) *syntaxError {
	if t.op != "=" && t.op != "!=" {
		return t.fail(t.opPos, "= or != (only code and latency compare with < and >)")
	}
	return nil
}

func globs(vs []value) []glob {
	gs := make([]glob, len(vs))
	for i, v := range vs {
		gs[i] = compileGlob(v)
	}
	return gs
}

// uriPred matches the requestURI, which a request may keep in parts: it is
// put together in a pooled buffer, not a new string per request.
type uriPred struct{ alts []glob }

func (p *uriPred) match(r *audit.Request) bool {
	bp := uriBufs.Get().(*[]byte)
	*bp = r.AppendRequestURI((*bp)[:0])
	ok := anyOf(p.alts, bytesString(*bp))
	uriBufs.Put(bp)
	return ok
}

var uriBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func uriField(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	return &uriPred{alts: globs(t.values)}, nil
}

func strField(get func(*audit.Request) string) func(*term) (pred, *syntaxError) {
	return func(t *term) (pred, *syntaxError) {
		if err := equalityOnly(t); err != nil {
			return nil, err
		}
		return &strPred{get: get, alts: globs(t.values)}, nil
	}
}

// compileEnum is a string field with a closed set of values: a typo is an
// error rather than a filter that silently matches nothing.
func compileEnum(get func(*audit.Request) string, valid ...string) func(*term) (pred, *syntaxError) {
	return func(t *term) (pred, *syntaxError) {
		if err := equalityOnly(t); err != nil {
			return nil, err
		}
		for _, v := range t.values {
			s, plain := v.literal()
			if !plain || s == "" {
				continue
			}
			ok := false
			for _, w := range valid {
				ok = ok || equalFold(s, w)
			}
			if !ok {
				return nil, t.fail(v.pos, "one of "+strings.Join(valid, ", "))
			}
		}
		return &strPred{get: get, alts: globs(t.values)}, nil
	}
}

var stageAlias = map[string]string{
	"received": "RequestReceived", "started": "ResponseStarted",
	"complete": "ResponseComplete", "completed": "ResponseComplete",
}

func compileStage(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	alts := make([]glob, len(t.values))
	for i, v := range t.values {
		alts[i] = compileGlob(v)
		s, plain := v.literal()
		if !plain || s == "" {
			continue
		}
		if full, ok := stageAlias[lowerASCII(s)]; ok {
			s = full
			alts[i] = exactGlob(full)
		}
		switch lowerASCII(s) {
		case "requestreceived", "responsestarted", "responsecomplete", "panic":
		default:
			return nil, t.fail(v.pos, "a stage: ResponseComplete, ResponseStarted, RequestReceived, Panic (or complete, started, received)")
		}
	}
	return &strPred{get: func(r *audit.Request) string { return r.Stage }, alts: alts}, nil
}

// --- user and group --------------------------------------------------------

type userPred struct{ alts []glob }

func (p *userPred) match(r *audit.Request) bool {
	return anyOf(p.alts, r.User) || (r.ImpersonatedUser != "" && anyOf(p.alts, r.ImpersonatedUser))
}

func compileUser(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	return &userPred{alts: globs(t.values)}, nil
}

type groupPred struct{ alts []glob }

func (p *groupPred) match(r *audit.Request) bool {
	if len(r.Groups) == 0 && len(r.ImpersonatedGroups) == 0 {
		return anyOf(p.alts, "") // group="" is a request with no group, as user="" is
	}
	for _, g := range r.Groups {
		if anyOf(p.alts, g) {
			return true
		}
	}
	for _, g := range r.ImpersonatedGroups {
		if anyOf(p.alts, g) {
			return true
		}
	}
	return false
}

func compileGroup(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	return &groupPred{alts: globs(t.values)}, nil
}

// --- credential -----------------------------------------------------------

// credPred matches the credential's name (audit.CredentialLabel), its id as
// logged (X509SHA256=<hex>, JTI=<id>) or the id without its kind.
type credPred struct{ alts []glob }

func (p *credPred) match(r *audit.Request) bool {
	id := r.CredentialID
	if id == "" {
		return anyOf(p.alts, "")
	}
	_, bare, _ := strings.Cut(id, "=")
	return anyOf(p.alts, id) || anyOf(p.alts, bare) || anyOf(p.alts, r.Credential())
}

func compileCred(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	return &credPred{alts: globs(t.values)}, nil
}

// --- resource --------------------------------------------------------------

// resAlt is one resource alternative: group (nil: any), resource names or a
// glob, subresource (nil: must be none).
type resAlt struct {
	group *glob
	names []string // lowercase candidates, when res is nil
	res   *glob
	sub   *glob
}

func (a *resAlt) match(r *audit.Request) bool {
	if a.group != nil && !a.group.match(r.APIGroup) {
		return false
	}
	if a.sub == nil {
		if r.Subresource != "" {
			return false
		}
	} else if !a.sub.match(r.Subresource) {
		return false
	}
	if a.res != nil {
		// resource=* means any resource request, not the non-resource ones.
		return r.Resource != "" && a.res.match(r.Resource)
	}
	for _, n := range a.names {
		if equalFold(r.Resource, n) {
			return true
		}
	}
	return false
}

type resourcePred struct{ alts []resAlt }

func (p *resourcePred) match(r *audit.Request) bool {
	for i := range p.alts {
		if p.alts[i].match(r) {
			return true
		}
	}
	return false
}

// splitSlash cuts a value's pieces at literal '/' characters.
func splitSlash(v value) []value {
	parts := []value{{pos: v.pos, quoted: v.quoted}}
	for _, p := range v.pieces {
		if p.star {
			cur := &parts[len(parts)-1]
			cur.pieces = append(cur.pieces, p)
			continue
		}
		for i, s := range strings.Split(p.lit, "/") {
			if i > 0 {
				parts = append(parts, value{pos: v.pos})
			}
			if s != "" {
				cur := &parts[len(parts)-1]
				cur.pieces = append(cur.pieces, piece{lit: s})
			}
		}
	}
	return parts
}

func compileResource(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	p := &resourcePred{}
	for _, v := range t.values {
		var a resAlt
		parts := splitSlash(v)
		var groupPart, resPart, subPart *value
		switch len(parts) {
		case 1:
			resPart = &parts[0]
		case 2:
			if s, plain := parts[0].literal(); plain && isGroupWord(s) {
				groupPart, resPart = &parts[0], &parts[1]
			} else {
				resPart, subPart = &parts[0], &parts[1]
			}
		case 3:
			groupPart, resPart, subPart = &parts[0], &parts[1], &parts[2]
		default:
			return nil, t.fail(v.pos, "resource, group/resource, resource/subresource or group/resource/subresource")
		}
		if groupPart != nil {
			g := compileGlob(*groupPart)
			if s, plain := groupPart.literal(); plain && equalFold(s, "core") {
				g = exactGlob("")
			}
			a.group = &g
		}
		if s, plain := resPart.literal(); plain {
			if s == "" && len(parts) > 1 {
				return nil, t.fail(v.pos, "a resource name between the slashes, like apps/deployments or pods/log")
			}
			if s == "" {
				a.names = []string{""}
			} else {
				a.names = resourceCandidates(s)
			}
		} else {
			g := compileGlob(*resPart)
			a.res = &g
			if len(parts) == 1 && g.minLen == 0 {
				// resource=* is every resource request: its subresources
				// (exec, scale, token, ...) are resource requests too, so
				// resource=* and resource="" split every request.
				any := compileGlob(value{pieces: []piece{{star: true}}})
				a.sub = &any
			}
		}
		if subPart != nil {
			g := compileGlob(*subPart)
			if g.star == false && g.segs[0] == "" {
				return nil, t.fail(v.pos, "a subresource after the slash, like pods/log or pods/* (any)")
			}
			a.sub = &g
		}
		p.alts = append(p.alts, a)
	}
	return p, nil
}

// --- code ------------------------------------------------------------------

type intRange struct{ lo, hi int }

type codePred struct{ alts []intRange }

func (p *codePred) match(r *audit.Request) bool {
	for _, a := range p.alts {
		if a.lo <= r.Code && r.Code <= a.hi {
			return true
		}
	}
	return false
}

// cutCompare splits a leading comparison operator off s.
func cutCompare(s string) (op, rest string) {
	for _, op := range []string{">=", "<=", ">", "<"} {
		if strings.HasPrefix(s, op) {
			return op, s[len(op):]
		}
	}
	return "", s
}

const codeExpected = "a status code like 404, 4xx or >=400"

func compileCode(t *term) (pred, *syntaxError) {
	p := &codePred{}
	if t.op != "=" && t.op != "!=" && len(t.values) > 1 {
		return nil, t.fail(t.values[1].pos-1, "one value after "+t.op+" (commas only with = and !=)")
	}
	for _, v := range t.values {
		s, plain := v.literal()
		if !plain {
			return nil, t.fail(v.pos, codeExpected+" (use 4xx, not 4*)")
		}
		op := t.op
		if op == "=" || op == "!=" {
			var inner string
			inner, s = cutCompare(s)
			if inner != "" {
				op = inner
			}
		}
		rng, ok := parseCode(s, op)
		if !ok {
			return nil, t.fail(v.pos, codeExpected)
		}
		p.alts = append(p.alts, rng)
	}
	return p, nil
}

// parseCode reads 404, 4xx or 40x (with = or !=) or a number after a
// comparison into the range of codes it covers.
func parseCode(s, op string) (intRange, bool) {
	if len(s) == 0 || len(s) > 3 {
		return intRange{}, false
	}
	lo, hi := 0, 0
	wild := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9' && !wild:
			lo = lo*10 + int(c-'0')
			hi = hi*10 + int(c-'0')
		case (c == 'x' || c == 'X') && i > 0:
			wild = true
			lo = lo * 10
			hi = hi*10 + 9
		default:
			return intRange{}, false
		}
	}
	if wild && len(s) != 3 {
		return intRange{}, false
	}
	switch op {
	case ">=":
		return intRange{lo, math.MaxInt}, !wild
	case ">":
		return intRange{lo + 1, math.MaxInt}, !wild
	case "<=":
		return intRange{math.MinInt, lo}, !wild
	case "<":
		return intRange{math.MinInt, lo - 1}, !wild
	}
	return intRange{lo, hi}, true
}

// --- latency ---------------------------------------------------------------

type latencyPred struct{ lo, hi time.Duration }

func (p *latencyPred) match(r *audit.Request) bool {
	d := r.Latency()
	return p.lo <= d && d <= p.hi
}

func compileLatency(t *term) (pred, *syntaxError) {
	const expected = "a comparison with a duration, like latency>1s or latency<=200ms"
	if len(t.values) != 1 {
		return nil, t.fail(t.values[1].pos-1, expected+" (one value)")
	}
	v := t.values[0]
	s, plain := v.literal()
	op := t.op
	if op == "=" || op == "!=" {
		var inner string
		inner, s = cutCompare(s)
		if inner == "" {
			return nil, t.fail(v.pos, expected)
		}
		op = inner
	}
	d, ok := parseDuration(s)
	if !plain || !ok {
		return nil, t.fail(v.pos, expected)
	}
	p := &latencyPred{lo: math.MinInt64, hi: math.MaxInt64}
	switch op {
	case ">=":
		p.lo = d
	case ">":
		p.lo = d + 1
	case "<=":
		p.hi = d
	case "<":
		p.hi = d - 1
	}
	return p, nil
}

// parseDuration reads Go durations extended with d (24h) and w (7d):
// 30m, 2h, 7d, 1d12h, 1.5s, 200ms.
func parseDuration(s string) (time.Duration, bool) {
	if s == "" {
		return 0, false
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		num, err := strconv.ParseFloat(s[:i], 64)
		if i == 0 || err != nil {
			return 0, false
		}
		s = s[i:]
		j := 0
		for j < len(s) && !(s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
			j++
		}
		var unit time.Duration
		switch s[:j] {
		case "ns":
			unit = time.Nanosecond
		case "us", "µs":
			unit = time.Microsecond
		case "ms":
			unit = time.Millisecond
		case "s":
			unit = time.Second
		case "m":
			unit = time.Minute
		case "h":
			unit = time.Hour
		case "d":
			unit = 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		default:
			return 0, false
		}
		s = s[j:]
		total += num * float64(unit)
		if total > float64(math.MaxInt64/2) {
			return 0, false
		}
	}
	return time.Duration(total), true
}

// --- ip --------------------------------------------------------------------

type ipAlt struct {
	prefix netip.Prefix // valid for a CIDR
	addr   netip.Addr   // valid for one address
	g      glob
}

type ipPred struct {
	alts     []ipAlt
	needAddr bool // some alternative compares parsed addresses
}

func (p *ipPred) match(r *audit.Request) bool {
	if len(r.SourceIPs) == 0 {
		// ip="" is a request with no source IP
		for i := range p.alts {
			if !p.alts[i].prefix.IsValid() && !p.alts[i].addr.IsValid() && p.alts[i].g.match("") {
				return true
			}
		}
		return false
	}
	for _, s := range r.SourceIPs {
		var a netip.Addr
		if p.needAddr {
			a, _ = netip.ParseAddr(s)
			a = a.Unmap()
		}
		for i := range p.alts {
			alt := &p.alts[i]
			switch {
			case alt.prefix.IsValid():
				if a.IsValid() && alt.prefix.Contains(a) {
					return true
				}
			case alt.addr.IsValid():
				if a == alt.addr {
					return true
				}
			default:
				if alt.g.match(s) {
					return true
				}
			}
		}
	}
	return false
}

func compileIP(t *term) (pred, *syntaxError) {
	if err := equalityOnly(t); err != nil {
		return nil, err
	}
	p := &ipPred{}
	for _, v := range t.values {
		alt := ipAlt{g: compileGlob(v)}
		if s, plain := v.literal(); plain {
			if strings.Contains(s, "/") {
				pfx, err := netip.ParsePrefix(s)
				if err != nil {
					return nil, t.fail(v.pos, "an address, a CIDR like 10.0.0.0/8, or a glob like 10.0.*")
				}
				alt.prefix = pfx.Masked()
				if alt.prefix.Addr().Is4In6() && alt.prefix.Bits() >= 96 {
					alt.prefix = netip.PrefixFrom(alt.prefix.Addr().Unmap(), alt.prefix.Bits()-96)
				}
				p.needAddr = true
			} else if a, err := netip.ParseAddr(s); err == nil {
				alt.addr = a.Unmap()
				p.needAddr = true
			}
		}
		p.alts = append(p.alts, alt)
	}
	return p, nil
}

// EditDistance is the Levenshtein distance of a and b, the one the
// language's "did you mean" uses (the command line's uses it too).
func EditDistance(a, b string) int { return editDistance(a, b) }

// Nearest is the candidate within edit distance 2 of word (1 for words of
// three letters or fewer), the nearest first (the first in order of a
// tie), or "": the command line's "did you mean".
func Nearest(word string, candidates []string) string {
	limit := 2
	if len(word) <= 3 {
		limit = 1
	}
	best, bestD := "", limit+1
	for _, c := range slices.Sorted(slices.Values(candidates)) {
		if d := editDistance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// TopCounts is --top's count of reqs per value of field (TopValue).
func TopCounts(reqs []*audit.Request, field string) map[string]int {
	counts := map[string]int{}
	for _, r := range reqs {
		counts[TopValue(r, field)]++
	}
	return counts
}
