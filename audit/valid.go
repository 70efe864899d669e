package audit

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// validJSON reports whether b is one valid JSON value, like gjson.Valid
// (FuzzValidJSON holds them equal), about twice as fast on audit lines:
// string bodies, most of an event's bytes, are scanned with a table lookup
// per byte and no calls.
func validJSON(b []byte) bool {
	i := skipSpace(b, 0)
	i, ok := validValue(b, i, 0)
	if !ok {
		return false
	}
	return skipSpace(b, i) == len(b)
}

// ValidJSON reports whether b is one valid JSON value, like gjson.Valid,
// but without recursion past maxDepth levels of nesting: a line of ten
// million '[' is invalid here, where gjson's validator overflows the stack.
func ValidJSON(b []byte) bool { return validJSON(b) }

// maxDepth bounds nesting so a line of a million '[' cannot overflow the stack.
const maxDepth = 10000

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// strStop marks the bytes that end a run of plain string characters.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// SWAR constants: a byte in every lane.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// swarLanes are special's constants, in a variable: read from it into
// registers before skipPlain's loop, where as constants the compiler loads
// each of the four 64-bit immediates again on every step.
var swarLanes = swar{quote: 0x02 * lanes01, below: 0x21 * lanes01, bslash: '\\' * lanes01, one: lanes01}

type swar struct{ quote, below, bslash, one uint64 }

// special flags (bit 7 of its lane) the bytes of x that end a run of plain
// string characters: '"', '\\' or below 0x20. The lowest flag is exact;
// flags above it may be wrong (a borrow from the lane below), so a caller
// trusts only the first. A byte >= 0x80 is plain. One subtraction finds both
// the control bytes and '"': x^2 maps '"' to 0x20 and keeps the bytes
// below 0x20 below it, so x^2 < 0x21 is exactly "below 0x20 or '"'".
func (k swar) special(x uint64) uint64 {
	return (((x ^ k.quote) - k.below) | ((x ^ k.bslash) - k.one)) &^ x & (k.one << 7)
}

// skipPlain returns the index of the first byte at or after i that ends a
// run of plain string characters (strStop), or len(b). Eight bytes at a
// time: string bodies are most of an event's bytes. The words are read
// through a pointer, not b[i:], which the compiler checks and clamps on
// every step: this loop runs on nearly every byte of a line.
func skipPlain(b []byte, i int) int {
	if i >= 0 {
		p := unsafe.Pointer(unsafe.SliceData(b))
		k := swarLanes
		for i+8 <= len(b) {
			if m := k.special(binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, i))[:])); m != 0 {
				return i + bits.TrailingZeros64(m)>>3
			}
			i += 8
		}
	}
	return skipPlainTail(b, i)
}

// skipPlainTail is skipPlain for the last 7 bytes or fewer of b.
func skipPlainTail(b []byte, i int) int {
	for i < len(b) && !strStop[b[i]] {
		i++
	}
	return i
}

func validString(b []byte, i int) (int, bool) {
	i, _, ok := scanString(b, i)
	return i, ok
}

// scanString reads the string at b[i] == '"' and says where it ends and
// whether it holds escapes.
func scanString(b []byte, i int) (end int, esc, ok bool) {
	i = skipPlain(b, i+1)
	if i < len(b) && b[i] == '"' {
		return i + 1, false, true
	}
	return scanEscaped(b, i)
}

// scanEscaped is scanString from b[i], the first byte of the string's body
// that is not plain (a backslash, a control byte) or len(b).
func scanEscaped(b []byte, i int) (end int, esc, ok bool) {
	for {
		if i >= len(b) || b[i] < 0x20 {
			return i, esc, false
		}
		if b[i] == '"' {
			return i + 1, esc, true
		}
		// backslash escape
		esc = true
		i++
		if i >= len(b) {
			return i, esc, false
		}
		switch b[i] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			if i+4 >= len(b) {
				return i, esc, false
			}
			for _, c := range b[i+1 : i+5] {
				if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
					return i, esc, false
				}
			}
			i += 5
		default:
			return i, esc, false
		}
		i = skipPlain(b, i)
	}
}

func validNumber(b []byte, i int) (int, bool) {
	if b[i] == '-' {
		i++
		if i >= len(b) {
			return i, false
		}
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return i, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i, true
}

func validLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return validString(b, i)
	case c == '{':
		if depth >= maxDepth {
			return i, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			var ok bool
			if i = skipPlain(b, i+1); i < len(b) && b[i] == '"' {
				i++
			} else if i, _, ok = scanEscaped(b, i); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			if i = skipSpace(b, i+1); i < len(b) && b[i] == '"' {
				// a string value, read here rather than in a call
				if i = skipPlain(b, i+1); i < len(b) && b[i] == '"' {
					i++
				} else if i, _, ok = scanEscaped(b, i); !ok {
					return i, false
				}
			} else if i, ok = validValue(b, i, depth+1); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false
			}
			if b[i] == '}' {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
	case c == '[':
		if depth >= maxDepth {
			return i, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i < len(b) && b[i] == '"' {
				// a string element, read here rather than in a call
				if i = skipPlain(b, i+1); i < len(b) && b[i] == '"' {
					i++
				} else if i, _, ok = scanEscaped(b, i); !ok {
					return i, false
				}
			} else if i, ok = validValue(b, i, depth+1); !ok {
				return i, false
			}
			i = skipSpace(b, i)
			if i >= len(b) {
				return i, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return i, false
			}
			i = skipSpace(b, i+1)
		}
	case c == '-' || c >= '0' && c <= '9':
		return validNumber(b, i)
	case c == 't':
		return validLiteral(b, i, "true")
	case c == 'f':
		return validLiteral(b, i, "false")
	case c == 'n':
		return validLiteral(b, i, "null")
	}
	return i, false
}

// ValidUpTo is how far b reads as JSON: the offset of the first byte that
// breaks it (where a syntax error is found, or where text follows a whole
// value), len(b) when b is one valid value or a valid one cut short. A
// literal (true, false, null) counts as far as it matches. source reads a
// line that the container runtime cut with it (splice.go): text spliced
// into an event cannot begin after this offset.
func ValidUpTo(b []byte) int {
	i, ok := validValue(b, skipSpace(b, 0), 0)
	if ok {
		return skipSpace(b, i)
	}
	if i > 0 && i < len(b) && b[i] == 'u' && b[i-1] == '\\' {
		// a \u escape: as far as its hex digits go
		j := i + 1
		for j < len(b) && j <= i+4 && (b[j] >= '0' && b[j] <= '9' || b[j] >= 'a' && b[j] <= 'f' || b[j] >= 'A' && b[j] <= 'F') {
			j++
		}
		return j
	}
	if i < len(b) {
		for _, lit := range [...]string{"true", "false", "null"} {
			if b[i] == lit[0] {
				j := 0
				for j < len(lit) && i+j < len(b) && b[i+j] == lit[j] {
					j++
				}
				return i + j
			}
		}
	}
	return i
}
