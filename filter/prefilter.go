package filter

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// A prefilter lets a loader skip most audit lines of a one-shot query
// without parsing them: a line that cannot belong to a matching request is
// never scanned or merged. Only what is provably safe is derived:
//
//   - Only positive field terms give checks; negations, bare words (a
//     request matches when any one of its stages holds the word) and stage
//     give none. A term any of whose values matches the empty string gives
//     none (the field may be absent).
//   - A check looks for every occurrence of the key, `"verb"` followed by
//     a colon (spaces allowed), and tests the value after it with the
//     term's own globs, numbers or times (a string with escapes keeps the
//     line), so case folding, globs, commas and resource names work
//     exactly as in Match. The top-level field is one of the occurrences;
//     nested ones (a request body's "name") may keep a line that the
//     top-level value alone would drop, never the reverse.
//   - Before that, a literal value (the longest literal part of a glob) is
//     searched for on the whole line, ignoring case, as grep would: a line
//     without it, and without a JSON escape that could spell one of its
//     bytes, cannot hold the value. Groups and IPv4 addresses are checked
//     this way only.
//   - A line in which the key never occurs is kept (some stages lack some
//     fields, see below). So is a line holding \u0040-\u007f escapes,
//     which could spell a key in a form the search does not see.
//   - The apiserver writes the fields checked here in every stage of a
//     request with the same value (they come from the URL, from
//     authentication and from authorization), so a line that fails a check
//     belongs to a request that fails the filter, and every line of a
//     matching request passes. The exceptions: impersonatedUser and
//     impersonated groups are set after RequestReceived (user and group
//     checks keep RequestReceived lines), objectRef.name (creates) and
//     objectRef.namespace are filled in from the request body after
//     RequestReceived only when the URL had none, where the
//     RequestReceived line then has no such key and is kept; and code,
//     decision, reason and message are absent from RequestReceived and are
//     the last stage's: only RowPrefilter checks them (see there).

// RowPrefilter is Prefilter for outputs made of requests rather than of
// their lines (--count, --top, the table), where every field of a row is
// also in the request's last stage. It may also skip lines of a matching
// request when its last stage holds everything the row shows, which lets
// it skip far more:
//
//   - A RequestReceived line that fails a check is skipped even where the
//     field may be filled in later (impersonatedUser, a generateName
//     create's name): the later stage that has the value is kept.
//   - code, decision, reason and message are checked, and skip
//     RequestReceived lines (which never carry them) when the term cannot
//     match a request without them. They are the last stage's, so a
//     ResponseStarted line, which a later stage may contradict, is kept.
//   - latency> and latency>= skip a stage whose own latency is too short:
//     a request's latency is that of its last stage.
//
// Rows come from the lines kept, so they are the same rows; with user=, a
// request made by impersonating the user is first read at its last stage,
// so it may sit a little later in the table than a full read would put it.
// With bare words (which search every line of a request) it is Prefilter.
func (f *Filter) RowPrefilter() func(line []byte) bool {
	if f == nil {
		return nil
	}
	if f.NeedsRaw() {
		return f.Prefilter()
	}
	return f.prefilter(true)
}

// Prefilter returns a test that a raw audit event line must pass for the
// line to belong to a request the filter can match, or nil when the filter
// gives no such test. Lines that fail it can be skipped before parsing; the
// matching requests, and each one's events, stay the same (see above for
// why). It is cheap (a few substring searches) and safe for concurrent use.
func (f *Filter) Prefilter() func(line []byte) bool {
	if f == nil {
		return nil
	}
	return f.prefilter(false)
}

func (f *Filter) prefilter(strict bool) func(line []byte) bool {
	var checks []prefield
	for _, t := range f.terms {
		if c, ok := prefieldOf(t, strict); ok {
			checks = append(checks, c)
		}
	}
	if len(checks) == 0 {
		return nil
	}
	// Terms with needles first: a rare value rejects a line fastest.
	slices.SortStableFunc(checks, func(a, b prefield) int { return cmp.Compare(len(b.needles), len(a.needles)) })
	return func(line []byte) bool {
		for i := range checks {
			if !checks[i].pass(line) {
				return false
			}
		}
		return true
	}
}

