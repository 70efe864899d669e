package ui

import (
	"cmp"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
)

// The order of the Requests list: time (the store's order, the default),
// or a column, as k9s and htop sort. s goes to the next order, S reverses
// it; the sorted column's title carries an arrow and the footer says the
// order. Ties keep the time order.

// requestOrder is one order of the list.
type requestOrder struct {
	name  string // said in the footer
	title string // the column it sorts (render.Columns' title)
	desc  bool   // its natural direction is descending (slowest, errors first)
	cmp   func(a, b *audit.Request) int
}

var requestOrders = []requestOrder{
	{name: "time", title: "TIME"},
	{name: "latency", title: "LATENCY", desc: true, cmp: func(a, b *audit.Request) int { return cmp.Compare(a.Latency(), b.Latency()) }},
	{name: "user", title: "USER", cmp: func(a, b *audit.Request) int { return strings.Compare(a.Actor(), b.Actor()) }},
	{name: "verb", title: "VERB", cmp: func(a, b *audit.Request) int { return strings.Compare(a.Verb, b.Verb) }},
	{name: "resource", title: "RESOURCE", cmp: func(a, b *audit.Request) int {
		return cmp.Or(strings.Compare(a.ResourcePath(), b.ResourcePath()), strings.Compare(a.RequestURI(), b.RequestURI()))
	}},
	{name: "object", title: "NAMESPACE/NAME", cmp: func(a, b *audit.Request) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	}},
	{name: "code", title: "CODE", desc: true, cmp: func(a, b *audit.Request) int { return cmp.Compare(a.Code, b.Code) }},
}

// A list of up to sortWholeUpTo requests is sorted whole on every refresh
// (a request's latency and code come with its last stage, after it was
// placed). A longer one, while loading or following, has the new requests
// merged in on each refresh and is sorted whole every fullSortEvery
// refreshes (about 2 s): between two, a request placed before its last
// stage may stand where its first stage put it. A variable for tests.
var sortWholeUpTo = 200_000

const fullSortEvery = 20

// requestSort is the list's order and its sorted copy of the requests.
type requestSort struct {
	at      int  // index in requestOrders
	reverse bool // against the order's natural direction
	sorted  int  // refreshes since the last full sort
}

// timeOrder reports whether the list is in the store's order.
func (s *requestSort) timeOrder() bool { return s.at == 0 && !s.reverse }

// arrow is the direction drawn after the sorted column's title.
func (s *requestSort) arrow() string {
	if requestOrders[s.at].desc != s.reverse {
		return "↓"
	}
	return "↑"
}

// words says the order: "latency ↓".
func (s *requestSort) words() string { return requestOrders[s.at].name + " " + s.arrow() }

// less orders two requests by the current order; ties are false (the
// stable sort keeps the time order).
func (s *requestSort) compare(a, b *audit.Request) int {
	o := requestOrders[s.at]
	c := 0
	if o.cmp != nil {
		c = o.cmp(a, b)
	}
	if o.desc != s.reverse {
		c = -c
	}
	return c
}

// apply is the list in this order. inOrder is the store's order; prev the
// list last sorted from its first prevN requests: while loading, the new
// ones are sorted and merged into it, and the whole is sorted again every
// fullSortEvery refreshes. Call it under Store.Read.
func (s *requestSort) apply(inOrder, prev []*audit.Request, prevN int, full bool) []*audit.Request {
	if s.timeOrder() {
		return inOrder
	}
	if s.at == 0 { // time, newest first
		out := make([]*audit.Request, len(inOrder))
		for i, r := range inOrder {
			out[len(out)-1-i] = r
		}
		return out
	}
	s.sorted++
	if full || len(inOrder) <= sortWholeUpTo || s.sorted >= fullSortEvery || prev == nil || prevN > len(inOrder) || len(prev) != prevN {
		s.sorted = 0
		out := slices.Clone(inOrder)
		slices.SortStableFunc(out, s.compare)
		return out
	}
	add := slices.Clone(inOrder[prevN:])
	slices.SortStableFunc(add, s.compare)
	out := make([]*audit.Request, 0, len(inOrder))
	i, j := 0, 0
	for i < len(prev) && j < len(add) {
		if s.compare(add[j], prev[i]) < 0 {
			out = append(out, add[j])
			j++
		} else {
			out = append(out, prev[i])
			i++
		}
	}
	out = append(append(out, prev[i:]...), add[j:]...)
	return out
}

// resort puts p.shown in the page's order from p.inOrder, keeping the
// selected request selected. full sorts everything again.
func (p *requestsPage) resort(full bool) {
	keep := p.Selected()
	var prev []*audit.Request
	// The new requests are merged in only when the list grew at its end: a
	// request in the middle that came in or went out (a later stage made it
	// match, or not) is a new list.
	if !p.order.timeOrder() && len(p.shown) == p.sortedN && len(p.inOrder) >= p.sortedN &&
		slices.Equal(p.inOrder[:p.sortedN], p.sortedIn) {
		prev = p.shown
	}
	p.env.Data.Store.Read(func(audit.Snapshot) {
		p.shown = p.order.apply(p.inOrder, prev, p.sortedN, full)
	})
	p.sortedN, p.sortedIn = len(p.inOrder), p.inOrder
	p.table.SetColumns(p.sortColumns(requestColumns(p.width)))
	p.table.SetRows(p)
	if keep != nil && !p.table.Follow {
		p.table.SetCursor(indexOf(p.shown, keep))
	}
}

// sortKey handles s, S, and F while sorted (following is of the time
// order: it goes back to it).
func (p *requestsPage) sortKey(msg tea.KeyPressMsg) bool {
	k := p.env.Keys
	switch {
	case key.Matches(msg, k.Sort):
		p.order.at = (p.order.at + 1) % len(requestOrders)
		p.order.reverse = false
	case key.Matches(msg, k.SortReverse):
		p.order.reverse = !p.order.reverse
	case key.Matches(msg, k.Follow) && !p.order.timeOrder():
		p.order = requestSort{}
		p.table.Follow = true
		p.resort(true)
		return true
	default:
		return false
	}
	if !p.order.timeOrder() {
		p.table.Follow = false
	}
	p.resort(true)
	return true
}

// sortColumns marks the sorted column's title with its direction and
// makes room for the arrow (none in the default time order).
func (p *requestsPage) sortColumns(cols []column) []column {
	if p.order.timeOrder() {
		return cols
	}
	title := requestOrders[p.order.at].title
	for i := range cols {
		if cols[i].Title == title {
			cols[i].Title += p.order.arrow()
			w := len([]rune(cols[i].Title))
			cols[i].Min = max(cols[i].Min, w)
			if cols[i].Max > 0 {
				cols[i].Max = max(cols[i].Max, w)
			}
		}
	}
	return cols
}

// sortHelp is the footer's word on the order.
func (p *requestsPage) sortHelp() keyHelp {
	return keyHelp{Key: p.env.Keys.Sort.Help().Key, Desc: "sort: " + p.order.words()}
}
