package filter

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LogsQL is a filter translated to VictoriaLogs' query language, for a store
// that keeps each audit event line as _msg beside its fields flattened
// (user.username, objectRef.namespace, responseStatus.code, ...), as the
// collector config of `kauditui setup --ship-to` ships them.
//
// The translation only narrows: kauditui still runs the whole filter on the
// requests it downloads, so a term that LogsQL cannot say exactly is left
// out (Local), never guessed. Filters hold for stage events, the filter
// language for requests, so the query selects requests by auditID:
//
//   - the field terms select the auditIDs of requests with one stage event
//     that satisfies all of them: the last stage carries every field of a
//     request in logs a kube-apiserver wrote (the user, verb and URI of every
//     stage agree, or the stages are not one request);
//   - each bare word selects the auditIDs of events whose line holds it;
//   - every event with those auditIDs is read (since= bounds them all: no
//     stage comes before its request was received), and the stages merge in
//     kauditui as they do for files. A reused auditID only brings more.
type LogsQL struct {
	Since time.Time // since=, or zero
	Stage []string  // filters one stage of a matching request passes
	Words []string  // filters on _msg, one stage each
	Local []string  // terms only kauditui checks, as written canonically
	// Reads are the store's fields the Stage filters read (stage for the
	// stage field), for counting in the store (StatsChecks).
	Reads []string
}

// TranslateLogsQL parses expr (as Parse does, now anchoring relative times)
// and translates it.
func TranslateLogsQL(expr string, now time.Time) (*LogsQL, error) {
	if now.IsZero() {
		now = time.Now()
	}
	if _, err := Parse(expr, now); err != nil {
		return nil, err
	}
	lexed, serr := lexExpr(expr)
	if serr != nil {
		return nil, serr
	}
	q := &LogsQL{}
	for _, lt := range lexed {
		if lt.def == nil {
			if !lt.p.neg {
				q.Words = append(q.Words, "_msg:~"+strconv.Quote("(?is)"+globRegexp(lt.p.values[0], false)))
				continue
			}
			q.Local = append(q.Local, lt.p.render())
			continue
		}
		lt.t.now = now
		p, serr := lt.def.compile(&lt.t)
		if serr != nil {
			return nil, serr
		}
		if !q.add(lt.p, p) {
			q.Local = append(q.Local, lt.p.render())
		}
	}
	return q, nil
}

// Field names of the flattened audit event.
const (
	lqUser      = "user.username"
	lqImpUser   = "impersonatedUser.username"
	lqReceived  = "requestReceivedTimestamp"
	lqCode      = "responseStatus.code"
	lqDecision  = "annotations.authorization.k8s.io/decision"
	lqReason    = "annotations.authorization.k8s.io/reason"
	lqGroups    = "user.groups"
	lqImpGroups = "impersonatedUser.groups"
)

