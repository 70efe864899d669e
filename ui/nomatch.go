package ui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// noMatch is what the requests list says under "No requests match": the
// values near those of the filter's terms that the store holds, with the
// requests each would match (filter.Suggest, as `kauditui query` says it).
// It is worked out in the background over the store, under its read lock a
// chunk at a time as a re-filter is, once for a filter and then at most
// every suggestEvery while the store grows.
type noMatch struct {
	expr    string
	total   int // requests of the store it was worked out over
	text    string
	at      time.Time
	running bool
}

type suggestedMsg struct {
	expr  string
	total int
	text  string
	ok    bool // it read every request (not stopped)
}

const suggestEvery = 2 * time.Second

// suggest starts working out the suggestions when the filter matches
// nothing and they are not known for it and this store.
func (s *filterSession) suggest() tea.Cmd {
	fs, all := s.flt, s.all()
	total := all.Len()
	if fs.count() > 0 || fs.f == nil || total == 0 || s.refiltering || s.nm.running || s.ctx.Err() != nil || !fs.f.CanSuggest() {
		return nil
	}
	if s.nm.expr == fs.expr && (s.nm.total == total || time.Since(s.nm.at) < suggestEvery) {
		return nil
	}
	s.nm.running = true
	f, expr, raw, ctx := fs.f, fs.expr, s.raw, s.ctx
	return func() tea.Msg {
		stopped := false
		s := filter.Suggest(f, func(yield func(*audit.Request) bool) {
			eachRow(all, f.NeedsRaw(), func(i int, r *audit.Request) bool {
				if i&(1<<12-1) == 0 && ctx.Err() != nil || !yield(r) {
					stopped = true
					return false
				}
				return true
			})
		}, raw)
		return suggestedMsg{expr: expr, total: total, text: s.String(), ok: !stopped && ctx.Err() != context.Canceled}
	}
}

// suggested keeps the suggestions worked out; ok: they are new, for the
// requests list to show.
func (s *filterSession) suggested(msg suggestedMsg) (ok bool) {
	s.nm.running = false
	if msg.ok {
		s.nm = noMatch{expr: msg.expr, total: msg.total, text: msg.text, at: time.Now()}
	}
	return msg.ok
}
