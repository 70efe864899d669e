package ui

import (
	"fmt"
	"math"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
)

// What the detail page offers to y, Y, ctrl+s (and w), v, e and its search.

// OwnsKey claims / (the page's search: the request filter does not change
// what Detail shows).
func (p *detailPage) OwnsKey(msg tea.KeyPressMsg) bool {
	return p.req != nil && key.Matches(msg, p.env.Keys.Search)
}

// CapturesInput is true while the search text is typed.
func (p *detailPage) CapturesInput() bool { return p.search.editing }

// focusedRequest implements requestHolder.
func (p *detailPage) focusedRequest() *audit.Request { return p.req }

// copyValue implements valueCopier: the JSON value under the cursor as
// logged (a string without its quotes, anything else as its JSON), or, on
// the summary above it, the request's auditID.
func (p *detailPage) copyValue() (string, string) {
	if p.req == nil {
		return "", "no request open"
	}
	if i := p.cursor - len(p.header); p.json != nil && i >= 0 && i < len(p.json.lines) && p.errs[p.evIdx] == nil {
		n := p.json.lines[i].n
		text := n.raw.Raw
		if n.raw.Type == gjson.String {
			text = n.raw.Str
		}
		what := "the event"
		switch {
		case n.inObject:
			what = `the value of "` + sanitize(n.key) + `"`
		case n.depth > 0:
			what = "an item of a list"
		}
		return text, what
	}
	return p.req.AuditID, "the auditID of " + requestWords(p.env, p.req)
}

// export implements exporter: the request's events, raw, as JSON lines.
func (p *detailPage) export() *exportJob { return eventsExport(p.env.Data, p.req) }

// pageText implements texter: the summary and every event, expanded, as
// drawn (sanitised).
func (p *detailPage) pageText() (string, string) {
	if p.req == nil {
		return "detail", ""
	}
	var b strings.Builder
	for _, l := range p.header {
		b.WriteString(strings.TrimRight(ansi.Strip(l), " "))
		b.WriteByte('\n')
	}
	for i, raw := range p.raws {
		fmt.Fprintf(&b, "\n── Event %d of %d ──\n", i+1, len(p.raws))
		if p.errs[i] != nil {
			b.WriteString("cannot read this event again: " + sanitize(p.errs[i].Error()) + "\n")
			continue
		}
		v := newJSONView(raw, p.env.Styles) // nothing folded
		for j := 0; j < v.Len(); j++ {
			b.WriteString(ansi.Strip(v.Line(j, math.MaxInt32)))
			b.WriteByte('\n')
		}
	}
	return "detail-" + p.req.AuditID, b.String()
}

// lineText is line i of the page as drawn, without styles.
func (p *detailPage) lineText(i int) string {
	if i < len(p.header) {
		return ansi.Strip(p.header[i])
	}
	if p.json != nil && i-len(p.header) < p.json.Len() {
		return ansi.Strip(p.json.Line(i-len(p.header), math.MaxInt32))
	}
	return ""
}

// findNext puts the cursor on the next (dir 1) or previous (-1) line after
// from that holds the text searched. Folded parts are not searched: the
// status line says so when nothing is found.
func (p *detailPage) findNext(from, dir int) tea.Cmd {
	at, cmd := p.search.find(p.lines(), p.lineText, from, dir)
	if at < 0 {
		if p.json != nil && p.json.Folded() {
			q := sanitize(p.search.query)
			return statusCmd(`no line shown holds "`+q+`"; folded parts are not searched (E expands all)`, true)
		}
		return cmd
	}
	p.cursor = at
	p.clamp()
	return cmd
}
