package render

import (
	"bufio"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kauditui/kauditui/audit"
)

// TablePrinter writes requests as `kauditui query` prints them: aligned
// columns laid out by TableWidths and TableLine, coloured with ANSI SGR
// (the explorer colours the same Kinds with its styles).
type TablePrinter struct {
	color bool
	width int // 0: no limit (not a terminal)
	// fixed is follow mode: rows come in batches, so the columns cannot be
	// sized to the content; they are sized once, before the first batch,
	// and every batch uses those widths.
	fixed      bool
	fixedW     []int
	headerDone bool
	cols       []Column
}

// NewTablePrinter is a table of the default columns, or every column when
// wide; width is the terminal's (0: not a terminal, no limit).
func NewTablePrinter(width int, wide, color bool) *TablePrinter {
	return &TablePrinter{color: color, width: width, cols: Columns(TimeFull, wide)}
}

// Follow sizes the columns once, before the first batch of rows: follow
// mode prints rows as they come.
func (t *TablePrinter) Follow() { t.fixed = true }

// Columns are the table's columns. The minimums of the default table add
// up, with the gaps, to 78 cells, so it fits an 80-column terminal; TIME
// keeps its full date and time.
func (t *TablePrinter) Columns() []Column { return t.cols }

// TableRow is one request rendered: its cells (sanitised) and its colour.
// It holds no reference to the request, so it can be written after the
// store has changed it.
type TableRow struct {
	Cells []string
	Color string
}

// Row renders r. In follow mode, call it while r cannot change (under
// audit.Store.Read).
func (t *TablePrinter) Row(r *audit.Request) TableRow {
	return TableRow{Cells: t.Cells(r), Color: t.rowColor(r)}
}

// Cells are r's cells in the table's columns, as text.
func (t *TablePrinter) Cells(r *audit.Request) []string {
	return CellTexts(r, t.cols, TimeFull)
}

// OpenLatency is what the LATENCY column says of a request still open.
const OpenLatency = "open"

// MarkOpen says in row's LATENCY that its request is still open (a
// long-running request shown before it ends).
func (t *TablePrinter) MarkOpen(row TableRow) {
	for i, c := range t.cols {
		if c.ID == ColLatency {
			row.Cells[i] = OpenLatency
		}
	}
}

// widths sizes the columns (TableWidths), in follow mode once.
func (t *TablePrinter) widths(rows []TableRow) []int {
	if t.fixed && t.fixedW != nil {
		return t.fixedW
	}
	var cells [][]string
	if !t.fixed {
		cells = make([][]string, len(rows))
		for i, row := range rows {
			cells[i] = row.Cells
		}
	}
	w := TableWidths(t.cols, cells, t.width, t.fixed)
	if t.fixed {
		t.fixedW = w
	}
	return w
}

// freeze sizes the columns to rows, once, for every row written after them.
func (t *TablePrinter) freeze(rows []TableRow) {
	t.fixedW = t.widths(rows)
	t.fixed = true
}

// Print writes the table of reqs, its columns sized to them.
func (t *TablePrinter) Print(out *bufio.Writer, reqs []*audit.Request) {
	rows := make([]TableRow, len(reqs))
	for i, r := range reqs {
		rows[i] = t.Row(r)
	}
	t.WriteRows(out, rows)
}

// HeaderDone says whether the header was written (follow mode writes it
// once, before the first rows).
func (t *TablePrinter) HeaderDone() bool { return t.headerDone }

// WriteRows writes rendered rows, after the header when none was written
// yet (follow mode writes it once).
func (t *TablePrinter) WriteRows(out *bufio.Writer, rows []TableRow) {
	w := t.widths(rows)
	if !t.fixed || !t.headerDone {
		t.writeRow(out, w, TableTitles(t.cols, w), "")
		t.headerDone = true
	}
	for _, row := range rows {
		t.writeRow(out, w, row.Cells, row.Color)
	}
}

