package setup

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func key(s string) tea.KeyPressMsg {
	named := map[string]rune{"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"left": tea.KeyLeft, "right": tea.KeyRight, "backspace": tea.KeyBackspace, "tab": tea.KeyTab}
	if c, ok := named[s]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

func typeKeys(f *form, keys ...string) {
	for _, k := range keys {
		f.Update(key(k))
	}
}

func TestFormDefaultsAccepted(t *testing.T) {
	o := NewOptions(nil, nil)
	f := newForm(o)
	// Enter through every visible question: the defaults of the flags.
	for i := 0; i < 10 && !f.Done; i++ {
		typeKeys(f, "enter")
	}
	if !f.Done {
		t.Fatal("enter through the form did not accept it")
	}
	got := NewOptions(nil, nil)
	if err := f.Apply(got); err != nil {
		t.Fatal(err)
	}
	if got.Mode != "file" || got.LogPath != DefaultLogPath || got.MaxAge != DefaultMaxAge || got.Policy != defaultPreset || got.Compress == nil || *got.Compress {
		t.Errorf("defaults changed: %+v", got)
	}
}

func TestFormStdoutSecurity(t *testing.T) {
	o := NewOptions(nil, nil)
	f := newForm(o)
	typeKeys(f, "right") // mode: stdout
	if strings.Contains(f.Render(), "Log file") {
		t.Error("stdout mode still asks for a log file")
	}
	typeKeys(f, "down", "right", "right") // policy: default -> metadata -> security
	if !strings.Contains(f.Render(), "RBAC changes") {
		t.Error("the policy's description is not shown")
	}
	typeKeys(f, "enter")
	if !f.Done {
		t.Fatal("not accepted")
	}
	if err := f.Apply(o); err != nil {
		t.Fatal(err)
	}
	if o.Mode != "stdout" || o.Policy != "security" {
		t.Errorf("mode %q policy %q", o.Mode, o.Policy)
	}
}

func TestFormRefusesBadNumberAndCancels(t *testing.T) {
	o := NewOptions(nil, nil)
	f := newForm(o)
	typeKeys(f, "down", "down", "backspace", "backspace", "x") // max age "x"
	for i := 0; i < 10; i++ {
		typeKeys(f, "enter")
	}
	if f.Done || !strings.Contains(f.Render(), "Keep (days): want a whole number") {
		t.Errorf("a bad number was accepted:\n%s", f.Render())
	}
	typeKeys(f, "esc")
	if !f.Cancelled {
		t.Error("esc did not cancel")
	}
}
