package audit

import (
	"encoding/binary"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The hot path of a load: one pass over an event line that both validates
// it (exactly as gjson.Valid would) and picks out the fields the model
// keeps. gjson.Valid followed by a gjson traversal reads every byte twice
// and was three quarters of a load's time; FuzzScanEvent holds this scanner
// equal to gjson.Valid and gjson.Get on every input.

// scan contexts: which object the scanner is in.
const (
	ctxNone = iota
	ctxTop
	ctxUser
	ctxImp
	ctxObjRef
	ctxStatus
	ctxAnn
	ctxExtra // user.extra
)

// field indices into rawEvent, for "first occurrence wins" (as gjson.Get).
const (
	fKind = iota
	fAPIVersion
	fAuditID
	fLevel
	fStage
	fReceived
	fStageAt
	fURI
	fVerb
	fUA
	fSourceIPs
	fUser
	fImp
	fObjRef
	fStatus
	fAnn
	fUsername
	fGroups
	fImpUsername
	fImpGroups
	fGroup
	fVersion
	fResource
	fSub
	fNS
	fName
	fCode
	fMessage
	fDecision
	fReason
	fExtra
	fCredID    // user.extra["authentication.kubernetes.io/credential-id"]: a JSON array
	fTimestamp // timestamp: the only time of a 1.8 audit.k8s.io/v1beta1 event
	fNone      = -1
)

type eventScanner struct {
	b    []byte
	e    *rawEvent
	seen uint64
	esc  uint64 // string fields whose raw text holds escapes
}

func fieldOf(ctx int, key string) int {
	switch ctx {
	case ctxTop:
		switch key {
		case "kind":
			return fKind
		case "apiVersion":
			return fAPIVersion
		case "auditID":
			return fAuditID
		case "level":
			return fLevel
		case "stage":
			return fStage
		case "requestReceivedTimestamp":
			return fReceived
		case "stageTimestamp":
			return fStageAt
		case "timestamp":
			return fTimestamp
		case "requestURI":
			return fURI
		case "verb":
			return fVerb
		case "userAgent":
			return fUA
		case "sourceIPs":
			return fSourceIPs
		case "user":
			return fUser
		case "impersonatedUser":
			return fImp
		case "objectRef":
			return fObjRef
		case "responseStatus":
			return fStatus
		case "annotations":
			return fAnn
		}
	case ctxUser, ctxImp:
		switch key {
		case "username":
			if ctx == ctxUser {
				return fUsername
			}
			return fImpUsername
		case "groups":
			if ctx == ctxUser {
				return fGroups
			}
			return fImpGroups
		case "extra":
			if ctx == ctxUser {
				return fExtra
			}
		}
	case ctxExtra:
		if key == "authentication.kubernetes.io/credential-id" {
			return fCredID
		}
	case ctxObjRef:
		switch key {
		case "apiGroup":
			return fGroup
		case "apiVersion":
			return fVersion
		case "resource":
			return fResource
		case "subresource":
			return fSub
		case "namespace":
			return fNS
		case "name":
			return fName
		}
	case ctxStatus:
		switch key {
		case "code":
			return fCode
		case "message":
			return fMessage
		}
	case ctxAnn:
		switch key {
		case "authorization.k8s.io/decision":
			return fDecision
		case "authorization.k8s.io/reason":
			return fReason
		}
	}
	return fNone
}

// keyOrder is the order in which kube-apiserver writes the keys of each
// object the scanner reads (audit.Event's fields; "?" marks one that is
// often absent). The scanner expects the next key of an object to be the
// one after the last (or, past an optional one, the one after that) and
// compares a few words instead of scanning the key and looking it up; a
// key it did not expect (or with escapes) is scanned and looked up as
// before. fieldOf stays the one rule of which key is which field: the
// table is built from it.
var keyOrder = [...]struct {
	ctx  int
	keys []string
}{
	{ctxTop, []string{"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "?impersonatedUser", "sourceIPs", "userAgent", "objectRef", "?responseStatus", "?requestObject", "?responseObject", "requestReceivedTimestamp", "stageTimestamp", "?annotations"}},
	{ctxUser, []string{"username", "uid", "groups", "extra"}},
	{ctxImp, []string{"username", "uid", "groups", "extra"}},
	{ctxExtra, []string{"authentication.kubernetes.io/credential-id"}},
	{ctxObjRef, []string{"resource", "?namespace", "?name", "?uid", "?apiGroup", "apiVersion", "?resourceVersion", "?subresource"}},
	{ctxStatus, []string{"metadata", "?status", "?message", "?reason", "?details", "code"}},
	{ctxAnn, []string{"authorization.k8s.io/decision", "authorization.k8s.io/reason"}},
}

// keyEntry is an expected key and its closing quote as little-endian words.
type keyEntry struct {
	w         [6]uint64 // zero-padded
	mask      uint64    // the bytes of the last word that count
	m         [2]uint64 // the bytes of the first two words that count
	nw, n     int       // words; bytes (the key's length and 1)
	f         int       // fieldOf(ctx, key)
	next, alt uint8     // the keys expected after this one: next, else alt
}

var (
	keyEntries = []keyEntry{{w: [6]uint64{1}, nw: 1}} // [0]: none, matches nothing (no x&0 is 1)
	firstKey   [ctxExtra + 1][2]uint8
	keyOfField [ctxExtra + 1][fTimestamp + 1]uint8 // to expect again after a key not expected
)

func init() {
	for _, c := range keyOrder {
		base := len(keyEntries)
		optional := make([]bool, len(c.keys))
		for j, k := range c.keys {
			if k[0] == '?' {
				optional[j], k = true, k[1:]
			}
			q := k + `"`
			if len(q) > 48 {
				panic("audit: expected key too long: " + k)
			}
			var buf [48]byte
			copy(buf[:], q)
			e := keyEntry{n: len(q), nw: (len(q) + 7) / 8, f: fieldOf(c.ctx, k), mask: ^uint64(0)}
			for w := 0; w < e.nw; w++ {
				e.w[w] = binary.LittleEndian.Uint64(buf[8*w:])
			}
			if r := len(q) % 8; r != 0 {
				e.mask = 1<<(8*r) - 1
			}
			e.m[0] = ^uint64(0)
			if e.nw == 1 {
				e.m[0] = e.mask
			} else if e.nw == 2 {
				e.m[1] = e.mask
			}
			if e.f != fNone {
				keyOfField[c.ctx][e.f] = uint8(len(keyEntries))
			}
			keyEntries = append(keyEntries, e)
		}
		// the keys expected after key j: j+1, and past it the first that
		// is not optional
		after := func(j int) (next, alt uint8) {
			if j+1 < len(c.keys) {
				next = uint8(base + j + 1)
			}
			for a := j + 2; a < len(c.keys) && optional[j+1]; a++ {
				alt = uint8(base + a)
				if !optional[a] {
					break
				}
			}
			return next, alt
		}
		for j := range c.keys {
			e := &keyEntries[base+j]
			e.next, e.alt = after(j)
		}
		firstKey[c.ctx][0] = uint8(base)
		if optional[0] {
			firstKey[c.ctx][1], _ = after(0)
		}
	}
	if len(keyEntries) > 255 {
		panic("audit: too many expected keys")
	}
}

// keyAt reports whether the key whose body starts at b[ks] is e's: two
// masked words compared for a key of up to 15 bytes (nearly all; object
// does this inline for the key it expects first), keyAtLong for a longer
// one or near the end of b.
func keyAt(b []byte, ks int, e *keyEntry) bool {
	if e.nw > 2 || ks+16 > len(b) {
		return keyAtLong(b, ks, e)
	}
	return e.at2(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), ks))
}

// at2 compares the two words at p (a key's body) with a key of up to 15
// bytes.
func (e *keyEntry) at2(p unsafe.Pointer) bool {
	return binary.LittleEndian.Uint64((*[8]byte)(p)[:])&e.m[0] == e.w[0] &&
		binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, 8))[:])&e.m[1] == e.w[1]
}

