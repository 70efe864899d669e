package ui

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// filterSession is the request filter in force and what comes of it: its
// text and parsed form with their result over the store, kept up to date
// as the store grows (flt, refilter.go), a full re-filter running in the
// background, and what to say when it matches nothing (nm, nomatch.go).
// The root holds one and publishes what it says to the pages (dataMsg);
// it draws nothing and knows nothing of the filter bar.
type filterSession struct {
	store *audit.Store
	src   *indexSource // the store's requests as rows
	raw   func(audit.Ref) ([]byte, error)
	ctx   context.Context // the explorer's life: a background re-filter ends with it

	flt          *filtered
	nm           noMatch            // what to say when the filter matches nothing
	gen          int                // generation of the latest full re-filter started
	refiltering  bool               // a full re-filter runs in the background
	stopRefilter context.CancelFunc // stops it (a newer filter replaced it)
	lastVersion  uint64             // the store's version flt was brought up to
	snap         audit.Snapshot     // the store as flt last saw it
}

// refilteredMsg brings the result of a background re-filter.
type refilteredMsg struct {
	gen int
	flt *filtered
}

func newFilterSession(ctx context.Context, d Data, src *indexSource) filterSession {
	return filterSession{store: d.Store, src: src, raw: d.Raw, ctx: ctx, flt: newFiltered("", nil, d.Raw)}
}

// replace makes expr (parsed: f) the filter in force. On a small store it
// is matched at once (now: publish the result); on a big one cmd matches it
// in the background and brings a refilteredMsg. The filter in force given
// again, with no re-filter running, changes nothing (cmd nil, now false).
func (s *filterSession) replace(expr string, f *filter.Filter) (cmd tea.Cmd, now bool) {
	if expr == s.flt.expr && !s.refiltering {
		return nil, false
	}
	s.gen++
	gen := s.gen
	if s.stopRefilter != nil { // replaced: let it go
		s.stopRefilter()
		s.stopRefilter = nil
	}
	next := newFiltered(expr, f, s.raw)
	src := s.src
	_, n := src.update()
	if n > asyncOver || (f.NeedsRaw() && n > 5000) {
		s.refiltering = true
		ctx, stop := context.WithCancel(s.ctx)
		s.stopRefilter = stop
		next.stop = ctx.Done()
		return func() tea.Msg {
			defer stop()
			next.run(src)
			if next.stopped() {
				return refilteredMsg{gen: gen}
			}
			return refilteredMsg{gen: gen, flt: next}
		}, false
	}
	s.snap = next.run(src)
	s.lastVersion = s.snap.Version
	s.refiltering = false
	s.flt = next
	return nil, true
}

// refiltered takes the result of a background re-filter; false when a
// newer filter replaced it, or it was stopped (nothing to publish).
func (s *filterSession) refiltered(msg refilteredMsg) bool {
	if msg.gen != s.gen || msg.flt == nil {
		return false
	}
	s.refiltering = false
	s.stopRefilter = nil
	s.flt = msg.flt
	s.flt.stop = nil // its run is over (and its context ended with it)
	// The store may have grown while the filter ran: catch up now.
	s.snap = s.flt.extend(s.src)
	s.lastVersion = s.snap.Version
	return true
}

// catchUp brings the result up to the store when it changed (or always,
// with force), unless a full re-filter is running (its result will); true
// when it did (publish).
func (s *filterSession) catchUp(force bool) bool {
	if s.store == nil || s.refiltering {
		return false
	}
	if !force && s.store.Version() == s.lastVersion {
		return false
	}
	s.snap = s.flt.extend(s.src)
	s.lastVersion = s.snap.Version
	return true
}

// dataMsg is what the pages are told of the result.
func (s *filterSession) dataMsg(reset, loading bool) DataMsg {
	return DataMsg{Snap: s.snap, Filter: s.flt.expr, Shown: s.flt.list(), All: s.all(), Reset: reset, Loading: loading}
}

// all is every row of the index, as the filter last saw it.
func (s *filterSession) all() *indexRows {
	n := s.flt.n
	if s.flt.res != nil {
		n = s.flt.res.Scanned()
	}
	return &indexRows{src: s.src, n: n}
}

// --- the root's side: the filter bar edits the session --------------------

// applyFilter parses expr and, when it parses and differs from the filter in
// force, re-filters. A parse error is shown in the bar and the last good
// filter stays. final: the user applied it (enter, a quick filter).
func (m *model) applyFilter(expr string, final bool) tea.Cmd {
	expr = strings.TrimSpace(expr)
	f, err := filter.Parse(expr, m.env.Now())
	if err != nil {
		m.filterBar.SetError(err.Error())
		if final && !m.filterBar.Focused() {
			return m.setMessage(err.Error(), true)
		}
		return nil
	}
	m.filterBar.SetError("")
	if final {
		m.filterBar.SetApplied(expr)
	}
	cmd, now := m.replace(expr, f)
	if m.lazy.on {
		if expr == m.lazy.expr && m.lazy.rows != nil {
			return cmd
		}
		return tea.Batch(cmd, m.openLazy(expr))
	}
	if !now {
		return cmd
	}
	return tea.Batch(m.publish(true), m.suggest())
}

// updateFilterBar passes msg to the open filter bar and does what it asks
// at once: the bar is closed before the next message is read.
func (m *model) updateFilterBar(msg tea.Msg) tea.Cmd {
	cmd, action := m.filterBar.Update(msg)
	switch action {
	case filterEdited:
		m.editSeq++
		seq := m.editSeq
		return tea.Batch(cmd, m.after(debounce, debounceMsg{seq}))
	case filterApply:
		return tea.Batch(cmd, m.filterDone(m.filterBar.Value(), true))
	case filterCancel:
		return tea.Batch(cmd, m.filterDone(m.filterBar.Before(), false))
	}
	return cmd
}

// filterDone ends editing: apply (enter) applies expr unless it does not
// parse (then the bar stays open with the error); otherwise (esc) expr is
// the filter that was in force when editing began.
func (m *model) filterDone(expr string, apply bool) tea.Cmd {
	if apply {
		if _, err := filter.Parse(expr, m.env.Now()); err != nil {
			m.filterBar.SetError(err.Error())
			return nil
		}
		m.filterBar.Blur()
		m.filterBar.AddHistory(expr)
		return m.applyFilter(expr, true)
	}
	m.filterBar.Blur()
	m.filterBar.SetError("")
	return m.applyFilter(expr, true)
}
