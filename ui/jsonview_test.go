package ui

import (
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func jsonLines(v *jsonView, width int) []string {
	out := make([]string, v.Len())
	for i := range out {
		out[i] = ansi.Strip(v.Line(i, width))
	}
	return out
}

func TestJSONViewFolding(t *testing.T) {
	b, err := os.ReadFile("testdata/objects.log")
	if err != nil {
		t.Fatal(err)
	}
	event := strings.Split(strings.TrimSpace(string(b)), "\n")[1]
	v := newJSONView([]byte(event), NewStyles(true), defaultFoldKeys...)
	text := strings.Join(jsonLines(v, 200), "\n")
	for _, want := range []string{
		`  "requestObject": {…}, 4 keys`,
		`  "responseObject": {…}, 4 keys`,
		`  "verb": "create",`,
		`  "responseStatus": {`,
		`    "code": 201`,
		`}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	// Folded containers are not parsed until opened.
	for _, n := range v.root.children {
		if n.key == "responseObject" && n.built {
			t.Error("the folded responseObject was built")
		}
	}
	// Opening responseObject leaves its managedFields folded.
	for i, l := range jsonLines(v, 200) {
		if strings.Contains(l, `"responseObject"`) {
			v.Toggle(i)
			break
		}
	}
	text = strings.Join(jsonLines(v, 200), "\n")
	if !strings.Contains(text, `"managedFields": […] 1 item`) || !strings.Contains(text, `"uid": "0f3c8a2e-`) {
		t.Errorf("responseObject opened wrong:\n%s", text)
	}
	// Expand all, then fold back to the opening state.
	before := v.Len()
	v.ToggleAll()
	text = strings.Join(jsonLines(v, 200), "\n")
	if v.Folded() || !strings.Contains(text, `"f:replicas": {}`) {
		t.Errorf("expand all left folds:\n%s", text)
	}
	v.ToggleAll()
	if !v.Folded() || v.Len() >= before {
		t.Errorf("fold all: %d lines (was %d with responseObject open)", v.Len(), before)
	}
	// Toggling on a closing brace folds the container and lands on its line.
	v.ToggleAll()
	lines := jsonLines(v, 200)
	for i, l := range lines {
		if strings.TrimSpace(l) == "}," && strings.Contains(lines[i-1], `"replicas": "3"`) {
			j := v.Toggle(i)
			if got := jsonLines(v, 200)[j]; !strings.Contains(got, `"data": {…}`) {
				t.Errorf("toggle on a closing brace landed on %q", got)
			}
			break
		}
	}
}

func TestJSONViewWidthAndSafety(t *testing.T) {
	doc := `{"user\u001b[2J":"a\u001b]0;x\u0007b","n":12.5,"ok":true,"nil":null,"list":[1,2],"e":{},"long":"` + strings.Repeat("x", 300) + `"}`
	v := newJSONView([]byte(doc), NewStyles(false))
	for i := 0; i < v.Len(); i++ {
		l := v.Line(i, 40)
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %d is %d wide", i, w)
		}
		rest := escSeq.ReplaceAllString(l, "")
		if strings.ContainsAny(rest, "\x1b\x07") {
			t.Errorf("line %d holds a raw escape: %q", i, l)
		}
	}
	text := strings.Join(jsonLines(v, 200), "\n")
	for _, want := range []string{`"user\u001b[2J": "a\u001b]0;x\u0007b",`, `"n": 12.5,`, `"ok": true,`, `"nil": null,`, `"e": {},`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	// Not JSON: shown as one escaped string.
	v = newJSONView([]byte("not json \x1b[31m"), NewStyles(true))
	if got := jsonLines(v, 100); len(got) != 1 || got[0] != `"not json \u001b[31m"` {
		t.Errorf("invalid JSON shown as %q", got)
	}
}
