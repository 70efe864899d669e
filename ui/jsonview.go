package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/render"
)

// jsonView shows one JSON document as coloured, foldable lines. Containers
// are parsed only when first expanded, so a folded multi-megabyte
// responseObject costs nothing until it is opened.
type jsonView struct {
	root  *jsonNode
	lines []jsonLine
	st    *styles
	// foldKeys are the object keys folded when the document opens and when
	// everything is folded back.
	foldKeys map[string]bool
}

type jsonNode struct {
	key      string // object key; "" for array items and the root
	inObject bool
	raw      gjson.Result
	children []*jsonNode // nil until built
	built    bool
	folded   bool
	depth    int
	last     bool // last member of its parent (no comma)
	count    int  // members of a container
}

// jsonLine is one drawn line: a node's opening (or only) line, or the
// closing brace of an expanded container.
type jsonLine struct {
	n     *jsonNode
	close bool
}

// defaultFoldKeys are folded when an event opens: the bulky parts.
var defaultFoldKeys = []string{"requestObject", "responseObject", "managedFields"}

// newJSONView parses raw (one JSON value) for display. Invalid JSON is shown
// as one sanitised string.
func newJSONView(raw []byte, st *styles, foldKeys ...string) *jsonView {
	v := &jsonView{st: st, foldKeys: map[string]bool{}}
	for _, k := range foldKeys {
		v.foldKeys[k] = true
	}
	var res gjson.Result
	if gjson.ValidBytes(raw) {
		res = gjson.ParseBytes(raw)
	} else {
		res = gjson.Result{Type: gjson.String, Str: string(raw), Raw: strconv.Quote(string(raw))}
	}
	v.root = &jsonNode{raw: res, last: true}
	v.root.count = countMembers(res)
	v.build(v.root)
	v.flatten()
	return v
}

func countMembers(r gjson.Result) int {
	if !r.IsObject() && !r.IsArray() {
		return 0
	}
	n := 0
	r.ForEach(func(_, _ gjson.Result) bool { n++; return true })
	return n
}

// build creates n's children (once), folding the configured keys.
func (v *jsonView) build(n *jsonNode) {
	if n.built || (!n.raw.IsObject() && !n.raw.IsArray()) {
		return
	}
	n.built = true
	obj := n.raw.IsObject()
	n.raw.ForEach(func(k, val gjson.Result) bool {
		c := &jsonNode{raw: val, depth: n.depth + 1, inObject: obj}
		if obj {
			c.key = k.Str
		}
		c.count = countMembers(val)
		c.folded = c.count > 0 && obj && v.foldKeys[c.key]
		n.children = append(n.children, c)
		return true
	})
	if len(n.children) > 0 {
		n.children[len(n.children)-1].last = true
	}
}

func (v *jsonView) flatten() {
	v.lines = v.lines[:0]
	var walk func(n *jsonNode)
	walk = func(n *jsonNode) {
		v.lines = append(v.lines, jsonLine{n: n})
		if n.count == 0 || n.folded {
			return
		}
		v.build(n)
		for _, c := range n.children {
			walk(c)
		}
		v.lines = append(v.lines, jsonLine{n: n, close: true})
	}
	walk(v.root)
}

// Len is the number of lines.
func (v *jsonView) Len() int { return len(v.lines) }

// Foldable reports whether line i opens or closes a container.
func (v *jsonView) Foldable(i int) bool {
	return i >= 0 && i < len(v.lines) && v.lines[i].n.count > 0
}

// Toggle folds or unfolds the container on line i and returns the line the
// container now starts on (so a cursor on a closing brace stays on it).
func (v *jsonView) Toggle(i int) int {
	if !v.Foldable(i) {
		return i
	}
	n := v.lines[i].n
	n.folded = !n.folded
	v.flatten()
	for j, l := range v.lines {
		if l.n == n && !l.close {
			return j
		}
	}
	return i
}

// Folded reports whether any container is folded.
func (v *jsonView) Folded() bool {
	var any bool
	var walk func(n *jsonNode)
	walk = func(n *jsonNode) {
		if any || n.count == 0 {
			return
		}
		if n.folded {
			any = true
			return
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(v.root)
	return any
}

// ToggleAll expands everything when something is folded, and otherwise folds
// back to the opening state.
func (v *jsonView) ToggleAll() {
	expand := v.Folded()
	var walk func(n *jsonNode)
	walk = func(n *jsonNode) {
		if n.count == 0 {
			return
		}
		if expand {
			n.folded = false
			v.build(n)
		} else {
			n.folded = n.inObject && v.foldKeys[n.key]
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(v.root)
	v.flatten()
}

// Line renders line i, cut to width cells. Every string from the document
// goes through render.QuoteJSON (Sanitize's escapes, spelt as JSON's).
func (v *jsonView) Line(i, width int) string {
	l := v.lines[i]
	n := l.n
	st := v.st
	var b strings.Builder
	b.WriteString(strings.Repeat("  ", n.depth))
	used := 2 * n.depth
	put := func(s string, style func(string) string) {
		if used >= width {
			return
		}
		w := ansi.StringWidth(s)
		if used+w > width {
			s = ansi.Truncate(s, width-used, "…")
			w = width - used
		}
		b.WriteString(style(s))
		used += w
	}
	punct := func(s string) string { return st.JSONPunct.Render(s) }
	comma := func() {
		if !n.last {
			put(",", punct)
		}
	}
	open, closing := "{", "}"
	if n.raw.IsArray() {
		open, closing = "[", "]"
	}
	if l.close {
		put(closing, punct)
		comma()
		return b.String()
	}
	if n.inObject {
		put(render.QuoteJSON(n.key), func(s string) string { return st.JSONKey.Render(s) })
		put(": ", punct)
	}
	switch {
	case n.raw.IsObject() || n.raw.IsArray():
		switch {
		case n.count == 0:
			put(open+closing, punct)
			comma()
		case n.folded:
			what := "keys"
			if n.raw.IsArray() {
				what = "items"
			}
			if n.count == 1 {
				what = what[:len(what)-1]
			}
			put(open+"…"+closing, punct)
			comma()
			put(" "+strconv.Itoa(n.count)+" "+what, func(s string) string { return st.JSONFolded.Render(s) })
		default:
			put(open, punct)
		}
		return b.String()
	case n.raw.Type == gjson.String:
		// valid JSON (copied from the screen or the pager, it parses) and
		// safe to draw: render.QuoteJSON
		put(render.QuoteJSON(n.raw.Str), func(s string) string { return st.JSONString.Render(s) })
	case n.raw.Type == gjson.Number:
		put(sanitize(n.raw.Raw), func(s string) string { return st.JSONNumber.Render(s) })
	case n.raw.Type == gjson.True || n.raw.Type == gjson.False:
		put(n.raw.Raw, func(s string) string { return st.JSONBool.Render(s) })
	default:
		put("null", func(s string) string { return st.JSONNull.Render(s) })
	}
	comma()
	return b.String()
}
