package ui

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// summaryPage counts the requests passing the current filter by user, verb,
// resource, code, agent and namespace, and draws them over time. Choosing a
// value (enter) narrows the filter to it; x excludes it.
type summaryPage struct {
	env *Env

	expr  string // the applied filter
	shown Rows   // the requests passing it
	dirty bool   // shown changed since the boxes were made

	// counts[i][value] counts shown[:counted] for box i; new requests
	// arriving under the same filter are added, not recounted.
	counts  []map[string]int
	counted int

	sections []summarySection
	hist     summaryHist

	sec, row int // cursor: section (len(sections) = the histogram), row or bucket
	width    int
	height   int

	// What the log cannot see, in one line, over every request (not the
	// filtered ones: a gap is the log's); Answers has the whole report.
	all      Rows
	loading  bool
	coverage string
	covered  int  // len(all) when coverage was made
	covEarly bool // coverage was made while loading: made again once loaded

	// A store read in pages (DataMsg.Store): the boxes are the store's
	// counts (storeTop), never a count of the rows (each would be fetched).
	store    StoreAnswer
	storeTop []map[string]int
	storeWhy []string
	// storeHist is the histogram the store counted (asked with the boxes),
	// storeHistErr why it is not drawn; neither: not come yet.
	storeHist    *summaryHist
	storeHistErr string
}

// summarySection is one "top values" box.
type summarySection struct {
	title  string
	field  string // filter field that selects a value
	values []summaryValue
	total  int // requests counted
}

type summaryValue struct {
	value string // the exact value, as logged ("" when absent)
	label string // what is drawn (sanitised)
	count int
}

// summaryHist is the requests-over-time histogram.
type summaryHist struct {
	start  time.Time
	step   time.Duration
	counts []int
}

// summaryFields are the boxes, in reading order.
var summaryFields = []struct {
	title, field string
	value        func(*audit.Request) string
	empty        string // label of the empty value
}{
	{"Users", "user", func(r *audit.Request) string { return r.User }, "(none)"}, // and impersonated users: countValues
	{"Verbs", "verb", func(r *audit.Request) string { return r.Verb }, "(none)"},
	{"Resources", "resource", summaryResource, "(non-resource)"},
	{"Codes", "code", func(r *audit.Request) string {
		if r.Code > 0 && r.Code < len(codeText) {
			return codeText[r.Code] // no allocation per request
		}
		if r.Code == 0 {
			return ""
		}
		return strconv.Itoa(r.Code)
	}, "(no status)"},
	{"Agents", "agent", func(r *audit.Request) string { return r.UserAgent }, "(none)"},
	{"Namespaces", "ns", func(r *audit.Request) string { return r.Namespace }, "(cluster-scoped)"},
}

