package setup

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// The interactive form: one screen, one question a line. Every answer is
// also a flag; the form only fills Options and never writes anything.

type fieldKind int

const (
	choiceField fieldKind = iota
	textField
)

type formField struct {
	key     string // which option it sets
	label   string
	kind    fieldKind
	choices []string
	chosen  int
	input   textinput.Model
	hidden  func(f *form) bool
}

// form asks the questions of `kauditui setup`.
type form struct {
	fields    []*formField
	focus     int
	err       string
	Done      bool // the user accepted the answers
	Cancelled bool
}

var (
	formLabel   = lipgloss.NewStyle().Width(22)
	formFocused = lipgloss.NewStyle().Bold(true)
	formHint    = lipgloss.NewStyle().Faint(true)
	formError   = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
)

// newForm starts the form with the options' current values as defaults.
func newForm(o *Options) *form {
	text := func(v string) textinput.Model {
		ti := textinput.New()
		ti.Prompt = ""
		ti.SetValue(v)
		ti.SetWidth(48)
		return ti
	}
	// "existing" is offered when the manifest names a policy (Prefill).
	policies := []string{}
	if o.Policy == keepExisting {
		policies = append(policies, keepExisting)
	}
	for _, p := range presets {
		policies = append(policies, p.Name)
	}
	policies = append(policies, "file")
	want := o.Policy
	if want == "" {
		want = defaultPreset
	}
	chosenPolicy, policyFile := len(policies)-1, want
	for i, p := range policies {
		if p == want {
			chosenPolicy, policyFile = i, ""
		}
	}
	mode := 0
	if o.Mode == "stdout" {
		mode = 1
	}
	compress := 0
	if o.Compress != nil && *o.Compress {
		compress = 1
	}
	logPath := o.LogPath
	if logPath == "" {
		logPath = DefaultLogPath
	}
	num := func(v, def int) string {
		if v < 0 {
			v = def
		}
		return strconv.Itoa(v)
	}
	fileMode := func(f *form) bool { return f.value("mode") != "file" }
	f := &form{fields: []*formField{
		{key: "mode", label: "Audit log goes to", kind: choiceField, choices: []string{"file", "stdout"}, chosen: mode},
		{key: "log-path", label: "Log file", kind: textField, input: text(logPath), hidden: fileMode},
		{key: "max-age", label: "Keep (days)", kind: textField, input: text(num(o.MaxAge, DefaultMaxAge)), hidden: fileMode},
		{key: "max-size", label: "Rotate at (MB)", kind: textField, input: text(num(o.MaxSize, DefaultMaxSize)), hidden: fileMode},
		{key: "max-backup", label: "Rotated files kept", kind: textField, input: text(num(o.MaxBackup, DefaultMaxBackup)), hidden: fileMode},
		{key: "compress", label: "Gzip rotated files", kind: choiceField, choices: []string{"no", "yes"}, chosen: compress, hidden: fileMode},
		{key: "policy", label: "Policy", kind: choiceField, choices: policies, chosen: chosenPolicy},
		{key: "policy-file", label: "Policy file", kind: textField, input: text(policyFile),
			hidden: func(f *form) bool { return f.value("policy") != "file" }},
	}}
	f.setFocus(0)
	return f
}

func (f *form) field(key string) *formField {
	for _, fl := range f.fields {
		if fl.key == key {
			return fl
		}
	}
	return nil
}

func (f *form) value(key string) string {
	fl := f.field(key)
	if fl.kind == choiceField {
		return fl.choices[fl.chosen]
	}
	return strings.TrimSpace(fl.input.Value())
}

func (f *form) visible(i int) bool {
	fl := f.fields[i]
	return fl.hidden == nil || !fl.hidden(f)
}

func (f *form) setFocus(i int) tea.Cmd {
	for _, fl := range f.fields {
		fl.input.Blur()
	}
	f.focus = i
	if fl := f.fields[i]; fl.kind == textField {
		return fl.input.Focus()
	}
	return nil
}

func (f *form) move(step int) tea.Cmd {
	for i := f.focus + step; i >= 0 && i < len(f.fields); i += step {
		if f.visible(i) {
			return f.setFocus(i)
		}
	}
	return nil
}

func (f *form) lastVisible() bool {
	for i := f.focus + 1; i < len(f.fields); i++ {
		if f.visible(i) {
			return false
		}
	}
	return true
}