// prefield is a field term that can be checked on a raw line.
type prefield struct {
	key          []byte // `"verb"`; nil when only needles are checked
	rare         int    // index in key of its rarest byte in audit JSON, searched for first
	alts         []glob
	names        []string // resource candidates (lowercase), matched with equalFold
	keepReceived bool     // the field may be missing from RequestReceived lines

	// needles: a line that holds none of them (ignoring case) cannot hold a
	// matching value, unless an escape spells one of their bytes.
	needles    []needle
	needleByte [256]bool // bytes of the needles, both cases; [0x80] for any non-ASCII

	num      func(int64) bool     // the value is a number (code)
	timeOK   func(time.Time) bool // the value is a time (since, until)
	lastOnly bool                 // RowPrefilter: the field is the last stage's (code, decision, reason, message)

	plainOnly bool // a string with escapes is no match (surelyStage)

	latency    bool // RowPrefilter latency>=: the line's own latency must reach minLatency
	minLatency time.Duration
}

// prefieldKeys maps a field to the key its value is logged under.
var prefieldKeys = map[string]string{
	"verb":     "verb",
	"user":     "username", // user.username and impersonatedUser.username
	"ns":       "namespace",
	"name":     "name",
	"agent":    "userAgent",
	"uri":      "requestURI",
	"id":       "auditID",
	"level":    "level",
	"since":    "requestReceivedTimestamp",
	"until":    "requestReceivedTimestamp",
	"code":     "code",
	"decision": "authorization.k8s.io/decision",
	"reason":   "authorization.k8s.io/reason",
	"message":  "message",

	"resource": "resource",
}

var (
	receivedCheck = newPrefield("stage", []glob{exactGlob("RequestReceived")})
	startedCheck  = newPrefield("stage", []glob{exactGlob("ResponseStarted")})
	receivedKey   = newPrefield("requestReceivedTimestamp", nil)
	stageAtKey    = newPrefield("stageTimestamp", nil)
	escapeMark    = []byte(`\u00`)
)

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

func prefieldOf(t parsed, strict bool) (prefield, bool) {
	if t.neg || t.field == "" || len(t.values) == 0 {
		return prefield{}, false
	}
	switch t.field {
	case "group":
		// An array: needles only. Impersonated groups are set after
		// RequestReceived.
		if t.op != "=" {
			return prefield{}, false
		}
		c := prefield{keepReceived: !strict}
		for _, v := range t.values {
			if g := compileGlob(v); g.match("") {
				return prefield{}, false
			}
		}
		if !c.addNeedles(t.values) {
			return prefield{}, false
		}
		return c, true
	case "ip":
		return ipPrefield(t.pred)
	case "latency":
		p, ok := t.pred.(*latencyPred)
		if !ok || !strict || p.lo <= 0 || p.hi != math.MaxInt64 {
			return prefield{}, false // only a lower bound holds for one stage
		}
		return prefield{latency: true, minLatency: p.lo}, true
	case "since", "until":
		p, ok := t.pred.(*timePred)
		if !ok {
			return prefield{}, false
		}
		// Every stage carries the request's requestReceivedTimestamp.
		c := newPrefield(prefieldKeys[t.field], nil)
		c.timeOK = func(at time.Time) bool {
			if p.since {
				return !at.Before(p.t)
			}
			return !at.After(p.t)
		}
		return c, true
	case "code":
		p, ok := t.pred.(*codePred)
		if !ok || !strict {
			return prefield{}, false
		}
		c := newPrefield("code", nil)
		c.num = func(n int64) bool {
			for _, a := range p.alts {
				if int64(a.lo) <= n && n <= int64(a.hi) {
					return true
				}
			}
			return false
		}
		if c.num(0) {
			return prefield{}, false // matches a request without a code
		}
		c.lastOnly = true
		return c, true
	case "decision", "reason", "message":
		if !strict {
			return prefield{}, false
		}
	}
	key, ok := prefieldKeys[t.field]
	if !ok || t.op != "=" {
		return prefield{}, false
	}
	c := newPrefield(key, nil)
	// impersonatedUser, objectRef.name and objectRef.namespace may be
	// filled in after RequestReceived (a generateName create gets its name
	// from the server), and a nested "name" of some other object may be all
	// the RequestReceived line holds: keep those lines whole (RowPrefilter
	// need not: the last stage has the value).
	c.keepReceived = !strict && (t.field == "user" || t.field == "name" || t.field == "ns")
	c.lastOnly = t.field == "decision" || t.field == "reason" || t.field == "message"
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
	if t.field != "level" && t.field != "decision" {
		c.addNeedles(t.values)
	}
	return c, true
}

