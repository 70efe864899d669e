// Package ui is kauditui's explorer, a bubbletea v2 program.
//
// The root model (Model, this file) is a router: state says which page
// (tab) is in front; screens pushed in front of it (the detail of a request
// opened from a list: stack.go) come off with esc, back to that page and
// row; the filter bar and the help overlay sit on top. The root owns the
// tabs, the filter bar, the status bar and the help, holds the filtering
// session (filtersession.go: the filter in force, its result over store
// snapshots, the no-match suggestion) and routes messages: keys to what is
// in front, DataMsg to every page. Pages ask for changes with the messages
// of component.go.
package ui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// asyncOver: a full re-filter of more requests than this runs off the UI
// goroutine, so typing stays responsive (a variable for tests).
var asyncOver = 200_000

// Options configure the explorer.
type Options struct {
	Data Data
	// Load reads the sources into Data.Store; it runs in its own goroutine
	// and returns when the sources are read (never, when following, until
	// ctx is cancelled). nil: the store is already filled.
	Load     func(ctx context.Context) error
	Progress *Progress // written by Load, may be nil
	Sources  []string  // names for the status bar
	// InputName names an input of the source set (rotated backups, pods
	// that joined later included) by audit.Ref.Input, so the apiserver-log
	// page can say where a line that was neither audit nor klog came from.
	// It is asked when a line is drawn: inputs are added while following.
	InputName func(i int32) string
	// PolicyText ends the coverage report (Answers: What the log cannot
	// see) with what the audit policy does not log, and how many of reqs
	// it would drop; nil: nothing about the policy.
	PolicyText func(reqs []*audit.Request) []string
	Follow     bool   // the sources are followed: start at the newest request
	Filter     string // the initial filter
	NoColor    bool
	Now        func() time.Time // nil: time.Now
	OutDir     string           // the folder an export offers first; "": the home folder
	// HistoryFile keeps the filters applied, across runs ("" keeps them
	// for this run only): main gives $XDG_STATE_HOME/kauditui/filters.
	HistoryFile string
	// Pager, when set, shows a store's answer a page at a time (rows for
	// the screen and a margin, counts from the store) instead of running
	// Load; Load runs when the store cannot page a filter, or its checks
	// say its counts are not kauditui's (storelazy.go).
	Pager StorePager
}

// LoadAll is Options.Load for a loader that fills st: once the input
// ended, a request still open gains no stage (st.Finish); a load that
// ended well may still have broken off (incomplete: a store's answer cut
// short), and what came is shown.
func LoadAll(load func(context.Context, *audit.Store) error, st *audit.Store, incomplete func() error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := load(ctx, st)
		st.Finish()
		if err != nil {
			return err
		}
		return incomplete()
	}
}

// model is the root model.
type model struct {
	env  *Env
	opts Options
	// holdTimers: timers return a timerMsg at once instead of waiting
	// (tests deliver ticks and debounces themselves).
	holdTimers bool

	state state
	prev  state // the page under the help overlay
	pages [stateHelp]page
	// screens in front of the page of state: the detail of a request
	// opened from a page's list; esc pops it back to that page, on the
	// row it was opened from. Going to a page (tab, 1-5) clears it.
	screens screenStack

	requests  *requestsPage
	detail    *detailPage
	filterBar *filterBar
	help      *helpView

	width, height int

	// The explorer's life: ctx ends when it quits (Close), and with it the
	// loader, the timers and a background re-filter. bubbletea runs each
	// command in a goroutine of its own and does not wait for them: one
	// still waiting or working after the program ended is a leak.
	ctx     context.Context
	stopAll context.CancelFunc

	// The filter in force and its result (filtersession.go).
	filterSession
	editSeq int // debounce sequence of filter-bar edits

	// A store read in pages (Options.Pager; storelazy.go).
	lazy lazyStore

	// Loading.
	loading   bool
	loadErr   bool // the loader ended with an error
	toldLoad  bool // the pages were last told the history is being read (DataMsg.Loading)
	ticking   bool
	rate      float64
	lastTick  time.Time
	lastCount int

	message    string
	messageErr bool
	messageSeq int

	// Taking the answer with you (take.go, export.go).
	export      exportPrompt    // the "export to:" prompt in the footer
	mouseOff    bool            // M: the terminal has the mouse (selects text)
	execProcess execProcessFunc // runs $PAGER and $EDITOR; nil: tea.ExecProcess
}

