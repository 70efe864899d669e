package ui

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// historyValueMax bounds a value in a diff line: an image or a label fits,
// a whole embedded document does not need to.
const historyValueMax = 160

// HistoryText is an object's history as lines of text, sanitised: a
// summary, then each write (when, who with which credential, the verb, the
// code), its patch, what changed field by field or why the log cannot say,
// and after a delete the last known state. The explorer's History screen
// and `kauditui query --history` both print it.
func HistoryText(object string, h audit.History) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	failed := 0
	for _, c := range h.Changes {
		if c.Req.Code < 200 || c.Req.Code >= 300 {
			failed++
		}
	}
	head := fmt.Sprintf("History of %s: %d writes", sanitize(object), len(h.Changes))
	if len(h.Changes) == 1 {
		head = "History of " + sanitize(object) + ": 1 write"
	}
	if failed > 0 {
		head += fmt.Sprintf(" (%d failed)", failed)
	}
	if d := h.Deleted; d != nil {
		head += "; deleted " + historyTime(d.First()) + " by " + historyWho(d)
	}
	out = append(out, head)
	if len(h.Changes) > 0 && h.Changes[0].Req.Verb != "create" {
		out = append(out, "(its create is not in the loaded logs: older than them, or logged without a name)")
	}
	ruleShown := false
	for _, c := range h.Changes {
		r := c.Req
		out = append(out, "")
		code := "-"
		if r.Code != 0 {
			code = strconv.Itoa(r.Code)
		}
		add("%s  %s %s  by %s  %s", historyTime(r.First()), sanitize(r.Verb), sanitize(r.ResourcePath()), historyWho(r), code)
		if c.Patch != "" {
			add("    patch: %s", truncateCells(sanitize(c.Patch), 4*historyValueMax))
		}
		for _, f := range c.Diff {
			switch {
			case f.Old == "":
				add("    + %s: %s", sanitize(f.Path), historyValue(f.New))
			case f.New == "":
				add("    - %s: %s", sanitize(f.Path), historyValue(f.Old))
			default:
				add("    ~ %s: %s → %s", sanitize(f.Path), historyValue(f.Old), historyValue(f.New))
			}
		}
		switch {
		case c.Diff != nil && len(c.Diff) == 0:
			out = append(out, "    (no change to spec or metadata)")
		case c.NoDiff == "deleted":
			out = append(out, "    deleted")
		case c.NoDiff != "":
			out = append(out, "    "+c.NoDiff)
			if strings.HasPrefix(c.NoDiff, "level Metadata") && !ruleShown {
				ruleShown = true
				out = append(out, "    a policy rule that logs the bodies (before the rule that matched this request):")
				for _, l := range strings.Split(strings.TrimRight(audit.PolicyRule(r), "\n"), "\n") {
					out = append(out, "      "+sanitize(l))
				}
				if r.Resource == "secrets" {
					out = append(out, "      (for secrets it logs their data: think twice)")
				}
			}
		}
	}
	if h.Deleted != nil {
		out = append(out, "")
		if h.LastState == "" {
			out = append(out, "Last known state before the delete: not logged (no write of it logged a body)")
		} else {
			out = append(out, "Last known state before the delete (without managedFields, resourceVersion, generation, status):")
			for _, l := range strings.Split(h.LastState, "\n") {
				out = append(out, "    "+sanitize(l))
			}
		}
	}
	return out
}

func historyTime(t time.Time) string { return render.FormatTime(t, render.TimeMillis) }

// historyWho is the actor and, when the log names it, the credential.
func historyWho(r *audit.Request) string {
	s := sanitize(r.Actor())
	if c := r.Credential(); c != "" {
		s += " [" + sanitize(c) + "]"
	}
	return s
}

func historyValue(v string) string {
	return truncateCells(sanitize(v), historyValueMax)
}

// HistoryFilter finds the writes of one object, its subresources' included
// (scale, ephemeral containers); audit.IsHistoryWrite then drops its status.
// resource is as resource= takes it (deploy, apps/deployments); ns "" for a
// cluster-scoped object.
func HistoryFilter(resource, ns, name string) (string, error) {
	if resource == "" || strings.ContainsAny(resource, "*, \t\"'\\") {
		return "", fmt.Errorf("%q is not a kind: name one like deploy, cm or apps/deployments", resource)
	}
	expr := "verb=create,update,patch,delete resource=" + resource + "," + resource + "/*"
	if ns != "" {
		expr = filter.With(expr, "ns", ns, false)
	}
	return filter.With(expr, "name", name, false), nil
}

// historyScreen is a text in front of the Answers page: an object's
// history (HistoryText) or a user's RBAC (RBACText), coloured, wrapped,
// scrolled with the usual keys; esc goes back to the answers, enter shows
// its requests on the Requests page.
type historyScreen struct {
	env   *Env
	expr  string   // the filter of its requests: enter sets it
	back  string   // what enter does, for the footer
	lines []string // the text
	// shown is lines wrapped to the width (a long image or patch stays
	// whole), with the style of the line each piece comes from.
	shown  []historyLine
	shownW int
	top    int
	height int
	width  int
}

