package ui

import (
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/filter"
)

// filterBar is the one-line filter editor under the tabs. While focused it
// edits the expression; the root applies it as the user types (debounced)
// and tells the bar about parse errors, which are shown inline while the last
// good filter stays applied.
type filterBar struct {
	env     *Env
	input   textinput.Model
	focused bool
	applied string // the filter in force, shown when not editing
	before  string // the applied filter when editing began (esc restores it)
	err     string // the current parse error, "" when the text parses
	width   int

	history []string // oldest first, no duplicates next to each other
	histPos int      // index into history while browsing; len(history) = the draft
	draft   string   // what was typed before browsing history

	// Completion (tab): the candidates for the text as it was when tab
	// was first pressed, and which one tab put in last (-1: none yet).
	cands   []string
	candAt  int
	hint    string // what tab found, shown after the input
	values  valueLister
	onSaved func([]string) // told the history when it changes (kept across runs)
}

// filterAction is what a key in the bar asks of the root. It is returned,
// not sent as a message: the root acts on it in the same Update, so the bar
// is closed (or the edit counted) before the next key is read. A message
// would arrive after keys typed right behind enter, which would then land in
// the wrong place.
type filterAction int

const (
	filterNone   filterAction = iota
	filterEdited              // the text changed: apply it after the debounce
	filterApply               // enter: apply the text and close
	filterCancel              // esc: go back to Before and close
)

const maxHistory = 100

// newFilterBar returns a blurred filter bar.
func newFilterBar(env *Env) *filterBar {
	in := textinput.New()
	in.Prompt = ""
	in.Placeholder = "user=alice verb=delete resource=deploy ns=default (enter applies, esc cancels)"
	s := textinput.DefaultDarkStyles()
	s.Cursor.Blink = false
	if env.Styles.NoColor {
		s = textinput.Styles{}
		s.Cursor.Blink = false
	}
	in.SetStyles(s)
	return &filterBar{env: env, input: in, values: valueLister{env: env}}
}

// Focused reports whether the bar is being edited.
func (f *filterBar) Focused() bool { return f.focused }

// Value is the text being edited.
func (f *filterBar) Value() string { return f.input.Value() }

// SetApplied records the filter in force (shown when not editing).
func (f *filterBar) SetApplied(expr string) {
	f.applied = expr
	if !f.focused {
		f.input.SetValue(expr)
	}
}

// SetError shows a parse error inline ("" clears it).
func (f *filterBar) SetError(msg string) { f.err = msg }

// Err is the parse error shown, if any.
func (f *filterBar) Err() string { return f.err }

// History is the applied filters, oldest first.
func (f *filterBar) History() []string { return f.history }

// AddHistory records an applied filter.
func (f *filterBar) AddHistory(expr string) {
	expr = strings.TrimSpace(expr)
	if expr == "" || (len(f.history) > 0 && f.history[len(f.history)-1] == expr) {
		return
	}
	f.history = append(f.history, expr)
	if len(f.history) > maxHistory {
		f.history = f.history[len(f.history)-maxHistory:]
	}
	if f.onSaved != nil {
		f.onSaved(f.history)
	}
}

// SetHistory starts the history with what earlier runs kept, oldest first.
func (f *filterBar) SetHistory(h []string) {
	f.history = append([]string(nil), h[max(0, len(h)-maxHistory):]...)
	f.histPos = len(f.history)
}

// complete puts the next completion of the text in (tab): one candidate is
// taken whole, several first to what they share, then one after another.
func (f *filterBar) complete() filterAction {
	if f.cands == nil {
		text := f.input.Value()
		f.cands = filter.Complete(text, f.values.values)
		f.candAt = -1
		switch len(f.cands) {
		case 0:
			f.hint = "no completion"
			f.cands = nil
			return filterNone
		case 1:
			f.set(f.cands[0], true)
			f.cands = nil
			f.hint = ""
			return filterEdited
		}
		f.hint = completionHint(f.cands, text)
		if p := filter.CommonPrefix(f.cands); len(p) > len(text) {
			f.set(p, false)
			return filterEdited
		}
	}
	f.candAt = (f.candAt + 1) % len(f.cands)
	f.set(f.cands[f.candAt], false)
	return filterEdited
}

