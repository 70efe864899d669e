package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpView is the help overlay: every group of the keymap, in as many
// columns as fit, scrollable when the screen is short.
type helpView struct {
	env           *Env
	width, height int
	top           int
	lines         []string
}

// newHelpView returns the help overlay.
func newHelpView(env *Env) *helpView { return &helpView{env: env} }

// SetSize lays the groups out for the area.
func (h *helpView) SetSize(width, height int) {
	h.width, h.height = width, height
	h.lines = h.layout()
	h.top = max(0, min(h.top, len(h.lines)-height))
}

// Update scrolls.
func (h *helpView) Update(msg tea.Msg) {
	k := h.env.Keys
	if m, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(m, k.Down):
			h.top++
		case key.Matches(m, k.Up):
			h.top--
		case key.Matches(m, k.PageDown):
			h.top += h.height
		case key.Matches(m, k.PageUp):
			h.top -= h.height
		case key.Matches(m, k.Top):
			h.top = 0
		case key.Matches(m, k.Bottom):
			h.top = len(h.lines)
		}
	}
	h.top = max(0, min(h.top, len(h.lines)-h.height))
}

func (h *helpView) layout() []string {
	st := h.env.Styles
	type block struct{ lines []string }
	var blocks []block
	keyW := 0
	for _, g := range h.env.Keys.Groups() {
		for _, b := range g.Bindings {
			keyW = max(keyW, ansi.StringWidth(b.Help().Key))
		}
	}
	keyW = min(keyW, 14)
	for _, g := range h.env.Keys.Groups() {
		bl := block{lines: []string{st.HelpTitle.Render(g.Title)}}
		for _, b := range g.Bindings {
			if !b.Enabled() || b.Help().Key == "" {
				continue
			}
			hk := b.Help()
			bl.lines = append(bl.lines, st.HelpKey.Render(padRight(hk.Key, keyW))+"  "+st.HelpDesc.Render(hk.Desc))
		}
		bl.lines = append(bl.lines, "")
		blocks = append(blocks, bl)
	}
	colW := 40
	ncol := max(1, min(len(blocks), h.width/colW))
	if ncol == 1 {
		colW = h.width
	}
	// Fill columns in order with the smallest height that fits every
	// group into ncol columns.
	total := 0
	for _, b := range blocks {
		total += len(b.lines)
	}
	var cols [][]string
	for share := (total + ncol - 1) / ncol; ; share++ {
		cols = [][]string{nil}
		for _, b := range blocks {
			c := len(cols) - 1
			if len(cols[c]) > 0 && len(cols[c])+len(b.lines)-1 > share {
				cols = append(cols, nil)
				c++
			}
			cols[c] = append(cols[c], b.lines...)
		}
		if len(cols) <= ncol {
			break
		}
	}
	ncol = len(cols)
	rows := 0
	for _, col := range cols {
		rows = max(rows, len(col))
	}
	title := st.Title.Render("kauditui keys") + st.Muted.Render("  (? or esc closes this help; the filter language is in the README)")
	out := []string{fitLine(" "+title, h.width), ""}
	for r := 0; r < rows; r++ {
		var b strings.Builder
		b.WriteString(" ")
		for i, col := range cols {
			cell := ""
			if r < len(col) {
				cell = col[r]
			}
			w := colW
			if i == ncol-1 {
				w = h.width - 1 - colW*(ncol-1)
			}
			if ansi.StringWidth(cell) > w-1 {
				cell = ansi.Truncate(cell, max(0, w-1), "…")
			}
			b.WriteString(fitLine(cell, max(0, w)))
		}
		out = append(out, fitLine(b.String(), h.width))
	}
	return out
}

// View draws the visible part of the help.
func (h *helpView) View() string {
	out := make([]string, h.height)
	blank := strings.Repeat(" ", h.width)
	for i := range out {
		if j := h.top + i; j < len(h.lines) {
			out[i] = h.lines[j]
		} else {
			out[i] = blank
		}
	}
	return strings.Join(out, "\n")
}

// renderShortHelp is the footer line: "key desc • key desc", cut to width.
func renderShortHelp(st *styles, items []keyHelp, width int) string {
	var b strings.Builder
	b.WriteString(" ")
	used := 1
	for i, it := range items {
		part := st.HelpKey.Render(it.Key) + " " + st.HelpDesc.Render(it.Desc)
		w := ansi.StringWidth(it.Key) + 1 + ansi.StringWidth(it.Desc)
		sep := ""
		if i > 0 {
			sep = st.HelpSep.Render(" • ")
			w += 3
		}
		if used+w > width {
			break
		}
		b.WriteString(sep + part)
		used += w
	}
	return fitLine(b.String(), width)
}