// add translates one compiled term; false leaves it to kauditui.
func (q *LogsQL) add(t parsed, p pred) bool {
	var expr string
	var reads []string
	switch p := p.(type) {
	case *strPred:
		name := fieldByName[t.field].logsql
		if name == "" {
			return false
		}
		expr, reads = globsFilter(name, p.alts), []string{name}
	case *userPred:
		reads = []string{lqUser, lqImpUser}
		// The impersonated user counts only when there is one: user=""
		// asks for the user alone.
		expr = globsFilter(lqUser, p.alts)
		if alts := nonEmpty(p.alts); len(alts) > 0 && expr != "" {
			expr = orJoin(expr, globsFilter(lqImpUser, alts))
		}
	case *groupPred:
		if len(nonEmpty(p.alts)) < len(p.alts) {
			return false // group="" is a request with no group: an absent field
		}
		expr, reads = orJoin(elemFilter(lqGroups, p.alts), elemFilter(lqImpGroups, p.alts)), []string{lqGroups, lqImpGroups}
	case *ipPred:
		for _, a := range p.alts {
			if a.prefix.IsValid() || a.addr.IsValid() {
				return false // addresses compare parsed; the stored text may be written otherwise
			}
		}
		alts := make([]glob, len(p.alts))
		for i, a := range p.alts {
			alts[i] = a.g
		}
		if len(nonEmpty(alts)) < len(alts) {
			return false // ip="" is a request with no source IP: an absent field
		}
		expr, reads = elemFilter("sourceIPs", alts), []string{"sourceIPs"}
	case *resourcePred:
		var parts []string
		for i := range p.alts {
			parts = append(parts, resourceFilter(&p.alts[i]))
		}
		expr, reads = orJoin(parts...), []string{"objectRef.apiGroup", "objectRef.resource", "objectRef.subresource"}
	case *codePred:
		reads = []string{lqCode}
		var parts []string
		zero := false
		for _, a := range p.alts {
			parts = append(parts, rangeFilter(lqCode, a.lo, a.hi))
			zero = zero || a.lo <= 0 && 0 <= a.hi
		}
		if zero { // a request with no response yet has code 0
			parts = append(parts, lqCode+`:=""`)
		}
		expr = orJoin(parts...)
	case *timePred:
		if p.since {
			if !t.neg {
				if p.t.After(q.Since) {
					q.Since = p.t
				}
				return true
			}
			expr = lqReceived + ":>=" + strconv.Quote(receivedText(p.t, true))
		} else {
			// kube-apiserver writes microseconds; a request received within
			// the microsecond of until is in. The store compares the text,
			// written as kube-apiserver writes it (receivedText).
			expr = lqReceived + ":<=" + strconv.Quote(receivedText(p.t, false))
		}
		if t.neg {
			expr = "-" + expr
		}
		q.Stage, q.Reads = append(q.Stage, expr), append(q.Reads, lqReceived)
		return true
	default:
		return false // latency: the difference of two fields
	}
	if expr == "" {
		return false
	}
	if t.neg {
		expr = "-" + paren(expr)
	}
	q.Stage, q.Reads = append(q.Stage, expr), append(q.Reads, reads...)
	return true
}

// EventPipes end a query of event lines: in time order, the line alone.
const EventPipes = " | sort by (_time) | fields _msg"

// Query is the whole LogsQL query: streams (a stream filter such as
// {cluster="c1"}, or ""), then the filters, then EventPipes.
func (q *LogsQL) Query(streams string) string {
	return q.Filter(streams) + EventPipes
}

// Narrow reports whether the filter selects requests (field terms or bare
// words) rather than every event of the streams and time.
func (q *LogsQL) Narrow() bool { return len(q.Stage)+len(q.Words) > 0 }

// Filter is Query without its pipes.
func (q *LogsQL) Filter(streams string) string {
	var common []string
	if streams != "" {
		common = append(common, streams)
	}
	if !q.Since.IsZero() {
		common = append(common, "_time:>="+q.Since.UTC().Format(time.RFC3339Nano))
	}
	// Only audit events: a store may keep other logs in the same streams,
	// and kauditui would only count them as other lines.
	common = append(common, AuditEvents)
	outer := append([]string(nil), common...)
	if len(q.Stage) > 0 {
		outer = append(outer, "auditID:in("+strings.Join(append(append([]string(nil), common...), q.Stage...), " ")+" | fields auditID)")
	}
	for _, w := range q.Words {
		outer = append(outer, "auditID:in("+strings.Join(append(append([]string(nil), common...), w), " ")+" | fields auditID)")
	}
	return strings.Join(outer, " ")
}

// AuditEvents is the LogsQL filter of audit events.
const AuditEvents = "kind:=Event"

func paren(s string) string {
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && strings.Count(s, "(") == 1 {
		return s
	}
	return "(" + s + ")"
}

func orJoin(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p == "" {
			return "" // one alternative matches everything: no narrowing
		}
		keep = append(keep, p)
	}
	if len(keep) == 1 {
		return keep[0]
	}
	return "(" + strings.Join(keep, " OR ") + ")"
}

// fieldName quotes a field name for LogsQL when it holds more than letters,
// digits, dots and underscores.
func fieldName(name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return strconv.Quote(name)
		}
	}
	return name
}

