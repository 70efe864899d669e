package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// requestsPage is the main view: one row per request that passes the
// filter, newest last.
type requestsPage struct {
	env   *Env
	table *table

	shown    Rows // in the list's order (sort.go)
	inOrder  Rows // the same in the store's order
	sortedN  int  // inOrder's length when shown was sorted
	sortedIn Rows // inOrder then
	order    requestSort
	filter   string
	loading  bool
	total    int

	width, height int
	wide          bool // dates and milliseconds in the time column
	cols          []render.Column
	cells         []render.Cell // scratch for Cells

	// excludePending: x was pressed, the next u/v/r/n excludes.
	excludePending bool

	// noMatch: what the filter noMatchExpr could have been (ui/nomatch.go).
	noMatchExpr, noMatch string
}

// setNoMatch gives the suggestions for a filter that matches nothing.
func (p *requestsPage) setNoMatch(expr, text string) { p.noMatchExpr, p.noMatch = expr, text }

// NewRequestsPage returns the requests list.
func NewRequestsPage(env *Env) *requestsPage {
	p := &requestsPage{env: env}
	p.table = newTable(env.Styles, env.Keys, requestColumns(80))
	p.cols = render.Columns(timeLayout(80), false)
	p.table.SetRows(p)
	return p
}

// wideFrom is the terminal width from which the list offers the wide
// columns (source IP, agent, credential, auditID); the table shows them only
// when the main columns have the room their content asks.
const wideFrom = 120

// requestColumns are the list's columns (package render's); wide terminals
// get the date and milliseconds, and source IP, agent and auditID when there
// is room to spare.
func requestColumns(width int) []column {
	rc := render.Columns(timeLayout(width), width >= wideFrom)
	cols := make([]column, len(rc))
	for i, c := range rc {
		cols[i] = column{Title: c.Title, Min: c.Min, Max: c.Max, Flex: c.Flex, Right: c.Right, Drop: c.Drop, Wide: c.Wide}
	}
	return cols
}

// timeLayout is the time column's layout for a terminal width.
func timeLayout(width int) string {
	if width >= 120 {
		return render.TimeMedium
	}
	return render.TimeShort
}

// Title implements Page.
func (p *requestsPage) Title() string { return "Requests" }

// Init implements Component.
func (p *requestsPage) Init() tea.Cmd { return nil }

// SetSize implements Component.
func (p *requestsPage) SetSize(width, height int) {
	p.width, p.height = width, height
	p.wide = width >= 120
	p.table.SetColumns(p.sortColumns(requestColumns(width)))
	p.cols = render.Columns(timeLayout(width), width >= wideFrom)
	p.table.SetSize(width, height)
}

// shortHelp implements Page.
func (p *requestsPage) ShortHelp() []keyHelp {
	k := p.env.Keys
	if p.excludePending {
		return []keyHelp{{"u", "exclude user"}, {"v", "exclude verb"}, {"r", "exclude resource"},
			{"n", "exclude namespace"}, {"esc", "cancel"}}
	}
	items := shortHelp(k.Down, k.Up, k.Open, k.Filter, k.OnlyUser, k.OnlyVerb, k.OnlyResource,
		k.OnlyNamespace, k.Exclude, k.Follow, k.Pause, k.Help, k.Quit)
	if !p.order.timeOrder() {
		items = append([]keyHelp{p.sortHelp()}, items...) // the order first: the list is not in time order
	}
	return append(items, keyHelp{k.Sort.Help().Key, "sort"}, keyHelp{k.Copy.Help().Key, "copy"}, keyHelp{k.Export.Help().Key, "export"})
}

// Selected is the request under the cursor read whole (Rows.Open), or nil.
func (p *requestsPage) Selected() *audit.Request {
	if i := p.table.Cursor(); i >= 0 && i < rowsLen(p.shown) {
		if r, err := p.shown.Open(i); err == nil {
			return r
		}
	}
	return nil
}

// selectedKey is the Key of the request under the cursor, or -1.
func (p *requestsPage) selectedKey() int {
	if i := p.table.Cursor(); i >= 0 && i < rowsLen(p.shown) {
		return p.shown.Key(i)
	}
	return -1
}

// selectedRow is the request under the cursor as drawn (Rows.At), or nil.
func (p *requestsPage) selectedRow() *audit.Request {
	if i := p.table.Cursor(); i >= 0 && i < rowsLen(p.shown) {
		return p.shown.At(i)
	}
	return nil
}

// Following reports whether the list sticks to the newest request.
func (p *requestsPage) Following() bool { return p.table.Follow }

// SetFollow makes the list follow the newest request (or stop).
func (p *requestsPage) SetFollow(on bool) {
	p.table.Follow = on
	p.table.SetRows(p)
}

// Cursor is the selected row and the number of rows.
func (p *requestsPage) Cursor() (int, int) { return p.table.Cursor(), rowsLen(p.shown) }

// Update implements Component.
func (p *requestsPage) Update(msg tea.Msg) (component, tea.Cmd) {
	switch msg := msg.(type) {
	case DataMsg:
		keep := -1
		if msg.Reset && !p.table.Follow {
			keep = p.selectedKey()
		}
		p.filter, p.loading = msg.Filter, msg.Loading
		p.total = rowsLen(msg.All)
		if msg.Reset {
			p.table.FitContent() // a new filter: the columns fit what it shows
		}
		if p.order.timeOrder() {
			p.shown, p.inOrder = msg.Shown, msg.Shown
			p.table.SetRows(p)
		} else {
			if msg.Reset {
				p.sortedN = 0
			}
			p.inOrder = msg.Shown
			p.resort(msg.Reset || !msg.Loading)
			return p, nil
		}
		if keep >= 0 {
			// A new filter keeps the selected request selected when it still
			// passes, so narrowing around a row does not lose it.
			p.table.SetCursor(max(0, indexOfKey(p.shown, keep)))
		}
		return p, nil
	case tea.KeyPressMsg:
		return p, p.key(msg)
	case tea.MouseMsg:
		p.table.HandleMsg(msg)
	}
	return p, nil
}

