package ui

import (
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// RequestsPage is the main view: one row per request that passes the
// filter, newest last.
type RequestsPage struct {
	env   *Env
	table *Table

	shown   []*audit.Request
	filter  string
	loading bool
	total   int

	width, height int
	wide          bool // dates and milliseconds in the time column

	// excludePending: x was pressed, the next u/v/r/n excludes.
	excludePending bool
}

// NewRequestsPage returns the requests list.
func NewRequestsPage(env *Env) *RequestsPage {
	p := &RequestsPage{env: env}
	p.table = NewTable(env.Styles, env.Keys, requestColumns(80))
	p.table.SetRows(p)
	return p
}

// requestColumns are the list's columns; wide terminals get the date and
// milliseconds. Source IP and agent show only when there is room to spare.
func requestColumns(width int) []Column {
	timeW, verbW := 8, 6
	if width >= 120 {
		timeW = 18 // 01-02 15:04:05.000
		verbW = 16 // deletecollection
	}
	cols := []Column{
		{Title: "TIME", Min: timeW, Max: timeW},
		{Title: "USER", Min: 10, Max: 48, Flex: 3},
		{Title: "VERB", Min: verbW, Max: 16, Flex: 1},
		{Title: "RESOURCE", Min: 10, Max: 40, Flex: 3},
		{Title: "NAMESPACE/NAME", Min: 12, Flex: 4},
		{Title: "CODE", Min: 4, Max: 4, Right: true},
		{Title: "LATENCY", Min: 7, Max: 8, Right: true, Drop: 1},
	}
	if width >= 160 {
		cols = append(cols, Column{Title: "SOURCE IP", Min: 15, Max: 15, Drop: 3},
			Column{Title: "AGENT", Min: 24, Max: 60, Flex: 2, Drop: 2})
	}
	return cols
}

// Title implements Page.
func (p *RequestsPage) Title() string { return "Requests" }

// Init implements Component.
func (p *RequestsPage) Init() tea.Cmd { return nil }

// SetSize implements Component.
func (p *RequestsPage) SetSize(width, height int) {
	p.width, p.height = width, height
	p.wide = width >= 120
	p.table.SetColumns(requestColumns(width))
	p.table.SetSize(width, height)
}

// ShortHelp implements Page.
func (p *RequestsPage) ShortHelp() []KeyHelp {
	k := p.env.Keys
	if p.excludePending {
		return []KeyHelp{{"u", "exclude user"}, {"v", "exclude verb"}, {"r", "exclude resource"},
			{"n", "exclude namespace"}, {"esc", "cancel"}}
	}
	return ShortHelp(k.Down, k.Up, k.Open, k.Filter, k.OnlyUser, k.OnlyVerb, k.OnlyResource,
		k.OnlyNamespace, k.Exclude, k.Follow, k.Help, k.Quit)
}

// Selected is the request under the cursor, or nil.
func (p *RequestsPage) Selected() *audit.Request {
	if i := p.table.Cursor(); i >= 0 && i < len(p.shown) {
		return p.shown[i]
	}
	return nil
}

// Following reports whether the list sticks to the newest request.
func (p *RequestsPage) Following() bool { return p.table.Follow }

// SetFollow makes the list follow the newest request (or stop).
func (p *RequestsPage) SetFollow(on bool) {
	p.table.Follow = on
	p.table.SetRows(p)
}

// Cursor is the selected row and the number of rows.
func (p *RequestsPage) Cursor() (int, int) { return p.table.Cursor(), len(p.shown) }

// Update implements Component.
func (p *RequestsPage) Update(msg tea.Msg) (Component, tea.Cmd) {
	switch msg := msg.(type) {
	case DataMsg:
		var keep *audit.Request
		if msg.Reset && !p.table.Follow {
			keep = p.Selected()
		}
		p.shown, p.filter, p.loading = msg.Shown, msg.Filter, msg.Loading
		p.total = len(msg.Snap.Requests)
		p.table.SetRows(p)
		if keep != nil {
			// A new filter keeps the selected request selected when it still
			// passes, so narrowing around a row does not lose it.
			p.table.SetCursor(indexOf(p.shown, keep))
		}
		return p, nil
	case tea.KeyPressMsg:
		return p, p.key(msg)
	case tea.MouseMsg:
		p.table.HandleMsg(msg)
	}
	return p, nil
}

func indexOf(list []*audit.Request, r *audit.Request) int {
	// Store order is arrival order, so search from the end would be no
	// faster in general; a linear scan over pointers is ~1 ms per million.
	for i, x := range list {
		if x == r {
			return i
		}
	}
	return 0
}

func (p *RequestsPage) key(msg tea.KeyPressMsg) tea.Cmd {
	k := p.env.Keys
	if p.excludePending {
		p.excludePending = false
		return p.quickFilter(msg, true)
	}
	if p.table.HandleMsg(msg) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Open):
		if r := p.Selected(); r != nil {
			return func() tea.Msg { return OpenRequestMsg{Req: r} }
		}
	case key.Matches(msg, k.Exclude):
		if p.Selected() != nil {
			p.excludePending = true
		}
	default:
		return p.quickFilter(msg, false)
	}
	return nil
}

