package ui

import (
	"fmt"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// klogPage is the apiserver's own log: the klog lines demixed from the audit
// lines, severity coloured, with a text filter of its own, following the tail.
// A toggle shows the "other" lines (neither audit nor klog) with where they
// came from and why they were set aside.
type klogPage struct {
	env *Env

	klog  []audit.KlogLine
	other []audit.OtherLine

	query   string          // applied text filter ("" = every line)
	saved   string          // the filter when editing began (esc restores it)
	input   textinput.Model // the filter while it is edited
	editing bool
	find    pageSearch // f n N: find a line (pages_take.go)

	minSev    byte // 0 = all, 'W' = warnings and worse, 'E' = errors and worse
	showOther bool
	wrap      bool // long lines continue on the next rows instead of ending in …

	// matched holds the indexes of the lines passing query and minSev;
	// scanned is how many lines of klog (or other) were checked, so new
	// lines are checked once each.
	matched []int
	rows    []klogRow // what is drawn: a row per line of each matched message
	scanned int

	inputName func(int32) string // names of the inputs, by Ref.Input

	top    int  // first row drawn
	cur    int  // the cursor: the row of the selected line (enter opens its request, y copies it)
	follow bool // keep the newest line in view, the cursor on it
	width  int
	height int
}

// newKlogPage builds the Apiserver-log page.
func newKlogPage(env *Env) page {
	in := pageInput(env)
	in.Prompt = "log filter: "
	in.Placeholder = "text to find (case-insensitive unless it has capitals)"
	in.CharLimit = 512
	return &klogPage{env: env, input: in, follow: true, find: newPageSearch(env, "find: ")}
}

func (p *klogPage) Init() tea.Cmd { return nil }

func (p *klogPage) Title() string { return "Apiserver log" }

func (p *klogPage) SetSize(width, height int) {
	resized := width != p.width
	p.width, p.height = width, height
	p.input.SetWidth(max(10, width-len(p.input.Prompt)-1))
	if resized && p.wrap {
		p.relayout()
	}
	p.clampTop()
}

// relayout rebuilds the rows (wrapping changed, or the width while
// wrapping), keeping the top line in view.
func (p *klogPage) relayout() {
	topLine, curLine := -1, -1
	if p.top < len(p.rows) {
		topLine = p.rows[p.top].line
	}
	if p.cur < len(p.rows) {
		curLine = p.rows[p.cur].line
	}
	follow := p.follow
	p.rescan()
	p.follow = follow
	for i, r := range p.rows {
		if r.line >= topLine {
			p.top = i
			break
		}
	}
	for i, r := range p.rows {
		if r.line >= curLine {
			p.cur = i
			break
		}
	}
	p.clampTop()
}

// pageInput is a text input styled like the filter bar: a steady cursor
// (no blink timer), plain under NO_COLOR.
func pageInput(env *Env) textinput.Model {
	in := textinput.New()
	s := textinput.DefaultDarkStyles()
	if env.Styles != nil && env.Styles.NoColor {
		s = textinput.Styles{}
	}
	s.Cursor.Blink = false
	in.SetStyles(s)
	return in
}

// keyOwner is implemented by a page that handles one of the global keys
// itself while it is in front: on the apiserver-log page "/" edits the
// page's own text filter, not the request filter.
type keyOwner interface {
	OwnsKey(msg tea.KeyPressMsg) bool
}

// OwnsKey claims "/" (the log's own text filter).
func (p *klogPage) OwnsKey(msg tea.KeyPressMsg) bool {
	return key.Matches(msg, p.env.Keys.KlogSearch)
}

// CapturesInput is true while the text filter is being edited.
func (p *klogPage) CapturesInput() bool { return p.editing || p.find.editing }

func (p *klogPage) ShortHelp() []keyHelp {
	k := p.env.Keys
	if p.editing || p.find.editing {
		return shortHelp(k.FilterApply, k.FilterCancel)
	}
	return shortHelp(k.KlogOpen, k.Copy, k.KlogSearch, k.KlogOther, k.KlogSeverity, k.KlogWrap, k.Follow, k.Pause, k.KlogFind)
}

func (p *klogPage) Update(msg tea.Msg) (component, tea.Cmd) {
	k := p.env.Keys
	switch msg := msg.(type) {
	case DataMsg:
		p.klog, p.other = msg.Snap.Klog, msg.Snap.Other
		p.scan()
		return p, nil
	case tea.KeyPressMsg:
		if p.editing {
			return p, p.updateInput(msg)
		}
		if cmd, ok := p.findKey(msg); ok {
			return p, cmd
		}
		switch {
		case key.Matches(msg, k.KlogSearch):
			p.editing = true
			p.saved = p.query
			p.input.SetValue(p.query)
			p.input.CursorEnd()
			return p, p.input.Focus()
		case key.Matches(msg, k.KlogOther):
			p.showOther = !p.showOther
			p.rescan()
		case key.Matches(msg, k.KlogWrap):
			p.wrap = !p.wrap
			p.relayout()
		case key.Matches(msg, k.KlogSeverity):
			switch p.minSev {
			case 0:
				p.minSev = 'W'
			case 'W':
				p.minSev = 'E'
			default:
				p.minSev = 0
			}
			p.rescan()
		case key.Matches(msg, k.KlogOpen):
			return p, p.openLine()
		case key.Matches(msg, k.Down):
			p.moveLine(1)
		case key.Matches(msg, k.Up):
			p.moveLine(-1)
		case key.Matches(msg, k.PageDown):
			p.move(p.visibleRows(), true)
		case key.Matches(msg, k.PageUp):
			p.move(-p.visibleRows(), true)
		case key.Matches(msg, k.HalfDown):
			p.move(p.visibleRows()/2, true)
		case key.Matches(msg, k.HalfUp):
			p.move(-p.visibleRows()/2, true)
		case key.Matches(msg, k.Top):
			p.top, p.cur, p.follow = 0, 0, false
			p.clampTop()
		case key.Matches(msg, k.Bottom), key.Matches(msg, k.Follow):
			p.follow = true
			p.clampTop()
		case key.Matches(msg, k.Pause):
			p.follow = !p.follow // paused: the lines in view and the cursor stay
			p.clampTop()
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelDown:
			p.move(3, true)
		case tea.MouseWheelUp:
			p.move(-3, true)
		}
	}
	return p, nil
}

// updateInput edits the text filter: applied as typed, enter keeps it, esc
// restores the one before.
func (p *klogPage) updateInput(msg tea.KeyPressMsg) tea.Cmd {
	k := p.env.Keys
	switch {
	case key.Matches(msg, k.FilterApply):
		p.editing = false
		p.input.Blur()
		return nil
	case key.Matches(msg, k.FilterCancel):
		p.editing = false
		p.input.Blur()
		p.setQuery(p.saved)
		return nil
	case key.Matches(msg, k.FilterClear):
		p.input.SetValue("")
		p.setQuery("")
		return nil
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(msg)
	p.setQuery(p.input.Value())
	return cmd
}

func (p *klogPage) setQuery(q string) {
	if q == p.query {
		return
	}
	p.query = q
	p.rescan()
}

// rescan recomputes the matches from the first line (filter or mode changed).
func (p *klogPage) rescan() {
	p.matched, p.rows = p.matched[:0], p.rows[:0]
	p.scanned = 0
	p.scan()
	p.follow = true
}

// scan checks the lines not checked yet against the filter.
func (p *klogPage) scan() {
	n := len(p.klog)
	if p.showOther {
		n = len(p.other)
	}
	if n < p.scanned { // a new store (reload): start again
		p.matched, p.rows, p.scanned = p.matched[:0], p.rows[:0], 0
	}
	m := newTextMatcher(p.query)
	for i := p.scanned; i < n; i++ {
		if p.showOther {
			if m.match(p.other[i].Why) {
				p.matched = append(p.matched, i)
				p.rows = append(p.rows, klogRow{line: i})
			}
			continue
		}
		l := &p.klog[i]
		if p.minSev != 0 && sevRank(l.Severity) < sevRank(p.minSev) {
			continue
		}
		if m.match(l.Msg) || m.match(l.File) {
			p.matched = append(p.matched, i)
			p.rows = p.appendRows(p.rows, i, l)
		}
	}
	p.scanned = n
	p.clampTop()
}

// sevRank orders klog severities: I < W < E < F.
func sevRank(s byte) int {
	return strings.IndexByte("IWEF", s)
}

// textMatcher is a smart-case substring search: case-insensitive unless the
// query has a capital letter.
type textMatcher struct {
	q    string
	fold bool
}

func newTextMatcher(q string) textMatcher {
	return textMatcher{q: q, fold: strings.ToLower(q) == q}
}

func (m textMatcher) match(s string) bool {
	if m.q == "" {
		return true
	}
	if !m.fold {
		return strings.Contains(s, m.q)
	}
	return containsFold(s, m.q)
}

// containsFold reports whether s contains q, ignoring case. It jumps from
// one occurrence of q's first byte (either case) to the next with
// IndexByte and compares only there: typing in the filter rescans every
// line.
func containsFold(s, q string) bool {
	c := q[0]
	if c >= 0x80 {
		for i := 0; i+len(q) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(q)], q) {
				return true
			}
		}
		return false
	}
	lo, up := c, c
	switch {
	case 'a' <= c && c <= 'z':
		up = c - 'a' + 'A'
	case 'A' <= c && c <= 'Z':
		lo = c - 'A' + 'a'
	}
	for i := 0; i+len(q) <= len(s); i++ {
		j := strings.IndexByte(s[i:], lo)
		if up != lo {
			if k := strings.IndexByte(s[i:], up); k >= 0 && (j < 0 || k < j) {
				j = k
			}
		}
		if j < 0 {
			return false
		}
		i += j
		if i+len(q) > len(s) {
			return false
		}
		if strings.EqualFold(s[i:i+len(q)], q) {
			return true
		}
	}
	return false
}

