package filter

import (
	"bytes"
	"strings"
)

// A prefilter lets a loader skip most audit lines of a one-shot query
// without parsing them: a line that cannot belong to a matching request is
// never scanned or merged. Only what is provably safe is derived:
//
//   - Only positive field terms give checks; negations, bare words (a
//     request matches when any one of its stages holds the word), code,
//     stage, decision, reason, message (absent from the RequestReceived
//     stage), times, ip and group give none. A term any of whose values
//     matches the empty string gives none (the field may be absent).
//   - A check looks for every occurrence of the key, `"verb"` followed by
//     a colon (spaces allowed), and tests the string value after it with
//     the term's own globs (a string with escapes keeps the line), so case
//     folding, globs, commas and resource names work exactly as in Match.
//     The top-level field is one of the occurrences; nested ones (a
//     request body's "name") may keep a line that the top-level value
//     alone would drop, never the reverse.
//   - A line in which the key never occurs is kept (some stages lack some
//     fields, see below). So is a line holding \u0040-\u007f escapes,
//     which could spell a key in a form the search does not see.
//   - The apiserver writes the fields checked here in every stage of a
//     request with the same value (they come from the URL and from
//     authentication, before the RequestReceived event), so a line that
//     fails a check belongs to a request that fails the filter, and every
//     line of a matching request passes. Two exceptions are handled:
//     impersonatedUser is set after RequestReceived (user checks keep
//     RequestReceived lines), and objectRef.name (creates) and
//     objectRef.namespace are filled in from the request body after
//     RequestReceived only when the URL had none, where the
//     RequestReceived line then has no such key and is kept.

// prefield is a field term that can be checked on a raw line.
type prefield struct {
	key          []byte // `"verb"`
	rare         int    // index in key of its rarest byte in audit JSON, searched for first
	alts         []glob
	names        []string // resource candidates (lowercase), matched with equalFold
	keepReceived bool     // the field may be missing from RequestReceived lines
}

// prefieldKeys maps a field to the key its value is logged under.
var prefieldKeys = map[string]string{
	"verb":  "verb",
	"user":  "username", // user.username and impersonatedUser.username
	"ns":    "namespace",
	"name":  "name",
	"agent": "userAgent",
	"uri":   "requestURI",
	"id":    "auditID",
	"level": "level",

	"resource": "resource",
}

var (
	receivedCheck = newPrefield("stage", []glob{exactGlob("RequestReceived")})
	escapeMark    = []byte(`\u00`)
)

