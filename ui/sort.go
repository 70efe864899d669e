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

// requestOrder is one order of the list: a number read from each request
// (num), or a pair of strings (str: compared as strings, the second on a
// tie of the first).
type requestOrder struct {
	name  string // said in the footer
	title string // the column it sorts (render.Columns' title)
	desc  bool   // its natural direction is descending (slowest, errors first)
	num   func(r *audit.Request) int64
	str   func(r *audit.Request) [2]string
	parts audit.Parts // what of a row they read
}

var requestOrders = []requestOrder{
	{name: "time", title: "TIME"},
	{name: "latency", title: "LATENCY", desc: true, parts: audit.PartTimes, num: func(r *audit.Request) int64 { return int64(r.Latency()) }},
	{name: "user", title: "USER", parts: audit.PartWho, str: func(r *audit.Request) [2]string { return [2]string{r.Actor()} }},
	{name: "verb", title: "VERB", parts: audit.PartWhat, str: func(r *audit.Request) [2]string { return [2]string{r.Verb} }},
	{name: "resource", title: "RESOURCE", parts: audit.PartURI, str: func(r *audit.Request) [2]string { return [2]string{r.ResourcePath(), r.RequestURI()} }},
	{name: "object", title: "NAMESPACE/NAME", parts: audit.PartWhat | audit.PartName, str: func(r *audit.Request) [2]string { return [2]string{r.Namespace, r.Name} }},
	{name: "code", title: "CODE", desc: true, parts: audit.PartWhat, num: func(r *audit.Request) int64 { return int64(r.Code) }},
}

// A list of up to sortWholeUpTo requests is sorted whole on every refresh
// (a request's latency and code come with its last stage, after it was
// placed). A longer one, while loading or following, has the new requests
// merged in on each refresh and is sorted whole every fullSortEvery
// refreshes (about 2 s): between two, a request placed before its last
// stage may stand where its first stage put it, and two values new since
// the last whole sort may stand in either order. A variable for tests.
var sortWholeUpTo = 200_000

const fullSortEvery = 20

// requestSort is the list's order and its sorted list of rows: row
// numbers sorted by a key read from the columns (a number, or the rank of
// a string among those the list holds), never a copy of the requests.
type requestSort struct {
	at      int  // index in requestOrders
	reverse bool // against the order's natural direction
	sorted  int  // refreshes since the last full sort

	keys  []int64     // the key of each row of the sorted list, in its order
	ranks [][2]string // the strings of the last whole sort, in order (str orders)
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

// keysOf reads the sort key of every request of rows (from the columns),
// signed so that ascending keys are the list's order. With rank, strings
// are ranked among s.ranks (made again from rows' strings); else a string
// not among them takes the odd rank between its neighbours.
func (s *requestSort) keysOf(rows Rows, rank bool) []int64 {
	o := requestOrders[s.at]
	keys := make([]int64, rowsLen(rows))
	sign := int64(1)
	if o.desc != s.reverse {
		sign = -1
	}
	if o.num != nil {
		eachRowParts(rows, 0, o.parts, func(i int, r *audit.Request) bool {
			keys[i] = sign * o.num(r)
			return true
		})
		return keys
	}
	if o.str == nil {
		return keys
	}
	cmpPair := func(a, b [2]string) int { return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1])) }
	ids := map[[2]string]int32{}
	var vals [][2]string
	vid := make([]int32, len(keys))
	eachRowParts(rows, 0, o.parts, func(i int, r *audit.Request) bool {
		v := o.str(r)
		id, ok := ids[v]
		if !ok {
			id = int32(len(vals))
			ids[v] = id
			vals = append(vals, [2]string{strings.Clone(v[0]), strings.Clone(v[1])})
		}
		vid[i] = id
		return true
	})
	if rank {
		s.ranks = slices.Clone(vals)
		slices.SortFunc(s.ranks, cmpPair)
	}
	byID := make([]int64, len(vals))
	for id, v := range vals {
		at, found := slices.BinarySearchFunc(s.ranks, v, cmpPair)
		byID[id] = int64(2 * at)
		if !found {
			byID[id]++
		}
	}
	for i, id := range vid {
		keys[i] = sign * byID[id]
	}
	return keys
}

