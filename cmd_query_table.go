package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/ui"
)

// sanitize escapes control characters in log text before it is printed.
var sanitize = ui.Sanitize

// tablePrinter writes requests as aligned columns: sized to the content, and
// to the terminal's width when the output is a terminal.
type tablePrinter struct {
	wide       bool
	color      bool
	width      int  // 0: no limit (not a terminal)
	fixed      bool // follow mode: columns cannot be sized to content seen later
	headerDone bool
}

func newTablePrinter(io *IO, wide, color bool) *tablePrinter {
	w := 0
	if io.OutTTY {
		w = io.Width
	}
	return &tablePrinter{wide: wide, color: color, width: w}
}

type column struct {
	title string
	min   int  // a shrinkable column is never made narrower than this
	grow  bool // takes what is left / gives up room first
}

func (t *tablePrinter) columns() []column {
	cols := []column{
		{title: "TIME", min: 19},
		{title: "USER", min: 12, grow: true},
		{title: "VERB", min: 6},
		{title: "RESOURCE", min: 10, grow: true},
		{title: "NAMESPACE/NAME", min: 14, grow: true},
		{title: "CODE", min: 4},
		{title: "LATENCY", min: 7},
	}
	if t.wide {
		cols = append(cols,
			column{title: "SOURCE-IP", min: 9},
			column{title: "AGENT", min: 10, grow: true},
			column{title: "AUDIT-ID", min: 36})
	}
	return cols
}

func (t *tablePrinter) cells(r *audit.Request) []string {
	target := r.Name
	if r.Namespace != "" && r.Name != "" {
		target = r.Namespace + "/" + r.Name
	} else if r.Namespace != "" {
		target = r.Namespace
	}
	res := r.ResourcePath()
	if res == "" {
		res = r.RequestURI
	}
	code := ""
	if r.Code != 0 {
		code = strconv.Itoa(r.Code)
	}
	c := []string{
		r.First.UTC().Format("2006-01-02 15:04:05"),
		sanitize(r.Actor()),
		sanitize(r.Verb),
		sanitize(res),
		sanitize(target),
		code,
		formatLatency(r.Latency()),
	}
	if t.wide {
		c = append(c, sanitize(r.SourceIP()), sanitize(r.UserAgent), sanitize(r.AuditID))
	}
	return c
}

func formatLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Millisecond:
		return strconv.Itoa(int(d.Microseconds())) + "µs"
	case d < time.Second:
		return strconv.Itoa(int(d.Milliseconds())) + "ms"
	default:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	}
}

// widths sizes each column to its widest cell, then shrinks the growable
// columns, widest first, until the row fits the terminal.
func (t *tablePrinter) widths(cols []column, rows [][]string) []int {
	w := make([]int, len(cols))
	for i, c := range cols {
		w[i] = len(c.title)
		if t.fixed {
			w[i] = max(c.min, len(c.title))
			if c.grow {
				w[i] = max(w[i], 24)
			}
		}
	}
	for _, row := range rows {
		for i, cell := range row {
			w[i] = max(w[i], utf8.RuneCountInString(cell))
		}
	}
	if t.width <= 0 {
		return w
	}
	total := func() int {
		s := 2 * (len(w) - 1)
		for _, x := range w {
			s += x
		}
		return s
	}
	for total() > t.width {
		widest := -1
		for i, c := range cols {
			if c.grow && w[i] > c.min && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break // nothing left to shrink: let the terminal wrap
		}
		w[widest]--
	}
	return w
}

func (t *tablePrinter) print(out *bufio.Writer, reqs []*audit.Request) {
	cols := t.columns()
	rows := make([][]string, len(reqs))
	for i, r := range reqs {
		rows[i] = t.cells(r)
	}
	w := t.widths(cols, rows)
	if !t.fixed || !t.headerDone {
		titles := make([]string, len(cols))
		for i, c := range cols {
			titles[i] = c.title
		}
		t.writeRow(out, w, titles, "")
		t.headerDone = true
	}
	for i, row := range rows {
		t.writeRow(out, w, row, t.rowColor(reqs[i]))
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

func (t *tablePrinter) writeRow(out *bufio.Writer, w []int, cells []string, color string) {
	var b strings.Builder
	for i, cell := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		cell = truncate(cell, w[i])
		b.WriteString(cell)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", w[i]-utf8.RuneCountInString(cell)))
		}
	}
	line := strings.TrimRight(b.String(), " ")
	if color != "" {
		line = color + line + "\x1b[0m"
	}
	fmt.Fprintln(out, line)
}

// truncate cuts s to n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return string([]rune(s)[:n])
	}
	return string([]rune(s)[:n-1]) + "…"
}
