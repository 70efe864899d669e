package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// timelineSteps are the zoom levels of the Timeline screen.
var timelineSteps = []time.Duration{
	10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour,
}

// timelineDefaultStep is where the screen opens: a minute.
const timelineDefaultStep = 1

// timelineScreen is "what happened when" in front of the Answers page: a
// row per step with requests (render.TimelineCells, as `query --timeline`
// prints them), the selected row told in full below; + and - change the
// step around the selected time, enter narrows the filter to that time.
// It is the timeline of the requests the applied filter shows (all of
// them without one), like the Summary.
type timelineScreen struct {
	env    *Env
	all    Rows   // the requests the filter shows
	expr   string // the applied filter
	read   func(func())
	stepAt int
	tl     audit.Timeline
	rows   [][]string
	widths []int
	maxReq int
	cursor int // bucket index
	top    int // first line shown (lines include the quiet ones)
	width  int
	height int

	// A store read in pages: the timeline is the store's (Timeline), asked
	// at each step (seq: the latest ask); why says why it cannot give it.
	store  StoreAnswer
	asking bool
	seq    int
	why    string
}

func newTimelineScreen(env *Env, shown Rows, expr string, read func(func())) *timelineScreen {
	s := &timelineScreen{env: env, all: shown, expr: expr, read: read, stepAt: timelineDefaultStep}
	s.build(time.Time{})
	return s
}

// newStoreTimelineScreen is the timeline of a store's answer read in
// pages, computed by the store; the command asks for it.
func newStoreTimelineScreen(env *Env, ans StoreAnswer, expr string) (*timelineScreen, tea.Cmd) {
	s := &timelineScreen{env: env, all: emptyRows{}, store: ans, expr: expr, stepAt: timelineDefaultStep}
	return s, s.build(time.Time{})
}

// timelineStoreMsg is the store's timeline for the screen's ask seq.
type timelineStoreMsg struct {
	screen *timelineScreen
	seq    int
	at     time.Time
	tl     audit.Timeline
	why    string
	err    error
}

// restore makes the timeline again of a store's new answer (a new filter).
func (s *timelineScreen) restore(expr string, ans StoreAnswer) tea.Cmd {
	var at time.Time
	if len(s.tl.Buckets) > 0 && s.cursor < len(s.tl.Buckets)-1 {
		at = s.tl.Buckets[s.cursor].Start
	}
	s.expr, s.store = expr, ans
	return s.build(at)
}

// refilter makes the timeline again of the requests a new filter shows,
// keeping the selected time.
func (s *timelineScreen) refilter(expr string, shown Rows) {
	var at time.Time
	if len(s.tl.Buckets) > 0 && s.cursor < len(s.tl.Buckets)-1 {
		at = s.tl.Buckets[s.cursor].Start // else the newest, as at the start
	}
	s.expr, s.all = expr, shown
	s.store = nil // the answer is loaded: the timeline is of its rows
	s.build(at)
}

// build buckets the requests at the current step and puts the cursor on
// the bucket holding at (the newest when at is zero). On a store, it asks
// the store (the command) and shows the answer when it comes (stored).
func (s *timelineScreen) build(at time.Time) tea.Cmd {
	step := timelineSteps[s.stepAt]
	if s.store != nil {
		s.seq++
		s.asking, s.why = true, ""
		ans, seq := s.store, s.seq
		return func() tea.Msg {
			tl, why, err := ans.Timeline(context.Background(), step, true)
			return timelineStoreMsg{screen: s, seq: seq, at: at, tl: tl, why: why, err: err}
		}
	}
	s.show(buildTimeline(s.all, step, s.env.Data.Raw), at)
	return nil
}

// stored shows the store's timeline, if it is the latest asked for (the
// Answers page hands it the message).
func (s *timelineScreen) stored(msg timelineStoreMsg) {
	if msg.seq != s.seq {
		return
	}
	s.asking = false
	switch {
	case msg.err != nil:
		s.why = "the store could not compute it: " + sanitize(msg.err.Error())
	case msg.why != "":
		s.why = "the store cannot compute it as kauditui would: " + sanitize(msg.why)
	}
	if s.why != "" {
		msg.tl = audit.Timeline{Step: timelineSteps[s.stepAt]}
	}
	s.show(msg.tl, msg.at)
}

// show lays a timeline out, the cursor on the bucket holding at.
func (s *timelineScreen) show(tl audit.Timeline, at time.Time) {
	step := tl.Step
	s.tl = tl
	s.rows, s.widths = render.TimelineTable(s.tl, timelineTextMax)
	s.maxReq = 0
	for _, b := range s.tl.Buckets {
		s.maxReq = max(s.maxReq, b.Requests)
	}
	s.cursor = max(0, len(s.tl.Buckets)-1)
	if !at.IsZero() {
		// the first bucket that ends after at: the one holding it when
		// zooming out, its first part with requests when zooming in
		for i, b := range s.tl.Buckets {
			if b.End(step).After(at) {
				s.cursor = i
				break
			}
		}
	}
	s.top = 0
}