// Apply copies the answers into o, checking them.
func (f *form) Apply(o *Options) error {
	o.Mode = f.value("mode")
	if o.Mode == "file" {
		o.LogPath = f.value("log-path")
		for _, n := range []struct {
			key string
			dst *int
		}{{"max-age", &o.MaxAge}, {"max-size", &o.MaxSize}, {"max-backup", &o.MaxBackup}} {
			v, err := strconv.Atoi(f.value(n.key))
			if err != nil || v < 0 {
				return fmt.Errorf("%s: want a whole number, 0 or more", f.field(n.key).label)
			}
			*n.dst = v
		}
		compress := f.value("compress") == "yes"
		o.Compress = &compress
		if !strings.HasPrefix(o.LogPath, "/") {
			return errors.New("log file: want an absolute path")
		}
	}
	o.Policy = f.value("policy")
	if o.Policy == "file" {
		if o.Policy = f.value("policy-file"); o.Policy == "" {
			return errors.New("policy file: give its path")
		}
	}
	return nil
}

func (f *form) Init() tea.Cmd { return nil }

func (f *form) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	key, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return f, nil
	}
	fl := f.fields[f.focus]
	switch key.String() {
	case "ctrl+c", "esc":
		f.Cancelled = true
		return f, tea.Quit
	case "up", "shift+tab":
		return f, f.move(-1)
	case "down", "tab":
		return f, f.move(1)
	case "enter":
		if !f.lastVisible() {
			return f, f.move(1)
		}
		if err := f.Apply(&Options{}); err != nil {
			f.err = err.Error()
			return f, nil
		}
		f.Done = true
		return f, tea.Quit
	}
	if fl.kind == choiceField {
		switch key.String() {
		case "left", "h":
			fl.chosen = (fl.chosen + len(fl.choices) - 1) % len(fl.choices)
		case "right", "l", "space":
			fl.chosen = (fl.chosen + 1) % len(fl.choices)
		}
		return f, nil
	}
	var cmd tea.Cmd
	fl.input, cmd = fl.input.Update(msg)
	f.err = ""
	return f, cmd
}

// Render draws the form as text (View wraps it).
func (f *form) Render() string {
	var b strings.Builder
	b.WriteString(formFocused.Render("kauditui setup: enable auditing on this control-plane node") + "\n\n")
	for i, fl := range f.fields {
		if !f.visible(i) {
			continue
		}
		cursor := "  "
		label := formLabel.Render(fl.label)
		if i == f.focus {
			cursor = "> "
			label = formFocused.Render(formLabel.Render(fl.label))
		}
		var val string
		if fl.kind == choiceField {
			var opts []string
			for j, c := range fl.choices {
				if j == fl.chosen {
					opts = append(opts, "["+c+"]")
				} else {
					opts = append(opts, " "+c+" ")
				}
			}
			val = strings.Join(opts, " ")
		} else {
			val = fl.input.View()
		}
		b.WriteString(cursor + label + val + "\n")
		if i == f.focus && fl.key == "policy" {
			if about := policyHint(fl.choices[fl.chosen]); about != "" {
				b.WriteString(formHint.Render("  "+strings.Repeat(" ", 22)+about) + "\n")
			}
		}
	}
	if f.err != "" {
		b.WriteString("\n" + formError.Render(f.err) + "\n")
	}
	b.WriteString("\n" + formHint.Render("↑/↓ move · ←/→ change · enter next/accept · esc cancel") + "\n")
	b.WriteString(formHint.Render("Nothing is written before you have seen the policy and the diff.") + "\n")
	return b.String()
}

// policyHint is the line under the policy question.
func policyHint(choice string) string {
	if choice == keepExisting {
		return "keep the policy file the manifest names (an audit.k8s.io/v1beta1 one is converted)"
	}
	for _, p := range presets {
		if p.Name == choice {
			return p.About
		}
	}
	return ""
}

func (f *form) View() tea.View { return tea.NewView(f.Render()) }

// ErrCancelled is returned when the user leaves the form.
var ErrCancelled = errors.New("cancelled, nothing written")

// RunForm shows the form on the terminal and copies the answers into o.
func RunForm(o *Options, in io.Reader, out io.Writer) error {
	f := newForm(o)
	if _, err := tea.NewProgram(f, tea.WithInput(in), tea.WithOutput(out)).Run(); err != nil {
		return err
	}
	if !f.Done {
		return ErrCancelled
	}
	return f.Apply(o)
}