// codeText is the decimal text of the HTTP status codes.
var codeText = func() (t [600]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// summaryResource is resource[/subresource] without the API group, the form
// the filter's resource field takes ("deployments/scale", "pods/exec").
func summaryResource(r *audit.Request) string {
	if r.Resource == "" || r.Subresource == "" {
		return r.Resource
	}
	return r.Resource + "/" + r.Subresource
}

// newSummaryPage builds the Summary page.
func newSummaryPage(env *Env) page {
	return &summaryPage{env: env, dirty: true}
}

func (p *summaryPage) Init() tea.Cmd { return nil }

func (p *summaryPage) Title() string { return "Summary" }

func (p *summaryPage) SetSize(width, height int) {
	p.width, p.height = width, height
	p.dirty = true // histogram buckets follow the width
}

func (p *summaryPage) ShortHelp() []keyHelp {
	k := p.env.Keys
	return shortHelp(k.SummaryNarrow, k.SummaryExclude, k.SummaryNextBox)
}

func (p *summaryPage) Update(msg tea.Msg) (component, tea.Cmd) {
	switch msg := msg.(type) {
	case DataMsg:
		if msg.Store != p.store { // asked when the page is shown: storeAsk
			p.store, p.storeTop, p.storeWhy, p.storeHist, p.storeHistErr = msg.Store, nil, nil, nil, ""
		}
		if msg.Reset || msg.Filter != p.expr || rowsLen(msg.Shown) < p.counted {
			p.counts, p.counted = nil, 0
		}
		p.expr = msg.Filter
		p.shown = msg.Shown
		p.all, p.loading = msg.All, msg.Loading
		p.dirty = true
		return p, nil
	case summaryStoreMsg:
		if msg.ans == p.store && p.store != nil {
			p.storeTop[msg.box] = msg.counts
			if msg.why != "" {
				p.storeWhy = append(p.storeWhy, summaryFields[msg.box].title+": "+sanitize(msg.why))
			}
			p.dirty = true
		}
	case summaryStoreHistMsg:
		if msg.ans == p.store && p.store != nil {
			p.storeHist, p.storeHistErr = &msg.hist, msg.err
			p.dirty = true
		}
	case tea.KeyPressMsg:
		p.refresh()
		k := p.env.Keys
		switch {
		case key.Matches(msg, k.Down):
			p.move(1)
		case key.Matches(msg, k.Up):
			p.move(-1)
		case key.Matches(msg, k.SummaryNextBox):
			p.side(1)
		case key.Matches(msg, k.SummaryPrevBox):
			p.side(-1)
		case key.Matches(msg, k.Top):
			p.sec, p.row = 0, 0
		case key.Matches(msg, k.Bottom):
			p.sec, p.row = len(p.sections), max(0, len(p.hist.counts)-1)
		case key.Matches(msg, k.SummaryNarrow):
			return p, p.choose(false)
		case key.Matches(msg, k.SummaryExclude):
			return p, p.choose(true)
		}
	}
	return p, nil
}

// rowsShown is how many values of a box are drawn (and selectable).
func (p *summaryPage) rowsShown(sec int) int {
	if sec == len(p.sections) {
		return len(p.hist.counts)
	}
	return min(len(p.sections[sec].values), p.layout().rows)
}

// move steps the cursor through every selectable item, box after box.
func (p *summaryPage) move(d int) {
	n := len(p.sections)
	row := p.row + d
	sec := p.sec
	for row < 0 && sec > 0 {
		sec--
		row = p.rowsShown(sec) - 1
	}
	for sec <= n && row >= p.rowsShown(sec) && sec < n {
		row -= p.rowsShown(sec)
		sec++
	}
	p.sec, p.row = sec, clampInt(row, 0, max(0, p.rowsShown(sec)-1))
}

// side jumps to the neighbouring box; in the histogram it moves one bucket,
// and leaving its first bucket leftwards goes back to the boxes.
func (p *summaryPage) side(d int) {
	n := len(p.sections)
	if p.sec == n {
		if d < 0 && p.row == 0 {
			p.sec = n - 1
			p.row = clampInt(p.row, 0, max(0, p.rowsShown(p.sec)-1))
			return
		}
		p.row = clampInt(p.row+d, 0, max(0, len(p.hist.counts)-1))
		return
	}
	p.sec = clampInt(p.sec+d, 0, n)
	if p.sec == n {
		p.row = 0
		return
	}
	p.row = clampInt(p.row, 0, max(0, p.rowsShown(p.sec)-1))
}

// choose narrows (or with exclude, widens out) the filter by the value or
// time bucket under the cursor and shows the requests.
func (p *summaryPage) choose(exclude bool) tea.Cmd {
	expr := p.expr
	switch {
	case p.sec == len(p.sections):
		if p.row >= len(p.hist.counts) || p.hist.counts[p.row] == 0 {
			return statusCmd("no requests in this time bucket", true)
		}
		if exclude {
			return statusCmd("a time bucket cannot be excluded; choose it with enter", true)
		}
		from := p.hist.start.Add(time.Duration(p.row) * p.hist.step)
		expr = filter.With(expr, "since", render.FilterTime(from), false)
		expr = filter.With(expr, "until", render.FilterTime(from.Add(p.hist.step-time.Microsecond)), false)
	case p.sec < len(p.sections) && p.row < len(p.sections[p.sec].values):
		s := p.sections[p.sec]
		v := s.values[p.row]
		if v.value == "" {
			return statusCmd(fmt.Sprintf("%s %s cannot be written as a filter", strings.ToLower(s.title), v.label), true)
		}
		if p.store != nil && (s.field == "user" || s.field == "resource") {
			// the store's boxes hold --top's values (a user as whom they
			// acted, a resource with its group, a URL), not the filter's
			return statusCmd(fmt.Sprintf("the store counts %s as --top does: narrow with / (%s=...)", strings.ToLower(s.title), s.field), true)
		}
		expr = filter.With(expr, s.field, v.value, exclude)
	default:
		return nil
	}
	return tea.Batch(
		func() tea.Msg { return setFilterMsg{Expr: expr} },
		func() tea.Msg { return showPageMsg{Page: stateRequests} },
	)
}

// refresh recounts the shown requests when they changed.
func (p *summaryPage) refresh() {
	if !p.dirty {
		return
	}
	p.dirty = false
	if p.store != nil {
		p.refreshStore()
		return
	}
	if p.counts == nil {
		p.counts = make([]map[string]int, len(summaryFields))
		for i := range p.counts {
			p.counts[i] = make(map[string]int)
		}
	}
	// The rows are read a part at a time while the loader merges nothing
	// (requests gain stages, codes and times while it runs): eachRow.
	countValues(p.counts, p.shown, p.counted)
	p.counted = rowsLen(p.shown)
	p.counts[summaryCodeBox] = countCodes(p.shown)
	p.hist = histogram(p.shown, p.histWidth())
	p.sections = summarize(p.counts, rowsLen(p.shown))
	p.sec = clampInt(p.sec, 0, len(p.sections))
	p.row = clampInt(p.row, 0, max(0, p.rowsShown(p.sec)-1))
}

// summaryCodeBox is the index of the Codes box. A request's code is the one
// value that changes after it was first seen (a later stage carries it), so
// codes are counted again on every refresh, not added up: a cheap pass
// with no map and no allocation per request.
const summaryCodeBox = 3

// summaryUserBox is the index of the Users box.
const summaryUserBox = 0

// countValues adds the requests of rows from the from-th on to the per-box
// value counts (all but codes).
func countValues(counts []map[string]int, rows Rows, from int) {
	eachRowParts(rows, from, audit.PartWho|audit.PartWhat, func(_ int, r *audit.Request) bool {
		for i, f := range summaryFields {
			if i != summaryCodeBox {
				counts[i][f.value(r)]++
			}
		}
		// The filter's user field is the user or the user it impersonated:
		// the Users box counts a request under both, so choosing either
		// shows what was counted.
		if r.ImpersonatedUser != "" && r.ImpersonatedUser != r.User {
			counts[summaryUserBox][r.ImpersonatedUser]++
		}
		return true
	})
}

// countCodes counts the requests per status code.
func countCodes(rows Rows) map[string]int {
	var n [len(codeText)]int
	other := map[string]int{}
	eachRowParts(rows, 0, audit.PartWhat, func(_ int, r *audit.Request) bool {
		if r.Code >= 0 && r.Code < len(n) {
			n[r.Code]++
		} else {
			other[strconv.Itoa(r.Code)]++
		}
		return true
	})
	for c, k := range n {
		if k == 0 {
			continue
		}
		v := codeText[c]
		if c == 0 {
			v = ""
		}
		other[v] += k
	}
	return other
}

// summarize turns the counts into boxes, highest first (ties by value, so
// the order is stable).
func summarize(counts []map[string]int, total int) []summarySection {
	out := make([]summarySection, len(summaryFields))
	for i, f := range summaryFields {
		s := summarySection{title: f.title, field: f.field, total: total}
		for v, n := range counts[i] {
			label := f.empty
			if v != "" {
				label = sanitize(v)
			}
			s.values = append(s.values, summaryValue{value: v, label: label, count: n})
		}
		sort.Slice(s.values, func(a, b int) bool {
			if s.values[a].count != s.values[b].count {
				return s.values[a].count > s.values[b].count
			}
			return s.values[a].value < s.values[b].value
		})
		out[i] = s
	}
	return out
}

// histogramSteps are the bucket widths a histogram may use: round numbers a
// person reads at a glance.
var histogramSteps = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
}