// addNeedles takes the longest literal part of each value as a needle; it
// gives none (false) when some value has no literal part.
func (c *prefield) addNeedles(values []value) bool {
	var ns []needle
	for _, v := range values {
		g := compileGlob(v)
		best := ""
		for _, seg := range g.segs {
			if len(seg) > len(best) {
				best = seg
			}
		}
		if best == "" {
			return false
		}
		ns = append(ns, newNeedle(best))
	}
	c.needles = ns
	for _, n := range ns {
		for i := 0; i < len(n.low); i++ {
			b := n.low[i]
			if b >= 0x80 {
				c.needleByte[0x80] = true
				continue
			}
			c.needleByte[b] = true
			if 'a' <= b && b <= 'z' {
				c.needleByte[b-'a'+'A'] = true
			}
		}
	}
	return true
}

// ipPrefield gives IPv4 addresses a needle: the apiserver writes sourceIPs
// as Go formats them, so an IPv4 address (or an IPv4-mapped IPv6 one, which
// holds it) is written as the dotted quad. IPv6 text has several spellings
// and CIDRs none: those give no check.
func ipPrefield(p pred) (prefield, bool) {
	ip, ok := p.(*ipPred)
	if !ok {
		return prefield{}, false
	}
	var c prefield
	for _, a := range ip.alts {
		if !a.addr.IsValid() || !a.addr.Is4() {
			return prefield{}, false
		}
		c.needles = append(c.needles, newNeedle(a.addr.String()))
	}
	for _, n := range c.needles {
		for i := 0; i < len(n.low); i++ {
			c.needleByte[n.low[i]] = true
		}
	}
	return c, len(c.needles) > 0
}

// pass reports whether line may hold a matching value of the field.
func (c *prefield) pass(line []byte) bool {
	if c.latency {
		return c.longEnough(line)
	}
	if len(c.needles) > 0 && !c.anyNeedle(line) && !c.escapeCouldSpell(line) {
		// The value is not on the line, in any spelling.
		return c.keepReceived && isStage(line, receivedCheck) || c.lastOnly && isStage(line, startedCheck)
	}
	if c.key == nil {
		return true
	}
	matched, found := c.search(line)
	if matched {
		return true
	}
	if !found {
		// The field is absent: kept, as the request may get it from
		// another stage, except a RequestReceived line when the term
		// needs a field that stage never has.
		return !c.lastOnly || !surelyStage(line, receivedCheck)
	}
	if hasEscapedASCII(line) {
		return true
	}
	return c.keepReceived && isStage(line, receivedCheck) || c.lastOnly && isStage(line, startedCheck)
}

// isStage reports whether the line may be of the stage check looks for:
// a stage spelled with escapes may be it (the line is then kept).
func isStage(line []byte, check prefield) bool {
	matched, _ := check.search(line)
	return matched
}

// surelyStage reports whether the line is of that stage for sure, written
// plainly: a line is dropped for its stage only then.
func surelyStage(line []byte, check prefield) bool {
	matched, _ := check.search(line)
	if !matched {
		return false
	}
	sure := check
	sure.plainOnly = true
	matched, _ = sure.search(line)
	return matched && !hasEscapedASCII(line)
}

// anyNeedle reports whether some needle occurs in line, ignoring case.
func (c *prefield) anyNeedle(line []byte) bool {
	s := bytesString(line)
	for i := range c.needles {
		if c.needles[i].index(s) >= 0 {
			return true
		}
	}
	return false
}

