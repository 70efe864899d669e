package ui

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"charm.land/bubbles/v2/key"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
)

// StoreAnswer is a store's answer to one filter read a page at a time
// (source.StorePages: ui does not open stores): its rows, its count and
// its Summary's counts, computed by the store.
type StoreAnswer interface {
	StoreSource
	// Total is the number of requests the filter matches.
	Total(ctx context.Context) (int64, error)
	// Exact is "" when the store's counts are kauditui's, else why not
	// (then the answer is loaded whole).
	Exact(ctx context.Context) (why string, err error)
	// Top is the matching requests by the value --top field counts; why
	// non-empty: the store cannot count it as kauditui would.
	Top(ctx context.Context, field string) (counts map[string]int, total int, why string, err error)
	// Span is the first and last receive times of the matching requests.
	Span(ctx context.Context) (lo, hi time.Time, err error)
	// Timeline is the matching requests' timeline at step as
	// audit.BuildTimeline makes it, each step's slowest too; with full
	// false, only the requests a step. why non-empty: the store cannot
	// compute it as kauditui would.
	Timeline(ctx context.Context, step time.Duration, full bool) (tl audit.Timeline, why string, err error)
	// Cost is what loading the answer whole downloads: events, bytes.
	Cost(ctx context.Context) (events, bytes int64, err error)
}

// StorePager opens the store's answer to a filter lazily (Options.Pager);
// a non-empty why says why it cannot be paged (it is then loaded whole,
// with Options.Load).
type StorePager func(ctx context.Context, expr string) (ans StoreAnswer, why string, err error)

// lazyStore is the root's state while the explorer shows a store's answer
// a page at a time: a new filter opens a new answer (gen), the rows come
// in a StoreRows, the pages it fetches ping the root. A reason from the
// store's checks, or a failure, ends it: the answer is loaded whole.
type lazyStore struct {
	on   bool // pages are shown (the load has not started)
	gen  int
	expr string
	ans  StoreAnswer
	rows *StoreRows
	ping chan struct{}
	// cur is the answer whose lines Detail reads (Data.Raw dispatches).
	cur atomic.Pointer[StoreAnswer]
}

// Messages of the lazy store.
type (
	lazyOpenedMsg struct {
		gen   int
		expr  string
		ans   StoreAnswer
		total int64
		why   string
		err   error
		first []*audit.Request // the first page, nil if it failed
	}
	lazyExactMsg struct {
		gen int
		why string
		err error
	}
	lazyPageMsg struct{}
	lazyCostMsg struct {
		gen           int
		total         int
		events, bytes int64
		err           error
	}
)

// startLazy sets the explorer up for a store read in pages (opts.Pager):
// Data.Raw reads the lines of the answer shown, and of the load after a
// fall back.
func (m *model) startLazy() {
	if m.opts.Pager == nil {
		return
	}
	m.lazy.on = true
	m.loading = false
	m.lazy.ping = make(chan struct{}, 1)
	whole := m.env.Data.Raw
	m.env.Data.Raw = func(ref audit.Ref) ([]byte, error) {
		if a := m.lazy.cur.Load(); a != nil {
			return (*a).Raw(ref)
		}
		if whole == nil {
			return nil, storeError("no lines to read")
		}
		return whole(ref)
	}
}

// openLazy asks the store for its answer to expr, its count first.
func (m *model) openLazy(expr string) tea.Cmd {
	m.lazy.gen++
	gen, pager, ctx := m.lazy.gen, m.opts.Pager, m.ctx
	m.lazy.expr = expr
	return func() tea.Msg {
		ans, why, err := pager(ctx, expr)
		if err != nil || why != "" || ans == nil {
			if why == "" && err == nil {
				why = "the store cannot page this filter"
			}
			return lazyOpenedMsg{gen: gen, expr: expr, why: why, err: err}
		}
		// the first page is asked for beside the count: the screen
		// shows both at once
		first := make(chan []*audit.Request, 1)
		go func() {
			rows, err := ans.Rows(ctx, 0, storePage)
			if err != nil {
				rows = nil // asked again when drawn
			}
			first <- rows
		}()
		total, err := ans.Total(ctx)
		return lazyOpenedMsg{gen: gen, expr: expr, ans: ans, total: total, err: err, first: <-first}
	}
}

