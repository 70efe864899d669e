package ui

import (
	"path/filepath"
	"strings"
	"testing"
)

// Tab in the filter bar completes a field name, then a value of it from the
// loaded log (several: first what they share, then one after another, the
// choices named after the input); a whole value ends the term with a space.
func TestFilterBarTabCompletes(t *testing.T) {
	m := sampleModel(t, 120, 40)
	press(m, "/")
	typeText(m, "verb=get us")
	press(m, "tab")
	if got := m.filterBar.Value(); got != "verb=get user" {
		t.Fatalf("tab on \"us\": %q, want what user= and useragent= share", got)
	}
	press(m, "tab")
	if got := m.filterBar.Value(); got != "verb=get user=" {
		t.Fatalf("tab again: %q, want the first field, user=", got)
	}
	typeText(m, "a")
	press(m, "tab")
	if got := m.filterBar.Value(); got != "verb=get user=alice " {
		t.Fatalf("tab on \"user=a\": %q, want alice, the one user starting with a", got)
	}
	press(m, "ctrl+u")
	typeText(m, "user=")
	press(m, "tab")
	first := m.filterBar.Value()
	if !strings.HasPrefix(first, "user=") || first == "user=" {
		t.Fatalf("tab on \"user=\": %q, want the first user", first)
	}
	if s := screen(m); !strings.Contains(s, "tab ") || !strings.Contains(s, "bob") || !strings.Contains(s, "carol") {
		t.Errorf("the choices are not named after the input:\n%s", strings.Split(s, "\n")[1])
	}
	press(m, "tab")
	if second := m.filterBar.Value(); second == first || !strings.HasPrefix(second, "user=") {
		t.Errorf("tab again: %q after %q, want the next user", second, first)
	}
	press(m, "ctrl+u")
	typeText(m, "nosuchfield=")
	press(m, "tab")
	if s := screen(m); !strings.Contains(s, "no completion") {
		t.Errorf("tab on an unknown field says nothing:\n%s", strings.Split(s, "\n")[1])
	}
}

// The filters applied are kept across runs ($XDG_STATE_HOME/kauditui): the
// next explorer recalls them with ↑.
func TestFilterHistoryKeptAcrossRuns(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state", "kauditui", "filters")
	keep := func(o *Options) { o.HistoryFile = file }
	m := sampleModel(t, 120, 40, keep)
	press(m, "/")
	typeText(m, "user=bob")
	press(m, "enter")
	press(m, "/", "ctrl+u")
	typeText(m, "verb=delete")
	press(m, "enter")

	next := sampleModel(t, 120, 40, keep)
	press(next, "/", "up")
	if got := next.filterBar.Value(); got != "verb=delete" {
		t.Fatalf("↑ in the next run: %q, want the last filter of the one before", got)
	}
	press(next, "up")
	if got := next.filterBar.Value(); got != "user=bob" {
		t.Fatalf("↑↑ in the next run: %q, want user=bob", got)
	}
}