func (p *requestsPage) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.env.Keys
	if p.excludePending {
		p.excludePending = false
		return p.quickFilter(msg, true)
	}
	if key.Matches(msg, k.Pause) {
		p.SetFollow(!p.table.Follow) // paused: the list holds its row; resumed: the newest
		return nil
	}
	if _, paged := p.inOrder.(*StoreRows); paged && (key.Matches(msg, p.env.Keys.Sort) || key.Matches(msg, p.env.Keys.SortReverse)) {
		// sorting reads every row: the store's answer is read a page at a time
		return func() tea.Msg { return statusMsg{Text: storeWholeNote("sorting"), Err: true} }
	}
	if p.sortKey(msg) || p.table.HandleMsg(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		if r := p.Selected(); r != nil {
			return func() tea.Msg { return openRequestMsg{Req: r} }
		}
	case key.Matches(msg, k.Exclude):
		if p.selectedKey() >= 0 {
			p.excludePending = true
		}
	case key.Matches(msg, k.AnswersHistory):
		if r := p.Selected(); r != nil {
			return func() tea.Msg { return openHistoryMsg{Req: r} }
		}
	case key.Matches(msg, k.AnswersRBAC):
		if r := p.Selected(); r != nil {
			return func() tea.Msg { return openRBACMsg{Req: r} }
		}
	default:
		return p.quickFilter(msg, false)
	}
	return nil
}

// quickFilter narrows (or, with exclude, widens out) the filter by a value
// of the selected request.
func (p *requestsPage) quickFilter(msg tea.KeyPressMsg, exclude bool) tea.Cmd {
	r := p.selectedRow()
	if r == nil {
		return nil
	}
	k := p.env.Keys
	var field, value string
	switch {
	case key.Matches(msg, k.OnlyUser):
		field, value = "user", r.User
	case key.Matches(msg, k.OnlyVerb):
		field, value = "verb", r.Verb
	case key.Matches(msg, k.OnlyResource):
		if r.Resource == "" {
			field, value = "uri", uriPath(r.RequestURI())
		} else {
			field, value = "resource", quickResource(r)
		}
	case key.Matches(msg, k.OnlyNamespace):
		if r.Namespace == "" {
			return statusCmd("this request is not namespaced", true)
		}
		field, value = "ns", r.Namespace
	default:
		return nil
	}
	expr := filter.With(p.filter, field, value, exclude)
	return func() tea.Msg { return setFilterMsg{Expr: expr} }
}

// quickResource is the resource as the filter language writes it: the core
// group spelled "core" so that "pods/exec" is not read as group/resource.
func quickResource(r *audit.Request) string {
	g := r.APIGroup
	if g == "" {
		g = "core"
	}
	s := g + "/" + r.Resource
	if r.Subresource != "" {
		s += "/" + r.Subresource
	}
	return s
}

func uriPath(uri string) string { return render.URIPath(uri) }

func statusCmd(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return statusMsg{Text: text, Err: isErr} }
}

// View implements Component.
func (p *requestsPage) View() string {
	if rowsLen(p.shown) == 0 {
		msg := "No requests match the filter."
		switch {
		case p.total == 0 && p.loading:
			msg = "Reading the audit log…"
		case p.total == 0:
			msg = "No audit requests in the sources."
		case p.filter != "":
			msg = "No requests match " + sanitize(p.filter) + " (press / to change it)."
			if p.noMatchExpr == p.filter && p.noMatch != "" {
				near := "0 requests; " + sanitize(p.noMatch)
				if p.loading {
					near += " so far"
				}
				return placeLines([]string{p.env.Styles.Empty.Render(msg), p.env.Styles.Empty.Render(near)}, p.width, p.height)
			}
		}
		return placeText(p.env.Styles.Empty.Render(msg), p.width, p.height)
	}
	return p.table.View() // the rows drawn are read from the index (Rows.At)
}

// Len implements TableRows.
func (p *requestsPage) Len() int { return rowsLen(p.shown) }

// Cells implements TableRows: one request as a row (package render's
// cells), every log string sanitised, colour by meaning.
func (p *requestsPage) Cells(i int, c []Cell) {
	r := p.shown.At(i)
	if r == nil { // not fetched yet
		for k := range c {
			c[k] = Cell{Text: "…"}
		}
		return
	}
	if cap(p.cells) < len(c) {
		p.cells = make([]render.Cell, len(c))
	}
	cells := p.cells[:len(c)]
	render.Cells(r, p.cols, timeLayout(p.width), cells)
	p.env.Styles.requestCells(cells, r.Verb, r.Code, c)
}

// placeText centres a one-line message in a width×height area.
func placeText(s string, width, height int) string {
	return placeLines([]string{s}, width, height)
}

// placeLines centres one-line messages, one under the other, in a
// width×height area.
func placeLines(msgs []string, width, height int) string {
	lines := make([]string, max(1, height))
	blank := strings.Repeat(" ", max(0, width))
	for i := range lines {
		lines[i] = blank
	}
	for i, s := range msgs {
		s = ansi.Truncate(s, width, "…")
		w := ansi.StringWidth(s)
		pad := max(0, (width-w)/2)
		lines[min(len(lines)-1, height/3+i)] = strings.Repeat(" ", pad) + s + strings.Repeat(" ", max(0, width-pad-w))
	}
	return strings.Join(lines, "\n")
}
