package filter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// syntaxError is a filter expression that does not parse. It names the term,
// where in the expression the problem is, and what was expected there.
type syntaxError struct {
	Term     string // the term as typed
	Pos      int    // byte offset in the expression
	Expected string // what would have been valid at Pos

	index  int // 1-based term number
	column int // 1-based column (in characters) of Pos
}

// Error is one line: filter: term 3 "code=4x5" at column 21: expected ...
func (e *syntaxError) Error() string {
	term := e.Term
	if utf8.RuneCountInString(term) > 60 {
		term = string([]rune(term)[:57]) + "..."
	}
	return fmt.Sprintf("filter: term %d %s at column %d: expected %s",
		e.index, strconv.Quote(term), e.column, e.Expected)
}

// Column is the 1-based column, in characters, of Pos in the expression.
func (e *syntaxError) Column() int { return e.column }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// span is one whitespace-separated term of an expression (quotes respected).
type span struct {
	start, end int
}

// splitTerms cuts expr at unquoted whitespace. An unterminated quote is a
// syntaxError naming the term it opens in.
func splitTerms(expr string) ([]span, *syntaxError) {
	var spans []span
	i := 0
	for {
		for i < len(expr) && isSpace(expr[i]) {
			i++
		}
		if i >= len(expr) {
			return spans, nil
		}
		start := i
		for i < len(expr) && !isSpace(expr[i]) {
			switch expr[i] {
			case '"':
				q := i
				i++
				for i < len(expr) && expr[i] != '"' {
					if expr[i] == '\\' {
						i++
					}
					i++
				}
				if i >= len(expr) {
					return spans, &syntaxError{Term: expr[start:], Pos: q, index: len(spans) + 1,
						Expected: `a closing " for the quote opened here`}
				}
			case '\'':
				q := i
				i++
				for i < len(expr) && expr[i] != '\'' {
					i++
				}
				if i >= len(expr) {
					return spans, &syntaxError{Term: expr[start:], Pos: q, index: len(spans) + 1,
						Expected: `a closing ' for the quote opened here`}
				}
			}
			i++
		}
		spans = append(spans, span{start, i})
	}
}

// piece is a run of literal text or one unquoted '*' wildcard.
type piece struct {
	lit  string
	star bool
}

// value is one comma-separated alternative of a term's value.
type value struct {
	pieces []piece
	pos    int    // byte offset in the expression
	text   string // as typed, quotes included
	quoted bool   // some part was quoted, so "" is a real empty value
}

// literal returns the value's text when it has no wildcard.
func (v value) literal() (string, bool) {
	s := ""
	for _, p := range v.pieces {
		if p.star {
			return "", false
		}
		s += p.lit
	}
	return s, true
}

func (v value) empty() bool { return len(v.pieces) == 0 }

// parseValues reads text (which starts at byte offset pos of the expression)
// into alternatives, splitting at unquoted commas when split is set. Quotes
// have been checked by splitTerms, so they are balanced here.
func parseValues(text string, pos int, split bool) []value {
	var out []value
	cur := value{pos: pos}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			cur.pieces = append(cur.pieces, piece{lit: string(lit)})
			lit = lit[:0]
		}
	}
	altStart := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"':
			cur.quoted = true
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' && i+1 < len(text) {
					i++
				}
				lit = append(lit, text[i])
			}
		case c == '\'':
			cur.quoted = true
			for i++; i < len(text) && text[i] != '\''; i++ {
				lit = append(lit, text[i])
			}
		case c == '*':
			flush()
			if n := len(cur.pieces); n == 0 || !cur.pieces[n-1].star {
				cur.pieces = append(cur.pieces, piece{star: true})
			}
		case c == ',' && split:
			flush()
			cur.text = text[altStart:i]
			out = append(out, cur)
			altStart = i + 1
			cur = value{pos: pos + i + 1}
		default:
			lit = append(lit, c)
		}
	}
	flush()
	cur.text = text[altStart:]
	return append(out, cur)
}

// render writes a value back in a form that parses to the same pieces:
// literal text that holds a special character is double-quoted.
func (v value) render() string {
	if len(v.pieces) == 0 {
		return `""`
	}
	s := ""
	for _, p := range v.pieces {
		if p.star {
			s += "*"
		} else {
			s += quoteIfNeeded(p.lit)
		}
	}
	return s
}