// rows is how many log lines fit under the header (and the input line).
func (p *klogPage) visibleRows() int {
	r := p.height - 1
	if p.editing || p.query != "" || p.find.editing {
		r--
	}
	return max(1, r)
}

// move moves the cursor d rows (and, for a page or the wheel, the view
// with it). The cursor on the last row follows again, as less +F does;
// anywhere else it stays on its line while new lines come.
func (p *klogPage) move(d int, view bool) {
	if len(p.rows) == 0 {
		return
	}
	p.cur = clampInt(p.cur+d, 0, len(p.rows)-1)
	if view {
		p.top += d
	}
	p.follow = p.rows[p.cur].line == p.rows[len(p.rows)-1].line
	p.clampTop()
}

// moveLine moves the cursor to the next (1) or previous (-1) line: a line
// may take several rows (a message of several lines, wrapping).
func (p *klogPage) moveLine(dir int) {
	if len(p.rows) == 0 {
		return
	}
	p.cur = clampInt(p.cur, 0, len(p.rows)-1)
	line, to := p.rows[p.cur].line, p.cur
	for to+dir >= 0 && to+dir < len(p.rows) && p.rows[to+dir].line == line {
		to += dir
	}
	to += dir
	if dir < 0 { // on the first row of the line above
		for to > 0 && p.rows[to-1].line == p.rows[max(0, to)].line {
			to--
		}
	}
	p.move(to-p.cur, false)
}