// escapeCouldSpell reports whether line holds a JSON escape that decodes
// to a byte of a needle: the value could then be on the line in a form the
// needle search does not see. (\u0026, the & of every URI with a query,
// is harmless unless a needle holds an &.)
func (c *prefield) escapeCouldSpell(line []byte) bool {
	for rest := line; ; {
		i := bytes.IndexByte(rest, '\\')
		if i < 0 || i+1 >= len(rest) {
			return false
		}
		rest = rest[i+1:]
		var b byte
		switch rest[0] {
		case '"', '\\', '/':
			b = rest[0]
		case 'b':
			b = '\b'
		case 'f':
			b = '\f'
		case 'n':
			b = '\n'
		case 'r':
			b = '\r'
		case 't':
			b = '\t'
		case 'u':
			if len(rest) < 5 {
				return true
			}
			v, err := strconv.ParseUint(string(rest[1:5]), 16, 16)
			if err != nil {
				return true
			}
			if v >= 0x80 {
				b = 0x80
			} else {
				b = byte(v)
			}
			rest = rest[4:]
		default:
			return true
		}
		if c.needleByte[b] {
			return true
		}
		rest = rest[1:]
	}
}

// longEnough is the latency>= check of one stage: a line whose stage came
// too soon after the request was received cannot be the last stage of a
// request slow enough. A line whose times cannot be read for sure is kept.
func (c *prefield) longEnough(line []byte) bool {
	recv, ok1 := onlyTime(line, receivedKey)
	at, ok2 := onlyTime(line, stageAtKey)
	if !ok1 || !ok2 {
		return true
	}
	return at.Sub(recv) >= c.minLatency
}

// onlyTime reads the time under key when the key occurs exactly once, as a
// plain string.
func onlyTime(line []byte, key prefield) (time.Time, bool) {
	var at time.Time
	n := 0
	for rest := line; ; {
		i := key.index(rest)
		if i < 0 {
			break
		}
		rest = rest[i+len(key.key):]
		j := skipJSONSpace(rest, 0)
		if j >= len(rest) || rest[j] != ':' {
			continue
		}
		j = skipJSONSpace(rest, j+1)
		if j >= len(rest) || rest[j] != '"' {
			return time.Time{}, false
		}
		v, m, plain := jsonString(rest[j+1:])
		if !plain {
			return time.Time{}, false
		}
		if n++; n > 1 {
			return time.Time{}, false // another one, in a body: not sure which is the event's
		}
		if at = audit.ParseTime(v); at.IsZero() {
			return time.Time{}, false
		}
		rest = rest[j+1+m:]
	}
	return at, n == 1
}

// search reports whether some occurrence of the key holds a matching value
// (or a value the parser must decide: a string with escapes, a number
// that is not a plain integer), and whether the key occurs at all.
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
		if c.num != nil {
			n, k, ok := jsonInt(rest[j:])
			if !ok && j < len(rest) && (rest[j] == '"' || rest[j] == '{' || rest[j] == '[' || rest[j] == 'n' || rest[j] == 't' || rest[j] == 'f') {
				continue // not a number: the field does not read as one here
			}
			if !ok || c.num(n) {
				return true, true
			}
			rest = rest[j+k:]
			continue
		}
		if j >= len(rest) || rest[j] != '"' {
			continue // not a string: the field reads as ""
		}
		v, n, plain := jsonString(rest[j+1:])
		if !plain {
			if c.plainOnly {
				rest = rest[j+1+n:]
				continue
			}
			return true, true
		}
		if c.timeOK != nil {
			if at := audit.ParseTime(v); at.IsZero() || c.timeOK(at) {
				return true, true
			}
		} else if c.matches(v) {
			return true, true
		}
		rest = rest[j+1+n:]
	}
}

// jsonInt reads an integer at the start of b: its value and length; ok is
// false for anything else (a fraction, an exponent, too many digits).
func jsonInt(b []byte) (n int64, length int, ok bool) {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-start >= 15 {
			return 0, i, false
		}
		n = n*10 + int64(b[i]-'0')
		i++
	}
	if i == start || i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		return 0, i, false
	}
	if b[0] == '-' {
		n = -n
	}
	return n, i, true
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
