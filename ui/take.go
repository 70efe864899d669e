package ui

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
)

// Taking the answer with you: y and Y copy through the terminal (OSC 52,
// which works over SSH and in tmux with set-clipboard on), ctrl+s exports
// what the page shows (export.go), v and e open the page's text in $PAGER
// and $EDITOR, M lets the terminal have the mouse. The root handles these
// keys for whatever is in front, through the interfaces below; a page that
// implements none of them has nothing to take.
//
// What is copied or exported is the user's data, raw: an event line as the
// apiserver wrote it, a value as logged. What is drawn (the status line
// saying what was copied, the pager's text) is sanitised.

// valueCopier is a page or screen with a value in focus (y).
type valueCopier interface {
	// copyValue is the value and what it is, sanitised for the status
	// line ("the auditID of get pods"); "" text: nothing in focus.
	copyValue() (text, what string)
}

// requestHolder is a page or screen with a request in focus (Y: its events).
type requestHolder interface {
	focusedRequest() *audit.Request
}

// texter is a page or screen with a text to read in a pager or an editor.
type texter interface {
	// pageText is the page's text, sanitised (a pager draws it), and a
	// word for the temporary file's name ("detail", "history").
	pageText() (name, text string)
}

// clipboardWarn: OSC 52 payloads above this are refused by some terminals
// (xterm's default, tmux's buffer limits); the status line says so.
const clipboardWarn = 100 << 10

// takeKey handles y, Y, ctrl+s, v, e and M for what is in front; ok is
// false when msg is not one of them (or, for v and e, when the page has no
// text, so the key stays the page's: v is "only this verb" on Requests).
func (m *model) takeKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.env.Keys
	front := m.active()
	switch {
	case key.Matches(msg, k.Copy):
		c, ok := front.(valueCopier)
		if !ok {
			return statusCmd("nothing to copy here", true), true
		}
		text, what := c.copyValue()
		if text == "" {
			return statusCmd("nothing to copy here: "+what, true), true
		}
		return m.copyText(text, what), true
	case key.Matches(msg, k.CopyEvents):
		h, ok := front.(requestHolder)
		var r *audit.Request
		if ok {
			r = h.focusedRequest()
		}
		if r == nil {
			return statusCmd("no request in focus: Y copies a request's events", true), true
		}
		b, n := m.eventLines(r)
		if n == 0 {
			return statusCmd("the raw events of this request cannot be read again", true), true
		}
		return m.copyText(string(b), fmt.Sprintf("%s of %s as JSON lines", plural(n, "event"), requestWords(m.env, r))), true
	case key.Matches(msg, k.Export):
		return m.openExport(front), true
	case key.Matches(msg, k.Pager), key.Matches(msg, k.Editor):
		t, ok := front.(texter)
		if !ok {
			return nil, false
		}
		return m.openText(t, key.Matches(msg, k.Editor)), true
	case key.Matches(msg, k.Mouse):
		m.mouseOff = !m.mouseOff
		if m.mouseOff {
			return m.setMessage("mouse off: the terminal selects text (M turns it on again)", false), true
		}
		return m.setMessage("mouse on: the wheel scrolls, a click selects", false), true
	}
	return nil, false
}

// copyText sends text to the terminal's clipboard and says what it was.
func (m *model) copyText(text, what string) tea.Cmd {
	say := fmt.Sprintf("copied %s (%s) to the clipboard", what, byteCount(len(text)))
	if len(text) > clipboardWarn {
		say += "; a terminal may refuse that much: ctrl+s exports it"
	}
	return tea.Batch(tea.SetClipboard(text), m.setMessage(say, false))
}

// eventLines is r's raw event lines, one per line, as the apiserver wrote
// them (what -o json and the detail page's export write), and how many.
func (m *model) eventLines(r *audit.Request) ([]byte, int) {
	return requestEvents(m.env.Data, r)
}

// requestEvents reads r's events again, raw, one per line.
func requestEvents(d Data, r *audit.Request) ([]byte, int) {
	var refs []audit.EventRef
	d.Store.Read(func(audit.Snapshot) { refs = append(refs, r.Events...) })
	b := appendEvents(nil, d, refs)
	return b, bytes.Count(b, []byte{'\n'})
}

// appendEvents appends the raw lines of refs to b, one per line.
func appendEvents(b []byte, d Data, refs []audit.EventRef) []byte {
	for _, ev := range refs {
		if d.Raw == nil {
			break
		}
		raw, err := d.Raw(ev.Ref)
		if err != nil {
			continue
		}
		b = append(append(b, raw...), '\n')
	}
	return b
}

// requestWords names a request for the status line: "get pods" or the
// path of a request without a resource; sanitised.
func requestWords(env *Env, r *audit.Request) string {
	var s string
	env.Data.Store.Read(func(audit.Snapshot) {
		what := r.ResourcePath()
		if r.Resource == "" {
			what = uriPath(r.RequestURI())
		}
		s = sanitize(r.Verb) + " " + sanitize(what)
		if r.Name != "" {
			s += " " + sanitize(r.Name)
		}
	})
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(n) + " " + noun + "s"
}

// byteCount is "36 bytes", "12.3 KB", "4.1 MB".
func byteCount(n int) string {
	switch {
	case n == 1:
		return "1 byte"
	case n < 10<<10:
		return thousands(n) + " bytes"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// execProcess runs a program in the terminal, the explorer paused
// (tea.ExecProcess; tests run it without a terminal).
type execProcessFunc func(c *exec.Cmd, fn tea.ExecCallback) tea.Cmd

// openText writes the page's text to a private temporary file and opens it
// in $PAGER (less) or $EDITOR (vi); the file goes when the program ends.
func (m *model) openText(t texter, editor bool) tea.Cmd {
	name, text := t.pageText()
	if text == "" {
		return statusCmd("nothing to read here", true)
	}
	env, def := "PAGER", "less"
	if editor {
		env, def = "EDITOR", "vi"
	}
	prog := strings.Fields(os.Getenv(env))
	if len(prog) == 0 {
		prog = []string{def}
	}
	f, err := os.CreateTemp("", "kauditui-"+safeFileName(name)+"-*.txt") // 0600: events may hold secrets
	if err != nil {
		return statusCmd("could not write the page's text for $"+env+": "+sanitize(err.Error()), true)
	}
	tmp := f.Name()
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return statusCmd("could not write the page's text for $"+env+": "+sanitize(err.Error()), true)
	}
	c := exec.Command(prog[0], append(prog[1:], tmp)...)
	run := m.execProcess
	if run == nil {
		run = tea.ExecProcess
	}
	shown := sanitize(strings.Join(prog, " "))
	return run(c, func(err error) tea.Msg {
		os.Remove(tmp)
		if err != nil {
			return statusMsg{Text: "$" + env + " (" + shown + "): " + sanitize(err.Error()), Err: true}
		}
		if editor {
			return statusMsg{Text: "back from " + shown + " (the explorer keeps no edit: it reads the log, never writes it)"}
		}
		return statusMsg{Text: "back from " + shown}
	})
}
