package ui

import (
	"bytes"
	"encoding/csv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// What the Requests list, the Answers page and its screens, and the
// apiserver log offer to y, Y, ctrl+s, v, e (take.go) and to the search
// (search.go).

// --- Requests ---------------------------------------------------------------

func (p *requestsPage) focusedRequest() *audit.Request { return p.Selected() }

func (p *requestsPage) copyValue() (string, string) {
	r := p.Selected()
	if r == nil {
		return "", "no request selected"
	}
	return r.AuditID, "the auditID of " + requestWords(p.env, r)
}

// export is the list as shown: every request passing the filter, in the
// list's order.
func (p *requestsPage) export() *exportJob {
	return requestsExport(p.env.Data, p.shown, "kauditui-requests")
}

// --- Answers ----------------------------------------------------------------

// selectedResult is the result under the cursor when the cursor is in the
// result list and no screen covers it.
func (p *answersPage) selectedResult() *audit.Request {
	if p.screens.top() == nil && p.inResults && p.resultAt < rowsLen(p.result.matches) {
		return p.resultWhole(p.resultAt)
	}
	return nil
}

func (p *answersPage) focusedRequest() *audit.Request { return p.selectedResult() }

func (p *answersPage) copyValue() (string, string) {
	if c, ok := p.screens.top().(valueCopier); ok {
		return c.copyValue()
	}
	if r := p.selectedResult(); r != nil {
		return r.AuditID, "the auditID of " + requestWords(p.env, r)
	}
	return "", "go into the results (→) to copy a request's auditID"
}

func (p *answersPage) export() *exportJob {
	if e, ok := p.screens.top().(exporter); ok {
		return e.export()
	}
	if p.screens.top() == nil && p.inResults && p.result.fs != nil {
		return requestsExport(p.env.Data, p.result.fs.list(), "kauditui-answer")
	}
	return nil
}

func (p *answersPage) pageText() (string, string) {
	if t, ok := p.screens.top().(texter); ok {
		return t.pageText()
	}
	return "answers", ""
}

// OwnsKey gives / to a text screen's search.
func (p *answersPage) OwnsKey(msg tea.KeyPressMsg) bool {
	o, ok := p.screens.top().(keyOwner)
	return ok && o.OwnsKey(msg)
}

// screenCaptures is whether the screen in front is taking text.
func (p *answersPage) screenCaptures() bool {
	c, ok := p.screens.top().(inputCapturer)
	return ok && c.CapturesInput()
}

// --- History, RBAC, coverage (historyScreen) --------------------------------

// historyExport says what a text screen is, for copy and export.
type historyExport struct {
	what string   // "the RBAC answer for alice", sanitised
	base string   // the file name's start
	name string   // "YAML", "text"
	exts []string // the first is the default
}

// copyValue is the whole text: the answer (a history, the Roles and
// bindings of an RBAC answer) is what the screen is about.
func (s *historyScreen) copyValue() (string, string) {
	return strings.Join(s.lines, "\n") + "\n", s.exportAs().what + ", " + plural(len(s.lines), "line")
}

func (s *historyScreen) export() *exportJob {
	e := s.exportAs()
	return textExport(e.what, e.base, e.name, e.exts, s.lines)
}

func (s *historyScreen) exportAs() historyExport {
	if s.as.what != "" {
		return s.as
	}
	return historyExport{what: "this text", base: "kauditui", name: "text", exts: []string{".txt"}}
}

func (s *historyScreen) pageText() (string, string) {
	return strings.TrimPrefix(s.exportAs().base, "kauditui-"), strings.Join(s.lines, "\n") + "\n"
}

func (s *historyScreen) OwnsKey(msg tea.KeyPressMsg) bool { return key.Matches(msg, s.env.Keys.Search) }

func (s *historyScreen) CapturesInput() bool { return s.search.editing }

// searchKey handles /, n, N and the search prompt; ok is false for other
// keys.
func (s *historyScreen) searchKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := s.env.Keys
	if s.search.input.Prompt == "" { // built as a literal by its openers
		s.search = newPageSearch(s.env, "search: ")
	}
	if s.search.editing {
		applied, _, cmd := s.search.edit(msg, k)
		if applied {
			return s.findNext(s.top-1, 1), true
		}
		return cmd, true
	}
	switch {
	case key.Matches(msg, k.Search):
		return s.search.open(s.width), true
	case key.Matches(msg, k.SearchNext):
		return s.findNext(s.matchFrom(), 1), true
	case key.Matches(msg, k.SearchPrev):
		return s.findNext(s.matchFrom(), -1), true
	}
	return nil, false
}

// matchFrom is where n and N go on from: the line found last, while it is
// in view, else the top line.
func (s *historyScreen) matchFrom() int {
	if s.found && s.matchAt >= s.top && s.matchAt < s.top+s.rows() {
		return s.matchAt
	}
	return s.top
}