// histogram buckets the requests' receive times with the smallest round step
// whose buckets fit in columns.
func histogram(rows Rows, columns int) summaryHist {
	var lo, hi time.Time
	var firsts []int64 // the receive times, read once (8 bytes a row while counting)
	eachRowParts(rows, 0, audit.PartTimes, func(_ int, r *audit.Request) bool {
		if r.First().IsZero() {
			return true
		}
		firsts = append(firsts, r.First().UnixMicro())
		if lo.IsZero() || r.First().Before(lo) {
			lo = r.First()
		}
		if r.First().After(hi) {
			hi = r.First()
		}
		return true
	})
	h := newHistogram(lo, hi, columns)
	for _, us := range firsts {
		h.add(time.UnixMicro(us), 1)
	}
	return h
}

// newHistogram is an empty histogram from lo to hi (receive times) with the
// smallest round step whose buckets fit in columns; none when lo is zero.
func newHistogram(lo, hi time.Time, columns int) summaryHist {
	if lo.IsZero() || columns < 1 {
		return summaryHist{}
	}
	step := histogramSteps[len(histogramSteps)-1]
	for _, s := range histogramSteps {
		if int(hi.Truncate(s).Sub(lo.Truncate(s))/s)+1 <= columns {
			step = s
			break
		}
	}
	start := lo.Truncate(step)
	return summaryHist{start: start, step: step, counts: make([]int, int(hi.Truncate(step).Sub(start)/step)+1)}
}