// quickFilter narrows (or, with exclude, widens out) the filter by a value
// of the selected request.
func (p *RequestsPage) quickFilter(msg tea.KeyPressMsg, exclude bool) tea.Cmd {
	r := p.Selected()
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
			field, value = "uri", uriPath(r.RequestURI)
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
	return func() tea.Msg { return SetFilterMsg{Expr: expr} }
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

func uriPath(uri string) string {
	if i := strings.IndexByte(uri, '?'); i >= 0 {
		return uri[:i]
	}
	return uri
}

func statusCmd(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return StatusMsg{Text: text, Err: isErr} }
}

// View implements Component.
func (p *RequestsPage) View() string {
	if len(p.shown) == 0 {
		msg := "No requests match the filter."
		switch {
		case p.total == 0 && p.loading:
			msg = "Reading the audit log…"
		case p.total == 0:
			msg = "No audit requests in the sources."
		case p.filter != "":
			msg = "No requests match " + Sanitize(p.filter) + " (press / to change it)."
		}
		return placeText(p.env.Styles.Empty.Render(msg), p.width, p.height)
	}
	var out string
	p.env.Data.Store.Read(func(audit.Snapshot) { out = p.table.View() })
	return out
}

// Len implements TableRows.
func (p *RequestsPage) Len() int { return len(p.shown) }

// Cells implements TableRows: one request as a row, every log string
// sanitised, colour by meaning.
func (p *RequestsPage) Cells(i int, c []Cell) {
	r := p.shown[i]
	st := p.env.Styles
	base := st.Cell
	destructive := r.Verb == "delete" || r.Verb == "deletecollection"
	if destructive {
		base = st.RowDelete
	}
	if p.wide {
		c[0] = Cell{Text: r.First.UTC().Format("01-02 15:04:05.000"), Style: st.Time}
	} else {
		c[0] = Cell{Text: r.First.UTC().Format("15:04:05"), Style: st.Time}
	}
	user := r.User
	if user == "" {
		user = "(none)"
	}
	// Service account names differ at the end: cut those in the middle.
	c[1] = Cell{Text: Sanitize(user), Style: base, Middle: strings.HasPrefix(user, "system:serviceaccount:")}
	if r.ImpersonatedUser != "" {
		c[1].Suffix, c[1].SuffixStyle = " (as "+Sanitize(r.ImpersonatedUser)+")", st.Impersonated
	}
	c[2] = Cell{Text: Sanitize(r.Verb), Style: st.Verb(r.Verb)}
	if r.Resource != "" {
		// resource[/subresource] first, then the group as kubectl writes it
		// (rolebindings.rbac.authorization.k8s.io): a narrow column cuts
		// the group, never the resource. Narrow screens drop the group.
		res := r.Resource
		if r.Subresource != "" {
			res += "/" + r.Subresource
		}
		c[3] = Cell{Text: Sanitize(res), Style: base}
		if p.wide && r.APIGroup != "" {
			c[3].Suffix, c[3].SuffixStyle = "."+Sanitize(r.APIGroup), st.Muted
		}
	} else {
		c[3] = Cell{Text: Sanitize(uriPath(r.RequestURI)), Style: st.Muted}
	}
	switch {
	case r.Namespace != "" && r.Name != "":
		c[4] = Cell{Text: Sanitize(r.Namespace + "/" + r.Name), Style: base, Middle: true}
	case r.Namespace != "":
		c[4] = Cell{Text: Sanitize(r.Namespace) + "/", Style: base}
	default:
		c[4] = Cell{Text: Sanitize(r.Name), Style: base, Middle: true}
	}
	switch {
	case r.Code == 0: // no response yet (or a stage-omitting policy)
		c[5] = Cell{Text: "…", Style: st.Muted}
	case r.Decision == "forbid":
		c[5] = Cell{Text: strconv.Itoa(r.Code), Style: st.Forbid}
	default:
		c[5] = Cell{Text: strconv.Itoa(r.Code), Style: st.Code(r.Code)}
	}
	lat := r.Latency()
	ls := st.Latency
	if lat >= time.Second && r.Verb != "watch" {
		ls = st.SlowLatency
	}
	c[6] = Cell{Text: formatLatency(lat), Style: ls}
	if len(c) > 8 {
		c[7] = Cell{Text: Sanitize(r.SourceIP()), Style: st.Muted}
		c[8] = Cell{Text: Sanitize(r.UserAgent), Style: st.Muted}
	}
}

// formatLatency is a short duration: 850µs, 12ms, 1.2s, 3m4s.
func formatLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + "µs"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return d.Truncate(time.Second).String()
	}
}

// placeText centres a one-line message in a width×height area.
func placeText(s string, width, height int) string {
	lines := make([]string, max(1, height))
	blank := strings.Repeat(" ", max(0, width))
	for i := range lines {
		lines[i] = blank
	}
	s = ansi.Truncate(s, width, "…")
	w := ansi.StringWidth(s)
	pad := max(0, (width-w)/2)
	lines[min(len(lines)-1, height/3)] = strings.Repeat(" ", pad) + s + strings.Repeat(" ", max(0, width-pad-w))
	return strings.Join(lines, "\n")
}
