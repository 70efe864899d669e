package filter

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: Parse never panics; an error is a *SyntaxError that points into
// the expression; a filter's String parses back to itself; matching and With
// never panic.
func FuzzParse(f *testing.F) {
	for _, tt := range sampleTests {
		f.Add(tt.expr)
	}
	for _, tt := range syntaxErrorTests {
		f.Add(tt.expr)
	}
	for _, tt := range stringTests {
		f.Add(tt.expr)
	}
	for _, fh := range Fields() {
		f.Add(fh.Example)
	}
	c := loadFiles(f, "../testdata/sample.log")
	now := c.now()
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Parse(expr, now)
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", expr, err)
			}
			if se.Pos < 0 || se.Pos > len(expr) || !strings.Contains(expr, se.Term) || se.Expected == "" {
				t.Fatalf("Parse(%q): bad SyntaxError %+v", expr, se)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r\x1b") || !utf8.ValidString(msg) && utf8.ValidString(expr) {
				t.Fatalf("Parse(%q): error is not one clean line: %q", expr, msg)
			}
			return
		}
		canon := flt.String()
		again, err := Parse(canon, now)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", expr, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("String not stable: %q -> %q -> %q", expr, canon, again.String())
		}
		for _, r := range c.reqs {
			if flt.MatchRaw(r, c.raw) != again.MatchRaw(r, c.raw) {
				t.Fatalf("%q and its String %q disagree on %s", expr, canon, r.AuditID)
			}
			flt.MatchRaw(r, nil)
		}
		for _, field := range []string{"user", "code", "bogus"} {
			With(expr, field, expr, false)
			With(expr, field, expr, true)
		}
	})
}