// timelineLine is a row of the list: a bucket, or (bucket -1) the steps
// without requests before the next one.
type timelineLine struct {
	bucket int
	quiet  string
}

func (s *timelineScreen) lines() []timelineLine {
	out := make([]timelineLine, 0, len(s.tl.Buckets))
	for i, b := range s.tl.Buckets {
		if i > 0 && !b.Start.Equal(s.tl.Buckets[i-1].End(s.tl.Step)) {
			out = append(out, timelineLine{bucket: -1, quiet: render.TimelineQuiet(s.tl.Buckets[i-1], b, s.tl.Step)})
		}
		out = append(out, timelineLine{bucket: i})
	}
	return out
}

// detailLines is how many lines the selected bucket's text takes.
const timelineDetailLines = 7

// listRows is how many lines of the list fit: the screen less the heading,
// column titles, the selected row's text and the footer.
func (s *timelineScreen) listRows() int { return max(1, s.height-2-timelineDetailLines-1) }

// Init implements component.
func (s *timelineScreen) Init() tea.Cmd { return nil }

// SetSize implements component.
func (s *timelineScreen) SetSize(width, height int) { s.width, s.height = width, height }

// ShortHelp implements subScreen.
func (s *timelineScreen) ShortHelp() []keyHelp {
	k := s.env.Keys
	return shortHelp(k.TimelineNarrow, k.TimelineZoomIn, k.TimelineZoomOut, k.Back)
}

// Update implements component: a key moves, zooms, or (enter) sets the
// filter to the selected time and leaves (nil). Esc is the stack's.
func (s *timelineScreen) Update(m tea.Msg) (component, tea.Cmd) {
	msg, ok := m.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.env.Keys
	n := len(s.tl.Buckets)
	page := s.listRows()
	switch {
	case key.Matches(msg, k.TimelineNarrow):
		if n == 0 {
			return s, nil
		}
		b := s.tl.Buckets[s.cursor]
		expr := filter.With(s.expr, "since", render.FilterTime(b.Start), false)
		expr = filter.With(expr, "until", render.FilterTime(b.End(s.tl.Step).Add(-time.Microsecond)), false)
		return nil, tea.Sequence(
			func() tea.Msg { return setFilterMsg{Expr: expr} },
			func() tea.Msg { return showPageMsg{Page: stateRequests} },
		)
	case key.Matches(msg, k.TimelineZoomIn), key.Matches(msg, k.TimelineZoomOut):
		d := 1
		if key.Matches(msg, k.TimelineZoomIn) {
			d = -1
		}
		next := clampInt(s.stepAt+d, 0, len(timelineSteps)-1)
		if next == s.stepAt {
			return s, statusCmd("no further zoom: steps go from 10s to 1d", false)
		}
		var at time.Time
		if n > 0 {
			at = s.tl.Buckets[s.cursor].Start
		}
		s.stepAt = next
		return s, s.build(at)
	case key.Matches(msg, k.Down):
		s.cursor++
	case key.Matches(msg, k.Up):
		s.cursor--
	case key.Matches(msg, k.PageDown):
		s.cursor += page
	case key.Matches(msg, k.PageUp):
		s.cursor -= page
	case key.Matches(msg, k.Top):
		s.cursor = 0
	case key.Matches(msg, k.Bottom):
		s.cursor = n - 1
	}
	s.cursor = clampInt(s.cursor, 0, max(0, n-1))
	return s, nil
}

// timelineBarWidth is the width of the requests bar after REQS.
const timelineBarWidth = 10

// timelineTextMax bounds the users, verbs, codes and time-spent columns, so
// that every column fits on a wide terminal; the selected row is told in
// full below the list.
const timelineTextMax = 36

