package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// column describes one table column and how it takes its share of the width.
type column struct {
	Title string
	Min   int  // never narrower than this (unless the terminal is)
	Max   int  // 0: no maximum
	Flex  int  // weight in the share of the spare width
	Right bool // right-aligned (numbers)
	Drop  int  // when the columns do not fit, the highest Drop goes first; 0 stays
	Wide  bool // shown only when every main column has the room its content asks
}

// Cell is one cell's text (already sanitised) and style, with an optional
// suffix in a style of its own ("alice" + " (as bob)").
type Cell struct {
	Prefix      string // drawn before Text, in its style, and cut first
	Text        string
	Style       lipgloss.Style
	Suffix      string
	SuffixStyle lipgloss.Style
	// Middle cuts a long text in the middle, keeping both ends (service
	// account names and generated pod names differ at the end).
	Middle bool
	// Short stands for Text when Text does not fit (sa:team-a:bot for
	// system:serviceaccount:team-a:bot); "" when there is none.
	Short string
}

// tableRows is what a Table draws: a count and a way to get one row's cells.
// The table asks only for the rows on screen, so a million rows cost nothing.
type tableRows interface {
	Len() int
	// Cells fills dst (len = number of columns) for row i.
	Cells(i int, dst []Cell)
}

// table is a virtualised table: only the visible rows are rendered, the
// columns fit the width, and it scrolls with keys and the mouse wheel. With
// Follow set, the cursor sticks to the last row as rows are added, until the
// user moves up.
type table struct {
	Columns []column
	Follow  bool

	rows          tableRows
	cursor, top   int
	width, height int
	widths        []int // per column, 0 = hidden
	// content is the widest text each column has shown since the last
	// FitContent (its title's at least), so a column takes the room its
	// content asks and no more; 0 until a row is drawn.
	content []int

	st   *styles
	keys *keyMap
	// screen holds the cells of the rows on screen, reused between frames
	// to keep View allocation-light.
	screen [][]Cell
}

// newTable returns an empty table with the given columns.
func newTable(st *styles, keys *keyMap, cols []column) *table {
	t := &table{Columns: cols, st: st, keys: keys}
	t.layout()
	return t
}

// Init implements Component.
func (t *table) Init() tea.Cmd { return nil }

// SetSize implements Component; height includes the header line.
func (t *table) SetSize(width, height int) {
	t.width, t.height = width, height
	t.layout()
	t.clamp()
}

// SetColumns replaces the columns (the caller changes them with the width).
func (t *table) SetColumns(cols []column) {
	t.Columns = cols
	t.content = nil
	t.layout()
}

// FitContent forgets the widths the content asked for (the rows changed
// wholesale, e.g. a new filter), so columns may shrink again.
func (t *table) FitContent() {
	t.content = nil
	t.layout()
}

// SetRows sets what the table draws, keeping the cursor where it was (or on
// the last row when following).
func (t *table) SetRows(r tableRows) {
	t.rows = r
	t.clamp()
}

// Len is the number of rows.
func (t *table) Len() int {
	if t.rows == nil {
		return 0
	}
	return t.rows.Len()
}

// Cursor is the selected row, -1 when the table is empty.
func (t *table) Cursor() int {
	if t.Len() == 0 {
		return -1
	}
	return t.cursor
}

// SetCursor selects row i (clamped).
func (t *table) SetCursor(i int) {
	t.cursor = i
	t.clamp()
}

// Top is the first visible row.
func (t *table) Top() int { return t.top }

// bodyHeight is the number of visible rows.
func (t *table) bodyHeight() int { return max(1, t.height-1) }

func (t *table) clamp() {
	n := t.Len()
	if t.Follow {
		t.cursor = n - 1
	}
	t.cursor = max(0, min(t.cursor, n-1))
	h := t.bodyHeight()
	if t.cursor < t.top {
		t.top = t.cursor
	}
	if t.cursor >= t.top+h {
		t.top = t.cursor - h + 1
	}
	t.top = max(0, min(t.top, n-h))
}

// move moves the cursor by delta rows; moving up stops following.
func (t *table) move(delta int) {
	if delta < 0 {
		t.Follow = false
	}
	t.cursor += delta
	t.clamp()
}

// Update handles the navigation keys and the mouse wheel. It implements
// Component; HandleMsg says whether the message was used.
func (t *table) Update(msg tea.Msg) (component, tea.Cmd) {
	t.HandleMsg(msg)
	return t, nil
}