// rowColor gives destructive verbs and failures their colour (ANSI SGR).
func (t *TablePrinter) rowColor(r *audit.Request) string {
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

// writeRow writes cells padded to their columns (TableLine), cut to them
// on a terminal, in color.
func (t *TablePrinter) writeRow(out *bufio.Writer, w []int, cells []string, color string) {
	line := TableLine(w, cells, t.width > 0)
	if color != "" {
		line = color + line + "\x1b[0m"
	}
	out.WriteString(line)
	out.WriteByte('\n')
}

// OrderedTable is the table of a streaming query: rows come as requests
// complete, and are printed in the order the requests were first read, as
// from a full store: a completed row waits until every older request has
// completed too (up to maxPending rows). The columns are sized to the
// first tableBuffer rows, so memory stays bounded.
type OrderedTable struct {
	t        *TablePrinter
	out      *bufio.Writer
	pending  []seqRow   // completed, waiting for older requests; by seq
	buffered []TableRow // rows held until the columns are sized
	frozen   bool       // columns sized: rows are written as they come
}

type seqRow struct {
	seq uint64
	row TableRow
}

// maxPending bounds the rows held back by a request that stays open (a
// watch open for hours, a request whose last stage is not in the log):
// past it, rows are printed, and that request's row comes when it
// completes, out of order.
const maxPending = 8192

// tableBuffer is how many rows size the table's columns: a longer result
// keeps the widths of its first rows (a wider cell later pushes the rest of
// its row only, or is cut on a terminal), so memory stays bounded.
const tableBuffer = 4096

// NewOrderedTable prints t's rows to out in the order of the requests.
func NewOrderedTable(t *TablePrinter, out *bufio.Writer) *OrderedTable {
	return &OrderedTable{t: t, out: out}
}

// Add holds the row of the request read seq'th (audit.Request.Seq): call
// it while the request cannot change (its cells are copied).
func (o *OrderedTable) Add(r *audit.Request) {
	row := o.t.Row(r)
	for i, c := range row.Cells {
		row.Cells[i] = strings.Clone(c)
	}
	at, _ := slices.BinarySearchFunc(o.pending, r.Seq(), func(p seqRow, s uint64) int { return cmp.Compare(p.seq, s) })
	o.pending = slices.Insert(o.pending, at, seqRow{r.Seq(), row})
}

// Flush prints the rows of requests older than every open one
// (audit.Store.OldestOpen).
func (o *OrderedTable) Flush(oldestOpen uint64) {
	if len(o.pending) > maxPending {
		oldestOpen = max(oldestOpen, o.pending[len(o.pending)-maxPending/2].seq)
	}
	i := 0
	for i < len(o.pending) && o.pending[i].seq < oldestOpen {
		o.emit(o.pending[i].row)
		i++
	}
	if i > 0 {
		n := copy(o.pending, o.pending[i:])
		clear(o.pending[n:])
		o.pending = o.pending[:n]
	}
}

func (o *OrderedTable) emit(row TableRow) {
	if o.frozen {
		o.t.writeRow(o.out, o.t.fixedW, row.Cells, row.Color)
		return
	}
	o.buffered = append(o.buffered, row)
	if len(o.buffered) >= tableBuffer {
		o.t.freeze(o.buffered)
		o.t.WriteRows(o.out, o.buffered)
		o.buffered = nil
		o.frozen = true
	}
}

// Finish prints every row left, once the store has been finished.
func (o *OrderedTable) Finish() {
	o.Flush(^uint64(0))
	if !o.frozen {
		o.t.WriteRows(o.out, o.buffered)
	}
}

// TopText is --top's answer: counts per value, the largest first, total
// sizing the numbers' column; an empty value is "(none)", as the table
// shows it.
func TopText(counts map[string]int, total int) []string {
	type kv struct {
		k string
		n int
	}
	var rows []kv
	for k, n := range counts {
		rows = append(rows, kv{k, n})
	}
	slices.SortFunc(rows, func(a, b kv) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k, b.k)) })
	width := len(strconv.Itoa(max(1, total)))
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		v := r.k
		if v == "" {
			v = "(none)"
		}
		out = append(out, fmt.Sprintf("%*d  %s", width, r.n, Sanitize(v)))
	}
	return out
}