// clampTop keeps the cursor on a row and in view: on the last row while
// following.
func (p *klogPage) clampTop() {
	rows := p.visibleRows()
	last := max(0, len(p.rows)-rows)
	if p.follow {
		p.top = last
		p.cur = max(0, len(p.rows)-1)
	}
	p.cur = clampInt(p.cur, 0, max(0, len(p.rows)-1))
	if p.cur < p.top {
		p.top = p.cur
	}
	if p.cur >= p.top+rows {
		p.top = p.cur - rows + 1
	}
	p.top = clampInt(p.top, 0, last)
}

func (p *klogPage) View() string {
	st := p.env.Styles
	w := max(p.width, 20)
	var b strings.Builder
	b.WriteString(p.header(w))
	b.WriteString("\n")
	if p.find.editing {
		b.WriteString(p.find.View())
		b.WriteString("\n")
	} else if p.editing {
		b.WriteString(p.input.View())
		b.WriteString("\n")
	} else if p.query != "" {
		b.WriteString(st.FilterPrompt.Render("log filter: "))
		b.WriteString(st.FilterText.Render(truncateCells(sanitize(p.query), w-12)))
		b.WriteString(st.Muted.Render("  (/ to edit)"))
		b.WriteString("\n")
	}
	rows := p.visibleRows()
	if len(p.matched) == 0 {
		switch {
		case p.showOther && len(p.other) == 0:
			b.WriteString(st.Empty.Render("every line was an audit event or a klog line"))
		case p.showOther:
			b.WriteString(st.Empty.Render("no other line matches the filter"))
		case len(p.klog) == 0:
			b.WriteString(st.Empty.Render("no apiserver log lines: they appear when the input is the apiserver's output (stdout mode, pod logs)"))
		default:
			b.WriteString(st.Empty.Render("no log line matches the filter"))
		}
		return summaryFit(b.String(), p.height)
	}
	end := min(len(p.rows), p.top+rows)
	curLine := -1
	if p.cur < len(p.rows) {
		curLine = p.rows[p.cur].line
	}
	for _, r := range p.rows[p.top:end] {
		var row string
		switch {
		case p.showOther:
			row = p.otherLine(&p.other[r.line], w)
		case r.part == 0 && r.seg == 0:
			row = p.klogLine(&p.klog[r.line], r)
		default:
			row = p.klogContinuation(&p.klog[r.line], r)
		}
		if r.line == curLine { // the selected line, every row of it
			row = st.Selected.Render(ansi.Strip(row))
		}
		b.WriteString(row)
		b.WriteString("\n")
	}
	return summaryFit(b.String(), p.height)
}

