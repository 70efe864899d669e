package render

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
)

// The layout of a table of requests as `kauditui query` prints it: aligned
// columns, sized to the content, and to the terminal's width when the
// output is a terminal. Widths, padding and truncation count screen cells,
// not bytes or runes: a CJK character or an emoji takes two cells, a
// combining mark none. The columns and cells are the explorer's (Columns,
// Cells).

// ColumnGap is the space between two columns of a table.
const ColumnGap = 2

// CellTexts is r's cells in cols, as text (sanitised).
func CellTexts(r *audit.Request, cols []Column, layout string) []string {
	cells := make([]Cell, len(cols))
	Cells(r, cols, layout, cells)
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = c.String()
	}
	return out
}

// CellWidth is how many terminal cells s takes: one a byte for printable
// ASCII (nearly every cell), else what the terminal draws, grapheme by
// grapheme.
func CellWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return ansi.StringWidth(s)
		}
	}
	return len(s)
}

// TableWidths sizes the columns of a table. A table printed at once
// (fixed false) sizes each column to its widest cell of rows, title
// included; follow mode (fixed) sizes them from the columns' wanted
// widths, rows unused, for every batch to come. On a terminal (width > 0)
// the columns are then shrunk until a row fits (see fitColumns); in follow
// mode room left over goes to the growable columns.
func TableWidths(cols []Column, rows [][]string, width int, fixed bool) []int {
	w := make([]int, len(cols))
	for i, c := range cols {
		if fixed {
			w[i] = c.Want
			continue
		}
		w[i] = CellWidth(c.Title)
	}
	if !fixed {
		for _, row := range rows {
			for i, cell := range row {
				w[i] = max(w[i], CellWidth(cell))
			}
		}
	}
	if width > 0 {
		fitColumns(cols, w, width)
		if fixed {
			fillColumns(cols, w, width)
		}
	}
	return w
}

// grows says whether a column takes room left over in follow mode on a
// terminal: the ones with a large share of it.
func grows(c Column) bool { return c.Flex >= 2 }

// fitColumns shrinks the columns until a row is at most width cells: the
// widest first, never below its minimum. Short columns are at their
// minimum already, unless a rare long cell widened them
// ("deletecollection").
func fitColumns(cols []Column, w []int, width int) {
	total := ColumnGap * (len(w) - 1)
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

// fillColumns gives the room left on a row to the growable columns, evenly.
func fillColumns(cols []Column, w []int, width int) {
	total := ColumnGap * (len(w) - 1)
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

// TableTitles is the header of a table of widths w: each column's title,
// or its short title when only that fits.
func TableTitles(cols []Column, w []int) []string {
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.Title
		if CellWidth(c.Title) > w[i] && c.Short != "" && CellWidth(c.Short) <= w[i] {
			titles[i] = c.Short
		}
	}
	return titles
}

// TableLine is cells padded to their columns of widths w, without trailing
// spaces. With cut (a terminal) a cell is cut to its column; without, it is
// whole (the text is the data), and a cell wider than its column pushes the
// rest of its row only.
func TableLine(w []int, cells []string, cut bool) string {
	var b strings.Builder
	used, at := 0, 0 // cells written; where this column starts
	for i, cell := range cells {
		if i > 0 {
			at += w[i-1] + ColumnGap
			b.WriteString(strings.Repeat(" ", max(ColumnGap, at-used)))
			used = max(used+ColumnGap, at)
		}
		if cut {
			cell = truncateCell(cell, w[i])
		}
		b.WriteString(cell)
		used += CellWidth(cell)
	}
	return strings.TrimRight(b.String(), " ")
}

// truncateCell cuts s to n cells, marking the cut with an ellipsis.
func truncateCell(s string, n int) string {
	if CellWidth(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	return ansi.Truncate(s, n, "…")
}
