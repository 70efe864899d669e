package filter

import (
	"fmt"
	"strconv"
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
			c == '=', c == '!', c == '<', c == '>':
			need = true
		}
	}
	if !need {
		return s
	}
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