// header counts the lines and says what is shown.
func (p *klogPage) header(w int) string {
	st := p.env.Styles
	var parts []string
	if p.showOther {
		parts = append(parts, st.Title.Render("Other lines"),
			thousands(len(p.matched))+" of "+thousands(len(p.other)),
			st.Muted.Render("klog "+thousands(len(p.klog))),
			st.Muted.Render("o: back to the log"))
	} else {
		parts = append(parts, st.Title.Render("Apiserver log"),
			thousands(len(p.matched))+" of "+thousands(len(p.klog))+" lines")
		switch p.minSev {
		case 'W':
			parts = append(parts, st.SevWarn.Render("warnings and errors"))
		case 'E':
			parts = append(parts, st.SevError.Render("errors only"))
		}
		other := "other " + thousands(len(p.other))
		if len(p.other) > 0 {
			other = st.Warning.Render(other) + st.Muted.Render(" (o: show)")
		} else {
			other = st.Muted.Render(other)
		}
		parts = append(parts, other)
	}
	// "following" only while the sources are followed (not a snapshot,
	// nor a source that ended) and the newest line is kept in view
	live := p.env.Following != nil && p.env.Following()
	at := p.cur + 1 // the line of the log under the cursor (a message may take rows)
	if p.cur < len(p.rows) {
		at = p.rows[p.cur].line + 1
	}
	switch {
	case live && p.follow:
		parts = append(parts, st.PageFollow.Render("following"))
	case live:
		parts = append(parts, st.Muted.Render(fmt.Sprintf("paused (p)  line %d", at)))
	case len(p.matched) > 0:
		parts = append(parts, st.Muted.Render(fmt.Sprintf("line %d", at)))
	}
	return ansi.Truncate(strings.Join(parts, "  "), w, "…")
}

// klogRow is one drawn row: a line (klog or other), which line of its
// message (part) and, when wrapping, which piece of that line (seg).
type klogRow struct {
	line, part, seg int
}

// klogIndent puts continuation rows under the file:line column.
const klogIndent = "                     "

// appendRows adds the rows of klog line i: one per line of its message (klog
// may write a message over several lines; the reader folds them into Msg),
// and with wrapping one per width of text.
func (p *klogPage) appendRows(rows []klogRow, i int, l *audit.KlogLine) []klogRow {
	parts := strings.Count(l.Msg, "\n") + 1
	for part := range parts {
		segs := 1
		if p.wrap {
			first, rest := p.segRoom(l, part)
			if n := lipgloss.Width(klogPart(l, part)) - first; n > 0 {
				segs += (n + rest - 1) / rest
			}
		}
		for seg := range segs {
			rows = append(rows, klogRow{line: i, part: part, seg: seg})
		}
	}
	return rows
}

