package render

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"kubectl/v1.37.2 (linux/amd64)", "kubectl/v1.37.2 (linux/amd64)"},
		{"evil\x1b[2J\x1b]0;pwned\x07", `evil\x1b[2J\x1b]0;pwned\x07`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"c1\u009bcsi", `c1\u009bcsi`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"naïve 日本", "naïve 日本"},
		{"del\x7f", `del\x7f`},
		// One escape per code point, of a fixed length: a digit after it
		// stays a digit of the text.
		{"tag\U000e00411", `tag\U000e00411`},
		{"\u202e1", `\u202e1`},
		{"\u009b1", `\u009b1`},
		{"\xff1", `\xff1`},
		{"lone\xe2byte", `lone\xe2byte`},
		{"\U0010ffff", `\U0010ffff`},
	} {
		if got := Sanitize(tc.in); got != tc.want {
			t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Every escape Sanitize writes reads back as the code point (or byte) it
// stands for, with the text after it unchanged: Go's quoting rules, which
// give each escape a fixed length, read the screen text back exactly.
func TestSanitizeEscapesReadBack(t *testing.T) {
	bad := 0
	check := func(in string) {
		t.Helper()
		got := Sanitize(in)
		back, err := strconv.Unquote(`"` + got + `"`)
		if (err != nil || back != in) && bad < 10 {
			bad++
			t.Errorf("Sanitize(%q) = %q, which reads back as %q (%v)", in, got, back, err)
		}
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r == '\\' || r == '"' || !utf8.ValidRune(r) {
			continue
		}
		check("a" + string(r) + "1f")
	}
	for b := 0x80; b <= 0xff; b++ {
		check("a" + string([]byte{byte(b)}) + "1f")
	}
	check(strings.Repeat("\U000e0041\u202e\x1b", 3))
}