// add counts n requests received at t.
func (h *summaryHist) add(t time.Time, n int) {
	if h.step <= 0 {
		return
	}
	if i := int(t.Sub(h.start) / h.step); i >= 0 && i < len(h.counts) {
		h.counts[i] += n
	}
}

// summaryLayout is how the page is cut at the current size.
type summaryLayout struct {
	cols, rows int // boxes per line, values per box
	colWidth   int
	histBars   int // height of the histogram bars
}

const summaryGap = 2

func (p *summaryPage) layout() summaryLayout {
	w, h := max(p.width, 20), max(p.height, 8)
	l := summaryLayout{cols: 3}
	if w < 72 {
		l.cols = 2
	}
	l.colWidth = (w - summaryGap*(l.cols-1)) / l.cols
	gridLines := (len(summaryFields) + l.cols - 1) / l.cols
	// The histogram takes about a third: title, bars, axis, selection line.
	l.histBars = clampInt(h/3-3, 2, 12)
	histH := l.histBars + 4 // and the coverage line
	// Each line of boxes: a title and its values, a blank line between.
	l.rows = max(1, (h-histH-(gridLines-1)-1-gridLines)/gridLines)
	return l
}

func (p *summaryPage) histWidth() int {
	return max(p.width, 20) - p.histAxisWidth()
}

// histAxisWidth is the room left of the bars for the count scale.
func (p *summaryPage) histAxisWidth() int { return 7 }

func (p *summaryPage) View() string {
	p.refresh()
	st := p.env.Styles
	l := p.layout()
	w := max(p.width, 20)
	var b strings.Builder
	if rowsLen(p.shown) == 0 {
		b.WriteString(st.Empty.Render("no requests match the filter"))
		b.WriteString("\n")
		return summaryFit(b.String(), p.height)
	}
	for first := 0; first < len(p.sections); first += l.cols {
		if first > 0 {
			b.WriteString("\n")
		}
		var boxes []string
		for i := first; i < min(first+l.cols, len(p.sections)); i++ {
			boxes = append(boxes, p.viewBox(i, l))
		}
		b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, joinWithGap(boxes, summaryGap)...))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	b.WriteString(p.viewHistogram(w, l.histBars))
	b.WriteString("\n")
	b.WriteString(st.Muted.Render(truncateCells(p.coverageLine(), w)))
	return summaryFit(b.String(), p.height)
}