// Messages of the root's own.
type (
	tickMsg     struct{}
	loadDoneMsg struct{ err error }
	debounceMsg struct{ seq int }
	clearMsg    struct{ seq int }
)

const (
	tickEvery    = 100 * time.Millisecond // at most ~10 refreshes a second
	debounce     = 100 * time.Millisecond
	messageFor   = 6 * time.Second
	chromeHeight = 4 // tabs, filter bar, status bar, footer
	pageTop      = 2 // the page starts under the tabs and the filter bar

)

// New builds the explorer.
func New(opts Options) *model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OutDir == "" {
		opts.OutDir = defaultOutDir()
	}
	env := &Env{
		Data:   opts.Data,
		Styles: NewStyles(opts.NoColor),
		Keys:   DefaultKeyMap(),
		Now:    opts.Now,
	}
	env.src = newIndexSource(opts.Data)
	m := &model{env: env, opts: opts, loading: opts.Load != nil}
	env.Following = func() bool { return m.sourceState() == sourceFollowing }
	m.ctx, m.stopAll = context.WithCancel(context.Background())
	m.requests = NewRequestsPage(env)
	m.requests.SetFollow(opts.Follow)
	m.detail = newDetailPage(env)
	klog := newKlogPage(env).(*klogPage)
	klog.SetInputName(opts.InputName)
	answers := newAnswersPage(env).(*answersPage)
	answers.setInputName(opts.InputName)
	answers.policyText = opts.PolicyText
	m.pages = [stateHelp]page{
		stateRequests: m.requests,
		stateDetail:   m.detail,
		stateKlog:     klog,
		stateSummary:  newSummaryPage(env),
		stateAnswers:  answers,
	}
	m.screens.back = []key.Binding{env.Keys.Back}
	m.filterBar = newFilterBar(env)
	if opts.HistoryFile != "" {
		m.filterBar.SetHistory(loadFilterHistory(opts.HistoryFile))
		m.filterBar.onSaved = func(h []string) { saveFilterHistory(opts.HistoryFile, h) }
	}
	m.help = newHelpView(env)
	m.filterSession = newFilterSession(m.ctx, opts.Data, env.src)
	if f, err := filter.Parse(opts.Filter, opts.Now()); err != nil {
		m.filterBar.SetError(err.Error())
		m.setMessage(err.Error(), true)
	} else {
		m.flt = newFiltered(strings.TrimSpace(opts.Filter), f, opts.Data.Raw) // run by refresh below
		m.filterBar.SetApplied(m.flt.expr)
		m.filterBar.AddHistory(m.flt.expr)
	}
	m.startLazy()
	m.setSize(80, 24)
	m.refresh(true)
	return m
}

// Env is the environment the pages share.
func (m *model) Env() *Env { return m.env }

// Init starts the loader and the refresh tick.
func (m *model) Init() tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range m.pages {
		cmds = append(cmds, p.Init())
	}
	if m.lazy.on {
		cmds = append(cmds, m.openLazy(m.flt.expr))
	} else if m.opts.Load != nil {
		load, ctx := m.opts.Load, m.ctx
		cmds = append(cmds, func() tea.Msg { return loadDoneMsg{load(ctx)} })
	}
	cmds = append(cmds, m.startTick(), m.suggest())
	if !m.opts.NoColor {
		// Colours are chosen for a dark terminal until it says it is light.
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

func (m *model) startTick() tea.Cmd {
	if m.ticking || !(m.loading || m.opts.Follow) {
		return nil
	}
	m.ticking = true
	return m.after(tickEvery, tickMsg{})
}

// timerMsg is what a timer's command returns at once, instead of waiting,
// in a model whose timers are held (tests): the test delivers the timer's
// message itself when it wants to.
type timerMsg struct {
	after time.Duration
	msg   tea.Msg
}

// after is tea.Tick that gives up when the explorer quits: msg after d, or
// nil once Close was called.
func (m *model) after(d time.Duration, msg tea.Msg) tea.Cmd {
	if m.holdTimers {
		return func() tea.Msg { return timerMsg{d, msg} }
	}
	t := time.NewTimer(d)
	done := m.ctx.Done()
	return func() tea.Msg {
		select {
		case <-t.C:
			return msg
		case <-done:
			t.Stop()
			return nil
		}
	}
}

// Update implements tea.Model.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := m.update(msg)
	if ask := m.storeAsk(); ask != nil {
		return m, tea.Batch(cmd, ask)
	}
	return m, cmd
}

