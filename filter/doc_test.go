package filter

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The user documentation stays true: every field is documented, and every
// filter in the fields table and the examples parses.
func TestLanguageDoc(t *testing.T) {
	b, err := os.ReadFile("LANGUAGE.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, fh := range Fields() {
		if !strings.Contains(doc, "| `"+fh.Name+"` |") {
			t.Errorf("LANGUAGE.md has no row for field %s", fh.Name)
		}
	}
	code := regexp.MustCompile("`([^`]+)`")
	checked := 0
	section := ""
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "### ") {
			section = line
		}
		cols := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| ") || len(cols) < 2 {
			continue
		}
		var cell string
		switch section {
		case "### Fields":
			if len(cols) < 3 {
				continue
			}
			cell = cols[2]
		case "### Examples":
			cell = cols[1]
		default:
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			if _, err := Parse(m[1], time.Time{}); err != nil {
				t.Errorf("LANGUAGE.md example %q: %v", m[1], err)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Errorf("only %d examples found in LANGUAGE.md; did its tables change shape?", checked)
	}
}
