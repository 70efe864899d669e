package render

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Sanitize makes a string from a log safe to draw: control characters,
// escape sequences, invisible format characters (bidi overrides) and invalid
// UTF-8 are shown escaped (\x1b, \n, \u202e, \U000e0041), everything
// printable is kept.
// User agents, names and URIs are client-chosen: every log string goes
// through here before it reaches a terminal.
func Sanitize(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(r)|0x100, 16)[1:])
		case r >= 0x80 && !unicode.IsPrint(r):
			// A fixed number of digits, as strconv.Quote writes them, so the
			// text after the escape cannot be read as part of it: \u and 4
			// hex digits in the BMP, \U and 8 above.
			prefix, digits := `\u`, 4
			if r > 0xffff {
				prefix, digits = `\U`, 8
			}
			h := strconv.FormatUint(uint64(r), 16)
			b.WriteString(prefix)
			b.WriteString(strings.Repeat("0", digits-len(h)))
			b.WriteString(h)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// QuoteJSON is s as a JSON string literal that is also safe to draw: the
// quotes and backslashes inside escaped, and what Sanitize escapes written
// as JSON escapes (\n, \u001b, \u202e; above the BMP a surrogate pair), so
// text copied from the screen is valid JSON that decodes to s. Invalid
// UTF-8, which JSON cannot carry, becomes \ufffd, as encoding/json writes it.
func QuoteJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	hex4 := func(r rune) {
		h := strconv.FormatUint(uint64(r), 16)
		b.WriteString(`\u`)
		b.WriteString(strings.Repeat("0", 4-len(h)))
		b.WriteString(h)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\ufffd`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			hex4(r)
		case r >= 0x80 && !unicode.IsPrint(r):
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				hex4(r1)
				hex4(r2)
			} else {
				hex4(r)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