//go:noinline
func keyAtLong(b []byte, ks int, e *keyEntry) bool {
	if ks < 0 || ks+8*e.nw > len(b) {
		return false
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	last := e.nw - 1
	for j := 0; j < last; j++ {
		if binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, ks+8*j))[:]) != e.w[j] {
			return false
		}
	}
	return binary.LittleEndian.Uint64((*[8]byte)(unsafe.Add(p, ks+8*last))[:])&e.mask == e.w[last]
}

func (e *rawEvent) slot(f int) *string {
	switch f {
	case fKind:
		return &e.kind
	case fAPIVersion:
		return &e.apiVersion
	case fAuditID:
		return &e.auditID
	case fLevel:
		return &e.level
	case fStage:
		return &e.stage
	case fReceived:
		return &e.received
	case fStageAt:
		return &e.stageAt
	case fTimestamp:
		return &e.timestamp
	case fURI:
		return &e.uri
	case fVerb:
		return &e.verb
	case fUA:
		return &e.ua
	case fUsername:
		return &e.user
	case fImpUsername:
		return &e.impUser
	case fGroup:
		return &e.group
	case fVersion:
		return &e.version
	case fResource:
		return &e.resource
	case fSub:
		return &e.sub
	case fNS:
		return &e.ns
	case fName:
		return &e.name
	case fMessage:
		return &e.message
	case fDecision:
		return &e.decision
	case fReason:
		return &e.reason
	case fSourceIPs:
		return &e.sourceIPs
	case fGroups:
		return &e.groups
	case fImpGroups:
		return &e.impGroups
	case fCredID:
		return &e.credID
	}
	return nil
}

