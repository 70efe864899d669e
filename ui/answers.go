package ui

import (
	"fmt"
	"github.com/charmbracelet/x/ansi"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// answersPage is a menu of ready questions ("who deleted my deployment?").
// Choosing one sets the filter and the page in one step; the requests that
// answer the selected question are previewed below the menu, and can be
// opened from there.
type answersPage struct {
	env *Env
	// store is the store's answer read a page at a time (DataMsg.Store):
	// the answers read every request, so they say they need it loaded.
	store     StoreAnswer
	catalog   []answer
	inputName func(int32) string // names an input (Coverage)
	// policyText is what the audit policy does not log (Coverage); nil: nothing.
	policyText func([]*audit.Request) []string

	all     Rows   // every request in the store: answers replace the filter
	version uint64 // the store's version all was taken at

	// The applied filter and its requests: the timeline is of these.
	expr  string
	shown Rows

	cursor    int
	prompting bool            // asking for the object of a prompted answer
	input     textinput.Model // the object
	inputErr  string

	// The preview of the answer under the cursor.
	inResults bool // the cursor is in the result list
	result    answerResult
	resultAt  int // result row under the cursor

	// The menu counts: each answer's Filter over every request, re-filtered
	// as the store grows (refilter.go, the matcher of every page).
	counters []*filtered
	counts   []int  // matches per answer
	counted  uint64 // the version of all counted (with len(all): counted is current)
	countedN int

	loading bool // the last DataMsg said the sources were still loading

	// admission is what admissionOnly found of a row done (read back whole
	// for its annotations): a count made again does not read it again.
	admission map[int]bool

	// screens in front of the menu: an object's history, a user's RBAC,
	// what the log cannot see, what happened when (esc, ←: back)
	screens screenStack

	width, height int
}

// answerResult is the requests matching one answer's expression.
type answerResult struct {
	key     string // answer ID + expression
	expr    string
	err     error
	fs      *filtered // the matches in store order, re-filtered as the store grows
	matched bool      // fs was brought up to the requests of version
	version uint64
	matches *indexRows // what is shown: newest (or slowest) first
	total   int
	// whole holds the listed requests read whole (Open), for the lines
	// that read their events (admission, exec): the screen's, not more.
	whole map[int]*audit.Request
	// commandW is the widest exec command among the first matches, so
	// every row gives the command the same room (-1: not measured).
	commandW int
}

// answerResultMax is how many matches the page lists.
const answerResultMax = 1000

// answersCountLimit: above this many requests the menu counts only the
// selected answer, so moving the cursor stays instant.
const answersCountLimit = 200_000

// newAnswersPage builds the Answers page.
func newAnswersPage(env *Env) page {
	in := pageInput(env)
	in.Prompt = "object: "
	in.CharLimit = 256
	return &answersPage{env: env, catalog: answerCatalog, input: in,
		screens: screenStack{back: []key.Binding{env.Keys.Back, env.Keys.AnswersMenu}}}
}

func (p *answersPage) Init() tea.Cmd { return nil }

func (p *answersPage) Title() string { return "Answers" }

func (p *answersPage) SetSize(width, height int) {
	p.width, p.height = width, height
	p.screens.SetSize(width, height)
	p.input.SetWidth(max(10, width-len(p.input.Prompt)-1))
}

// CapturesInput is true while the object prompt is open.
func (p *answersPage) CapturesInput() bool { return p.prompting || p.screenCaptures() }

func (p *answersPage) ShortHelp() []keyHelp {
	k := p.env.Keys
	if s := p.screens.top(); s != nil {
		return s.ShortHelp()
	}
	switch {
	case p.prompting:
		return shortHelp(k.FilterApply, k.FilterCancel)
	case p.inResults:
		return shortHelp(k.Open, k.AnswersHistory, k.AnswersRBAC, k.AnswersMenu)
	}
	return shortHelp(k.AnswersChoose, k.AnswersResults)
}

func (p *answersPage) Update(msg tea.Msg) (component, tea.Cmd) {
	k := p.env.Keys
	switch msg := msg.(type) {
	case DataMsg:
		if p.store = msg.Store; p.store != nil {
			p.expr, p.shown, p.all = msg.Filter, nil, nil
			var cmds []tea.Cmd
			for _, sc := range p.screens.screens {
				if t, ok := sc.(*timelineScreen); ok && t.store != nil && t.store != msg.Store {
					cmds = append(cmds, t.restore(msg.Filter, msg.Store)) // the store's answer to the new filter
				}
			}
			return p, tea.Batch(cmds...)
		}
		if p.loading && !msg.Loading {
			// Requests read while loading may have gained their final stage
			// (and code) since they were counted: count once more, now.
			p.counters, p.result, p.admission = nil, answerResult{}, nil
		}
		p.loading = msg.Loading
		p.all, p.version = msg.All, msg.Snap.Version
		p.expr, p.shown = msg.Filter, msg.Shown
		for _, sc := range p.screens.screens {
			if t, ok := sc.(*timelineScreen); ok && (msg.Reset || msg.Filter != t.expr) {
				t.refilter(msg.Filter, msg.Shown) // the timeline is of the filter in force
			}
		}
		return p, nil
	case timelineStoreMsg:
		if t := msg.screen; slices.Contains(p.screens.screens, subScreen(t)) {
			t.stored(msg)
		}
		return p, nil
	case tea.KeyPressMsg:
		if cmd, ok := p.screens.update(msg); ok {
			return p, cmd
		}
		if p.store != nil {
			if key.Matches(msg, k.AnswersChoose) { // the timeline, computed by the store
				s, cmd := newStoreTimelineScreen(p.env, p.store, p.expr)
				p.screens.push(s)
				return p, cmd
			}
			return p, nil
		}
		if p.prompting {
			return p, p.updatePrompt(msg)
		}
		if p.inResults {
			p.preview()
			switch {
			case key.Matches(msg, k.Down):
				p.resultAt = min(p.resultAt+1, max(0, rowsLen(p.result.matches)-1))
			case key.Matches(msg, k.Up):
				p.resultAt = max(p.resultAt-1, 0)
			case key.Matches(msg, k.PageDown):
				p.resultAt = min(p.resultAt+p.resultRows(), max(0, rowsLen(p.result.matches)-1))
			case key.Matches(msg, k.PageUp):
				p.resultAt = max(p.resultAt-p.resultRows(), 0)
			case key.Matches(msg, k.Top):
				p.resultAt = 0
			case key.Matches(msg, k.Bottom):
				p.resultAt = max(0, rowsLen(p.result.matches)-1)
			case key.Matches(msg, k.AnswersMenu), key.Matches(msg, k.Back):
				p.inResults = false
			case key.Matches(msg, k.Open):
				if r := p.selectedResult(); r != nil {
					return p, func() tea.Msg { return openRequestMsg{Req: r} }
				}
			case key.Matches(msg, p.env.Keys.AnswersHistory):
				if r := p.selectedResult(); r != nil {
					return p, func() tea.Msg { return openHistoryMsg{Req: r} }
				}
			case key.Matches(msg, p.env.Keys.AnswersRBAC):
				if r := p.selectedResult(); r != nil {
					return p, func() tea.Msg { return openRBACMsg{Req: r} }
				}
			}
			return p, nil
		}
		switch {
		case key.Matches(msg, k.Down):
			p.cursor = min(p.cursor+1, len(p.catalog)-1)
		case key.Matches(msg, k.Up):
			p.cursor = max(p.cursor-1, 0)
		case key.Matches(msg, k.Top):
			p.cursor = 0
		case key.Matches(msg, k.Bottom):
			p.cursor = len(p.catalog) - 1
		case key.Matches(msg, k.AnswersResults):
			p.preview()
			if rowsLen(p.result.matches) > 0 {
				p.inResults, p.resultAt = true, 0
			}
		case key.Matches(msg, k.AnswersChoose):
			a := p.catalog[p.cursor]
			if a.Prompt != "" {
				p.prompting = true
				p.inputErr = ""
				p.input.Placeholder = a.Prompt
				p.input.SetValue("")
				return p, p.input.Focus()
			}
			return p, p.choose(a, "")
		}
	}
	return p, nil
}

// updatePrompt edits the object of a prompted answer; enter asks it.
func (p *answersPage) updatePrompt(msg tea.KeyPressMsg) tea.Cmd {
	k := p.env.Keys
	switch {
	case key.Matches(msg, k.FilterApply):
		a := p.catalog[p.cursor]
		if _, err := a.Expr(p.input.Value()); err != nil {
			p.inputErr = err.Error()
			return nil
		}
		if kind, _, name, _ := parseObjectSpec(p.input.Value()); a.History && kind == "" {
			p.inputErr = "type the kind too, e.g. deploy " + name
			return nil
		}
		p.prompting = false
		p.input.Blur()
		return p.choose(a, p.input.Value())
	case key.Matches(msg, k.FilterCancel):
		p.prompting = false
		p.inputErr = ""
		p.input.Blur()
		return nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	p.inputErr = ""
	return cmd
}

// choose applies an answer: its filter, then its page. An answer shown on
// this page (slowest requests) moves the cursor into its results instead.
func (p *answersPage) choose(a answer, input string) tea.Cmd {
	expr, err := a.Expr(input)
	if err != nil {
		return statusCmd(err.Error(), true)
	}
	if a.Coverage {
		return p.openCoverage()
	}
	if a.Findings {
		return p.openFindings()
	}
	if a.Timeline {
		p.screens.push(newTimelineScreen(p.env, p.shown, p.expr, p.read))
		return nil
	}
	if a.History {
		kind, ns, name, err := parseObjectSpec(input)
		if err == nil && kind == "" {
			err = fmt.Errorf("type the kind too, e.g. deploy %s", name)
		}
		if err != nil {
			return statusCmd(err.Error(), true)
		}
		return p.openHistory(kind, ns, name)
	}
	if a.Page == stateAnswers {
		p.preview()
		p.inResults, p.resultAt = rowsLen(p.result.matches) > 0, 0
		return nil
	}
	return tea.Sequence(
		func() tea.Msg { return setFilterMsg{Expr: expr} },
		func() tea.Msg { return showPageMsg{Page: a.Page} },
	)
}

// currentExpr is the expression the preview shows: the answer with the
// object typed so far, or its fixed part while nothing usable is typed.
func (p *answersPage) currentExpr() string {
	a := p.catalog[p.cursor]
	if p.prompting {
		if expr, err := a.Expr(p.input.Value()); err == nil {
			return expr
		}
	}
	return a.Filter
}

// preview matches the selected answer against every request, with the
// re-filter of the root (filtered, refilter.go): kept per answer and
// object, it matches only requests that are new, or were not done when
// last matched. The selected row stays on its request as the list grows.
func (p *answersPage) preview() {
	a := p.catalog[p.cursor]
	expr := p.currentExpr()
	k := a.ID + "\x00" + expr
	r := &p.result
	sel := -1
	if r.key == k && p.resultAt < rowsLen(r.matches) {
		sel = r.matches.Key(p.resultAt)
	}
	if r.key != k || (r.fs != nil && r.fs.n > rowsLen(p.all)) {
		*r = answerResult{key: k, expr: expr}
		var f *filter.Filter
		if f, r.err = filter.Parse(expr, p.now()); r.err == nil {
			r.fs = newFiltered(expr, f, p.env.Data.Raw)
		}
	}
	if r.err != nil || (r.matched && r.version == p.version && r.fs.n == rowsLen(p.all)) {
		return
	}
	r.fs.extendTo(p.src(), rowsLen(p.all))
	r.matched, r.version = true, p.version
	r.commandW = 0 // measured again on the new matches
	r.whole = nil
	inOrder := r.fs.list()
	if a.Admission {
		inOrder = p.admissionOnly(inOrder)
	}
	r.total = inOrder.Len()
	// Shown newest first, or slowest first for ByLatency (the first
	// answerResultMax of them: enough to read, cheap to sort again).
	n := min(inOrder.Len(), answerResultMax)
	rows := make([]int32, inOrder.Len())
	for i := range rows {
		rows[i] = int32(inOrder.Key(i))
	}
	if a.ByLatency {
		lat := make([]int64, len(rows))
		eachRow(inOrder, false, func(i int, q *audit.Request) bool {
			lat[i] = int64(q.Latency())
			return true
		})
		perm := make([]int32, len(rows))
		for i := range perm {
			perm[i] = int32(i)
		}
		sort.SliceStable(perm, func(i, j int) bool { return lat[perm[i]] > lat[perm[j]] })
		top := make([]int32, n)
		for i := range top {
			top[i] = rows[perm[i]]
		}
		rows = top
	} else {
		top := make([]int32, n)
		for i := range top {
			top[i] = rows[len(rows)-1-i]
		}
		rows = top
	}
	r.matches = &indexRows{src: p.src(), rows: rows, n: n}
	if sel >= 0 {
		if i := r.matches.find(sel); i >= 0 {
			p.resultAt = i
		}
	}
	p.resultAt = clampInt(p.resultAt, 0, max(0, n-1))
}

// src is the index the pages read.
func (p *answersPage) src() *indexSource { return p.env.src }

// resultWhole is the i-th listed result read whole (its events, for the
// lines about admission and exec), kept while the list is.
func (p *answersPage) resultWhole(i int) *audit.Request {
	r := &p.result
	key := r.matches.Key(i)
	if q, ok := r.whole[key]; ok {
		return q
	}
	q, err := r.matches.Open(i)
	if err != nil {
		q = r.matches.At(i)
	}
	if r.whole == nil || len(r.whole) > 4*answerResultMax {
		r.whole = map[int]*audit.Request{}
	}
	r.whole[key] = q
	return q
}

// admissionOnly is the requests of rows that admission refused or changed
// (audit.WhyRefused, which reads their events' annotations again: each
// request is read whole, one at a time).
func (p *answersPage) admissionOnly(rows *indexRows) *indexRows {
	var out []int32
	if p.admission == nil {
		p.admission = map[int]bool{}
	}
	for i := range rows.Len() {
		row := rows.Key(i)
		yes, known := p.admission[row]
		if !known {
			q, err := rows.Open(i)
			if err != nil {
				continue
			}
			var why audit.Refusal
			p.read(func() { why = audit.WhyRefused(q, p.env.Data.Raw) })
			yes = why.Admission() || why.Changed()
			if p.src().settled(row) { // a request in flight is asked again
				p.admission[row] = yes
			}
		}
		if yes {
			out = append(out, int32(row))
		}
	}
	return &indexRows{src: rows.src, rows: out, n: len(out)}
}

// read runs fn while the loader merges nothing: requests gain stages (and
// codes) while they are read otherwise.
func (p *answersPage) read(fn func()) { readLocked(p.env.Data.Store, fn) }

func (p *answersPage) now() time.Time {
	if p.env.Now != nil {
		return p.env.Now()
	}
	return time.Now().In(render.Zone())
}

// countAll counts the matches of every answer for the menu, each with the
// re-filter of the root: new requests, and those not done when last
// matched, are matched when the store has grown.
func (p *answersPage) countAll() {
	if rowsLen(p.all) > answersCountLimit {
		p.counts, p.counters = nil, nil
		return
	}
	if p.counters == nil || p.countedN > rowsLen(p.all) {
		now := p.now()
		p.counters = make([]*filtered, len(p.catalog))
		for i, a := range p.catalog {
			if f, err := filter.Parse(a.Filter, now); err == nil { // every entry parses (answers_test.go)
				p.counters[i] = newFiltered(a.Filter, f, p.env.Data.Raw)
			}
		}
		p.counts = nil
	}
	if p.counts != nil && p.counted == p.version && p.countedN == rowsLen(p.all) {
		return
	}
	p.counts = p.counts[:0]
	for _, fs := range p.counters {
		n := 0
		if fs != nil {
			fs.extendTo(p.src(), rowsLen(p.all))
			n = fs.count()
			if i := len(p.counts); p.catalog[i].Admission {
				n = p.admissionOnly(fs.list()).Len()
			}
		}
		p.counts = append(p.counts, n)
	}
	p.counted, p.countedN = p.version, rowsLen(p.all)
}

// resultRows is how many result rows fit on the screen.
func (p *answersPage) resultRows() int {
	return min(rowsLen(p.result.matches), max(1, p.height-p.menuLines()-3))
}

// minResultRows is how many result rows the menu leaves at least, when the
// screen has them: on a short screen the menu scrolls instead.
const minResultRows = 8

// menuLines is the height of everything above the results.
func (p *answersPage) menuLines() int {
	first, last := p.menuWindow()
	return p.menuFixedLines() + last - first
}

// menuFixedLines is the title, blank, description and prompt lines.
func (p *answersPage) menuFixedLines() int {
	n := 1 + 1 + 1 // title, blank, description
	if p.prompting || p.inputErr != "" {
		n += 2
	}
	return n
}

// menuWindow is the questions shown, [first, last): all of them when they
// fit above minResultRows of results, else a window around the cursor, and
// only the question asked while going through its results.
func (p *answersPage) menuWindow() (first, last int) {
	n := len(p.catalog)
	if p.inResults {
		return p.cursor, p.cursor + 1
	}
	room := p.height - p.menuFixedLines() - 3 - min(minResultRows, rowsLen(p.result.matches)) // as resultRows counts
	if room >= n {
		return 0, n
	}
	room = max(1, room)
	first = min(max(0, p.cursor-room/2), n-room)
	return first, first + room
}

// openHistory puts the history of one object in front of the menu.
func (p *answersPage) openHistory(resource, ns, name string) tea.Cmd {
	h, err := newHistoryScreen(p.env, p.all, p.read, p.now(), resource, ns, name)
	if err != nil {
		return statusCmd(err.Error(), true)
	}
	p.screens.push(h)
	return nil
}

// coverageGap is the shortest stretch with no event the explorer reports.
const coverageGap = 5 * time.Minute

// openCoverage shows what the log cannot see, over every request.
func (p *answersPage) openCoverage() tea.Cmd {
	var lines []string
	reqs, err := p.src().whole(p.all, "--coverage") // read back whole: the report reads every event's time
	if err != nil {
		return statusCmd(err.Error(), true)
	}
	p.read(func() {
		snap := p.env.Data.Store.Snapshot()
		facts := render.CoverageFacts{Gap: coverageGap, Truncated: -1, SharedIDs: snap.SharedIDs, Repeated: snap.Duplicates}
		name := p.inputName
		if name == nil {
			name = func(int32) string { return "?" }
		}
		lines = render.CoverageText(audit.CoverageOf(reqs, coverageGap), facts, name)
		if p.policyText != nil {
			if pl := p.policyText(reqs); len(pl) > 0 {
				lines = append(append(lines, ""), pl...)
			}
		}
	})
	p.screens.push(&historyScreen{env: p.env, lines: lines, back: "every request on the Requests page",
		as: historyExport{what: "the coverage report", base: "kauditui-coverage", name: "text", exts: []string{".txt"}}})
	return nil
}

// setInputName gives the names of the inputs by their index.
func (p *answersPage) setInputName(name func(int32) string) { p.inputName = name }

func (p *answersPage) View() string {
	if s := p.screens.top(); s != nil {
		return s.View()
	}
	st := p.env.Styles
	w := max(p.width, 20)
	if p.store != nil {
		return st.Title.Render("Answers") + "\n" + st.Muted.Render(truncateCells(storeAnswersNote, w))
	}
	p.countAll()
	p.preview()
	var b strings.Builder
	b.WriteString(st.Title.Render("Answers"))
	b.WriteString(st.Muted.Render(truncateCells("  "+p.countsScope(), max(1, w-len("Answers")))))
	b.WriteString("\n")
	nameW := 0
	for _, a := range p.catalog {
		nameW = max(nameW, len([]rune(a.Name)))
	}
	first, last := p.menuWindow()
	for i := first; i < last; i++ {
		a := p.catalog[i]
		count := ""
		switch {
		case i < len(p.counts):
			count = thousands(p.counts[i])
		case i == p.cursor:
			count = thousands(p.result.total)
		}
		if a.Findings {
			count = "" // the rules run when it is chosen; every request is not its answer
		}
		marker := "  "
		if i == p.cursor {
			marker = "› "
		}
		if (i == first && first > 0) || (i == last-1 && last < len(p.catalog)) {
			marker = "⋮ " // more questions above or below
			if i == p.cursor {
				marker = "› "
			}
		}
		line := fmt.Sprintf("%s%-*s %7s  %s", marker, nameW, a.Name, count, a.Filter)
		line = padRight(truncateCells(line, w), w)
		if i == p.cursor && !p.inResults {
			b.WriteString(st.MenuActive.Render(line))
		} else {
			b.WriteString(st.MenuItem.Render(line))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	a := p.catalog[p.cursor]
	desc := a.Desc
	if a.Prompt != "" && !p.prompting {
		desc += "  (enter: type the object)"
	}
	b.WriteString(st.Muted.Render(truncateCells(desc, w)))
	b.WriteString("\n")
	if p.prompting || p.inputErr != "" {
		b.WriteString(p.input.View())
		b.WriteString("\n")
		if p.inputErr != "" {
			b.WriteString(st.FilterError.Render(truncateCells(p.inputErr, w)))
		} else {
			b.WriteString(st.Muted.Render(truncateCells("filter: "+p.currentExpr(), w)))
		}
		b.WriteString("\n")
	}
	b.WriteString(p.viewResults(a, w))
	return summaryFit(b.String(), p.height)
}

// countsScope says what the menu's counts are over: every request, never
// the filter in force, which choosing an answer replaces.
func (p *answersPage) countsScope() string {
	over := "counts: every request"
	if rowsLen(p.all) > answersCountLimit {
		over = "counts: the selected answer only (over " + thousands(answersCountLimit) + " requests), of every request"
	}
	if strings.TrimSpace(p.expr) != "" {
		return over + ", not the filter in force (an answer replaces it)"
	}
	return over + " (an answer sets the filter and the view)"
}

// viewResults draws the requests answering the selected question.
func (p *answersPage) viewResults(a answer, w int) string {
	st := p.env.Styles
	var b strings.Builder
	r := p.result
	if r.err != nil {
		b.WriteString(st.FilterError.Render(truncateCells(r.err.Error(), w)))
		return b.String()
	}
	order := "newest first"
	if a.ByLatency {
		order = "slowest first"
	}
	noun := " matching requests, "
	if r.total == 1 {
		noun = " matching request, "
	}
	b.WriteString(st.Header.Render(thousands(r.total) + noun + order))
	if rowsLen(r.matches) > 0 && !p.inResults {
		b.WriteString(st.Muted.Render("  (→: go through them)"))
	}
	b.WriteString("\n")
	if rowsLen(r.matches) == 0 {
		b.WriteString(st.Empty.Render("none in the loaded logs"))
		return b.String()
	}
	rows := p.resultRows()
	first := max(0, p.resultAt-rows+1)
	for i := first; i < min(rowsLen(r.matches), first+rows); i++ {
		line := p.resultLine(i, a, w)
		if p.inResults && i == p.resultAt {
			line = st.Selected.Render(padRight(line, w))
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	return b.String()
}

// resultLine is one request in the preview: time, actor, verb, resource,
// object, code, latency; for exec answers the command.
func (p *answersPage) resultLine(i int, a answer, w int) string {
	r := p.result.matches.At(i)
	if r == nil {
		return "…"
	}
	code := "-"
	if r.Code != 0 {
		code = strconv.Itoa(r.Code)
	}
	// Narrow screens drop the date and (unless it is the question) the latency.
	narrow := w < 100
	layout := "01-02 15:04:05Z07:00"
	if narrow {
		layout = render.TimeShort
	}
	ts, tsW := render.FormatTime(r.First(), layout), render.TimeWidth(layout)
	type col struct {
		text  string
		width int // 0: shares what is left
	}
	cols := []col{{ts, tsW}, {sanitize(r.Actor()), 0}, {sanitize(r.Verb), 7},
		{sanitize(r.ResourcePath()), 0}, {sanitize(answerObject(r)), 0}, {code, 3}}
	if (!narrow || a.ByLatency) && !a.ShowCred { // the credential needs the room more
		cols = append(cols, col{answerLatency(r.Latency()), 7})
	}
	if narrow && a.ShowCommand {
		cols[2] = col{} // the verb of an exec (get or create) gives its room to the command
	}
	fixed := 0
	for _, c := range cols {
		if c != (col{}) {
			fixed += 2 + c.width
		}
	}
	// The actor, resource and object share the rest, each no wider than it
	// needs; a command (exec answers) comes last and takes what remains.
	rest := max(0, w-fixed)
	credW := 0
	if a.ShowCred {
		// the credential is the answer: it is given its room first
		credW = min(36, 2+p.colWidth(func(r *audit.Request) string { return r.Credential() }))
		rest = max(0, rest-credW-2)
	}
	cols[1].width = min(p.colWidth(func(r *audit.Request) string { return r.Actor() }), rest*4/10)
	cols[3].width = min(p.colWidth(func(r *audit.Request) string { return r.ResourcePath() }), rest*25/100)
	cols[4].width = max(1, rest-cols[1].width-cols[3].width)
	command := ""
	if c := r.Credential(); a.ShowCred && c != "" {
		command = "[" + sanitize(c) + "]"
		cols[4].width = min(cols[4].width, p.colWidth(answerObject))
	}
	want := 0
	if a.Admission {
		command = render.AdmissionSummary(audit.WhyRefused(p.resultWhole(i), p.env.Data.Raw))
		want = min(ansi.StringWidth(command), max(24, w/2))
	}
	if a.ShowCommand {
		if c := render.ExecDetail(p.resultWhole(i), p.env.Data.Raw); c != "" {
			command = "$ " + sanitize(c)
			want = min(p.commandWidth(), max(24, w/2))
		}
	}
	if want > 0 {
		// The command (what admission did) is the answer: the actor,
		// resource and object give it their room first, down to 8 cells each.
		have := max(0, rest-cols[1].width-cols[3].width-cols[4].width)
		for _, i := range []int{4, 1, 3} {
			if have >= want {
				break
			}
			if cols[i].width > 8 {
				give := min(cols[i].width-8, want-have)
				cols[i].width -= give
				have += give
			}
		}
		cols[4].width = min(cols[4].width, p.colWidth(answerObject))
	}
	parts := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		if c == (col{}) {
			continue
		}
		parts = append(parts, padRight(truncateCells(c.text, c.width), c.width))
	}
	if command != "" {
		parts = append(parts, command)
	}
	return truncateCells(strings.TrimRight(strings.Join(parts, "  "), " "), w)
}

// commandWidth is the widest exec command among the matches a screen lists.
func (p *answersPage) commandWidth() int {
	if p.result.commandW <= 0 {
		w := 1
		for i := range min(rowsLen(p.result.matches), max(1, p.height)) {
			if c := render.ExecDetail(p.resultWhole(i), p.env.Data.Raw); c != "" {
				w = max(w, 2+len([]rune(sanitize(c))))
			}
		}
		p.result.commandW = w
	}
	return p.result.commandW
}

// answerObject is ns/name, name, or for a request without one its URI.
func answerObject(r *audit.Request) string {
	obj := r.Name
	if r.Namespace != "" {
		obj = r.Namespace + "/" + r.Name
	}
	if r.Name == "" {
		obj = render.RedactURI(r.RequestURI())
	}
	return obj
}

// colWidth is the widest value of a column among the listed results.
func (p *answersPage) colWidth(value func(*audit.Request) string) int {
	w := 1
	for i := range min(rowsLen(p.result.matches), max(1, p.height)) {
		if r := p.result.matches.At(i); r != nil {
			w = max(w, len([]rune(sanitize(value(r)))))
		}
	}
	return w
}

// answerLatency prints a latency in a fixed short form: "12ms", "1.2s".
func answerLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d/time.Microsecond)
	case d < time.Second:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return d.Truncate(time.Second).String()
}

// storeAnswersNote is what the Answers (and their timeline and findings)
// say over a store read a page at a time: they read every request, and
// the explorer does not download the answer behind the user's back.
const storeAnswersNote = "The answers read every request, and this store is read a page at a time: " +
	"L loads the answer here, or run kauditui --store ... --follow, or kauditui query --store ... --history/--detect. " +
	"enter: what happened when (the timeline, computed by the store)"
