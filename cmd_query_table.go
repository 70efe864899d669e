package main

import (
	"bufio"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// sanitize escapes control characters in log text before it is printed.
var sanitize = render.Sanitize

// tablePrinter writes requests as aligned columns: sized to the content, and
// to the terminal's width when the output is a terminal. Widths, padding and
// truncation count screen cells, not bytes or runes: a CJK character or an
// emoji takes two cells, a combining mark none. Columns and cells come from
// package render, as the explorer's do.
type tablePrinter struct {
	wide  bool
	color bool
	width int // 0: no limit (not a terminal)
	// fixed is follow mode: rows come in batches, so the columns cannot be
	// sized to the content; they are sized once, before the first batch,
	// and every batch uses those widths.
	fixed      bool
	fixedW     []int
	headerDone bool
	cols       []render.Column
}

func newTablePrinter(ios *IO, wide, color bool) *tablePrinter {
	w := 0
	if ios.OutTTY {
		w = ios.Width
	}
	return &tablePrinter{wide: wide, color: color, width: w, cols: render.Columns(render.TimeFull, wide)}
}

// gap is the space between two columns.
const gap = 2

// columns are the table's columns. The minimums of the default table add
// up, with the gaps, to 78 cells, so it fits an 80-column terminal; TIME
// keeps its full date and time.
func (t *tablePrinter) columns() []render.Column { return t.cols }

// grows says whether a column takes room left over in follow mode on a
// terminal: the ones with a large share of it.
func grows(c render.Column) bool { return c.Flex >= 2 }

// tableRow is one request rendered: its cells (sanitised) and its colour.
// It holds no reference to the request, so it can be written after the
// store has changed it.
type tableRow struct {
	cells []string
	color string
}

// row renders r. In follow mode, call it while r cannot change (under
// audit.Store.Read).
func (t *tablePrinter) row(r *audit.Request) tableRow {
	return tableRow{cells: t.cells(r), color: t.rowColor(r)}
}

func (t *tablePrinter) cells(r *audit.Request) []string {
	cells := make([]render.Cell, len(t.cols))
	render.Cells(r, t.cols, render.TimeFull, cells)
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.String()
	}
	return out
}

// cellWidth is how many terminal cells s takes: one a byte for printable
// ASCII (nearly every cell), else what the terminal draws, grapheme by
// grapheme.
func cellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// widths sizes the columns. A table printed at once sizes each column to
// its widest cell; follow mode sizes them once, from the columns' wanted
// widths, and keeps them. On a terminal the columns are then shrunk until a
// row fits (see fit); in follow mode room left over goes to the growable
// columns.
func (t *tablePrinter) widths(cols []render.Column, rows []tableRow) []int {
	if t.fixed && t.fixedW != nil {
		return t.fixedW
	}
	w := make([]int, len(cols))
	for i, c := range cols {
		if t.fixed {
			w[i] = c.Want
			continue
		}
		w[i] = cellWidth(c.Title)
	}
	if !t.fixed {
		for _, row := range rows {
			for i, cell := range row.cells {
				w[i] = max(w[i], cellWidth(cell))
			}
		}
	}
	if t.width > 0 {
		fit(cols, w, t.width)
		if t.fixed {
			fill(cols, w, t.width)
		}
	}
	if t.fixed {
		t.fixedW = w
	}
	return w
}

// fit shrinks the columns until a row is at most width cells: the widest
// first, never below its minimum. Short columns are at their minimum
// already, unless a rare long cell widened them ("deletecollection").
func fit(cols []render.Column, w []int, width int) {
	total := gap * (len(w) - 1)
	for _, x := range w {
		total += x
	}
	for total > width {
		widest := -1
		for i, c := range cols {
			if w[i] > c.Min && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break // nothing left to shrink: let the terminal wrap
		}
		w[widest]--
		total--
	}
}

// fill gives the room left on a row to the growable columns, evenly.
func fill(cols []render.Column, w []int, width int) {
	total := gap * (len(w) - 1)
	var grow []int
	for i, x := range w {
		total += x
		if grows(cols[i]) {
			grow = append(grow, i)
		}
	}
	for n := 0; total < width && len(grow) > 0; n++ {
		w[grow[n%len(grow)]]++
		total++
	}
}

// freeze sizes the columns to rows, once, for every row written after them.
func (t *tablePrinter) freeze(rows []tableRow) {
	t.fixedW = t.widths(t.columns(), rows)
	t.fixed = true
}

func (t *tablePrinter) print(out *bufio.Writer, reqs []*audit.Request) {
	rows := make([]tableRow, len(reqs))
	for i, r := range reqs {
		rows[i] = t.row(r)
	}
	t.writeRows(out, rows)
}

// writeRows writes rendered rows, after the header when none was written
// yet (follow mode writes it once).
func (t *tablePrinter) writeRows(out *bufio.Writer, rows []tableRow) {
	cols := t.columns()
	w := t.widths(cols, rows)
	if !t.fixed || !t.headerDone {
		titles := make([]string, len(cols))
		for i, c := range cols {
			titles[i] = c.Title
			if cellWidth(c.Title) > w[i] && c.Short != "" && cellWidth(c.Short) <= w[i] {
				titles[i] = c.Short
			}
		}
		t.writeRow(out, w, titles, "")
		t.headerDone = true
	}
	for _, row := range rows {
		t.writeRow(out, w, row.cells, row.color)
	}
}

// rowColor gives destructive verbs and failures their colour (ANSI SGR).
func (t *tablePrinter) rowColor(r *audit.Request) string {
	if !t.color {
		return ""
	}
	switch {
	case r.Code >= 500:
		return "\x1b[1;31m"
	case r.Code >= 400 || r.Decision == "forbid":
		return "\x1b[33m"
	case r.Verb == "delete" || r.Verb == "deletecollection":
		return "\x1b[31m"
	case r.Verb == "create" || r.Verb == "update" || r.Verb == "patch":
		return "\x1b[36m"
	}
	return ""
}

// writeRow writes cells padded to their columns. On a terminal a cell is
// cut to its column; elsewhere it is written whole (the text is the data),
// and a cell wider than its column pushes the rest of its row only.
func (t *tablePrinter) writeRow(out *bufio.Writer, w []int, cells []string, color string) {
	var b strings.Builder
	used, at := 0, 0 // cells written; where this column starts
	for i, cell := range cells {
		if i > 0 {
			at += w[i-1] + gap
			b.WriteString(strings.Repeat(" ", max(gap, at-used)))
			used = max(used+gap, at)
		}
		if t.width > 0 {
			cell = truncate(cell, w[i])
		}
		b.WriteString(cell)
		used += cellWidth(cell)
	}
	line := strings.TrimRight(b.String(), " ")
	if color != "" {
		line = color + line + "\x1b[0m"
	}
	out.WriteString(line)
	out.WriteByte('\n')
}

// truncate cuts s to n cells, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if cellWidth(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return ansi.Truncate(s, n, "…")
}