func (m *model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := m.lazyUpdate(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.setSize(msg.Width, msg.Height)
		return m, nil
	case tea.BackgroundColorMsg:
		if !m.opts.NoColor {
			// Every page holds the same *Styles: one change recolours all.
			*m.env.Styles = *newStyles(false, msg.IsDark())
			m.setSize(m.width, m.height)
		}
		return m, nil
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	case tea.MouseMsg:
		return m, m.handleMouse(msg)
	case tickMsg:
		m.ticking = false
		m.updateRate()
		// the history read (following: the loader goes on) is news to the
		// pages even when the store did not change
		m.refresh(m.toldLoad != (m.sourceState() == sourceLoading))
		return m, tea.Batch(m.startTick(), m.suggest())
	case loadDoneMsg:
		m.loading = false
		if msg.err != nil && msg.err != context.Canceled {
			m.loadErr = true
			m.setMessage("reading the sources: "+sanitize(msg.err.Error()), true)
		}
		m.refresh(true)
		return m, m.suggest()
	case suggestedMsg:
		if m.suggested(msg) {
			m.requests.setNoMatch(msg.expr, msg.text)
		}
		return m, m.suggest() // the filter or the store may have changed meanwhile
	case refilteredMsg:
		if !m.refiltered(msg) {
			return m, nil // a newer filter replaced this one, or it was stopped
		}
		return m, tea.Batch(m.publish(true), m.suggest())
	case debounceMsg:
		if msg.seq != m.editSeq || !m.filterBar.Focused() {
			return m, nil
		}
		return m, m.applyFilter(m.filterBar.Value(), false)
	case setFilterMsg:
		m.filterBar.AddHistory(msg.Expr)
		return m, m.applyFilter(msg.Expr, true)
	case showPageMsg:
		m.setState(msg.Page)
		return m, nil
	case openRequestMsg:
		m.detail.Open(msg.Req)
		if m.front() != stateDetail {
			m.screens.push(m.detail) // in front of the page that asked
		}
		return m, nil
	case openHistoryMsg:
		if m.lazy.on { // the history is of the whole answer, not a page
			return m, m.setMessage(storeWholeNote("the history"), true)
		}
		return m, m.openHistory(msg.Req)
	case openRBACMsg:
		if m.lazy.on {
			return m, m.setMessage(storeWholeNote("what the user needs"), true)
		}
		return m, m.openRBAC(msg.Req)
	case statusMsg:
		return m, m.setMessage(msg.Text, msg.Err)
	case openExportMsg:
		return m, m.openExport(m.active())
	case clearMsg:
		if msg.seq == m.messageSeq {
			m.message = ""
		}
		return m, nil
	}
	// Anything else (a page's own messages, cursor blinks) goes to the
	// filter bar when it is open and to every page.
	var cmds []tea.Cmd
	if m.filterBar.Focused() {
		cmds = append(cmds, m.updateFilterBar(msg))
	}
	for i, p := range m.pages {
		np, cmd := p.Update(msg)
		m.pages[i] = np.(page)
		cmds = append(cmds, cmd)
	}
	return m, tea.Batch(cmds...)
}

// State is what is in front: the help, a screen pushed on a page (the
// detail) or the page.
func (m *model) State() state {
	if m.state == stateHelp {
		return stateHelp
	}
	return m.front()
}

// front is the page or screen in front (under the help, when it is open).
func (m *model) front() state {
	if top := m.screens.top(); top != nil {
		for i, p := range m.pages {
			if p == top {
				return state(i)
			}
		}
	}
	if m.state == stateHelp {
		return m.prev
	}
	return m.state
}