// HandleMsg applies navigation keys and wheel and click events (with y
// relative to the table's first line) and reports whether it used msg.
func (t *table) HandleMsg(msg tea.Msg) bool {
	h := t.bodyHeight()
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := t.keys
		switch {
		case key.Matches(msg, k.Up):
			t.move(-1)
		case key.Matches(msg, k.Down):
			t.move(1)
		case key.Matches(msg, k.PageUp):
			t.move(-h)
		case key.Matches(msg, k.PageDown):
			t.move(h)
		case key.Matches(msg, k.HalfUp):
			t.move(-max(1, h/2))
		case key.Matches(msg, k.HalfDown):
			t.move(max(1, h/2))
		case key.Matches(msg, k.Top):
			t.Follow = false
			t.cursor = 0
			t.clamp()
		case key.Matches(msg, k.Bottom):
			t.cursor = t.Len() - 1
			t.clamp()
		case key.Matches(msg, k.Follow):
			t.Follow = true
			t.clamp()
		default:
			return false
		}
		return true
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			t.Follow = false
			t.top = max(0, t.top-3)
			t.cursor = min(t.cursor, t.top+h-1)
			t.clamp()
		case tea.MouseWheelDown:
			t.top = min(t.top+3, max(0, t.Len()-h))
			t.cursor = max(t.cursor, t.top)
			t.clamp()
		default:
			return false
		}
		return true
	case tea.MouseClickMsg:
		if msg.Button != tea.MouseLeft || msg.Y < 1 {
			return false
		}
		if i := t.top + msg.Y - 1; i < t.Len() {
			t.Follow = false
			t.cursor = i
			t.clamp()
			return true
		}
	}
	return false
}

// layout computes the column widths for the current width.
func (t *table) layout() {
	t.widths = layoutColumns(t.Columns, t.width, t.content)
}

