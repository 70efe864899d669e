package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/detect"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// findingsScreen is the Findings answer: what the rules of package detect
// found in every request of the store, oldest first; enter opens the
// finding's request, or the Requests page filtered to its requests.
type findingsScreen struct {
	env      *Env
	res      detect.Result
	rows     [][]string // time, severity, rule, user, what: sanitised
	widths   []int
	cursor   int
	top      int
	width    int
	height   int
	rulesRun int
}

// findingsDetailLines is the selected finding told in full below the list.
const findingsDetailLines = 3

// openFindings runs the rules over every request and shows what they found.
func (p *answersPage) openFindings() tea.Cmd {
	rules := detect.Builtin() // the Sigma rules of --rules are query's, not yet the explorer's
	reqs, err := p.src().whole(findingCandidates(p.src(), p.all, rules, p.now()), "--detect")
	if err != nil {
		return statusCmd(err.Error(), true)
	}
	var res detect.Result
	p.read(func() { res = detect.Run(rules, reqs, p.env.Data.Raw) })
	s := &findingsScreen{env: p.env, res: res, rulesRun: len(rules)}
	for _, f := range res.Findings {
		s.rows = append(s.rows, []string{render.FormatTime(f.Time(), "01-02 15:04:05"), f.Rule.Severity,
			sanitize(f.Rule.ID), sanitize(f.User()), sanitize(f.Detail)})
	}
	s.widths = make([]int, 4)
	for _, r := range s.rows {
		for i := range s.widths {
			s.widths[i] = max(s.widths[i], min(len([]rune(r[i])), 28))
		}
	}
	p.screens.push(s)
	return nil
}

func (s *findingsScreen) Init() tea.Cmd { return nil }

func (s *findingsScreen) SetSize(width, height int) { s.width, s.height = width, height }

func (s *findingsScreen) ShortHelp() []keyHelp {
	k := s.env.Keys
	return shortHelp(k.Open, k.Back)
}

func (s *findingsScreen) listRows() int { return max(1, s.height-2-findingsDetailLines-1) }

// Update implements component: keys move; enter opens the finding's
// request (one) or sets the filter to its requests (several) and leaves.
func (s *findingsScreen) Update(m tea.Msg) (component, tea.Cmd) {
	msg, ok := m.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.env.Keys
	n := len(s.res.Findings)
	switch {
	case key.Matches(msg, k.Open):
		if n == 0 {
			return s, nil
		}
		f := s.res.Findings[s.cursor]
		if len(f.Requests) == 1 {
			r := f.Requests[0]
			return s, func() tea.Msg { return openRequestMsg{Req: r} }
		}
		expr := findingFilter(f)
		return nil, tea.Sequence(
			func() tea.Msg { return setFilterMsg{Expr: expr} },
			func() tea.Msg { return showPageMsg{Page: stateRequests} },
		)
	case key.Matches(msg, k.Down):
		s.cursor++
	case key.Matches(msg, k.Up):
		s.cursor--
	case key.Matches(msg, k.PageDown):
		s.cursor += s.listRows()
	case key.Matches(msg, k.PageUp):
		s.cursor -= s.listRows()
	case key.Matches(msg, k.Top):
		s.cursor = 0
	case key.Matches(msg, k.Bottom):
		s.cursor = n - 1
	}
	s.cursor = clampInt(s.cursor, 0, max(0, n-1))
	return s, nil
}

// findingFilter is the filter of a finding's requests: id=a,b,... (each
// auditID quoted as the filter language needs: clients choose them).
func findingFilter(f detect.Finding) string {
	var vals []string
	for _, id := range f.AuditIDs() {
		vals = append(vals, strings.TrimPrefix(filter.With("", "id", id, false), "id="))
	}
	return "id=" + strings.Join(vals, ",")
}