// newHistoryScreen builds the history of an object from every request of
// the store; read runs its argument while the loader merges nothing.
func newHistoryScreen(env *Env, all []*audit.Request, read func(func()), now time.Time, resource, ns, name string) (*historyScreen, error) {
	expr, err := HistoryFilter(resource, ns, name)
	if err != nil {
		return nil, err
	}
	f, err := filter.Parse(expr, now)
	if err != nil {
		return nil, err
	}
	// The writes, with the matcher of every page (refilter.go).
	fs := newFiltered(expr, f, env.Data.Raw)
	fs.extendTo(env.Data.Store, all)
	reqs := append([]*audit.Request(nil), fs.shown...)
	var h audit.History
	read(func() {
		sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].First().Before(reqs[j].First()) })
		h = audit.BuildHistory(reqs, env.Data.Raw)
	})
	object := resource + " " + name
	if ns != "" {
		object = resource + " " + ns + "/" + name
	}
	s := &historyScreen{env: env, expr: expr, back: "these writes on the Requests page"}
	if len(h.Changes) == 0 {
		s.lines = []string{"No create, update, patch or delete of " + sanitize(object) + " in the loaded logs.",
			"Check the kind, namespace and name, and that the audit policy logs writes of it."}
	} else {
		s.lines = HistoryText(object, h)
	}
	return s, nil
}

type historyLine struct {
	text string
	kind byte // h heading, + added, - removed, ~ changed, m muted, w write, 0 plain
}

// layout wraps the lines to the width.
func (s *historyScreen) layout() []historyLine {
	w := max(s.width, 20)
	if s.shown != nil && s.shownW == w {
		return s.shown
	}
	s.shown, s.shownW = s.shown[:0], w
	for i, l := range s.lines {
		t := strings.TrimLeft(l, " ")
		var kind byte
		switch {
		case i == 0:
			kind = 'h'
		case strings.HasPrefix(t, "# denied"), strings.HasPrefix(t, "# refused"):
			kind = '-'
		case strings.HasPrefix(t, "#"):
			kind = 'm'
		case strings.HasPrefix(t, "+ "):
			kind = '+'
		case strings.HasPrefix(t, "- "), t == "deleted":
			kind = '-'
		case strings.HasPrefix(t, "~ "):
			kind = '~'
		case strings.HasPrefix(t, "patch: "), strings.HasPrefix(t, "level "), strings.HasPrefix(t, "("), strings.HasPrefix(t, "no earlier"):
			kind = 'm'
		case len(l) > 0 && l[0] >= '0' && l[0] <= '9', strings.HasPrefix(l, "Last known"):
			kind = 'w'
		}
		s.shown = append(s.shown, historyLine{text: ansi.Truncate(l, w, ""), kind: kind})
		if ansi.StringWidth(l) <= w {
			continue
		}
		// the rest under the line's text, indented a little more
		indent := min(len(l)-len(t)+2, w/2)
		rest := ansi.Hardwrap(ansi.TruncateLeft(l, w, ""), w-indent, true)
		for _, piece := range strings.Split(rest, "\n") {
			s.shown = append(s.shown, historyLine{text: strings.Repeat(" ", indent) + piece, kind: kind})
		}
	}
	return s.shown
}

// Init implements component.
func (s *historyScreen) Init() tea.Cmd { return nil }

// SetSize implements component.
func (s *historyScreen) SetSize(width, height int) { s.width, s.height = width, height }

// ShortHelp implements subScreen.
func (s *historyScreen) ShortHelp() []keyHelp {
	k := s.env.Keys
	return shortHelp(k.Back, k.Down, k.Up, k.PageDown)
}

// Update implements component: a key scrolls, or (enter) sets the filter
// to the requests of the text and leaves (nil). Esc is the stack's.
func (s *historyScreen) Update(m tea.Msg) (component, tea.Cmd) {
	msg, ok := m.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.env.Keys
	rows := s.rows()
	last := max(0, len(s.layout())-rows)
	switch {
	case key.Matches(msg, k.Open):
		expr := s.expr
		return nil, tea.Sequence(
			func() tea.Msg { return setFilterMsg{Expr: expr} },
			func() tea.Msg { return showPageMsg{Page: stateRequests} },
		)
	case key.Matches(msg, k.Down):
		s.top++
	case key.Matches(msg, k.Up):
		s.top--
	case key.Matches(msg, k.PageDown):
		s.top += rows
	case key.Matches(msg, k.PageUp):
		s.top -= rows
	case key.Matches(msg, k.HalfDown):
		s.top += rows / 2
	case key.Matches(msg, k.HalfUp):
		s.top -= rows / 2
	case key.Matches(msg, k.Top):
		s.top = 0
	case key.Matches(msg, k.Bottom):
		s.top = last
	}
	s.top = clampInt(s.top, 0, last)
	return s, nil
}

// rows is how many lines of the history fit under its footer line.
func (s *historyScreen) rows() int { return max(1, s.height-1) }

// View implements component.
func (s *historyScreen) View() string {
	st := s.env.Styles
	w := max(s.width, 20)
	rows := s.rows()
	lines := s.layout()
	s.top = clampInt(s.top, 0, max(0, len(lines)-rows))
	var b strings.Builder
	for _, l := range lines[s.top:min(len(lines), s.top+rows)] {
		text := truncateCells(l.text, w)
		switch l.kind {
		case 'h':
			text = st.Title.Render(text)
		case '+':
			text = st.VerbWrite.Render(text)
		case '-':
			text = st.VerbDelete.Render(text)
		case '~':
			text = st.Warning.Render(text)
		case 'm':
			text = st.Muted.Render(text)
		case 'w':
			text = st.Header.Render(text)
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	foot := fmt.Sprintf("lines %d-%d of %d  ·  esc: back to the answers  ·  enter: %s",
		s.top+1, min(len(lines), s.top+rows), len(lines), s.back)
	b.WriteString(st.Muted.Render(truncateCells(foot, w)))
	return b.String()
}
