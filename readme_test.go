package main

import (
	"os"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/ui"
)

// The README carries the filter language and the key table; they must stay
// the ones the code documents and generates.
func TestREADMEIsCurrent(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	lang, err := os.ReadFile("filter/LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.TrimSpace(string(lang))) {
		t.Error("README.md does not hold filter/LANGUAGE.md as it is now: paste it in again")
	}
	if keys := ui.DefaultKeyMap().Markdown(); !strings.Contains(string(readme), strings.TrimSpace(keys)) {
		t.Errorf("README.md's key table is not the keymap's: replace it with ui.DefaultKeyMap().Markdown():\n%s", keys)
	}
}