func joinWithGap(boxes []string, gap int) []string {
	out := make([]string, 0, 2*len(boxes))
	for i, bx := range boxes {
		if i > 0 {
			out = append(out, strings.Repeat(" ", gap))
		}
		out = append(out, bx)
	}
	return out
}

// viewBox draws one box: title, then value, count and bar per line.
func (p *summaryPage) viewBox(i int, l summaryLayout) string {
	st := p.env.Styles
	s := p.sections[i]
	w := l.colWidth
	title := fmt.Sprintf("%s (%d)", s.title, len(s.values))
	lines := []string{st.Title.Render(padRight(truncateCells(title, w), w))}
	shown := min(len(s.values), l.rows)
	maxCount := 0
	for _, v := range s.values[:shown] {
		maxCount = max(maxCount, v.count)
	}
	countW := len(strconv.Itoa(maxCount))
	labelW := 0
	for _, v := range s.values[:shown] {
		labelW = max(labelW, lipgloss.Width(v.label))
	}
	// Labels get what the bar does not need; the bar at least a few cells.
	labelW = min(labelW, max(4, w-countW-2-max(4, w/4)))
	barW := max(0, w-labelW-countW-2)
	for r, v := range s.values[:shown] {
		label := padRight(truncateCells(v.label, labelW), labelW)
		count := fmt.Sprintf("%*d", countW, v.count)
		bar := barCells(v.count, maxCount, barW)
		selected := p.sec == i && p.row == r
		var line string
		if selected {
			line = st.Selected.Render(padRight(label+" "+count+" "+bar, w))
		} else {
			line = st.BarLabel.Render(label) + " " + st.BarValue.Render(count) + " " + st.Bar.Render(padRight(bar, barW))
		}
		lines = append(lines, line)
	}
	for len(lines) < l.rows+1 {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

// barCells is a horizontal bar of n/total of width cells, in eighths.
func barCells(n, total, width int) string {
	if total <= 0 || width <= 0 || n <= 0 {
		return ""
	}
	eighths := n * width * 8 / total
	if eighths == 0 {
		eighths = 1 // a value that exists is never drawn as nothing
	}
	s := strings.Repeat("█", eighths/8)
	if rem := eighths % 8; rem > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[rem-1])
	}
	return s
}

// viewHistogram draws requests over time: bars of eighth blocks, an axis
// with the first and last times, and the selected bucket.
func (p *summaryPage) viewHistogram(w, bars int) string {
	st := p.env.Styles
	h := p.hist
	var b strings.Builder
	if p.store != nil && (p.storeHist == nil || p.storeHistErr != "") {
		b.WriteString(st.Title.Render(truncateCells("Requests over time", w)) + "\n")
		why := "counted by the store: asking it…"
		if p.storeHistErr != "" {
			why = "the store could not count them: " + p.storeHistErr
		}
		b.WriteString(st.Empty.Render(truncateCells(why, w)))
		return b.String()
	}
	title := fmt.Sprintf("Requests over time (%s per bar, %s)", render.FormatStep(h.step), render.ZoneName())
	b.WriteString(st.Title.Render(truncateCells(title, w)))
	b.WriteString("\n")
	n := len(h.counts)
	if n == 0 {
		b.WriteString(st.Empty.Render("no request carries a time"))
		return b.String()
	}
	axisW := p.histAxisWidth()
	colW := max(1, (w-axisW)/n)
	peak := 0
	for _, c := range h.counts {
		peak = max(peak, c)
	}
	levels := []rune(" ▁▂▃▄▅▆▇█")
	for line := bars - 1; line >= 0; line-- {
		label := ""
		switch line {
		case bars - 1:
			label = strconv.Itoa(peak)
		case 0:
			label = "0"
		}
		b.WriteString(st.Muted.Render(fmt.Sprintf("%*s │", axisW-2, label)))
		for i, c := range h.counts {
			// Height in eighths of a line; a non-empty bucket shows at least a sliver.
			e := c * bars * 8 / max(peak, 1)
			if c > 0 && e == 0 {
				e = 1
			}
			cell := levels[clampInt(e-line*8, 0, 8)]
			text := strings.Repeat(string(cell), colW)
			if p.sec == len(p.sections) && p.row == i {
				b.WriteString(st.Selected.Render(text))
			} else {
				b.WriteString(st.Bar.Render(text))
			}
		}
		b.WriteString("\n")
	}
	// Axis: first bucket's time at the left, last bucket's end at the right.
	first := h.start
	last := h.start.Add(time.Duration(n) * h.step)
	left := summaryTime(first, h.step)
	right := summaryTime(last, h.step)
	axis := strings.Repeat(" ", axisW) + left
	span := axisW + n*colW
	if gap := span - lipgloss.Width(axis) - len(right); gap > 0 {
		axis += strings.Repeat(" ", gap) + right
	}
	b.WriteString(st.Muted.Render(axis))
	b.WriteString("\n")
	// What the cursor is on.
	if p.sec == len(p.sections) && p.row < n {
		from := h.start.Add(time.Duration(p.row) * h.step)
		b.WriteString(fmt.Sprintf("%s – %s  %d requests  (enter: narrow to this time)",
			summaryTime(from, h.step), summaryTime(from.Add(h.step), h.step), h.counts[p.row]))
	} else {
		b.WriteString(st.Muted.Render(fmt.Sprintf("%d requests from %s to %s", rowsLen(p.shown),
			summaryTime(first, time.Second), summaryTime(last, time.Second))))
	}
	return b.String()
}