// View implements component.
func (s *timelineScreen) View() string {
	st := s.env.Styles
	w := max(s.width, 20)
	var b strings.Builder
	n := len(s.tl.Buckets)
	head := fmt.Sprintf("What happened when: requests per %s (%s), %s in %d steps", render.FormatStep(timelineSteps[s.stepAt]), render.ZoneName(), thousands(s.tl.Requests), n)
	if s.asking || s.why != "" {
		head = fmt.Sprintf("What happened when: requests per %s (%s)", render.FormatStep(timelineSteps[s.stepAt]), render.ZoneName())
	}
	if strings.TrimSpace(s.expr) != "" {
		head += ", of the filter " + sanitize(s.expr)
	}
	if s.store != nil {
		head += ", computed by the store"
	}
	b.WriteString(st.Title.Render(truncateCells(head, w)))
	b.WriteString("\n")
	switch {
	case s.asking:
		b.WriteString(st.Empty.Render(truncateCells("asking the store for the timeline at "+render.FormatStep(timelineSteps[s.stepAt])+" steps…", w)))
		b.WriteString("\n")
		return summaryFit(b.String()+s.footer(w), s.height)
	case s.why != "":
		b.WriteString(st.Empty.Render(truncateCells(s.why+" · "+s.env.Keys.LoadWhole.Help().Key+": load the answer whole", w)))
		b.WriteString("\n")
		return summaryFit(b.String()+s.footer(w), s.height)
	}
	if n == 0 {
		b.WriteString(st.Empty.Render("no requests with a receive time in the loaded logs"))
		b.WriteString("\n")
		return summaryFit(b.String()+s.footer(w), s.height)
	}
	row := func(cells []string) string {
		// the bar goes after REQS: how busy the step was next to the busiest
		return render.TimelineRow(cells[:2], s.widths[:2], 0) + "  " + padRight(cells[len(cells)-1], timelineBarWidth) + "  " +
			render.TimelineRow(cells[2:len(cells)-1], s.widths[2:], 2)
	}
	titles := append(append([]string{}, render.TimelineColumns...), "")
	b.WriteString(st.Header.Render(padRight(truncateCells(row(titles), w), w)))
	b.WriteString("\n")

	lines := s.lines()
	at := 0
	for i, l := range lines {
		if l.bucket == s.cursor {
			at = i
		}
	}
	rows := s.listRows()
	if at < s.top {
		s.top = at
	}
	if at >= s.top+rows {
		s.top = at - rows + 1
	}
	s.top = clampInt(s.top, 0, max(0, len(lines)-rows))
	for _, l := range lines[s.top:min(len(lines), s.top+rows)] {
		if l.bucket < 0 {
			b.WriteString(st.Muted.Render(truncateCells(l.quiet, w)))
			b.WriteString("\n")
			continue
		}
		bk := s.tl.Buckets[l.bucket]
		cells := append(append([]string{}, s.rows[l.bucket]...), barCells(bk.Requests, s.maxReq, timelineBarWidth))
		text := padRight(truncateCells(row(cells), w), w)
		switch {
		case l.bucket == s.cursor:
			text = st.Selected.Render(text)
		case bk.ServerErrors > 0 || bk.Slow > 0:
			text = st.Warning.Render(text)
		}
		b.WriteString(text)
		b.WriteString("\n")
	}
	for i := len(lines) - s.top; i < rows; i++ {
		b.WriteString("\n")
	}
	detail := render.TimelineBucketText(s.tl.Buckets[s.cursor], s.tl.Step)
	for i := 0; i < timelineDetailLines; i++ {
		if i < len(detail) {
			b.WriteString(truncateCells(detail[i], w))
		}
		b.WriteString("\n")
	}
	b.WriteString(s.footer(w))
	return b.String()
}

func (s *timelineScreen) footer(w int) string {
	return s.env.Styles.Muted.Render(truncateCells("enter: the requests of this time  ·  +/-: zoom ("+
		render.FormatStep(timelineSteps[s.stepAt])+" steps)  ·  esc: back to the answers", w))
}

// buildTimeline is audit.BuildTimeline of the requests of rows, read a row
// at a time (eachRow's Probe): the builder keeps counts, not requests, but
// for each bucket its slowest request and the layers of the slow ones,
// which it is handed whole (read back: their events' stages and times), so
// what it keeps is a request of its own.
func buildTimeline(rows Rows, step time.Duration, raw func(audit.Ref) ([]byte, error)) audit.Timeline {
	b := audit.NewTimelineBuilder(step, raw)
	slowest := map[int64]time.Duration{} // per bucket, the latency of the slowest handed whole
	var keep []int
	eachRowParts(rows, 0, audit.PartWho|audit.PartWhat|audit.PartTimes, func(i int, r *audit.Request) bool {
		if r.First().IsZero() || step <= 0 {
			return true
		}
		l := r.Latency()
		if !audit.LongRunning(r) && r.Code != 0 {
			start := r.First().UTC().Truncate(step).UnixMicro()
			if m, ok := slowest[start]; !ok || l > m || l > audit.SlowRequest {
				slowest[start] = max(m, l)
				keep = append(keep, i) // handed whole below, in order
				return true
			}
		}
		b.Add(r)
		return true
	})
	// The kept requests are added after the others: the builder's counts do
	// not depend on the order, its slowest is the first of the highest
	// latency, so they are added in the rows' order among themselves.
	for _, i := range keep {
		r, err := rows.Open(i)
		if err != nil {
			continue
		}
		b.Add(r)
	}
	return b.Timeline()
}
