package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// historyScreen is a text in front of the Answers page: an object's
// history (render.HistoryText) or a user's RBAC (render.RBACText), coloured, wrapped,
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

	as      historyExport // what it is, for y and ctrl+s (pages_take.go)
	search  pageSearch    // / n N
	matchAt int           // the line the search found last (found)
	found   bool
}

// newHistoryScreen builds the history of an object from every request of
// the store; read runs its argument while the loader merges nothing.
func newHistoryScreen(env *Env, all Rows, read func(func()), now time.Time, resource, ns, name string) (*historyScreen, error) {
	expr, err := filter.History(resource, ns, name)
	if err != nil {
		return nil, err
	}
	f, err := filter.Parse(expr, now)
	if err != nil {
		return nil, err
	}
	// The writes, with the matcher of every page (refilter.go).
	fs := newFiltered(expr, f, env.Data.Raw)
	fs.extendTo(env.src, rowsLen(all))
	reqs, err := env.src.whole(fs.list(), "--history") // the writes of one object, read back whole: their bodies
	if err != nil {
		return nil, err
	}
	var h audit.History
	read(func() {
		sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].First().Before(reqs[j].First()) })
		h = audit.BuildHistory(reqs, env.Data.Raw)
	})
	object := resource + " " + name
	if ns != "" {
		object = resource + " " + ns + "/" + name
	}
	s := &historyScreen{env: env, expr: expr, back: "these writes on the Requests page",
		as: historyExport{what: "the history of " + sanitize(object), base: "kauditui-history-" + safeFileName(name), name: "text", exts: []string{".txt"}}}
	if len(h.Changes) == 0 {
		s.lines = []string{"No create, update, patch or delete of " + sanitize(object) + " in the loaded logs.",
			"Check the kind, namespace and name, and that the audit policy logs writes of it."}
	} else {
		s.lines = render.HistoryText(object, h)
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
	if s.search.editing {
		return shortHelp(k.FilterApply, k.FilterCancel)
	}
	return append(shortHelp(k.Back, k.Down, k.Up, k.PageDown, k.Search),
		keyHelp{k.Copy.Help().Key, "copy the text"}, keyHelp{k.Export.Help().Key, "export"})
}

// Update implements component: a key scrolls, or (enter) sets the filter
// to the requests of the text and leaves (nil). Esc is the stack's.
func (s *historyScreen) Update(m tea.Msg) (component, tea.Cmd) {
	msg, ok := m.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	if cmd, ok := s.searchKey(msg); ok {
		return s, cmd
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
	for i, l := range lines[s.top:min(len(lines), s.top+rows)] {
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
		if s.found && s.top+i == s.matchAt {
			text = st.Selected.Render(padRight(truncateCells(l.text, w), w)) // the line found
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	foot := fmt.Sprintf("lines %d-%d of %d  ·  esc: back to the answers  ·  enter: %s",
		s.top+1, min(len(lines), s.top+rows), len(lines), s.back)
	if s.search.editing {
		b.WriteString(fitLine(s.search.View(), w))
		return b.String()
	}
	b.WriteString(st.Muted.Render(truncateCells(foot, w)))
	return b.String()
}