// summaryCoverageMax is the most requests whose coverage is made again
// while they load (a sort of every event time); past it, once loaded.
const summaryCoverageMax = 300_000

// coverageLine is what the log cannot see in a line: gaps, shared
// auditIDs, writes without a body; made again when requests were added.
func (p *summaryPage) coverageLine() string {
	if p.store != nil {
		line := "Counted by the store (the log's gaps: L loads the answer, or read it with --follow or from the files)"
		if len(p.storeWhy) > 0 {
			line = "Not counted by the store: " + strings.Join(p.storeWhy, "; ")
		}
		return line
	}
	n := rowsLen(p.all)
	// While loading, made again only when a tenth more requests came: it
	// sorts every event time, and the page is drawn at every tick.
	grown := n != p.covered && (!p.loading || n >= p.covered+p.covered/10+1) || p.covEarly && !p.loading
	if p.coverage != "" && !grown || p.loading && n > summaryCoverageMax {
		if p.coverage == "" {
			return "The log: its gaps once loaded · more: 5 Answers, What the log cannot see"
		}
		return p.coverage
	}
	var c audit.Coverage
	shared := 0
	if !p.env.src.coverageCheap(n) {
		return coverageElsewhere(n)
	}
	c, shared, err := p.env.src.coverage(p.all)
	if err != nil {
		return coverageElsewhere(n)
	}
	parts := []string{fmt.Sprintf("The log: %d gaps over %s", len(c.Gaps), render.FormatStep(coverageGap))}
	switch len(c.Gaps) {
	case 0:
		parts[0] = "The log: no gap over " + render.FormatStep(coverageGap)
	case 1:
		parts[0] = "The log: 1 gap over " + render.FormatStep(coverageGap)
	}
	if len(c.Gaps) > 0 {
		longest := c.Gaps[0]
		for _, g := range c.Gaps {
			if g.To.Sub(g.From) > longest.To.Sub(longest.From) {
				longest = g
			}
		}
		parts[0] += fmt.Sprintf(" (longest %s from %s)", longest.To.Sub(longest.From).Round(time.Second), summaryTime(longest.From, time.Second))
	}
	parts = append(parts, fmt.Sprintf("%d shared auditIDs", shared))
	writes := 0
	for _, w := range c.NoBody {
		writes += w.N
	}
	parts = append(parts, fmt.Sprintf("%d writes without a body", writes))
	p.coverage = strings.Join(parts, " · ") + " · more: 5 Answers"
	p.covered, p.covEarly = n, p.loading
	return p.coverage
}

