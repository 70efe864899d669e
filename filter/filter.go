// Package filter is kauditui's filter language, one for the command line and
// the explorer: `user=alice verb=delete,deletecollection resource=deploy`.
// See LANGUAGE.md for the user documentation.
//
// Parse compiles an expression once into small predicate structs; Match
// runs them against a request without allocating, because the explorer
// re-filters a million requests on every keystroke.
package filter

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kauditui/kauditui/audit"
)

// maxWords bounds the bare words of one expression (a bit mask tracks them).
const maxWords = 64

// Filter is a compiled expression. It is immutable and safe for concurrent use.
type Filter struct {
	terms []parsed
	preds []pred // field terms, cheapest first
	words []word // bare words, searched in the raw event lines
}

// parsed is one term as written, for String.
type parsed struct {
	pred   pred // the compiled term (without its negation); nil for a bare word
	neg    bool
	field  string // canonical name; "" for a bare word
	op     string // =, <, <=, >, >=
	values []value
}

type word struct {
	g   glob
	neg bool
}

type notPred struct{ p pred }

func (n notPred) match(r *audit.Request) bool { return !n.p.match(r) }

// Parse compiles an expression. now anchors relative times (since=30m); the
// zero time means time.Now(). An empty expression matches everything. A bad
// expression gives a *SyntaxError.
func Parse(expr string, now time.Time) (*Filter, error) {
	if now.IsZero() {
		now = time.Now()
	}
	f, err := parse(expr, now)
	if err != nil {
		err.column = utf8.RuneCountInString(expr[:min(err.Pos, len(expr))]) + 1
		return nil, err
	}
	return f, nil
}

func parse(expr string, now time.Time) (*Filter, *syntaxError) {
	lexed, err := lexExpr(expr)
	if err != nil {
		return nil, err
	}
	f := &Filter{}
	words := 0
	for _, lt := range lexed {
		if lt.def == nil {
			if words == maxWords {
				return nil, lt.t.fail(lt.t.pos, "at most 64 search words")
			}
			words++
			f.terms = append(f.terms, lt.p)
			continue
		}
		lt.t.now = now
		p, err := lt.def.compile(&lt.t)
		if err != nil {
			return nil, err
		}
		lt.p.pred = p
		f.terms = append(f.terms, lt.p)
	}
	return build(f.terms), nil
}

// build makes the filter of compiled terms: the field terms' predicates,
// cheapest first, and the bare words.
func build(terms []parsed) *Filter {
	f := &Filter{terms: terms}
	type costed struct {
		p    pred
		cost int
	}
	var preds []costed
	for _, t := range terms {
		if t.field == "" {
			f.words = append(f.words, word{g: compileGlob(t.values[0]), neg: t.neg})
			continue
		}
		p := t.pred
		if t.neg {
			p = notPred{p}
		}
		preds = append(preds, costed{p, fieldByName[t.field].cost})
	}
	slices.SortStableFunc(preds, func(a, b costed) int { return a.cost - b.cost })
	for _, c := range preds {
		f.preds = append(f.preds, c.p)
	}
	return f
}

// lexed is one term split into its parts, before its field compiles it.
type lexed struct {
	t   term
	p   parsed
	def *fieldDef // nil for a bare word
	src span      // where it was written: a NOT before it and an OR group included
}

var operators = []string{"!=", ">=", "<=", "=", ">", "<"}