// lazyUpdate handles the lazy store's messages (ok: msg was one), and the
// key that loads its answer whole.
func (m *model) lazyUpdate(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		if !m.lazy.on || m.lazy.ans == nil || !key.Matches(msg, m.env.Keys.LoadWhole) || m.filterBar.Focused() || m.export.open || m.state == stateHelp {
			return nil, false
		}
		if c, ok := m.active().(inputCapturer); ok && c.CapturesInput() {
			return nil, false
		}
		// what it costs first: the events and bytes the store will send
		ans, gen, ctx, total := m.lazy.ans, m.lazy.gen, m.ctx, m.lazy.rows.Len()
		return tea.Batch(m.setMessage("asking the store what its whole answer weighs…", false), func() tea.Msg {
			events, bytes, err := ans.Cost(ctx)
			return lazyCostMsg{gen: gen, total: total, events: events, bytes: bytes, err: err}
		}), true
	case lazyCostMsg:
		if !m.lazy.on || msg.gen != m.lazy.gen {
			return nil, true
		}
		why := fmt.Sprintf("asked for (%s): %s requests", m.env.Keys.LoadWhole.Help().Key, thousands(msg.total))
		if msg.err == nil {
			why += fmt.Sprintf(", %s events, %s of lines downloaded and held", thousands(int(msg.events)), humanBytes(msg.bytes))
		}
		return m.loadWhole(why), true
	case lazyOpenedMsg:
		if !m.lazy.on || msg.gen != m.lazy.gen {
			return nil, true
		}
		if msg.err != nil {
			return m.loadWhole("the store's pages failed (" + sanitize(msg.err.Error()) + ")"), true
		}
		if msg.why != "" {
			return m.loadWhole(sanitize(msg.why)), true
		}
		ping := m.lazy.ping
		m.lazy.ans = msg.ans
		m.lazy.cur.Store(&msg.ans)
		m.lazy.rows = NewStoreRows(m.ctx, msg.ans, int(msg.total), func() {
			select {
			case ping <- struct{}{}:
			default:
			}
		})
		if msg.first != nil {
			m.lazy.rows.seed(0, msg.first)
		}
		ans, gen, ctx := msg.ans, msg.gen, m.ctx
		exact := func() tea.Msg {
			why, err := ans.Exact(ctx)
			return lazyExactMsg{gen: gen, why: why, err: err}
		}
		return tea.Batch(m.publish(true), m.waitPage(), exact), true
	case lazyExactMsg:
		if !m.lazy.on || msg.gen != m.lazy.gen {
			return nil, true
		}
		if msg.err != nil {
			return m.loadWhole("the store could not check its counts (" + sanitize(msg.err.Error()) + ")"), true
		}
		if msg.why != "" {
			return m.loadWhole(sanitize(msg.why)), true
		}
		return nil, true
	case lazyPageMsg:
		if !m.lazy.on || m.lazy.rows == nil {
			return nil, true
		}
		m.lazy.rows = m.lazy.rows.Next()
		var msgCmd tea.Cmd
		if err := m.lazy.rows.Err(); err != nil {
			msgCmd = m.setMessage("reading a page of the store: "+sanitize(err.Error()), true)
		}
		return tea.Batch(m.publish(false), m.waitPage(), msgCmd), true
	}
	return nil, false
}

// waitPage waits for a page the rows asked for.
func (m *model) waitPage() tea.Cmd {
	ping, done := m.lazy.ping, m.ctx.Done()
	return func() tea.Msg {
		select {
		case <-ping:
			return lazyPageMsg{}
		case <-done:
			return nil
		}
	}
}

// loadWhole gives the pages up and reads the store's answer whole, as
// without a pager, saying why in the status bar.
func (m *model) loadWhole(why string) tea.Cmd {
	m.lazy.on = false
	m.lazy.ans, m.lazy.rows = nil, nil
	m.lazy.cur.Store(nil)
	if m.opts.Progress != nil { // said in the status bar while it runs
		m.opts.Progress.Note("store", "loaded whole: "+why)
	} else {
		m.message, m.messageErr = "the store's answer is loaded whole: "+why, false
	}
	var cmds []tea.Cmd
	if m.opts.Load != nil {
		m.loading = true
		load, ctx := m.opts.Load, m.ctx
		cmds = append(cmds, func() tea.Msg { return loadDoneMsg{load(ctx)} })
	}
	cmds = append(cmds, m.publish(true), m.startTick())
	return tea.Batch(cmds...)
}

// lazyDataMsg is what the pages are told of a store read in pages: the
// rows of the answer, the same as every row (the store's answer to the
// filter is all the explorer holds), and the answer for the store's counts.
func (m *model) lazyDataMsg(reset bool) DataMsg {
	var rows Rows = emptyRows{}
	if m.lazy.rows != nil {
		rows = m.lazy.rows
	}
	return DataMsg{Filter: m.lazy.expr, Shown: rows, All: rows, Reset: reset, Store: m.lazy.ans}
}

// emptyRows is no rows (the store's answer not counted yet).
type emptyRows struct{}

func (emptyRows) Len() int                         { return 0 }
func (emptyRows) Key(int) int                      { return 0 }
func (emptyRows) At(int) *audit.Request            { return nil }
func (emptyRows) Open(int) (*audit.Request, error) { return nil, errNoStoreRow }

// PagerOf is open (source.StoreSpec.Pages for a filter) as a StorePager.
func PagerOf[T StoreAnswer](open func(ctx context.Context, expr string) (T, string, error)) StorePager {
	return func(ctx context.Context, expr string) (StoreAnswer, string, error) {
		ans, why, err := open(ctx, expr)
		if err != nil || why != "" {
			return nil, why, err
		}
		return ans, "", nil
	}
}

// storeWholeNote says that what reads every request (sorting, an export,
// a history) needs the store's answer loaded, and how.
func storeWholeNote(what string) string {
	return what + " reads every request, and this store is read a page at a time: L loads the answer here (downloads it), kauditui query --store ... prints it"
}

// storeAsk asks the store for the Summary's counts once the Summary is
// shown (they are several scans of the store: not asked for beside the
// pages the user is reading).
func (m *model) storeAsk() tea.Cmd {
	sp, ok := m.pages[stateSummary].(*summaryPage)
	if !ok || !m.lazy.on || m.State() != stateSummary || sp.store == nil || sp.storeTop != nil {
		return nil
	}
	return sp.askStore()
}
