package render

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
)

// QuoteJSON is valid JSON that decodes to the string (invalid UTF-8 to
// U+FFFD, as encoding/json does) and holds nothing a terminal acts on:
// crafted hostile strings (escape sequences, C1 controls, bidi overrides,
// a tag character above the BMP, quotes and backslashes).
func TestQuoteJSON(t *testing.T) {
	for _, s := range []string{
		``, `plain`, `pods "web" is forbidden`, `C:\path\x`, "a\x1b[2Jb\rc\x07\t\n\x7f",
		"\u009b31m", "exe\u202etxt", "tag\U000E0041", "line\u2028sep", "bad\xff\xfeutf8", `"\"`,
	} {
		q := QuoteJSON(s)
		if !json.Valid([]byte(q)) {
			t.Errorf("QuoteJSON(%q) = %s: not valid JSON", s, q)
			continue
		}
		var got string
		json.Unmarshal([]byte(q), &got)
		want := strings.ToValidUTF8(s, "\ufffd")
		if s == "bad\xff\xfeutf8" {
			want = "bad\ufffd\ufffdutf8"
		}
		if got != want {
			t.Errorf("QuoteJSON(%q) = %s decodes to %q", s, q, got)
		}
		for _, r := range q {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && !unicode.IsPrint(r)) {
				t.Errorf("QuoteJSON(%q) = %q holds %U raw", s, q, r)
			}
		}
	}
}