// lexTerm splits one term into [!]field op values, or a [!]bare word. It
// reads the common spellings of other languages as meant (-term for !term,
// == for =, field:value for field=value when field is a field name) and
// refuses those it cannot (~ and =~), so that a guess never becomes a
// search for other text.
func lexTerm(expr string, sp span, index int) (*lexed, *syntaxError) {
	text := expr[sp.start:sp.end]
	lt := &lexed{t: term{expr: expr, text: text, pos: sp.start, index: index}, src: sp}
	t, pt := &lt.t, &lt.p
	p := 0
	if (text[0] == '!' && !strings.HasPrefix(text, "!=")) || text[0] == '-' {
		pt.neg = true
		p = 1
		if p == len(text) {
			return nil, t.fail(sp.start+p, "a search word or a field=value after "+text[:1])
		}
		if text[p] == '!' || text[p] == '-' {
			return nil, t.fail(sp.start+p, "one "+text[:1]+" before a term (to search for a word that starts with "+text[:1]+", quote it: \""+text+"\")")
		}
	}
	id := p
	for id < len(text) && (text[id] >= 'a' && text[id] <= 'z' || text[id] >= 'A' && text[id] <= 'Z' || text[id] == '_') {
		id++
	}
	op := ""
	for _, o := range operators {
		if strings.HasPrefix(text[id:], o) {
			op = o
			break
		}
	}
	known := id > p && fieldByName[lowerASCII(text[p:id])] != nil
	oplen := len(op)
	switch {
	case op == "" && known && id < len(text) && text[id] == ':':
		op, oplen = "=", 1 // user:alice
	case op == "" && known && id < len(text) && text[id] == '~':
		return nil, t.fail(sp.start+id, globAdvice(lowerASCII(text[p:id]), "=", text[id+1:]))
	case op == "" && known && strings.HasPrefix(text[id:], "!~"):
		return nil, t.fail(sp.start+id, globAdvice(lowerASCII(text[p:id]), "!=", text[id+2:]))
	case op == "=" && strings.HasPrefix(text[id:], "=="):
		oplen = 2 // verb==delete
	}
	if (op == "=" || op == "!=") && known && strings.HasPrefix(text[id+oplen:], "~") {
		return nil, t.fail(sp.start+id, globAdvice(lowerASCII(text[p:id]), op, text[id+oplen+1:]))
	}
	if op == "" || id == p {
		if id == p && op != "" {
			return nil, t.fail(sp.start+p, "a field name before "+op+", like user=alice (no spaces around "+op+")")
		}
		if eq := unquotedIndex(text[p:], '='); eq >= 0 {
			if text[p] == '(' || text[len(text)-1] == ')' {
				return nil, t.fail(sp.start+p, "no parentheses: every term must match, and OR joins values of one field: (verb=get OR verb=list) is verb=get,list")
			}
			return nil, t.fail(sp.start+p+eq, `field=value with a field name of letters (quote a search word that holds =, like "a=b")`)
		}
		pt.values = parseValues(text[p:], sp.start+p, false)
		if pt.values[0].empty() {
			return nil, t.fail(sp.start+p, "a non-empty search word")
		}
		return lt, nil
	}
	name := text[p:id]
	lt.def = fieldByName[lowerASCII(name)]
	if lt.def == nil {
		exp := "a field name (" + fieldNames() + ")"
		if near := nearestField(name); near != "" {
			exp = `a field name: did you mean "` + near + `"? (fields: ` + fieldNames() + ")"
		}
		return nil, t.fail(sp.start+p, exp)
	}
	pt.field = lt.def.Name
	t.opPos = sp.start + id
	t.op = op
	if op == "!=" {
		pt.neg = !pt.neg
		t.op = "="
	}
	vpos := sp.start + id + oplen
	t.values = parseValues(text[id+oplen:], vpos, true)
	for i, v := range t.values {
		if v.empty() && !v.quoted {
			if i == 0 && len(t.values) == 1 {
				return nil, t.fail(v.pos, "a value after "+text[id:id+oplen]+`, like `+lt.def.Example+` (use "" to match an empty field)`)
			}
			return nil, t.fail(v.pos, `a value between the commas (use "" to match an empty field)`)
		}
	}
	// code=>=400 is code>=400: keep one canonical form.
	if (pt.field == "code" || pt.field == "latency") && t.op == "=" && len(t.values) == 1 {
		if s, plain := t.values[0].literal(); plain {
			if inner, rest := cutCompare(s); inner != "" {
				v0 := t.values[0]
				t.op = inner
				t.opPos = v0.pos
				t.values[0] = value{pieces: []piece{{lit: rest}}, pos: v0.pos + len(inner), text: rest}
			}
		}
	}
	pt.op = t.op
	pt.values = t.values
	return lt, nil
}

// globAdvice is what to write instead of field~value or field=~value: the
// language has globs, not regular expressions.
func globAdvice(field, op, val string) string {
	if def := fieldByName[field]; def != nil {
		field = def.Name
	}
	if op != "!=" {
		op = "="
	}
	word := strings.Trim(val, "^$.*\"'/")
	for i := 0; i < len(word); i++ {
		c := word[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == ':' || c == '.') {
			word = ""
			break
		}
	}
	if word == "" {
		word = "text"
	}
	return op + " and a glob, like " + field + op + "*" + word + "* (there is no ~ or =~: * matches any run of characters)"
}