// set replaces the text with a completion; a whole value ends the term.
func (f *filterBar) set(text string, whole bool) {
	if whole && !strings.HasSuffix(text, "=") && !strings.HasSuffix(text, ",") {
		text += " "
	}
	f.input.SetValue(text)
	f.input.CursorEnd()
	f.endBrowsing()
}

// completionHint names the candidates by what they add to the text.
func completionHint(cands []string, text string) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(cands)) + ":")
	start := strings.LastIndexAny(text, " =,") + 1
	for i, c := range cands {
		if i == 8 {
			b.WriteString(" …")
			break
		}
		b.WriteString(" " + sanitize(c[min(start, len(c)):]))
	}
	return b.String()
}

// Focus starts editing the applied filter.
func (f *filterBar) Focus() tea.Cmd {
	f.focused = true
	f.before = f.applied
	f.err = ""
	f.input.SetValue(f.applied)
	f.input.CursorEnd()
	f.histPos = len(f.history)
	f.cands, f.hint = nil, ""
	return f.input.Focus()
}

// Blur ends editing.
func (f *filterBar) Blur() {
	f.focused = false
	f.input.Blur()
	f.input.SetValue(f.applied)
}

// Before is the filter that was applied when editing began.
func (f *filterBar) Before() string { return f.before }

// SetWidth sets the bar's width.
func (f *filterBar) SetWidth(w int) {
	f.width = w
	f.input.SetWidth(max(10, w-4))
}

// Update handles keys while focused: enter, esc, ctrl+u, history, editing.
// It returns what the root must do about it.
func (f *filterBar) Update(msg tea.Msg) (tea.Cmd, filterAction) {
	k := f.env.Keys
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Complete):
			return nil, f.complete()
		case key.Matches(km, k.FilterApply):
			return nil, filterApply
		case key.Matches(km, k.FilterCancel):
			return nil, filterCancel
		case key.Matches(km, k.FilterClear):
			f.input.SetValue("")
			f.endBrowsing()
			return nil, filterEdited
		case key.Matches(km, k.HistoryPrev):
			if f.histPos > 0 {
				if f.histPos == len(f.history) {
					f.draft = f.input.Value()
				}
				f.histPos--
				f.input.SetValue(f.history[f.histPos])
				f.input.CursorEnd()
				return nil, filterEdited
			}
			return nil, filterNone
		case key.Matches(km, k.HistoryNext):
			if f.histPos < len(f.history) {
				f.histPos++
				if f.histPos == len(f.history) {
					f.input.SetValue(f.draft)
				} else {
					f.input.SetValue(f.history[f.histPos])
				}
				f.input.CursorEnd()
				return nil, filterEdited
			}
			return nil, filterNone
		}
	}
	before := f.input.Value()
	var cmd tea.Cmd
	f.input, cmd = f.input.Update(msg)
	if f.input.Value() != before {
		f.endBrowsing()
		f.cands, f.hint = nil, "" // typing starts a new completion
		return cmd, filterEdited
	}
	return cmd, filterNone
}

// endBrowsing: an edit (typing, ctrl+u) makes the text a new draft. Left on
// the recalled entry, ↓ after ctrl+u brought a history entry back in place
// of the cleared text, and ↑ went on from the old position.
func (f *filterBar) endBrowsing() { f.histPos = len(f.history) }

// View is one line of exactly the bar's width.
func (f *filterBar) View() string {
	st := f.env.Styles
	prompt := st.FilterPrompt.Render("/") + " "
	var body string
	switch {
	case f.focused:
		// The input takes what it needs; a parse error gets the rest of the
		// line (all of it is in the footer too).
		inW := f.width - 3
		errText, errStyle := "", st.FilterError
		side := ""
		switch {
		case f.err != "":
			side = "✗ " + sanitize(f.err)
		case f.hint != "":
			side, errStyle = "tab "+f.hint, st.Muted
		}
		if side != "" {
			need := ansi.StringWidth(f.input.Value()) + 2
			inW = max(min(inW, 20), min(need, inW-12))
			errText = ansi.Truncate(side, max(0, f.width-3-inW-2), "…")
		}
		f.input.SetWidth(max(1, inW))
		body = f.input.View()
		if errText != "" {
			body = fitLine(body, inW+1) + " " + errStyle.Render(errText)
		}
	case f.applied == "":
		body = st.FilterHint.Render("no filter: press / to filter, ? for help")
	default:
		body = st.FilterText.Render(sanitize(f.applied))
	}
	return fitLine(prompt+body, f.width)
}
