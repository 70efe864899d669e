package main

import (
	"bufio"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// sanitize escapes control characters in log text before it is printed.
var sanitize = render.Sanitize

// tablePrinter writes requests as aligned columns, laid out by package
// render (render/table.go), coloured here.
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

// columns are the table's columns. The minimums of the default table add
// up, with the gaps, to 78 cells, so it fits an 80-column terminal; TIME
// keeps its full date and time.
func (t *tablePrinter) columns() []render.Column { return t.cols }

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
	return render.CellTexts(r, t.cols, render.TimeFull)
}

// widths sizes the columns (render.TableWidths), in follow mode once.
func (t *tablePrinter) widths(cols []render.Column, rows []tableRow) []int {
	if t.fixed && t.fixedW != nil {
		return t.fixedW
	}
	var cells [][]string
	if !t.fixed {
		cells = make([][]string, len(rows))
		for i, row := range rows {
			cells[i] = row.cells
		}
	}
	w := render.TableWidths(cols, cells, t.width, t.fixed)
	if t.fixed {
		t.fixedW = w
	}
	return w
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
		t.writeRow(out, w, render.TableTitles(cols, w), "")
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

// writeRow writes cells padded to their columns (render.TableLine), cut to
// them on a terminal, in color.
func (t *tablePrinter) writeRow(out *bufio.Writer, w []int, cells []string, color string) {
	line := render.TableLine(w, cells, t.width > 0)
	if color != "" {
		line = color + line + "\x1b[0m"
	}
	out.WriteString(line)
	out.WriteByte('\n')
}