// layoutColumns gives each column its width. A column never takes more
// than its content asks (content[i], when known) or its Max. The main
// columns come first, Min each, dropping the highest Drop while they do not
// fit; the wide columns join only when every main column has what its
// content asks; then the spare width goes by Flex.
func layoutColumns(cols []column, width int, content []int) []int {
	w := make([]int, len(cols))
	visible := make([]bool, len(cols))
	// limit is what a column may grow to; floor what it starts at.
	limit := make([]int, len(cols))
	floor := make([]int, len(cols))
	for i, c := range cols {
		visible[i] = !c.Wide
		limit[i] = c.Max
		floor[i] = c.Min
		if i < len(content) && content[i] > 0 {
			if limit[i] == 0 || content[i] < limit[i] {
				limit[i] = content[i]
			}
			floor[i] = min(floor[i], max(limit[i], 1))
		}
	}
	sum := func() (need, n int) {
		for i := range cols {
			if visible[i] {
				need += floor[i]
				n++
			}
		}
		return need + max(0, n-1), n
	}
	for {
		if need, _ := sum(); need <= width {
			break
		}
		drop := -1
		for i, c := range cols {
			if visible[i] && c.Drop > 0 && (drop < 0 || c.Drop > cols[drop].Drop) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		visible[drop] = false
	}
	// The wide columns, lowest Drop first, when the main ones have their
	// content's width and the wide one its Min.
	wanted, n := 0, 0
	for i := range cols {
		if visible[i] {
			wanted += max(floor[i], limit[i])
			n++
		}
	}
	for {
		next := -1
		for i, c := range cols {
			if c.Wide && !visible[i] && (next < 0 || c.Drop < cols[next].Drop) {
				next = i
			}
		}
		if next < 0 || wanted+floor[next]+n > width {
			break
		}
		visible[next] = true
		wanted += floor[next]
		n++
	}
	used := 0
	n = 0
	for i := range cols {
		if visible[i] {
			w[i] = floor[i]
			used += floor[i]
			n++
		}
	}
	spare := width - used - max(0, n-1)
	// Still too wide (a very narrow terminal): take one cell at a time from
	// the widest column, down to 3 cells each.
	for spare < 0 {
		widest := -1
		for i := range w {
			if w[i] > 3 && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		w[widest]--
		spare++
	}
	// Hand out the spare width by weight; columns that reach their limit
	// drop out of the share, and what they leave goes round again.
	for spare > 0 {
		weight := 0
		for i, c := range cols {
			if visible[i] && c.Flex > 0 && (limit[i] == 0 || w[i] < limit[i]) {
				weight += c.Flex
			}
		}
		if weight == 0 {
			break
		}
		given := 0
		for i, c := range cols {
			if !visible[i] || c.Flex == 0 || (limit[i] > 0 && w[i] >= limit[i]) {
				continue
			}
			add := max(1, spare*c.Flex/weight)
			if limit[i] > 0 {
				add = min(add, limit[i]-w[i])
			}
			add = min(add, spare-given)
			w[i] += add
			given += add
			if given == spare {
				break
			}
		}
		spare -= given
		if given == 0 {
			break
		}
	}
	return w
}

// View implements Component: the header and the visible rows, each exactly
// the table's width. The rows on screen are rendered first so that a column
// whose content is wider than it has seen takes the room before drawing.
func (t *table) View() string {
	var b strings.Builder
	h := t.bodyHeight()
	b.Grow((h + 1) * (t.width + 32))
	n := t.Len()
	rows := min(h, max(0, n-t.top))
	for len(t.screen) < rows {
		t.screen = append(t.screen, nil)
	}
	grown := false
	if len(t.content) != len(t.Columns) {
		t.content = make([]int, len(t.Columns))
		for i, c := range t.Columns {
			t.content[i] = ansi.StringWidth(c.Title)
		}
		grown = true
	}
	for r := 0; r < rows; r++ {
		if cap(t.screen[r]) < len(t.Columns) {
			t.screen[r] = make([]Cell, len(t.Columns))
		}
		cells := t.screen[r][:len(t.Columns)]
		clear(cells)
		t.rows.Cells(t.top+r, cells)
		t.screen[r] = cells
		for i := range cells {
			if cw := cellWidth(cells[i]); cw > t.content[i] {
				t.content[i], grown = cw, true
			}
		}
	}
	if grown {
		t.layout()
	}
	header := make([]Cell, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = Cell{Text: c.Title, Style: t.st.Header}
	}
	t.writeRow(&b, header, false)
	for i := 0; i < h; i++ {
		b.WriteByte('\n')
		if i >= rows {
			b.WriteString(strings.Repeat(" ", t.width))
			continue
		}
		t.writeRow(&b, t.screen[i], t.top+i == t.cursor)
	}
	return b.String()
}

// cellWidth is the room a cell's whole text takes.
func cellWidth(c Cell) int {
	return ansi.StringWidth(c.Prefix) + ansi.StringWidth(c.Text) + ansi.StringWidth(c.Suffix)
}

func (t *table) writeRow(b *strings.Builder, cells []Cell, selected bool) {
	used, first := 0, true
	sel := t.st.Selected
	for i, c := range t.Columns {
		w := t.widths[i]
		if w == 0 {
			continue
		}
		if !first {
			if selected {
				b.WriteString(sel.Render(" "))
			} else {
				b.WriteByte(' ')
			}
			used++
		}
		first = false
		cell := cells[i]
		if cell.Short != "" && ansi.StringWidth(cell.Prefix+cell.Text+cell.Suffix) > w {
			cell.Text = cell.Short
		}
		text, suffix := fitCell(cell.Prefix, cell.Text, cell.Suffix, w, cell.Middle)
		pad := w - ansi.StringWidth(text) - ansi.StringWidth(suffix)
		style, sstyle := cell.Style, cell.SuffixStyle
		if selected {
			style, sstyle = style.Inherit(sel), sstyle.Inherit(sel)
		}
		if c.Right && pad > 0 {
			writePad(b, pad, selected, sel)
		}
		if text != "" {
			b.WriteString(style.Render(text))
		}
		if suffix != "" {
			b.WriteString(sstyle.Render(suffix))
		}
		if !c.Right && pad > 0 {
			writePad(b, pad, selected, sel)
		}
		used += w
	}
	if used < t.width {
		writePad(b, t.width-used, selected, sel)
	}
}

func writePad(b *strings.Builder, n int, selected bool, sel lipgloss.Style) {
	if selected {
		b.WriteString(sel.Render(strings.Repeat(" ", n)))
		return
	}
	b.WriteString(strings.Repeat(" ", n))
}

// fitCell truncates text+suffix to w cells with an ellipsis, cutting the
// suffix first.
func fitCell(prefix, text, suffix string, w int, middle bool) (string, string) {
	tw, sw := ansi.StringWidth(text), ansi.StringWidth(suffix)
	if pw := ansi.StringWidth(prefix); pw > 0 {
		// A prefix (an API group and its slash) gives way first, whole:
		// the text after it (the resource) is what tells rows apart.
		switch room := w - tw - sw; {
		case pw <= room:
			return prefix + text, suffix
		case room >= 2:
			return "…/" + text, suffix
		}
	}
	if tw+sw <= w {
		return text, suffix
	}
	if tw >= w {
		if middle && w >= 7 {
			head := (w - 1) / 2
			tail := w - 1 - head
			return ansi.Truncate(text, head, "") + "…" + ansi.TruncateLeft(text, tw-tail, ""), ""
		}
		return ansi.Truncate(text, w, "…"), ""
	}
	return text, ansi.Truncate(suffix, w-tw, "…")
}