// active is what keys go to: the top screen, else the page in front.
func (m *model) active() subScreen {
	if top := m.screens.top(); top != nil {
		return top
	}
	if m.state == stateHelp {
		return m.pages[m.prev]
	}
	return m.pages[m.state]
}

// setState is the one place the state changes. Going to a page leaves the
// screens pushed on the one in front; the help keeps them under it.
func (m *model) setState(s state) {
	switch {
	case s == stateHelp && m.state != stateHelp:
		m.prev = m.state
		m.help.top = 0
	case s < 0 || s > stateHelp:
		return
	case s != stateHelp:
		m.screens.clear()
	}
	m.state = s
}

func (m *model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.env.Keys
	if msg.String() == "ctrl+c" {
		return m.quit()
	}
	if m.filterBar.Focused() {
		return m.updateFilterBar(msg)
	}
	if m.export.open {
		return m.updateExport(msg)
	}
	if c, ok := m.active().(inputCapturer); ok && c.CapturesInput() && m.state != stateHelp {
		return m.toPage(msg)
	}
	if m.state == stateHelp {
		switch {
		case key.Matches(msg, k.Help, k.Back):
			m.state = m.prev
		case key.Matches(msg, k.Quit):
			return m.quit()
		default:
			m.help.Update(msg)
		}
		return nil
	}
	if o, ok := m.active().(keyOwner); ok && o.OwnsKey(msg) {
		// On the apiserver log, / edits the log's own text filter; on
		// Detail and the text screens it searches the text: the request
		// filter does not apply there.
		return m.toPage(msg)
	}
	if cmd, ok := m.takeKey(msg); ok {
		return cmd
	}
	switch {
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Help):
		m.setState(stateHelp)
	case key.Matches(msg, k.Filter):
		return m.filterBar.Focus()
	case key.Matches(msg, k.ClearAll):
		m.filterBar.AddHistory("")
		return m.applyFilter("", true)
	case key.Matches(msg, k.NextPage):
		m.setState((m.front() + 1) % stateHelp)
	case key.Matches(msg, k.PrevPage):
		m.setState((m.front() + stateHelp - 1) % stateHelp)
	case !m.screens.empty() && key.Matches(msg, k.Back):
		m.screens.pop() // back to the page, on the row it was on
	case m.state == stateDetail && key.Matches(msg, k.Back):
		m.setState(stateRequests)
	default:
		for i, b := range k.GotoPage {
			if key.Matches(msg, b) {
				m.setState(state(i))
				return nil
			}
		}
		return m.toPage(msg)
	}
	return nil
}

func (m *model) toPage(msg tea.Msg) tea.Cmd {
	if cmd, ok := m.screens.update(msg); ok {
		return cmd
	}
	s := m.state
	if s == stateHelp {
		s = m.prev
	}
	np, cmd := m.pages[s].Update(msg)
	m.pages[s] = np.(page)
	return cmd
}

func (m *model) quit() tea.Cmd {
	m.Close()
	return tea.Quit
}

// Close stops what the explorer runs in the background: the loader, a
// re-filter, the refresh tick and the other timers. The quit keys call it;
// call it too when the program ends otherwise (a signal, its context), as
// the model does not hear of that.
func (m *model) Close() { m.stopAll() }

// handleMouse: the wheel and clicks go to the page with coordinates
// relative to its top-left corner; a click on a tab switches to it.
func (m *model) handleMouse(msg tea.MouseMsg) tea.Cmd {
	mo := msg.Mouse()
	if _, click := msg.(tea.MouseClickMsg); click && mo.Y == 0 {
		for i, x := range m.tabStarts() {
			if mo.X >= x[0] && mo.X < x[1] {
				m.setState(state(i))
			}
		}
		return nil
	}
	if m.state == stateHelp || mo.Y < pageTop || mo.Y >= m.height-2 {
		return nil
	}
	mo.Y -= pageTop
	switch msg.(type) {
	case tea.MouseWheelMsg:
		return m.toPage(tea.MouseWheelMsg(mo))
	case tea.MouseClickMsg:
		return m.toPage(tea.MouseClickMsg(mo))
	}
	return nil
}

