package source

import (
	"bytes"
	"time"
	"unicode/utf8"

	"github.com/kauditui/kauditui/audit"
	"github.com/tidwall/gjson"
)

// kind is what one line of a log is.
type kind int

const (
	kindBlank     kind = iota // empty or only white space: skipped, not counted
	KindAudit                 // an audit event (kind Event, apiVersion audit.k8s.io/*)
	kindEventList             // a webhook batch (kind EventList, items[])
	kindKlog                  // a klog header line
	kindJSON                  // valid JSON, but not an audit event
	kindBadJSON               // starts like JSON, does not parse (truncated, corrupted)
	kindBinary                // NUL bytes or invalid UTF-8
	kindText                  // any other text (a klog continuation when it follows klog)
	kindJSONArray             // a JSON array (of events, in a JSON stream input)
	kindExport                // a managed cluster's export record holding events (managed.go)
	kindStamped               // a stdout-mode line after a timestamp (kubectl logs --timestamps)
)

var kindNames = [...]string{"blank", "audit", "eventlist", "klog", "json", "bad-json", "binary", "text", "json-array", "export", "stamped"}

func (k kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Classify says what a line is. It never fails: anything that is not audit,
// a batch, klog or blank is one of the "other" kinds.
func Classify(line []byte) kind {
	t := bytes.TrimSpace(line)
	if len(t) == 0 {
		return kindBlank
	}
	if t[0] == '[' && audit.ValidJSON(t) {
		return kindJSONArray
	}
	if t[0] == '{' {
		// audit's validator bounds nesting; gjson's recursion does not
		if !audit.ValidJSON(t) {
			return kindBadJSON
		}
		r := gjson.GetManyBytes(t, "kind", "apiVersion")
		if r[1].Type == gjson.String && len(r[1].Str) > 13 && r[1].Str[:13] == "audit.k8s.io/" {
			switch {
			case r[0].Type == gjson.String && r[0].Str == "Event":
				return KindAudit
			case r[0].Type == gjson.String && r[0].Str == "EventList":
				return kindEventList
			}
		}
		if exportOf(gjson.ParseBytes(t)) != "" {
			return kindExport
		}
		return kindJSON
	}
	if isKlogHeader(line) {
		return kindKlog
	}
	if _, _, ok := tsPrefix(t, false); ok {
		return kindStamped
	}
	if isBinary(line) {
		return kindBinary
	}
	return kindText
}

// utf8BOM is the byte-order mark that Windows editors and PowerShell's
// Out-File put at the start of a UTF-8 file.
var utf8BOM = []byte("\xef\xbb\xbf")

// trimBOM drops a byte-order mark from the start of an input (its first
// line at offset 0): the line reads, and its Ref points, after it.
func trimBOM(l *line) {
	if l.n == 1 && l.off == 0 && bytes.HasPrefix(l.text, utf8BOM) {
		n := int64(len(utf8BOM))
		l.text, l.off, l.size = l.text[n:], l.off+n, l.size-n
	}
}

// whyOther is the reason recorded for an "other" line.
func whyOther(k kind) string {
	switch k {
	case kindBadJSON:
		return "invalid JSON"
	case kindJSON:
		return "JSON but not an audit event"
	case kindBinary:
		return "binary data"
	case kindEventList:
		return "EventList without usable items"
	case KindAudit:
		return "audit event without usable fields"
	case kindJSONArray:
		return "JSON array without audit events"
	case kindExport:
		return "export record (EKS, AKS, GKE) without audit events"
	}
	return "neither audit JSON nor klog"
}

func isBinary(b []byte) bool {
	return bytes.IndexByte(b, 0) >= 0 || !utf8.Valid(b)
}

// klog header: Lmmdd hh:mm:ss.uuuuuu PID file:line] msg
// (PID right-aligned in 7 columns, so one or more spaces before it).
func isKlogHeader(b []byte) bool {
	_, ok := parseKlogHeader(b)
	return ok
}

type klogHeader struct {
	sev                    byte
	month, day             int
	hour, min, sec, micros int
	pid                    int
	file                   []byte
	msg                    []byte
}

func parseKlogHeader(b []byte) (h klogHeader, ok bool) {
	// "I0827 16:40:51.617123 " is 22 bytes
	if len(b) < 22 {
		return h, false
	}
	switch b[0] {
	case 'I', 'W', 'E', 'F':
	default:
		return h, false
	}
	h.sev = b[0]
	if b[5] != ' ' || b[8] != ':' || b[11] != ':' || b[14] != '.' || b[21] != ' ' {
		return h, false
	}
	var ok1, ok2, ok3, ok4, ok5, ok6 bool
	h.month, ok1 = num(b[1:3])
	h.day, ok2 = num(b[3:5])
	h.hour, ok3 = num(b[6:8])
	h.min, ok4 = num(b[9:11])
	h.sec, ok5 = num(b[12:14])
	h.micros, ok6 = num(b[15:21])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || h.month < 1 || h.month > 12 || h.day < 1 || h.day > 31 || h.hour > 23 || h.min > 59 || h.sec > 60 {
		return h, false
	}
	i := 22
	for i < len(b) && b[i] == ' ' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || i-start > 10 || i >= len(b) || b[i] != ' ' {
		return h, false
	}
	h.pid, _ = num(b[start:i])
	i++
	end := bytes.IndexByte(b[i:], ']')
	if end < 1 {
		return h, false
	}
	h.file = b[i : i+end]
	if bytes.IndexByte(h.file, ':') < 0 || bytes.IndexByte(h.file, ' ') >= 0 {
		return h, false
	}
	rest := b[i+end+1:]
	if len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	h.msg = rest
	return h, true
}

func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseKlog reads a klog header line. klog does not log the year: the line
// is placed in the year that puts it nearest to near (the time of the
// surrounding audit events or CRI records, or the file's modification
// time); with a zero near, the current year. Times are taken as UTC, as
// kube-apiserver containers run.
func parseKlog(line []byte, near time.Time) (audit.KlogLine, bool) {
	h, ok := parseKlogHeader(line)
	if !ok {
		return audit.KlogLine{}, false
	}
	return audit.KlogLine{
		Severity: h.sev,
		Time:     h.time(near),
		PID:      h.pid,
		File:     string(h.file),
		Msg:      string(h.msg),
	}, true
}

func (h *klogHeader) time(near time.Time) time.Time {
	if near.IsZero() {
		near = time.Now()
	}
	near = near.UTC()
	at := func(y int) time.Time {
		return time.Date(y, time.Month(h.month), h.day, h.hour, h.min, h.sec, h.micros*1000, time.UTC)
	}
	t := at(near.Year())
	// a line logged on Dec 31 read next to a Jan 1 event, and the reverse
	if d := t.Sub(near); d > 183*24*time.Hour {
		t = at(near.Year() - 1)
	} else if d < -183*24*time.Hour {
		t = at(near.Year() + 1)
	}
	return t
}

// criRecord is one record of a CRI container log:
// "<RFC3339Nano time> <stdout|stderr> <P|F>[:tags] <text>".
type criRecord struct {
	Time    time.Time
	Stderr  bool
	Partial bool   // P: the text continues in the next record of the stream
	Text    []byte // aliases the line
}

// ParseCRI reads one CRI log record; ok is false when the line is not one.
func ParseCRI(line []byte) (rec criRecord, ok bool) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 20 || sp > 40 {
		return rec, false
	}
	ts := line[:sp]
	if ts[4] != '-' || ts[10] != 'T' {
		return rec, false
	}
	rec.Time = audit.ParseTime(string(ts))
	if rec.Time.IsZero() {
		return rec, false
	}
	rest := line[sp+1:]
	switch {
	case bytes.HasPrefix(rest, []byte("stdout ")):
	case bytes.HasPrefix(rest, []byte("stderr ")):
		rec.Stderr = true
	default:
		return rec, false
	}
	rest = rest[7:]
	if len(rest) == 0 || (rest[0] != 'P' && rest[0] != 'F') {
		return rec, false
	}
	rec.Partial = rest[0] == 'P'
	// tags: "F" or "F:more:tags", then a space and the text (absent when empty)
	i := bytes.IndexByte(rest, ' ')
	if i < 0 {
		i = len(rest)
	}
	if i > 1 && rest[1] != ':' {
		return rec, false
	}
	if i < len(rest) {
		rec.Text = rest[i+1:]
	} else {
		rec.Text = rest[i:]
	}
	return rec, true
}
