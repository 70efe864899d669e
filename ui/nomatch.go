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
func (m *model) suggest() tea.Cmd {
	fs, total := m.flt, len(m.snap.Requests)
	if len(fs.shown) > 0 || fs.f == nil || total == 0 || m.refiltering || m.nm.running || m.ctx.Err() != nil || !fs.f.CanSuggest() {
		return nil
	}
	if m.nm.expr == fs.expr && (m.nm.total == total || time.Since(m.nm.at) < suggestEvery) {
		return nil
	}
	m.nm.running = true
	f, expr, store, raw, ctx := fs.f, fs.expr, m.env.Data.Store, m.env.Data.Raw, m.ctx
	chunk := lockChunk
	if f.NeedsRaw() {
		chunk = lockChunkRaw
	}
	return func() tea.Msg {
		stopped := false
		s := filter.Suggest(f, func(yield func(*audit.Request) bool) {
			for i := 0; i < total && !stopped; i += chunk {
				store.Read(func(snap audit.Snapshot) {
					for _, r := range snap.Requests[i:min(i+chunk, total)] {
						if !yield(r) {
							stopped = true
							return
						}
					}
				})
				stopped = stopped || ctx.Err() != nil
			}
		}, raw)
		return suggestedMsg{expr: expr, total: total, text: s.String(), ok: !stopped && ctx.Err() != context.Canceled}
	}
}

// suggested takes the suggestions worked out to the requests list.
func (m *model) suggested(msg suggestedMsg) tea.Cmd {
	m.nm.running = false
	if msg.ok {
		m.nm = noMatch{expr: msg.expr, total: msg.total, text: msg.text, at: time.Now()}
		m.requests.setNoMatch(msg.expr, msg.text)
	}
	return m.suggest() // the filter or the store may have changed meanwhile
}