// apply is the list in this order. inOrder is the store's order; prev the
// list last sorted from its first prevN requests: while loading, the new
// ones are sorted and merged into it, and the whole is sorted again every
// fullSortEvery refreshes.
func (s *requestSort) apply(inOrder Rows, prev *indexRows, prevN int, full bool) Rows {
	if s.timeOrder() {
		return inOrder
	}
	n := rowsLen(inOrder)
	ir, ok := inOrder.(*indexRows)
	if !ok {
		return inOrder // a list not of the index (a store's pages): in its own order
	}
	src := ir.src
	if s.at == 0 { // time, newest first
		out := make([]int32, n)
		for i := range n {
			out[n-1-i] = int32(inOrder.Key(i))
		}
		return &indexRows{src: src, rows: out, n: n}
	}
	s.sorted++
	if full || n <= sortWholeUpTo || s.sorted >= fullSortEvery || prev == nil || prevN > n || prev.Len() != prevN || len(s.keys) != prevN {
		s.sorted = 0
		keys := s.keysOf(inOrder, true)
		perm := make([]int32, n)
		for i := range perm {
			perm[i] = int32(i)
		}
		// ties keep the time order: the position breaks them (a stable
		// sort of millions is several times slower)
		slices.SortFunc(perm, func(a, b int32) int { return cmp.Or(cmp.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
		out := make([]int32, n)
		s.keys = make([]int64, n)
		for i, k := range perm {
			out[i], s.keys[i] = int32(inOrder.Key(int(k))), keys[k]
		}
		return &indexRows{src: src, rows: out, n: n}
	}
	add := &indexRows{src: src, rows: make([]int32, n-prevN), n: n - prevN}
	for i := range add.rows {
		add.rows[i] = int32(inOrder.Key(prevN + i))
	}
	addKeys := s.keysOf(add, false)
	perm := make([]int32, add.n)
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int { return cmp.Or(cmp.Compare(addKeys[a], addKeys[b]), cmp.Compare(a, b)) })
	out := make([]int32, 0, n)
	keys := make([]int64, 0, n)
	i, j := 0, 0
	for i < prevN && j < len(perm) {
		if addKeys[perm[j]] < s.keys[i] {
			out, keys = append(out, add.rows[perm[j]]), append(keys, addKeys[perm[j]])
			j++
		} else {
			out, keys = append(out, int32(prev.Key(i))), append(keys, s.keys[i])
			i++
		}
	}
	for ; i < prevN; i++ {
		out, keys = append(out, int32(prev.Key(i))), append(keys, s.keys[i])
	}
	for ; j < len(perm); j++ {
		out, keys = append(out, add.rows[perm[j]]), append(keys, addKeys[perm[j]])
	}
	s.keys = keys
	return &indexRows{src: src, rows: out, n: n}
}

// resort puts p.shown in the page's order from p.inOrder, keeping the
// selected request selected. full sorts everything again.
func (p *requestsPage) resort(full bool) {
	keep := p.selectedKey()
	var prev *indexRows
	// The new requests are merged in only when the list grew at its end: a
	// request in the middle that came in or went out (a later stage made it
	// match, or not) is a new list.
	if !p.order.timeOrder() && rowsLen(p.shown) == p.sortedN && rowsLen(p.inOrder) >= p.sortedN &&
		sameStart(p.inOrder, p.sortedIn, p.sortedN) {
		prev, _ = p.shown.(*indexRows)
	}
	if p.inOrder == nil {
		p.inOrder = &indexRows{src: p.env.src}
	}
	p.shown = p.order.apply(p.inOrder, prev, p.sortedN, full)
	if p.order.timeOrder() {
		p.order.keys, p.order.ranks = nil, nil
	}
	p.sortedN, p.sortedIn = rowsLen(p.inOrder), p.inOrder
	p.table.SetColumns(p.sortColumns(requestColumns(p.width)))
	p.table.SetRows(p)
	if keep >= 0 && !p.table.Follow {
		p.table.SetCursor(max(0, indexOfKey(p.shown, keep)))
	}
}

// sameStart reports whether lists a and b begin with the same n rows.
func sameStart(a, b Rows, n int) bool {
	if n == 0 {
		return true
	}
	x, ok1 := a.(*indexRows)
	y, ok2 := b.(*indexRows)
	if !ok1 || !ok2 || x.Len() < n || y.Len() < n {
		return false
	}
	switch {
	case x.rows != nil && y.rows != nil:
		return &x.rows[0] == &y.rows[0] || slices.Equal(x.rows[:n], y.rows[:n])
	case x.set != nil && y.set != nil:
		last := y.set.sel(n - 1) // the same n rows: the same bits up to the n-th
		w := last >> 6
		mask := uint64(1)<<(last&63+1) - 1
		if last&63 == 63 {
			mask = ^uint64(0)
		}
		return len(x.set.bits) > w && slices.Equal(x.set.bits[:w], y.set.bits[:w]) && x.set.bits[w]&mask == y.set.bits[w]&mask
	case x.rows == nil && x.set == nil && y.rows == nil && y.set == nil:
		return true // every row: the same start
	}
	for i := range n { // lists of two kinds
		if x.Key(i) != y.Key(i) {
			return false
		}
	}
	return true
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
