package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// detailPage shows one request: a summary of its fields, its stage events
// with timing, and one stage event as foldable, coloured JSON. It is one
// scrollable document with a cursor line (the fold keys act on it).
type detailPage struct {
	env    *Env
	search pageSearch // / n N (search.go)

	req    *audit.Request
	nev    int      // len(req.Events) when the page was built
	raws   [][]byte // the raw event lines, nil where unreadable
	errs   []error
	evIdx  int // the event shown as JSON
	json   *jsonView
	header []string   // rendered for the current width
	says   detailSays // the apiserver's log and latency about it (detail_says.go)

	cursor, top   int
	width, height int
}

// newDetailPage returns an empty detail page (no request yet).
func newDetailPage(env *Env) *detailPage {
	return &detailPage{env: env, search: newPageSearch(env, "search: ")}
}

// Title implements Page.
func (p *detailPage) Title() string { return "Detail" }

// Init implements Component.
func (p *detailPage) Init() tea.Cmd { return nil }

// Request is the request shown, or nil.
func (p *detailPage) Request() *audit.Request { return p.req }

// SetSize implements Component.
func (p *detailPage) SetSize(width, height int) {
	p.width, p.height = width, height
	if p.req != nil {
		p.env.Data.Store.Read(func(audit.Snapshot) { p.buildHeader() })
	}
	p.clamp()
}

// shortHelp implements Page.
func (p *detailPage) ShortHelp() []keyHelp {
	k := p.env.Keys
	if p.search.editing {
		return shortHelp(k.FilterApply, k.FilterCancel)
	}
	return shortHelp(k.Down, k.Up, k.FoldToggle, k.ExpandAll, k.PrevEvent, k.NextEvent, k.Search, k.Copy, k.Write, k.Back, k.Help)
}

// Open shows r, its last stage event (the most complete one) in JSON.
func (p *detailPage) Open(r *audit.Request) {
	p.req = r
	p.load(true)
	// The cursor starts on the JSON (where the fold keys act), the view at
	// the top so the summary shows.
	p.cursor, p.top = len(p.header), 0
	p.clamp()
}

// load reads the raw events again (the request may have gained stages).
func (p *detailPage) load(reset bool) {
	r := p.req
	var refs []audit.EventRef
	p.env.Data.Store.Read(func(audit.Snapshot) {
		refs = append(refs, r.Events...)
	})
	p.nev = len(refs)
	p.raws = make([][]byte, len(refs))
	p.errs = make([]error, len(refs))
	for i, ev := range refs {
		if p.env.Data.Raw == nil {
			p.errs[i] = fmt.Errorf("the raw event lines are not available")
			continue
		}
		p.raws[i], p.errs[i] = p.env.Data.Raw(ev.Ref)
	}
	if reset || p.evIdx >= len(refs) {
		p.evIdx = len(refs) - 1
	}
	p.showEvent()
	p.env.Data.Store.Read(func(audit.Snapshot) { p.buildHeader() })
}

func (p *detailPage) showEvent() {
	p.json = nil
	if p.evIdx < 0 || p.evIdx >= len(p.raws) {
		return
	}
	if p.errs[p.evIdx] != nil {
		msg := "cannot read this event again: " + p.errs[p.evIdx].Error()
		p.json = newJSONView([]byte(msg), p.env.Styles)
		return
	}
	p.json = newJSONView(render.RedactEvent(p.raws[p.evIdx]), p.env.Styles, defaultFoldKeys...)
}

// Update implements Component.
func (p *detailPage) Update(msg tea.Msg) (component, tea.Cmd) {
	switch msg := msg.(type) {
	case DataMsg:
		more := p.says.data(msg.Snap, p.req)
		if p.req != nil {
			n := 0
			p.env.Data.Store.Read(func(audit.Snapshot) { n = len(p.req.Events) })
			if n != p.nev {
				p.load(false)
			} else if more {
				p.env.Data.Store.Read(func(audit.Snapshot) { p.buildHeader() })
			}
		}
	case tea.KeyPressMsg:
		return p, p.key(msg)
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			p.scroll(-3)
		case tea.MouseWheelDown:
			p.scroll(3)
		}
	}
	return p, nil
}