// summaryTime prints a time as precisely as a bucket step needs, with its
// zone.
func summaryTime(t time.Time, step time.Duration) string {
	switch {
	case step >= 24*time.Hour:
		return render.FormatTime(t, "2006-01-02 15:04Z07:00")
	case step >= time.Minute:
		return render.FormatTime(t, "01-02 15:04Z07:00")
	}
	return render.FormatTime(t, "01-02 15:04:05Z07:00")
}

// summaryFit cuts or pads a view to exactly height lines.
func summaryFit(s string, height int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if height > 0 && len(lines) > height {
		lines = lines[:height]
	}
	return strings.Join(lines, "\n")
}

// truncateCells cuts s to at most w terminal cells, ending in "…" when cut.
func truncateCells(s string, w int) string { return render.TruncateCells(s, w) }

func clampInt(v, lo, hi int) int {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

// coverageElsewhere is the coverage line of a log whose coverage the
// Summary does not make (its every request read back from the index):
// where it is made.
func coverageElsewhere(n int) string {
	if n <= wholeLimit {
		return "The log: its gaps, shared auditIDs and writes without a body: 5 Answers, What the log cannot see"
	}
	return "The log: its gaps, shared auditIDs and writes without a body: kauditui query --coverage (too many requests to read back here)"
}

// summaryStoreMsg is a box counted by the store.
type summaryStoreMsg struct {
	ans    StoreAnswer
	box    int
	counts map[string]int
	why    string
}

// summaryStoreHistMsg is the histogram counted by the store.
type summaryStoreHistMsg struct {
	ans  StoreAnswer
	hist summaryHist
	err  string
}

// askStore asks the store to count each box (filter.TopStoreFields), and
// the histogram: the first and last receive times, which choose the step
// as for the rows (newHistogram), then the requests a step.
func (p *summaryPage) askStore() tea.Cmd {
	if p.store == nil {
		return nil
	}
	p.storeTop = make([]map[string]int, len(summaryFields))
	ans, columns := p.store, p.histWidth()
	cmds := []tea.Cmd{func() tea.Msg {
		ctx := context.Background()
		lo, hi, err := ans.Span(ctx)
		if err != nil {
			return summaryStoreHistMsg{ans: ans, err: sanitize(err.Error())}
		}
		h := newHistogram(lo, hi, columns)
		if h.step > 0 {
			tl, why, err := ans.Timeline(ctx, h.step, false)
			switch {
			case err != nil:
				return summaryStoreHistMsg{ans: ans, err: sanitize(err.Error())}
			case why != "":
				return summaryStoreHistMsg{ans: ans, err: sanitize(why)}
			}
			for _, b := range tl.Buckets {
				h.add(b.Start, b.Requests)
			}
		}
		return summaryStoreHistMsg{ans: ans, hist: h}
	}}
	for i, f := range summaryFields {
		cmds = append(cmds, func() tea.Msg {
			counts, _, why, err := ans.Top(context.Background(), f.field)
			if err != nil {
				why = err.Error()
			}
			return summaryStoreMsg{ans: ans, box: i, counts: counts, why: why}
		})
	}
	return tea.Batch(cmds...)
}

// refreshStore makes the boxes of the store's counts (those come so far).
func (p *summaryPage) refreshStore() {
	counts := make([]map[string]int, len(summaryFields))
	for i := range counts {
		if i < len(p.storeTop) && p.storeTop[i] != nil {
			counts[i] = maps.Clone(p.storeTop[i])
		}
		if n, ok := counts[i]["0"]; ok && summaryFields[i].field == "code" {
			delete(counts[i], "0") // no status: --top's 0, the box's ""
			counts[i][""] += n
		}
		if counts[i] == nil {
			counts[i] = map[string]int{}
		}
	}
	p.hist = summaryHist{}
	if p.storeHist != nil {
		p.hist = *p.storeHist
	}
	p.sections = summarize(counts, rowsLen(p.shown))
	p.sec = clampInt(p.sec, 0, len(p.sections))
	p.row = clampInt(p.row, 0, max(0, p.rowsShown(p.sec)-1))
}