// View implements component.
func (s *findingsScreen) View() string {
	st := s.env.Styles
	w := max(s.width, 20)
	var b strings.Builder
	n := len(s.res.Findings)
	head := fmt.Sprintf("Findings: %s of %d rules, oldest first (MITRE ATT&CK techniques; README: Findings)", thousands(n), s.rulesRun)
	b.WriteString(st.Title.Render(truncateCells(head, w)))
	b.WriteString("\n")
	for _, u := range s.res.Unchecked {
		b.WriteString(st.Warning.Render(truncateCells(fmt.Sprintf("%s: %d %s logged without a body: not checked", sanitize(u.Rule.ID), u.Count, u.Rule.BodyWhat()), w)))
		b.WriteString("\n")
	}
	if n == 0 {
		b.WriteString(st.Empty.Render("no findings in the loaded logs"))
		b.WriteString("\n")
		return summaryFit(b.String()+s.footer(w), s.height)
	}
	rows := s.listRows() - len(s.res.Unchecked)
	rows = max(1, rows)
	if s.cursor < s.top {
		s.top = s.cursor
	}
	if s.cursor >= s.top+rows {
		s.top = s.cursor - rows + 1
	}
	for i := s.top; i < min(n, s.top+rows); i++ {
		r := s.rows[i]
		var line strings.Builder
		for c, cell := range r[:4] {
			line.WriteString(padRight(truncateCells(cell, s.widths[c]), s.widths[c]) + "  ")
		}
		line.WriteString(r[4])
		text := padRight(truncateCells(line.String(), w), w)
		switch {
		case i == s.cursor:
			text = st.Selected.Render(text)
		case detect.SeverityRank(s.res.Findings[i].Rule.Severity) >= detect.SeverityRank(detect.High):
			text = st.Warning.Render(text)
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	for i := min(n, s.top+rows) - s.top; i < rows; i++ {
		b.WriteString("\n")
	}
	f := s.res.Findings[s.cursor]
	tech := f.Rule.Technique
	if f.Rule.TechniqueName != "" {
		tech += " " + f.Rule.TechniqueName
	}
	ids := f.AuditIDs()
	idText := "auditID " + ids[0]
	if len(ids) > 1 {
		idText = fmt.Sprintf("%d requests, auditIDs %s …", len(ids), ids[0])
	}
	for _, l := range []string{
		sanitize(f.Rule.Title) + "  ·  " + sanitize(tech) + "  ·  " + sanitize(f.Rule.Severity),
		"why: " + sanitize(f.Rule.Why),
		sanitize(idText),
	} {
		b.WriteString(truncateCells(l, w))
		b.WriteString("\n")
	}
	b.WriteString(s.footer(w))
	return b.String()
}

func (s *findingsScreen) footer(w int) string {
	return s.env.Styles.Muted.Render(truncateCells("enter: open the request(s)  ·  esc: back to the answers", w))
}

var _ subScreen = (*findingsScreen)(nil)

// findingCandidates is the rows of all a rule may fire on, found from the
// columns, so that only those are read back whole (their events, for the
// rules that look into the body): the rows matching a rule's filter (the
// same filter detect.Run matches), the refusals a rule over several
// requests counts (401, 403), and for the rule without a filter that
// looks for impersonation, the requests that impersonate. A rule this does
// not know makes every row a candidate.
func findingCandidates(src *indexSource, all Rows, rules []*detect.Rule, now time.Time) Rows {
	var fs []*filter.Filter
	impersonation := false
	for _, r := range rules {
		expr := r.Filter
		switch {
		case r.ID == "auth-failure-burst":
			expr = "code=401,403"
		case expr == "" && r.ID == "impersonate-privileged":
			impersonation = true
			continue
		case expr == "":
			return all
		}
		f, err := filter.Parse(expr, now)
		if err != nil {
			return all
		}
		fs = append(fs, f)
	}
	var rows []int32
	eachRow(all, false, func(i int, q *audit.Request) bool {
		ok := impersonation && (q.ImpersonatedUser != "" || len(q.ImpersonatedGroups) > 0)
		for _, f := range fs {
			if ok {
				break
			}
			if f.NeedsRaw() {
				ok = true // read whole, detect decides
			} else {
				ok = f.Match(q)
			}
		}
		if ok {
			rows = append(rows, int32(all.Key(i)))
		}
		return true
	})
	return &indexRows{src: src, rows: rows, n: len(rows)}
}