// Prefilter returns a test that a raw audit event line must pass for the
// line to belong to a request the filter can match, or nil when the filter
// gives no such test. Lines that fail it can be skipped before parsing; the
// matching requests, and each one's events, stay the same (see above for
// why). It is cheap (a few substring searches) and safe for concurrent use.
func (f *Filter) Prefilter() func(line []byte) bool {
	if f == nil {
		return nil
	}
	var checks []prefield
	for _, t := range f.terms {
		if c, ok := prefieldOf(t); ok {
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	return func(line []byte) bool {
		for i := range checks {
			if !checks[i].pass(line) {
				return false
			}
		}
		return true
	}
}

func newPrefield(key string, alts []glob) prefield {
	c := prefield{key: []byte(`"` + key + `"`), alts: alts}
	best := -1
	for i := 1; i < len(c.key)-1; i++ {
		r := strings.IndexByte(byteRank, c.key[i])
		if r < 0 {
			r = len(byteRank)
		}
		if r > best {
			best, c.rare = r, i
		}
	}
	return c
}

func prefieldOf(t parsed) (prefield, bool) {
	key, ok := prefieldKeys[t.field]
	if !ok || t.neg || t.op != "=" || len(t.values) == 0 {
		return prefield{}, false
	}
	c := newPrefield(key, nil)
	// impersonatedUser, objectRef.name and objectRef.namespace may be
	// filled in after RequestReceived (a generateName create gets its name
	// from the server), and a nested "name" of some other object may be all
	// the RequestReceived line holds: keep those lines whole.
	c.keepReceived = t.field == "user" || t.field == "name" || t.field == "ns"
	if t.field == "resource" {
		for _, v := range t.values {
			parts := splitSlash(v)
			var res value
			switch len(parts) {
			case 1:
				res = parts[0]
			case 2:
				if s, plain := parts[0].literal(); plain && isGroupWord(s) {
					res = parts[1]
				} else {
					res = parts[0]
				}
			case 3:
				res = parts[1]
			default:
				return prefield{}, false
			}
			if s, plain := res.literal(); plain {
				if s == "" {
					return prefield{}, false // resource="": non-resource requests
				}
				c.names = append(c.names, resourceCandidates(s)...)
			} else {
				// resource=* needs a non-empty resource; a glob matching ""
				// is still only true for lines that have one.
				c.alts = append(c.alts, compileGlob(res))
			}
		}
		return c, true
	}
	for _, v := range t.values {
		g := compileGlob(v)
		if g.match("") {
			return prefield{}, false
		}
		c.alts = append(c.alts, g)
	}
	return c, true
}

// pass reports whether line may hold a matching value of the field.
func (c *prefield) pass(line []byte) bool {
	matched, found := c.search(line)
	if matched || !found || hasEscapedASCII(line) {
		return true
	}
	if c.keepReceived {
		matched, _ = receivedCheck.search(line)
	}
	return matched
}

// search reports whether some occurrence of the key holds a matching value
// (or a string with escapes), and whether the key occurs at all.
func (c *prefield) search(line []byte) (matched, found bool) {
	for rest := line; ; {
		i := c.index(rest)
		if i < 0 {
			return false, found
		}
		rest = rest[i+len(c.key):]
		j := skipJSONSpace(rest, 0)
		if j >= len(rest) || rest[j] != ':' {
			continue // a string value, not a key
		}
		found = true
		j = skipJSONSpace(rest, j+1)
		if j >= len(rest) || rest[j] != '"' {
			continue // not a string: the field reads as ""
		}
		v, n, plain := jsonString(rest[j+1:])
		if !plain || c.matches(v) {
			return true, true
		}
		rest = rest[j+1+n:]
	}
}

// index is bytes.Index(b, c.key), jumping between occurrences of the key's
// rarest byte: its first byte, a quote, is the commonest byte of JSON.
func (c *prefield) index(b []byte) int {
	k, m := c.rare, len(c.key)
	for from := k; from < len(b); {
		j := bytes.IndexByte(b[from:], c.key[k])
		if j < 0 {
			return -1
		}
		at := from + j - k
		if at+m <= len(b) && bytes.Equal(b[at:at+m], c.key) {
			return at
		}
		from += j + 1
	}
	return -1
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func (c *prefield) matches(v string) bool {
	if anyOf(c.alts, v) {
		return true
	}
	for _, n := range c.names {
		if equalFold(v, n) {
			return true
		}
	}
	return false
}

// hasEscapedASCII reports whether line holds a \u00XX escape of a byte from
// 0x40 to 0x7f (letters among them), which could hide a key from the search.
func hasEscapedASCII(line []byte) bool {
	for rest := line; ; {
		i := bytes.Index(rest, escapeMark)
		if i < 0 || i+5 >= len(rest) {
			return false
		}
		if c := rest[i+4]; c >= '4' && c <= '7' {
			return true
		}
		rest = rest[i+4:]
	}
}

// jsonString reads the body of a JSON string that starts at b (after its
// opening quote) up to its closing quote: the body, the bytes it took with
// the quote, and plain=false when it holds escapes (then the line is kept:
// the parser is the one to decode them).
func jsonString(b []byte) (body string, n int, plain bool) {
	i := bytes.IndexByte(b, '"')
	if i < 0 {
		return "", len(b), false
	}
	if bytes.IndexByte(b[:i], '\\') >= 0 {
		return "", i + 1, false
	}
	return bytesString(b[:i]), i + 1, true
}
