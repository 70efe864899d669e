package ui

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// From the apiserver's own log to the audit log and back: enter on a line
// that names an audit ID opens that request, y copies the line, and a
// 401's Detail shows what the apiserver said about it (detail.go calls
// klogAbout).

// klogAuditIDRE finds the audit ID a log line names, in the spellings of
// the apiserver's lines: httplog's `audit-ID="…"` (text and, flattened by
// the reader, --logging-format=json), `auditID=…` and `"auditID":"…"`.
var klogAuditIDRE = regexp.MustCompile(`(?i)\baudit-?id"?\s*[=:]\s*"?([^"\s,}\]]+)`)

// klogAuditID is the audit ID msg names, or "".
func klogAuditID(msg string) string {
	if m := klogAuditIDRE.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// selectedLine is the index (in klog or other) of the line under the
// cursor, or -1.
func (p *klogPage) selectedLine() int {
	if p.cur < 0 || p.cur >= len(p.rows) {
		return -1
	}
	return p.rows[p.cur].line
}

// selectedText is the selected line as logged (raw when it can be read
// again, else as the reader kept it), and when it was written.
func (p *klogPage) selectedText() (text string, at time.Time, ok bool) {
	i := p.selectedLine()
	if i < 0 {
		return "", time.Time{}, false
	}
	if p.showOther {
		l := &p.other[i]
		if p.env.Data.Raw != nil {
			if raw, err := p.env.Data.Raw(l.Ref); err == nil {
				return string(raw), time.Time{}, true
			}
		}
		return "", time.Time{}, false
	}
	l := &p.klog[i]
	if p.env.Data.Raw != nil && !strings.Contains(l.Msg, "\n") {
		if raw, err := p.env.Data.Raw(l.Ref); err == nil {
			return string(raw), l.Time, true
		}
	}
	return klogPlain(l), l.Time, true
}

// klogPlain is a klog line as text, unsanitised: the user's data, for the
// clipboard.
func klogPlain(l *audit.KlogLine) string {
	head := string(rune(l.Severity))
	if l.Severity == 0 {
		head = "?"
	}
	ts := ""
	if !l.Time.IsZero() {
		ts = render.FormatTime(l.Time, render.TimeMedium)
	}
	return head + " " + ts + " " + l.File + "] " + l.Msg
}

// copyValue implements valueCopier: the selected line, as logged.
func (p *klogPage) copyValue() (string, string) {
	text, _, ok := p.selectedText()
	if !ok {
		return "", "no log line selected"
	}
	return text, fmt.Sprintf("log line %d", p.selectedLine()+1)
}

// openLine opens the request the selected line names by its audit ID.
func (p *klogPage) openLine() tea.Cmd {
	text, at, ok := p.selectedText()
	if !ok {
		return statusCmd("no log line selected", true)
	}
	id := klogAuditID(text)
	if id == "" {
		return statusCmd("this line names no audit-ID: enter opens the request of a line that does (httplog's \"HTTP\" lines)", true)
	}
	reqs := p.env.src.withID(id)
	if len(reqs) == 0 {
		return statusCmd("no request with audit-ID "+sanitize(id)+" in the audit log: its policy rule may log it at level None, or it is in a file not loaded", true)
	}
	r := nearestRequest(p.env.Data.Store, reqs, at)
	open := func() tea.Msg { return openRequestMsg{Req: r} }
	if len(reqs) > 1 {
		return tea.Batch(open, statusCmd(fmt.Sprintf("%d requests carry audit-ID %s (a client chose it): opened the one nearest the line's time", len(reqs), sanitize(id)), false))
	}
	return open
}

// nearestRequest is the request of reqs (sharing one audit ID) that was
// running when at, or the one nearest to it; the newest without a time.
func nearestRequest(st *audit.Store, reqs []*audit.Request, at time.Time) *audit.Request {
	best := reqs[len(reqs)-1]
	if at.IsZero() {
		return best
	}
	var bestD time.Duration = -1
	st.Read(func(audit.Snapshot) {
		for _, r := range reqs {
			d := time.Duration(0)
			switch {
			case at.Before(r.First()):
				d = r.First().Sub(at)
			case at.After(r.Last()):
				d = at.Sub(r.Last())
			}
			if bestD < 0 || d < bestD {
				best, bestD = r, d
			}
		}
	})
	return best
}

// --- what the apiserver said about a request (Detail) -----------------------

// klogAuthFailure is the message the apiserver logs when it cannot
// authenticate a request (k8s.io/apiserver endpoints/filters/authentication.go),
// followed by the reason: err="invalid bearer token", an expired certificate.
const klogAuthFailure = "Unable to authenticate the request"

// klogIPRE finds a client address a log line names (httplog's srcIP).
var klogIPRE = regexp.MustCompile(`(?i)\b(?:srcIP|sourceIP|clientIP|remoteAddr)"?\s*[=:]\s*"?([^"\s,}\]]+)`)

// klogSays is what the apiserver's own log says about one request.
type klogSays struct {
	loaded bool  // the store holds klog lines at all
	named  []int // lines naming the request's audit ID
	timed  []int // failed-authentication lines of its second (and address)
	others int   // other failed authentications in that second: a timed line may be theirs
	lines  []audit.KlogLine
	// scanned is how many klog lines were read: a following log grows
	scanned int
}

// klogAbout finds the apiserver's lines about r, a 401: those naming its
// audit ID (httplog) and, when no user was authenticated, the
// "Unable to authenticate the request" lines written in the same second,
// from the same address where the line has one. It goes on from prev,
// what was found in the first prev.scanned lines (a following log grows).
// Call it under Store.Read.
func klogAbout(snap audit.Snapshot, r *audit.Request, prev klogSays, src *indexSource) klogSays {
	s := prev
	if s.scanned > len(snap.Klog) { // another store
		s = klogSays{}
	}
	s.loaded, s.lines = len(snap.Klog) > 0, snap.Klog
	start := s.scanned
	s.scanned = len(snap.Klog)
	if !s.loaded {
		return s
	}
	authFailed := r.User == ""
	from, to := r.First().Truncate(time.Second), r.Last().Truncate(time.Second).Add(time.Second)
	timedBefore := len(s.timed)
	for i := start; i < len(snap.Klog); i++ {
		l := &snap.Klog[i]
		// the cheap tests first: a 401's Detail scans every klog line
		if r.AuditID != "" && strings.Contains(l.Msg, r.AuditID) && klogAuditID(l.Msg) == r.AuditID {
			s.named = append(s.named, i)
			continue
		}
		if !authFailed || l.Time.Before(from) || !l.Time.Before(to) || !strings.Contains(l.Msg, klogAuthFailure) ||
			klogAuditID(l.Msg) != "" { // a line naming another request is not about this one
			continue
		}
		if ip := klogLineIP(l.Msg); ip != "" && !sameClient(ip, r.SourceIPs) {
			continue
		}
		s.timed = append(s.timed, i)
	}
	if len(s.timed) > timedBefore { // lines by time: how many other requests they may be about
		in := func(o *audit.Request) bool {
			return o.Code == 401 && o.User == "" && !o.First().Before(from) && o.First().Before(to)
		}
		s.others = src.countLocked(snap, in)
		if in(r) {
			s.others-- // r itself (read whole, or the store's own)
		}
	}
	return s
}

// klogLineIP is the client address a line names, without its port.
func klogLineIP(msg string) string {
	m := klogIPRE.FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(m[1]); err == nil {
		return host
	}
	return m[1]
}

func sameClient(ip string, sources []string) bool {
	for _, s := range sources {
		if s == ip {
			return true
		}
	}
	return false
}

// klogText is a klog line as the apiserver-log page shows it, whole,
// sanitised, on one line.
func klogText(l *audit.KlogLine) string {
	return sanitize(klogPlain(l))
}