// unquotedIndex is the index of the first c outside quotes in s, or -1.
func unquotedIndex(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case c:
			return i
		case '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		case '\'':
			for i++; i < len(s) && s[i] != '\''; i++ {
			}
		}
	}
	return -1
}

// Empty reports whether the filter has no terms (it matches everything).
func (f *Filter) Empty() bool { return f == nil || len(f.terms) == 0 }

// NeedsRaw reports whether the filter has bare words, which search the raw
// event lines: use MatchRaw.
func (f *Filter) NeedsRaw() bool { return f != nil && len(f.words) > 0 }

// Match reports whether the request passes every field term. Bare words are
// not checked (see MatchRaw). It does not allocate.
func (f *Filter) Match(r *audit.Request) bool {
	if f == nil {
		return true
	}
	for _, p := range f.preds {
		if !p.match(r) {
			return false
		}
	}
	return true
}

// MatchRaw is the full match: the field terms, then each bare word as a
// case-insensitive substring of any of the request's raw event lines, read
// with raw. When raw is nil or fails for every event, the bare words are
// searched in the request's fields instead.
func (f *Filter) MatchRaw(r *audit.Request, raw func(audit.Ref) ([]byte, error)) bool {
	if !f.Match(r) {
		return false
	}
	if len(f.words) == 0 {
		return true
	}
	all := uint64(1)<<len(f.words) - 1
	if len(f.words) == 64 {
		all = ^uint64(0)
	}
	var found uint64
	read := false
	if raw != nil {
		for _, ev := range r.Events {
			line, err := raw(ev.Ref)
			if err != nil {
				continue
			}
			read = true
			found |= f.search(bytesString(line), found)
			if found == all {
				break
			}
		}
	}
	if !read {
		for _, s := range [...]string{r.AuditID, r.User, r.ImpersonatedUser, r.UserAgent, r.Verb,
			r.APIGroup, r.Resource, r.Subresource, r.Namespace, r.Name,
			r.Message, r.Decision, r.Reason, r.Stage, r.Level} {
			found |= f.search(s, found)
		}
		bp := uriBufs.Get().(*[]byte)
		*bp = r.AppendRequestURI((*bp)[:0])
		found |= f.search(bytesString(*bp), found)
		uriBufs.Put(bp)
		for _, list := range [...][]string{r.Groups, r.ImpersonatedGroups, r.SourceIPs} {
			for _, s := range list {
				found |= f.search(s, found)
			}
		}
	}
	for i, w := range f.words {
		if (found&(1<<i) != 0) == w.neg {
			return false
		}
	}
	return true
}

// search returns the bit set of the words not yet found that s contains.
func (f *Filter) search(s string, found uint64) uint64 {
	var bits uint64
	for i := range f.words {
		if found&(1<<i) == 0 && f.words[i].g.contains(s) {
			bits |= 1 << i
		}
	}
	return bits
}

// String is the canonical form of the filter: field aliases resolved,
// != and ! folded together, values quoted where needed, one space between
// terms. Parsing it again gives the same filter.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	parts := make([]string, len(f.terms))
	for i, t := range f.terms {
		parts[i] = t.render()
	}
	return strings.Join(parts, " ")
}

func (t parsed) render() string {
	var b strings.Builder
	if t.field == "" {
		if t.neg {
			b.WriteByte('!')
		}
		b.WriteString(t.values[0].renderWord())
		return b.String()
	}
	if t.neg && t.op != "=" {
		b.WriteByte('!')
	}
	b.WriteString(t.field)
	if t.neg && t.op == "=" {
		b.WriteString("!=")
	} else {
		b.WriteString(t.op)
	}
	for i, v := range t.values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(v.render())
	}
	return b.String()
}

// Select is the requests of reqs that match (MatchRaw), in order.
func (f *Filter) Select(reqs []*audit.Request, raw func(audit.Ref) ([]byte, error)) []*audit.Request {
	var out []*audit.Request
	for _, r := range reqs {
		if f.MatchRaw(r, raw) {
			out = append(out, r)
		}
	}
	return out
}
