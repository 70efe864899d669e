package ui

import (
	"charm.land/lipgloss/v2"

	"github.com/kauditui/kauditui/render"
)

// sanitize escapes what a log string could do to a terminal (render.Sanitize).
func sanitize(s string) string { return render.Sanitize(s) }

// cellStyle is how a render.Kind is drawn.
func (s *styles) cellStyle(k render.Kind, verb string, code int) lipgloss.Style {
	switch k {
	case render.Muted:
		return s.Muted
	case render.Time:
		return s.Time
	case render.Verb:
		return s.Verb(verb)
	case render.Code:
		return s.Code(code)
	case render.Forbidden:
		return s.Forbid
	case render.Latency:
		return s.Latency
	case render.Slow:
		return s.SlowLatency
	case render.Impersonated:
		return s.Impersonated
	case render.Destructive:
		return s.RowDelete
	}
	return s.Cell
}

// requestCells draws a request's cells the way render lays them out.
func (s *styles) requestCells(cells []render.Cell, verb string, code int, dst []Cell) {
	for i, c := range cells {
		dst[i] = Cell{Prefix: c.Prefix, Text: c.Text, Style: s.cellStyle(c.Kind, verb, code), Middle: c.Middle, Short: c.Short}
		if c.Suffix != "" {
			dst[i].Suffix, dst[i].SuffixStyle = c.Suffix, s.cellStyle(c.SuffixKind, verb, code)
		}
	}
}