func childCtx(f int) int {
	switch f {
	case fUser:
		return ctxUser
	case fImp:
		return ctxImp
	case fObjRef:
		return ctxObjRef
	case fStatus:
		return ctxStatus
	case fAnn:
		return ctxAnn
	case fExtra:
		return ctxExtra
	}
	return ctxNone
}

// scanEventBytes validates b and fills e; strings in e alias b, and those
// with escapes are unescaped into fresh strings.
func scanEventBytes(b []byte, e *rawEvent) bool {
	sc := eventScanner{b: b, e: e}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i, ok := sc.object(i, 0, ctxTop)
	if !ok || skipSpace(b, i) != len(b) {
		return false
	}
	// fields needed to accept the line, or parsed rather than kept, are
	// unescaped now (escapes there are rare); the rest when merged
	const eager = 1<<fKind | 1<<fAPIVersion | 1<<fAuditID | 1<<fStage | 1<<fReceived | 1<<fStageAt | 1<<fTimestamp
	if sc.esc&eager != 0 {
		e.unescape(sc.esc & eager)
	}
	e.esc = sc.esc &^ eager
	return true
}

// unescape decodes the escaped fields in mask (allocating).
func (e *rawEvent) unescape(mask uint64) {
	for f := 0; f < 64; f++ {
		if mask&(1<<f) != 0 {
			if p := e.slot(f); p != nil {
				*p = unescape(*p)
			}
		}
	}
	e.esc &^= mask
}

func (sc *eventScanner) object(i, depth, ctx int) (int, bool) {
	b := sc.b
	if depth >= maxDepth {
		return i, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	want := firstKey[ctx] // the keys expected next (see keyOrder)
	for {
		if i >= len(b) || b[i] != '"' {
			return i, false
		}
		// the key: its body is b[ks:i-1]
		ks := i + 1
		var ok, esc bool
		f := fNone
		e := &keyEntries[want[0]]
		var hit bool
		if e.nw <= 2 && ks+16 <= len(b) {
			hit = e.at2(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), ks)) // keyAt, inline
		} else {
			hit = keyAtLong(b, ks, e)
		}
		if hit {
			f, i, want = e.f, ks+e.n, [2]uint8{e.next, e.alt}
		} else if e := &keyEntries[want[1]]; keyAt(b, ks, e) {
			f, i, want = e.f, ks+e.n, [2]uint8{e.next, e.alt}
		} else {
			if i = skipPlain(b, ks); i < len(b) && b[i] == '"' {
				i++
			} else if i, esc, ok = scanEscaped(b, i); !ok {
				return i, false
			}
			if ctx != ctxNone {
				if esc {
					f = fieldOf(ctx, unescape(bytesString(b[ks:i-1])))
				} else {
					f = fieldOf(ctx, bytesString(b[ks:i-1]))
				}
				want = [2]uint8{}
				if f != fNone {
					e := &keyEntries[keyOfField[ctx][f]]
					want = [2]uint8{e.next, e.alt}
				}
			}
		}
		child := ctxNone
		if f != fNone {
			if child = childCtx(f); child == ctxNone && sc.seen&(1<<f) != 0 {
				// gjson.Get takes the first of duplicate keys; for an object
				// it looks on in a later duplicate for a child the first
				// lacks, so those are descended again (children: first wins)
				f = fNone
			}
		}
		if i < len(b) && b[i] == ':' {
			i++
		} else if i = skipSpace(b, i); i < len(b) && b[i] == ':' {
			i++
		} else {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch c := b[i]; {
		case c == '"':
			vs := i + 1
			esc = false
			if i = skipPlain(b, vs); i < len(b) && b[i] == '"' {
				i++
			} else if i, esc, ok = scanEscaped(b, i); !ok {
				return i, false
			}
			if f != fNone && child == ctxNone && sc.seen&(1<<f) == 0 {
				sc.seen |= 1 << f
				sc.captureString(f, vs, i-1, esc)
			}
			// an object field that is a string: gjson looks on for an
			// object of that name
		case c == '{' && child != ctxNone:
			sc.seen |= 1 << f
			if i, ok = sc.object(i, depth+1, child); !ok {
				return i, false
			}
		default:
			vs := i
			if i, ok = validValue(b, i, depth+1); !ok {
				return i, false
			}
			if f != fNone && child == ctxNone && sc.seen&(1<<f) == 0 {
				sc.seen |= 1 << f
				sc.capture(f, vs, i)
			}
		}
		if i < len(b) && b[i] == ',' {
			i++
		} else if i = skipSpace(b, i); i >= len(b) {
			return i, false
		} else if b[i] == '}' {
			return i + 1, true
		} else if b[i] == ',' {
			i++
		} else {
			return i, false
		}
		if i >= len(b) || b[i] != '"' {
			i = skipSpace(b, i)
		}
	}
}