func (p *detailPage) key(msg tea.KeyPressMsg) tea.Cmd {
	if p.req == nil {
		return nil
	}
	k := p.env.Keys
	h := max(1, p.height)
	if p.search.editing {
		applied, _, cmd := p.search.edit(msg, k)
		if applied {
			return p.findNext(p.cursor-1, 1)
		}
		return cmd
	}
	switch {
	case key.Matches(msg, k.Search):
		return p.search.open(p.width)
	case key.Matches(msg, k.SearchNext):
		return p.findNext(p.cursor, 1)
	case key.Matches(msg, k.SearchPrev):
		return p.findNext(p.cursor, -1)
	case key.Matches(msg, k.FoldToggle, k.Open):
		if i := p.cursor - len(p.header); p.json != nil && i >= 0 {
			p.cursor = len(p.header) + p.json.Toggle(i)
		}
	case key.Matches(msg, k.ExpandAll):
		if p.json != nil {
			p.json.ToggleAll()
		}
	case key.Matches(msg, k.NextEvent):
		if p.evIdx < len(p.raws)-1 {
			p.evIdx++
			p.afterEventChange()
		}
	case key.Matches(msg, k.PrevEvent):
		if p.evIdx > 0 {
			p.evIdx--
			p.afterEventChange()
		}
	case key.Matches(msg, k.AnswersHistory):
		if r := p.req; r != nil {
			return func() tea.Msg { return openHistoryMsg{Req: r} }
		}
	case key.Matches(msg, k.AnswersRBAC):
		if r := p.req; r != nil {
			return func() tea.Msg { return openRBACMsg{Req: r} }
		}
	case key.Matches(msg, k.Write):
		return func() tea.Msg { return openExportMsg{} } // the export prompt, as ctrl+s
	case key.Matches(msg, k.Secrets):
		// one setting for every view (render.RedactArgs, RedactURI)
		render.SetShowSecrets(!render.ShowSecrets())
		p.showEvent()
		p.env.Data.Store.Read(func(audit.Snapshot) { p.buildHeader() })
		p.clamp()
		if render.ShowSecrets() {
			return statusCmd("secrets in commands and URIs shown as logged (U redacts them again)", false)
		}
		return statusCmd("secrets in commands and URIs redacted (U shows them)", false)
	case key.Matches(msg, k.Up):
		p.cursor--
	case key.Matches(msg, k.Down):
		p.cursor++
	case key.Matches(msg, k.PageUp):
		p.cursor -= h
		p.top -= h
	case key.Matches(msg, k.PageDown):
		p.cursor += h
		p.top += h
	case key.Matches(msg, k.HalfUp):
		p.cursor -= h / 2
		p.top -= h / 2
	case key.Matches(msg, k.HalfDown):
		p.cursor += h / 2
		p.top += h / 2
	case key.Matches(msg, k.Top):
		p.cursor = 0
	case key.Matches(msg, k.Bottom):
		p.cursor = p.lines() - 1
	}
	p.clamp()
	return nil
}

func (p *detailPage) afterEventChange() {
	p.showEvent()
	p.env.Data.Store.Read(func(audit.Snapshot) { p.buildHeader() })
	p.cursor = len(p.header)
	p.clamp()
}

func (p *detailPage) scroll(delta int) {
	p.top += delta
	p.cursor += delta
	p.clamp()
}

func (p *detailPage) lines() int {
	n := len(p.header)
	if p.json != nil {
		n += p.json.Len()
	}
	return n
}

func (p *detailPage) clamp() {
	n, h := p.lines(), max(1, p.height)
	p.cursor = max(0, min(p.cursor, n-1))
	p.top = max(0, min(p.top, n-h))
	if p.cursor < p.top {
		p.top = p.cursor
	}
	if p.cursor >= p.top+h {
		p.top = p.cursor - h + 1
	}
}