func (s *historyScreen) findNext(from, dir int) tea.Cmd {
	lines := s.layout()
	at, cmd := s.search.find(len(lines), func(i int) string { return lines[i].text }, from, dir)
	if at >= 0 {
		s.matchAt, s.found = at, true
		s.top = clampInt(at, 0, max(0, len(lines)-s.rows()))
	}
	return cmd
}

// --- Timeline ---------------------------------------------------------------

// copyValue is the selected step told in full (as below the list).
func (s *timelineScreen) copyValue() (string, string) {
	if len(s.tl.Buckets) == 0 {
		return "", "no step with requests"
	}
	b := s.tl.Buckets[s.cursor]
	return strings.Join(render.TimelineBucketText(b, s.tl.Step), "\n") + "\n",
		"the step at " + render.TimelineTime(b.Start, s.tl.Step)
}

// export is the timeline as CSV (a row per step, every column whole) or as
// the text query --timeline prints.
func (s *timelineScreen) export() *exportJob {
	if len(s.tl.Buckets) == 0 {
		return nil
	}
	tl := s.tl
	return &exportJob{what: "the timeline (" + plural(len(tl.Buckets), "step") + " of " + render.FormatStep(tl.Step) + ")",
		base: "kauditui-timeline", formats: []exportFormat{
			{exts: []string{".csv"}, name: "CSV", build: func() ([]byte, error) {
				rows, _ := render.TimelineTable(tl, 0)
				var buf bytes.Buffer
				w := csv.NewWriter(&buf)
				w.Write(render.TimelineColumns)
				w.WriteAll(rows)
				return buf.Bytes(), w.Error()
			}},
			{exts: []string{".txt"}, name: "text", build: func() ([]byte, error) {
				return []byte(strings.Join(render.TimelineText(tl, 0), "\n") + "\n"), nil
			}},
		}}
}

func (s *timelineScreen) pageText() (string, string) {
	return "timeline", strings.Join(render.TimelineText(s.tl, 0), "\n") + "\n"
}

// --- Apiserver log ----------------------------------------------------------

// pageText is the lines the log page shows (its filter and severity
// applied), whole, sanitised.
func (p *klogPage) pageText() (string, string) {
	var b strings.Builder
	for _, i := range p.matched {
		b.WriteString(p.lineText(i))
		b.WriteByte('\n')
	}
	return "apiserver-log", b.String()
}

// lineText is matched line i as text: a klog line with its severity, time,
// file and whole message; an other line with where it is, why, and its text.
func (p *klogPage) lineText(i int) string {
	if p.showOther {
		l := &p.other[i]
		return ansi.Strip(p.otherLine(l, 1<<16))
	}
	l := &p.klog[i]
	head := string(rune(l.Severity))
	if l.Severity == 0 {
		head = "?"
	}
	ts := render.FormatTime(l.Time, render.TimeMedium)
	if l.Time.IsZero() {
		ts = strings.Repeat(" ", render.TimeWidth(render.TimeMedium))
	}
	msg := strings.Split(l.Msg, "\n") // klog's further lines, under the first
	for j := range msg {
		msg[j] = sanitize(msg[j])
	}
	return head + " " + ts + " " + sanitize(l.File) + "] " + strings.Join(msg, "\n"+klogIndent)
}

// findKey handles f (the find prompt), n and N; ok is false for other keys.
func (p *klogPage) findKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := p.env.Keys
	if p.find.editing {
		applied, _, cmd := p.find.edit(msg, k)
		if applied {
			return p.findNext(p.topLine()-1, 1), true
		}
		return cmd, true
	}
	switch {
	case key.Matches(msg, k.KlogFind):
		return p.find.open(p.width), true
	case key.Matches(msg, k.SearchNext):
		return p.findNext(p.topLine(), 1), true
	case key.Matches(msg, k.SearchPrev):
		return p.findNext(p.topLine(), -1), true
	}
	return nil, false
}

// topLine is the index in matched of the line under the cursor.
func (p *klogPage) topLine() int {
	if p.cur >= len(p.rows) {
		return len(p.matched) - 1
	}
	line := p.rows[p.cur].line
	for j, i := range p.matched {
		if i == line {
			return j
		}
	}
	return 0
}

// findNext scrolls the line found to the top of the view and puts the
// cursor on it.
func (p *klogPage) findNext(from, dir int) tea.Cmd {
	at, cmd := p.find.find(len(p.matched), func(j int) string { return p.lineText(p.matched[j]) }, from, dir)
	if at < 0 {
		return cmd
	}
	want := p.matched[at]
	for r, row := range p.rows {
		if row.line == want {
			p.follow = false
			p.top, p.cur = r, r
			p.clampTop()
			break
		}
	}
	return cmd
}