func (m *model) setSize(w, h int) {
	m.width, m.height = max(20, w), max(chromeHeight+1, h)
	ph := m.height - chromeHeight
	for _, p := range m.pages {
		p.SetSize(m.width, ph)
	}
	m.screens.SetSize(m.width, ph)
	m.help.SetSize(m.width, ph)
	m.filterBar.SetWidth(m.width)
	if m.export.open {
		m.export.input.SetWidth(max(10, m.width-len([]rune(m.export.input.Prompt))-1))
	}
}

func (m *model) setMessage(text string, isErr bool) tea.Cmd {
	m.message, m.messageErr = text, isErr
	m.messageSeq++
	seq := m.messageSeq
	return m.after(messageFor, clearMsg{seq})
}

// refresh catches up with the store when it changed (or always, with
// force), unless a full re-filter is running (its result will).
func (m *model) refresh(force bool) {
	if m.catchUp(force) {
		m.publish(false)
	}
}

// publish sends the current result to every page.
func (m *model) publish(reset bool) tea.Cmd {
	m.toldLoad = m.sourceState() == sourceLoading
	dm := m.dataMsg(reset, m.toldLoad)
	if m.lazy.on {
		dm = m.lazyDataMsg(reset)
	}
	var cmds []tea.Cmd
	for i, p := range m.pages {
		np, cmd := p.Update(dm)
		m.pages[i] = np.(page)
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (m *model) updateRate() {
	now := time.Now()
	n := m.snap.Events
	if !m.lastTick.IsZero() {
		if dt := now.Sub(m.lastTick).Seconds(); dt > 0 {
			inst := float64(n-m.lastCount) / dt
			m.rate = 0.7*m.rate + 0.3*inst // smoothed over about a second
		}
	}
	m.lastTick, m.lastCount = now, n
}

// --- drawing -------------------------------------------------------------------

// View implements tea.Model.
func (m *model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	if m.mouseOff {
		v.MouseMode = tea.MouseModeNone
	}
	v.WindowTitle = "kauditui"
	return v
}

// Render is the screen as text, exactly height lines of width cells.
func (m *model) Render() string {
	ph := m.height - chromeHeight
	var page string
	if m.state == stateHelp {
		page = m.help.View()
	} else {
		page = m.active().View()
	}
	var b strings.Builder
	b.WriteString(m.tabBar())
	b.WriteByte('\n')
	b.WriteString(m.filterBar.View())
	b.WriteByte('\n')
	b.WriteString(fitBlock(page, m.width, ph))
	b.WriteByte('\n')
	b.WriteString(m.statusBar())
	b.WriteByte('\n')
	b.WriteString(m.footer())
	return b.String()
}

// tabStarts gives each tab's [start, end) column, for clicks.
func (m *model) tabStarts() [][2]int {
	x := 0
	if m.showBrand() {
		x = ansi.StringWidth(brand)
	}
	var out [][2]int
	for i, p := range m.pages {
		w := ansi.StringWidth(tabLabel(i, p)) + 2
		out = append(out, [2]int{x, x + w})
		x += w
	}
	return out
}

const brand = " kauditui "

func tabLabel(i int, p page) string { return string(rune('1'+i)) + " " + p.Title() }

func (m *model) showBrand() bool {
	w := ansi.StringWidth(brand)
	for i, p := range m.pages {
		w += ansi.StringWidth(tabLabel(i, p)) + 2
	}
	return w <= m.width
}

func (m *model) tabBar() string {
	st := m.env.Styles
	var b strings.Builder
	if m.showBrand() {
		b.WriteString(st.Brand.Render(brand))
	}
	cur := m.front()
	for i, p := range m.pages {
		s := st.TabInactive
		if state(i) == cur {
			s = st.TabActive
		}
		b.WriteString(s.Render(tabLabel(i, p)))
	}
	return fitLine(b.String(), m.width)
}

func (m *model) statusBar() string {
	in := statusInfo{
		Sources:    m.opts.Sources,
		Shown:      m.flt.count(),
		Total:      m.all().Len(),
		Klog:       len(m.snap.Klog),
		Other:      len(m.snap.Other),
		SharedIDs:  m.snap.SharedIDs,
		Source:     m.sourceState(),
		Paused:     !m.requests.Following(),
		Rate:       m.rate,
		Message:    m.message,
		MessageErr: m.messageErr,
	}
	if m.State() == stateRequests {
		if c, n := m.requests.Cursor(); n > 0 {
			in.Cursor = c + 1
		}
	}
	if m.opts.Progress != nil {
		in.Read, in.Size = m.opts.Progress.Get()
		in.Warnings = len(m.opts.Progress.Warnings())
		in.Streams = m.opts.Progress.streamSummary(time.Now())
		in.Notes = m.opts.Progress.noteSummary()
	}
	if m.refiltering {
		in.Message = "filtering…"
	}
	if m.lazy.on {
		in.Shown, in.Total = rowsLen(m.lazy.rows), rowsLen(m.lazy.rows)
		if m.lazy.rows == nil {
			in.Message = "counting in the store…"
		}
	}
	return renderStatus(m.env.Styles, in, m.width)
}

// sourceState says what the sources do now: the history is being read;
// it is read and followed (following a live source, the loader never ends:
// Progress.Live says when the history is read); it is read and not followed
// (a snapshot: --no-follow, stdin that ended, backups alone); or it was
// followed and the loader ended.
func (m *model) sourceState() sourceState {
	live := m.opts.Follow && m.opts.Progress != nil && m.opts.Progress.live.Load()
	switch {
	case m.opts.Load == nil: // the store was filled (or is grown) by the caller
		if m.opts.Follow {
			return sourceFollowing
		}
		return sourceSnapshot
	case m.loading && live:
		return sourceFollowing
	case m.loading:
		return sourceLoading
	case live || (m.opts.Follow && m.loadErr):
		return sourceEnded
	}
	return sourceSnapshot
}

func (m *model) footer() string {
	st := m.env.Styles
	k := m.env.Keys
	var items []keyHelp
	switch {
	case m.export.open:
		return fitLine(m.export.input.View(), m.width)
	case m.filterBar.Focused():
		if e := m.filterBar.Err(); e != "" {
			return fitLine(" "+st.FilterError.Render(ansi.Truncate(sanitize(e), max(0, m.width-1), "…")), m.width)
		}
		items = shortHelp(k.FilterApply, k.FilterCancel, k.FilterClear, k.HistoryPrev, k.HistoryNext)
	case m.state == stateHelp:
		items = shortHelp(k.Back, k.Down, k.Up, k.Quit)
	default:
		items = m.active().ShortHelp()
	}
	return renderShortHelp(st, items, m.width)
}

// fitBlock makes s exactly h lines of exactly w cells.
func fitBlock(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		lines[i] = fitLine(l, w)
	}
	blank := strings.Repeat(" ", w)
	for len(lines) < h {
		lines = append(lines, blank)
	}
	return strings.Join(lines, "\n")
}

// openHistory shows the history of the object r wrote or read, in front of
// what asked (esc comes back to it): one home for H on every page.
func (m *model) openHistory(r *audit.Request) tea.Cmd {
	if r == nil {
		return nil
	}
	if r.Resource == "" || r.Name == "" {
		return statusCmd("this request names no object: no history", true)
	}
	res := r.Resource
	if r.APIGroup != "" {
		res = r.APIGroup + "/" + res
	}
	h, err := newHistoryScreen(m.env, m.all(), m.readStore, m.now(), res, r.Namespace, r.Name)
	if err != nil {
		return statusCmd(err.Error(), true)
	}
	m.screens.push(h)
	return nil
}

// openRBAC shows what RBAC r's user needs for what they did (R).
func (m *model) openRBAC(r *audit.Request) tea.Cmd {
	if r == nil {
		return nil
	}
	h, err := newRBACScreen(m.env, m.all(), m.readStore, r)
	if err != nil {
		return statusCmd(err.Error(), true)
	}
	m.screens.push(h)
	return nil
}

// readStore runs fn while the loader merges nothing.
func (m *model) readStore(fn func()) { readLocked(m.env.Data.Store, fn) }

// now is the explorer's clock, in the zone of --tz.
func (m *model) now() time.Time {
	if m.env.Now != nil {
		return m.env.Now()
	}
	return time.Now().In(render.Zone())
}