// globsFilter matches a whole field against any of alts, ignoring case as
// kauditui does. "" when some alternative matches every value.
func globsFilter(name string, alts []glob) string {
	var parts []string
	for _, g := range alts {
		if g.matchesAll() {
			return ""
		}
		if !g.star && g.segs[0] == "" {
			parts = append(parts, fieldName(name)+`:=""`)
			continue
		}
		parts = append(parts, fieldName(name)+":~"+strconv.Quote("(?is)^"+g.regexp(`.*`)+"$"))
	}
	return orJoin(parts...)
}

// nonEmpty drops the alternatives that match only "" (the others cannot
// match "", but for a lone *, which matches everything).
func nonEmpty(alts []glob) []glob {
	var out []glob
	for _, g := range alts {
		if g.star || g.segs[0] != "" {
			out = append(out, g)
		}
	}
	return out
}

// elemFilter matches any element of a JSON array of strings (the store
// keeps arrays as their JSON text) against any of alts. Values whose JSON
// form differs from their text (quotes, backslashes, control bytes, <>&)
// are left to kauditui.
func elemFilter(name string, alts []glob) string {
	var parts []string
	for _, g := range alts {
		if g.matchesAll() {
			return ""
		}
		for _, s := range g.segs {
			if strings.ContainsAny(s, "\"\\<>&") || strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 }) >= 0 {
				return ""
			}
		}
		parts = append(parts, fieldName(name)+":~"+strconv.Quote(`(?i)(?:^\[|,)"`+g.regexp(`[^"]*`)+`"(?:,|\]$)`))
	}
	if len(parts) == 0 {
		return ""
	}
	return orJoin(parts...)
}

// resourceFilter is one alternative of resource=.
func resourceFilter(a *resAlt) string {
	var and []string
	if a.group != nil {
		if f := globsFilter("objectRef.apiGroup", []glob{*a.group}); f != "" {
			and = append(and, f)
		}
	}
	if a.sub == nil {
		and = append(and, `objectRef.subresource:=""`)
	} else if f := globsFilter("objectRef.subresource", []glob{*a.sub}); f != "" {
		and = append(and, f)
	}
	if a.res != nil {
		and = append(and, `-objectRef.resource:=""`) // resource=* is resource requests only
		if f := globsFilter("objectRef.resource", []glob{*a.res}); f != "" {
			and = append(and, f)
		}
	} else {
		var names []glob
		for _, n := range a.names {
			names = append(names, exactGlob(n))
		}
		and = append(and, globsFilter("objectRef.resource", names))
	}
	return "(" + strings.Join(and, " ") + ")"
}

// rangeFilter matches a number field between lo and hi, either open.
func rangeFilter(name string, lo, hi int) string {
	switch {
	case lo == hi:
		return name + ":=" + strconv.Itoa(lo)
	case lo <= math.MinInt/2:
		return name + ":<=" + strconv.Itoa(hi)
	case hi >= math.MaxInt/2:
		return name + ":>=" + strconv.Itoa(lo)
	}
	return name + ":range[" + strconv.Itoa(lo) + ", " + strconv.Itoa(hi) + "]"
}

// globRegexp is an unanchored regular expression for a search word: its
// literal parts in order, anything between them.
func globRegexp(v value, anchored bool) string {
	g := compileGlob(v)
	re := g.regexp(`.*`)
	if anchored {
		re = "^" + re + "$"
	}
	return re
}

// regexp writes the glob's segments quoted, star between them.
func (g *glob) regexp(star string) string {
	var b strings.Builder
	for i, s := range g.segs {
		if i > 0 {
			b.WriteString(star)
		}
		b.WriteString(regexp.QuoteMeta(s))
	}
	return b.String()
}

// matchesAll reports whether the glob matches every string, "" included.
func (g *glob) matchesAll() bool {
	if !g.star {
		return false
	}
	for _, s := range g.segs {
		if s != "" {
			return false
		}
	}
	return true
}

// String is the translation as --explain prints it.
func (q *LogsQL) String() string {
	return q.Query("")
}