// safeFileName keeps an auditID usable as a file name: the ID comes from the
// Audit-ID request header, which any client may set.
func safeFileName(id string) string {
	var b strings.Builder
	for _, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	if b.Len() == 0 || strings.Trim(b.String(), ".") == "" {
		return "request"
	}
	return b.String()
}

func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".kauditui-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // audit events may hold secrets
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// buildHeader renders the summary lines above the JSON for the current
// width. Call it under Store.Read.
func (p *detailPage) buildHeader() {
	st := p.env.Styles
	r := p.req
	w := max(20, p.width-2) // the gutter takes 2
	var lines []string
	// The label column: the longest label ("As groups") and a space.
	const labelW = len("As groups") + 1
	field := func(label string, parts ...string) {
		var vals []string
		for _, s := range parts {
			if s != "" {
				vals = append(vals, s)
			}
		}
		if len(vals) == 0 {
			return
		}
		text := strings.Join(vals, " · ")
		wrapped := strings.Split(ansi.Wrap(text, max(10, w-labelW), " ,/&"), "\n")
		for i, l := range wrapped {
			lab := strings.Repeat(" ", labelW)
			if i == 0 {
				lab = st.Label.Render(padRight(label, labelW))
			}
			lines = append(lines, lab+l)
		}
	}
	// Title: verb resource ns/name → code.
	title := st.Verb(r.Verb).Render(sanitize(r.Verb)) + " "
	if r.Resource != "" {
		title += st.Title.Render(sanitize(r.ResourcePath()))
	} else {
		title += st.Title.Render(sanitize(uriPath(r.RequestURI())))
	}
	if obj := render.Target(r); obj != "" {
		title += " " + sanitize(obj)
	}
	code := render.CodeText(r.Code)
	cs := st.Code(r.Code)
	if r.Decision == "forbid" {
		cs = st.Forbid
	}
	title += " → " + cs.Render(code)
	lines = append(lines, ansi.Truncate(title, w, "…"))

	user := render.User(r)
	actor := user.Text
	if user.Suffix != "" {
		actor += st.Impersonated.Render(user.Suffix)
	}
	field("Time", render.FormatTime(r.First(), render.TimeExact), "latency "+render.FormatLatency(r.Latency()),
		sanitize(r.Stage), sanitize(r.Level))
	field("User", actor)
	field("Groups", sanitize(strings.Join(r.Groups, ", ")))
	if c := r.Credential(); c != "" {
		field("Cred", sanitize(c))
	}
	if len(r.ImpersonatedGroups) > 0 {
		field("As groups", sanitize(strings.Join(r.ImpersonatedGroups, ", ")))
	}
	field("From", sanitize(strings.Join(r.SourceIPs, ", ")), sanitize(r.UserAgent))
	field("URI", sanitize(render.RedactURI(r.RequestURI())))
	if c := render.ExecDetail(r, p.raw); c != "" {
		field("Command", "$ "+sanitize(c)) // what an exec ran, an attach reached, a debug started
	}
	if n := render.ExecAuditIDNote(r); n != "" {
		field("Exec ID", n) // KEP-6035: KUBERNETES_EXEC_AUDIT_ID
	}
	if r.Message != "" {
		field("Status", sanitize(r.Message))
	}
	if r.Decision != "" || r.Reason != "" {
		ds := st.Muted
		if r.Decision == "forbid" {
			ds = st.Forbid
		}
		field("Authz", ds.Render(sanitize(r.Decision)), sanitize(r.Reason))
	}
	// Why it was refused: what RBAC would have to allow, or which admission
	// control refused it after RBAC allowed it (no Role helps).
	why := audit.WhyRefused(r, p.raw)
	switch {
	case why.By == audit.RefusedByRBAC:
		field("Missing", sanitize(audit.PermissionOf(r).String()))
	case why.By == audit.RefusedUnknown:
		field("Missing", sanitize(audit.PermissionOf(r).String()),
			st.Muted.Render("if RBAC refused it: the log cannot tell (no authorization.k8s.io/decision annotation)"))
	case why.Admission():
		after := "RBAC allowed it: no Role lets it through"
		if !why.Named() {
			after = "RBAC allowed it"
		}
		field("Refused", st.Forbid.Render("by "+sanitize(why.Who())), after)
	}
	// What admission changed: the mutating webhooks that patched it, the
	// webhooks that failed open.
	for i, l := range render.AdmissionChanges(why) {
		lab := ""
		if i == 0 {
			lab = "Admission"
		}
		field(lab, l)
	}
	// Where the apiserver says it spent its time; values it cannot have
	// meant are shown as logged, marked.
	if s := render.SlowIn(r, p.raw); s != "" {
		field("Slow in", s)
	}
	for _, f := range render.Facts(r, p.raw) {
		field(f.Label, f.Text)
	}
	if r.SharedID {
		field("Audit ID", sanitize(r.AuditID), st.Forbid.Render("shared with other requests: the client chose it (Audit-ID header)"))
	} else {
		field("Audit ID", sanitize(r.AuditID))
	}
	p.apiserverFields(field)
	// Stages with timing relative to requestReceivedTimestamp.
	for i, ev := range r.Events {
		lab := ""
		if i == 0 {
			lab = "Stages"
		}
		mark := "  "
		if i == p.evIdx {
			mark = "▸ "
		}
		off := "+" + render.FormatLatency(ev.At().Sub(r.First()))
		if ev.At().Equal(r.First()) || ev.At().IsZero() {
			off = "+0"
		}
		line := mark + padRight(sanitize(ev.Stage()), 17) + " " + render.FormatTime(ev.At(), "15:04:05.000000Z07:00") + "  " + off
		lines = append(lines, st.Label.Render(padRight(lab, labelW))+ansi.Truncate(line, max(1, w-labelW), "…"))
	}
	what := "no event"
	if p.evIdx >= 0 && p.evIdx < len(r.Events) {
		what = fmt.Sprintf("Event %d of %d: %s", p.evIdx+1, len(r.Events), sanitize(r.Events[p.evIdx].Stage()))
	}
	rule := "── " + what + " "
	rule += strings.Repeat("─", max(0, w-ansi.StringWidth(rule)))
	lines = append(lines, st.Border.Render(ansi.Truncate(rule, w, "")))
	p.header = lines
}