// captureString stores the string value of field f, whose body is
// b[vs:ve] (still escaped when esc).
func (sc *eventScanner) captureString(f, vs, ve int, esc bool) {
	if off := stringSlot[f]; off != 0 {
		*(*string)(unsafe.Add(unsafe.Pointer(sc.e), off-1)) = bytesString(sc.b[vs:ve])
		if esc {
			sc.esc |= 1 << f
		}
	}
}

// stringSlot is, for each field kept from a string value, 1 + the offset in
// rawEvent of its slot (0: none), taken from slot once rather than through
// its switch on every capture. fCode and the arrays are kept from other
// values (capture).
var stringSlot = func() (t [fTimestamp + 1]uintptr) {
	var e rawEvent
	for f := range t {
		switch f {
		case fCode, fSourceIPs, fGroups, fImpGroups, fCredID:
			continue
		}
		if p := e.slot(f); p != nil {
			t[f] = uintptr(unsafe.Pointer(p)) - uintptr(unsafe.Pointer(&e)) + 1
		}
	}
	return t
}()

// capture stores the value b[vs:ve] of field f when it is not a string
// (gjson's Str is empty for a non-string).
func (sc *eventScanner) capture(f, vs, ve int) {
	b := sc.b
	switch f {
	case fCode:
		if b[vs] == '-' || b[vs] >= '0' && b[vs] <= '9' {
			sc.e.code = atoiJSON(b[vs:ve])
		}
	case fSourceIPs, fGroups, fImpGroups, fCredID:
		if b[vs] == '[' {
			*sc.e.slot(f) = bytesString(b[vs:ve])
		}
	}
}

// firstString is the body of the first element of a validated JSON array
// when it is a string ("" otherwise), aliasing raw; esc says it holds
// escapes still to decode.
func firstString(raw string) (body string, esc bool) {
	b := unsafe.Slice(unsafe.StringData(raw), len(raw))
	i := skipSpace(b, 1)
	if i >= len(b) || b[i] != '"' {
		return "", false
	}
	end, esc, ok := scanString(b, i)
	if !ok {
		return "", false
	}
	return raw[i+1 : end-1], esc
}

// atoiJSON is the value of a JSON number (already validated) when that value
// is a whole number: 403, and 403.0, 4.03e2 or 40300E-2 alike, as gjson reads
// them. A fraction (403.5) is no code: 0. So is a value whose digits pass
// 2^40 (audit codes are three digits).
func atoiJSON(b []byte) int {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	const limit = 1 << 40
	n := 0     // the digits read, without the zeros still pending
	zeros := 0 // zeros read after them, not yet multiplied in
	exp := 0   // minus the digits after the decimal point
	frac := false
	i := 0
	for ; i < len(b); i++ {
		c := b[i]
		if c == '.' {
			frac = true
			continue
		}
		if c < '0' || c > '9' {
			break
		}
		if frac {
			exp--
		}
		if c == '0' {
			zeros++
			continue
		}
		for ; zeros > 0; zeros-- {
			if n > limit {
				return 0
			}
			n *= 10
		}
		if n > limit {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	if i < len(b) { // an exponent: e or E, a sign, digits
		i++
		eneg := i < len(b) && b[i] == '-'
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			i++
		}
		e := 0
		for ; i < len(b); i++ {
			if e < 1<<20 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if n == 0 {
		return 0
	}
	// the value is n × 10^(zeros+exp): whole when that power is not negative
	// (n's last digit is not 0, so no negative power leaves it whole)
	p := zeros + exp
	if p < 0 {
		return 0
	}
	for ; p > 0; p-- {
		if n > limit {
			return 0
		}
		n *= 10
	}
	if neg {
		return -n
	}
	return n
}

// unescape decodes a JSON string body (already validated).
func unescape(s string) string {
	out := unescapeAppend(make([]byte, 0, len(s)), s)
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// unescapeAppend appends the decoded s to out: the runs between escapes
// are copied whole (a URI's \u0026 is the merge's most common escape).
func unescapeAppend(out []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(s[i:], '\\')
		if j < 0 {
			return append(out, s[i:]...)
		}
		out = append(out, s[i:i+j]...)
		i += j + 1
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if r2 := utf16.DecodeRune(r, hex4(s[i+3:i+7])); r2 != utf8.RuneError {
					r = r2
					i += 6
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, s[i])
		}
	}
	return out
}

func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