// quoteIfNeeded double-quotes s when it holds whitespace, a quote, a comma,
// a star, a backslash or an operator character, or is empty.
func quoteIfNeeded(s string) string {
	need := s == ""
	for i := 0; i < len(s) && !need; i++ {
		switch c := s[i]; {
		case isSpace(c), c == '"', c == '\'', c == ',', c == '*', c == '\\',
			c == '=', c == '!', c == '<', c == '>', c == '~':
			need = true
		}
	}
	if !need {
		return s
	}
	return quote(s)
}

// renderWord writes a bare word so that it parses back as that word, not as
// an operator word (not, or, and), a negation (-x) or a field term
// (user:alice).
func (v value) renderWord() string {
	s := v.render()
	if !readsAsOperator(s) {
		return s
	}
	return quote(v.pieces[0].lit) + value{pieces: v.pieces[1:]}.renderRest()
}

func (v value) renderRest() string {
	if len(v.pieces) == 0 {
		return ""
	}
	return v.render()
}

// readsAsOperator reports whether a bare word written unquoted as s would be
// read as something else than a search for s.
func readsAsOperator(s string) bool {
	if s == "" || s[0] == '-' || opWordOf(s) != 0 {
		return s != ""
	}
	id := 0
	for id < len(s) && (s[id] >= 'a' && s[id] <= 'z' || s[id] >= 'A' && s[id] <= 'Z' || s[id] == '_') {
		id++
	}
	return id > 0 && id < len(s) && s[id] == ':' && fieldByName[lowerASCII(s[:id])] != nil
}

// quote double-quotes s, escaping " and \.
func quote(s string) string {
	b := make([]byte, 0, len(s)+4)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(append(b, '"'))
}

// opWord is what a whole term spelled as an operator word means.
type opWord int

const (
	notWord opWord = iota + 1 // NOT, not, !, -
	orWord                    // OR, or, ||
	andWord                   // AND, and, &&
)

func opWordOf(s string) opWord {
	switch {
	case s == "!" || s == "-" || equalFold(s, "not"):
		return notWord
	case s == "||" || equalFold(s, "or"):
		return orWord
	case s == "&&" || equalFold(s, "and"):
		return andWord
	}
	return 0
}

// group is terms joined by OR, each with the NOT word before it.
type group struct {
	index              int // 1-based term number of its first word
	terms              []*lexed
	andBefore, andLast bool // an AND word comes before it, after it
}

// lexExpr cuts expr into its terms, the common spellings of boolean
// operators read as meant: NOT (not, !, -) before a term negates it; AND
// (and, &&) between terms is the space; OR (or, ||) between field=value
// terms of one field joins their values, as a comma does. Everything else
// around them is refused with the spelling that says it, since the language
// cannot: OR across fields, OR of negations or comparisons, OR next to AND
// (which of the two binds first differs between languages), an operator word
// with no term to act on.
func lexExpr(expr string) ([]*lexed, *syntaxError) {
	spans, err := splitTerms(expr)
	if err != nil {
		return nil, err
	}
	var groups []*group
	pending, pendingAt := opWord(0), -1 // an operator word waiting for its term
	notAt := -1                         // a NOT word for the next term
	for i, sp := range spans {
		text := expr[sp.start:sp.end]
		w := opWordOf(text)
		fail := func(expected string) *syntaxError {
			return &syntaxError{Term: text, Pos: sp.start, Expected: expected, index: i + 1}
		}
		switch w {
		case notWord:
			if notAt >= 0 {
				return nil, fail("a term after " + expr[spans[notAt].start:spans[notAt].end] + " (one NOT)")
			}
			notAt = i
			continue
		case orWord, andWord:
			if notAt >= 0 {
				return nil, fail("a term after " + expr[spans[notAt].start:spans[notAt].end])
			}
			if len(groups) == 0 || pending != 0 {
				return nil, fail("a term before " + text + ", like verb=get " + text + " verb=list")
			}
			pending, pendingAt = w, i
			if w == andWord {
				groups[len(groups)-1].andLast = true
			}
			continue
		}
		lt, err := lexTerm(expr, sp, i+1)
		if err != nil {
			return nil, err
		}
		first := i + 1
		if notAt >= 0 {
			lt.p.neg = !lt.p.neg
			lt.src.start = spans[notAt].start
			first = notAt + 1
			notAt = -1
		}
		if pending == orWord {
			g := groups[len(groups)-1]
			g.terms = append(g.terms, lt)
		} else {
			groups = append(groups, &group{index: first, terms: []*lexed{lt}, andBefore: pending == andWord})
		}
		pending = 0
	}
	if notAt >= 0 {
		sp := spans[notAt]
		return nil, &syntaxError{Term: expr[sp.start:sp.end], Pos: sp.end, index: notAt + 1,
			Expected: "a search word or a field=value after " + expr[sp.start:sp.end]}
	}
	if pending != 0 {
		sp := spans[pendingAt]
		return nil, &syntaxError{Term: expr[sp.start:sp.end], Pos: sp.end, index: pendingAt + 1,
			Expected: "a term after " + expr[sp.start:sp.end] + ", like verb=get " + expr[sp.start:sp.end] + " verb=list"}
	}
	out := make([]*lexed, 0, len(groups))
	for _, g := range groups {
		lt, err := g.join(expr)
		if err != nil {
			return nil, err
		}
		out = append(out, lt)
	}
	return out, nil
}