// segRoom is the room for text in the first row of a message line and in
// the rows it wraps onto.
func (p *klogPage) segRoom(l *audit.KlogLine, part int) (first, rest int) {
	w := max(p.width, 20)
	rest = max(8, w-len(klogIndent))
	if part == 0 {
		return max(8, w-klogPrefixWidth(l)), rest
	}
	return rest, rest
}

// klogPrefixWidth is the width of "E 01-02 15:04:05.000Z file.go:12] ".
func klogPrefixWidth(l *audit.KlogLine) int {
	return 1 + 1 + render.TimeWidth(render.TimeMedium) + 1 + lipgloss.Width(sanitize(l.File)) + 1 + 1
}

// klogPart is line part of a message, sanitised.
func klogPart(l *audit.KlogLine, part int) string {
	text := l.Msg
	for range part {
		_, text, _ = strings.Cut(text, "\n")
	}
	text, _, _ = strings.Cut(text, "\n")
	return sanitize(render.RedactText(text))
}

// klogSegment is the text of one row: the row's piece of its message line,
// cut to the width when wrapping, else the line shortened with "…".
func (p *klogPage) klogSegment(l *audit.KlogLine, r klogRow) string {
	text := klogPart(l, r.part)
	first, rest := p.segRoom(l, r.part)
	if !p.wrap {
		return truncateCells(text, first)
	}
	if r.seg == 0 {
		return ansi.Cut(text, 0, first)
	}
	from := first + (r.seg-1)*rest
	return ansi.Cut(text, from, from+rest)
}

// klogContinuation draws a row after a message's first: a further line of
// the message, or a wrapped piece, indented under the first.
func (p *klogPage) klogContinuation(l *audit.KlogLine, r klogRow) string {
	return klogIndent + p.env.Styles.Severity(l.Severity).Render(p.klogSegment(l, r))
}

// klogLine draws one klog line: severity letter, date and time, file:line,
// the message's first line. The message comes from the log and is
// sanitised.
func (p *klogPage) klogLine(l *audit.KlogLine, r klogRow) string {
	st := p.env.Styles
	sev := st.Severity(l.Severity)
	head := string(rune(l.Severity))
	if l.Severity == 0 {
		head = "?"
	}
	ts := render.FormatTime(l.Time, render.TimeMedium)
	if l.Time.IsZero() {
		ts = strings.Repeat(" ", render.TimeWidth(render.TimeMedium))
	}
	file := sanitize(l.File) + "]"
	msg := p.klogSegment(l, r) // further lines and pieces get rows of their own
	msgStyle := sev
	if l.Severity == 'F' {
		msgStyle = st.SevError // the letter stands out; a whole reverse-video message would not read
	}
	return sev.Render(head) + " " + st.Time.Render(ts) + " " + st.Muted.Render(file) + " " + msgStyle.Render(msg)
}

// otherLine draws one set-aside line: where it is and why it is not audit or
// klog, then the start of its text.
func (p *klogPage) otherLine(l *audit.OtherLine, w int) string {
	st := p.env.Styles
	where := fmt.Sprintf("%s:%d", p.nameOf(l.Input), l.Line)
	text := ""
	if p.env.Data.Raw != nil {
		if raw, err := p.env.Data.Raw(l.Ref); err == nil {
			text = sanitize(render.RedactText(string(raw[:min(len(raw), 4*w)])))
		}
	}
	head := st.Muted.Render(where) + "  " + st.Warning.Render(sanitize(l.Why))
	room := w - len(where) - 2 - lipgloss.Width(sanitize(l.Why)) - 2
	if room > 3 && text != "" {
		head += "  " + truncateCells(text, room)
	}
	return head
}

// SetInputName gives the names of the inputs (files, "-", pods) by their
// index in the source set, so other lines can say where they are.
func (p *klogPage) SetInputName(name func(int32) string) { p.inputName = name }

// nameOf names an input of the source set for the other-lines view.
func (p *klogPage) nameOf(i int32) string {
	if p.inputName != nil {
		if n := p.inputName(i); n != "" {
			return sanitize(filepath.Base(n))
		}
	}
	return fmt.Sprintf("input %d", i+1)
}