// raw gives back an event line of the request shown, as load read it.
func (p *detailPage) raw(ref audit.Ref) ([]byte, error) {
	for i, ev := range p.req.Events {
		if ev.Ref == ref && i < len(p.raws) && p.raws[i] != nil {
			return p.raws[i], nil
		}
	}
	return nil, fmt.Errorf("event not read")
}

func padRight(s string, w int) string {
	if n := ansi.StringWidth(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// View implements Component.
func (p *detailPage) View() string {
	if p.req == nil {
		return placeText(p.env.Styles.Empty.Render("No request open: pick one in the Requests list and press enter."),
			p.width, p.height)
	}
	h := max(1, p.height)
	out := make([]string, 0, h)
	for i := p.top; i < p.top+h; i++ {
		var line string
		switch {
		case i < len(p.header):
			line = p.header[i]
		case p.json != nil && i-len(p.header) < p.json.Len():
			line = p.json.Line(i-len(p.header), max(1, p.width-2))
		}
		gutter := "  "
		if i == p.cursor {
			gutter = p.env.Styles.Cursor.Render("▸") + " "
		}
		if i >= p.lines() {
			gutter = "  "
		}
		out = append(out, fitLine(gutter+line, p.width))
	}
	if p.search.editing {
		out[len(out)-1] = fitLine(p.search.View(), p.width)
	}
	return strings.Join(out, "\n")
}

// fitLine cuts or pads a styled line to exactly width cells.
func fitLine(s string, width int) string {
	w := lipgloss.Width(s)
	if w > width {
		return ansi.Truncate(s, width, "")
	}
	return s + strings.Repeat(" ", width-w)
}