// join makes one term of the terms OR joins: field=a OR field=b is
// field=a,b. What that cannot say is refused.
func (g *group) join(expr string) (*lexed, *syntaxError) {
	first := g.terms[0]
	if len(g.terms) == 1 {
		return first, nil
	}
	last := g.terms[len(g.terms)-1]
	text := expr[first.src.start:last.src.end]
	fail := func(pos int, expected string) *syntaxError {
		return &syntaxError{Term: text, Pos: pos, Expected: expected, index: g.index}
	}
	for _, lt := range g.terms {
		switch {
		case lt.def == nil:
			return nil, fail(lt.src.start, "field=value terms of one field around OR, like verb=get OR verb=list (search words do not join with OR: the filter has no OR but a field's list of values)")
		case lt.def != first.def:
			return nil, fail(lt.src.start, "one field around OR: there is no OR across fields ("+first.p.field+", "+lt.p.field+
				"); ask each in a query of its own. OR joins values of one field: verb=get OR verb=list")
		case lt.def.Name == "since" || lt.def.Name == "until" || lt.def.Name == "latency":
			return nil, fail(lt.src.start, "one "+lt.def.Name+" term: "+lt.def.Name+" takes one value, so OR cannot join it")
		case lt.p.op != "=":
			return nil, fail(lt.src.start, "field=value terms around OR, like code=404 OR code=500: OR does not join comparisons (code=4xx,5xx is a list of ranges)")
		case lt.p.neg:
			return nil, fail(lt.src.start, "field=value terms around OR, like verb=get OR verb=list: OR does not join negations "+
				"(for a request that is none of them, write "+canonicalOr(g, "!=")+")")
		}
	}
	if g.andBefore || g.andLast {
		return nil, fail(first.src.start, "no AND next to OR (languages differ on which binds first): every term must match, "+
			"and OR joins values of one field, so write "+canonicalOr(g, "=")+" beside the other terms")
	}
	lt := &lexed{t: first.t, p: first.p, def: first.def, src: span{first.src.start, last.src.end}}
	lt.t.text = text
	lt.t.values = nil
	for _, o := range g.terms {
		lt.t.values = append(lt.t.values, o.t.values...)
	}
	lt.p.values = lt.t.values
	return lt, nil
}

// canonicalOr is the terms of an OR group as one term with op (= or !=),
// or an example when they are not of one field.
func canonicalOr(g *group, op string) string {
	f := g.terms[0].p.field
	var vals []string
	for _, lt := range g.terms {
		if lt.def == nil || lt.p.field != f || lt.p.op != "=" {
			return "verb" + op + "get,list"
		}
		for _, v := range lt.p.values {
			vals = append(vals, v.render())
		}
	}
	return f + op + strings.Join(vals, ",")
}
