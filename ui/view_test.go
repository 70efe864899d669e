package ui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
)

var sizes = []struct{ w, h int }{{80, 24}, {120, 40}}

func TestGoldenRequests(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			m := sampleModel(t, sz.w, sz.h)
			checkFrame(t, m, sz.w, sz.h)
			golden(t, fmt.Sprintf("requests-%dx%d.txt", sz.w, sz.h), screen(m))
		})
	}
}

func TestGoldenRequestsFiltered(t *testing.T) {
	m := sampleModel(t, 80, 24, withFilter("verb=delete,deletecollection"))
	checkFrame(t, m, 80, 24)
	golden(t, "requests-deletes-80x24.txt", screen(m))
}

// isDeploymentDelete is the request "who deleted my deployment" looks for.
func isDeploymentDelete(r *audit.Request) bool {
	return r.Verb == "delete" && r.Resource == "deployments" && r.Code == 200
}

func TestGoldenDetail(t *testing.T) {
	for _, sz := range sizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			m := sampleModel(t, sz.w, sz.h)
			m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
			press(m, "enter")
			if m.State() != stateDetail {
				t.Fatalf("state %v after enter, want the detail", m.State())
			}
			checkFrame(t, m, sz.w, sz.h)
			golden(t, fmt.Sprintf("detail-%dx%d.txt", sz.w, sz.h), screen(m))
		})
	}
}

// The detail page's labels stand in a column of their own: every label,
// the longest ("As groups") too, is followed by at least a space, and the
// values start in one column.
func TestDetailLabelColumn(t *testing.T) {
	m := sampleModel(t, 120, 40)
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return len(r.ImpersonatedGroups) > 0 }))
	press(m, "enter")
	if m.State() != stateDetail {
		t.Fatalf("state %v after enter, want the detail", m.State())
	}
	scr := screen(m)
	if !strings.Contains(scr, "As groups ops, system:authenticated") {
		t.Errorf("the impersonated groups are not shown as \"As groups ops, system:authenticated\":\n%s", scr)
	}
	lines := strings.Split(scr, "\n")
	valueCol := -1
	for _, label := range []string{"Time", "User", "Groups", "As groups", "From", "URI", "Authz", "Audit ID", "Stages"} {
		var line string
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimLeft(l, " ▸"), label) {
				line = l
				break
			}
		}
		if line == "" {
			t.Errorf("no line starts with the label %q:\n%s", label, scr)
			continue
		}
		end := strings.Index(line, label) + len(label)
		if line[end] != ' ' {
			t.Errorf("no space after the label %q: %q", label, line)
			continue
		}
		if label == "Stages" {
			continue // its lines start with the mark of the event shown
		}
		col := end + len(line[end:]) - len(strings.TrimLeft(line[end:], " "))
		if valueCol < 0 {
			valueCol = col
		} else if col != valueCol {
			t.Errorf("the value of %q starts in column %d, the one of %q in %d:\n%s", label, col, "Time", valueCol, scr)
		}
	}
}

func TestGoldenHelp(t *testing.T) {
	m := sampleModel(t, 120, 40)
	press(m, "?")
	checkFrame(t, m, 120, 40)
	golden(t, "help-120x40.txt", screen(m))
}

// Every size from tiny to huge draws a full frame, no line wider than the
// terminal (resizes are clean).
func TestResizeKeepsFrame(t *testing.T) {
	m := sampleModel(t, 80, 24)
	for _, sz := range []struct{ w, h int }{{20, 5}, {40, 10}, {60, 15}, {79, 24}, {100, 30}, {160, 50}, {250, 60}} {
		for _, state := range []state{stateRequests, stateDetail, stateHelp} {
			m.setState(stateRequests)
			if state == stateDetail {
				press(m, "enter")
			}
			if state == stateHelp {
				press(m, "?")
			}
			send(m, sizeMsg(sz.w, sz.h))
			t.Run(fmt.Sprintf("%dx%d/%d", sz.w, sz.h, state), func(t *testing.T) { checkFrame(t, m, sz.w, sz.h) })
			press(m, "esc")
		}
	}
}

// The columns use the whole width and never overflow it.
func TestLayoutColumns(t *testing.T) {
	for w := 30; w <= 260; w++ {
		cols := requestColumns(w)
		ws := layoutColumns(cols, w, nil)
		used, n := 0, 0
		for _, x := range ws {
			if x > 0 {
				used += x
				n++
			}
		}
		used += n - 1
		if used > w {
			t.Fatalf("width %d: columns take %d", w, used)
		}
		if w >= 70 && ws[1] == 0 {
			t.Fatalf("width %d: the user column is hidden", w)
		}
	}
}

// sgrOnly matches the escape sequences our own styles write (SGR: colours
// and attributes). Anything else in a frame would be an injected sequence.
var escSeq = regexp.MustCompile("\x1b\\[[0-9;:]*m")

// A user agent, a user name, an object name and a message full of terminal
// escapes (clear screen, OSC title/hyperlink, bidi override, C1 CSI, BEL)
// are drawn escaped in every view: the frame holds no escape sequence but
// our own colours.
func TestSanitizedViews(t *testing.T) {
	evil := "\x1b[2J\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\link\u202eevil\u009b31m\r\n"
	st := audit.NewStore()
	line := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"evil-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods/%[1]s","verb":"delete","user":{"username":"mallory%[1]s","groups":["x%[1]s"]},"impersonatedUser":{"username":"imp%[1]s"},"sourceIPs":["10.0.0.9"],"userAgent":"curl%[1]s","objectRef":{"resource":"pods","namespace":"default","name":"web%[1]s","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":403,"message":"no%[1]s"},"requestReceivedTimestamp":"2026-11-26T03:00:00.000000Z","stageTimestamp":"2026-11-26T03:00:00.002000Z","annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":"r%[1]s"}}`,
		jsonEscape(evil))
	if _, _, ok := st.AddEvent([]byte(line), audit.Ref{Len: int32(len(line)), Line: 1}); !ok {
		t.Fatal("the test event does not parse")
	}
	raw := func(audit.Ref) ([]byte, error) { return []byte(line), nil }
	for _, sz := range sizes {
		for _, color := range []bool{false, true} {
			var opts []testOpt
			if color {
				opts = append(opts, withColor())
			}
			m := newTestModel(t, st, raw, sz.w, sz.h, opts...)
			frames := map[string]string{"requests": m.Render()}
			press(m, "enter")
			frames["detail"] = m.Render()
			press(m, "E") // everything expanded
			frames["detail expanded"] = m.Render()
			press(m, "esc", "/")
			typeText(m, "user=mallory*")
			settle(m)
			frames["filter bar"] = m.Render()
			for name, f := range frames {
				rest := escSeq.ReplaceAllString(f, "")
				for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u009b", "\r"} {
					if strings.Contains(rest, bad) {
						t.Errorf("%dx%d color=%v %s: the frame holds %q:\n%q", sz.w, sz.h, color, name, bad, rest)
					}
				}
			}
			if !strings.Contains(screen(m), `mallory\x1b[2J`) {
				t.Errorf("the user name is not shown escaped:\n%s", screen(m))
			}
		}
	}
}

func jsonEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '"' || r == '\\' {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Colour carries meaning: a delete is drawn in the destructive style, a
// write in the write style, a 403 with forbid in the forbid style.
func TestColourMeaning(t *testing.T) {
	m := sampleModel(t, 120, 40, withColor())
	st := m.env.Styles
	out := m.Render()
	for name, want := range map[string]string{
		"delete": st.VerbDelete.Render("delete"),
		"patch":  st.VerbWrite.Render("patch"),
		"get":    st.VerbRead.Render("get"),
		"403":    st.Forbid.Render("403"),
		"201":    st.Code2xx.Render("201"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("%s is not drawn as %q", name, want)
		}
	}
	if st.VerbDelete.Render("delete") == st.VerbWrite.Render("delete") {
		t.Error("deletes look like other writes")
	}
}

// NO_COLOR: the plain style set writes no colour at all.
func TestNoColor(t *testing.T) {
	m := sampleModel(t, 120, 40)
	press(m, "enter")
	frames := []string{m.Render()}
	press(m, "esc", "?")
	frames = append(frames, m.Render())
	press(m, "esc", "/")
	typeText(m, "code=4x")
	settle(m)
	frames = append(frames, m.Render())
	for _, f := range frames {
		for _, seq := range escSeq.FindAllString(f, -1) {
			for _, p := range strings.FieldsFunc(seq[2:len(seq)-1], func(r rune) bool { return r == ';' || r == ':' }) {
				n, _ := strconv.Atoi(p)
				if n >= 30 && n <= 49 || n >= 90 && n <= 107 {
					t.Fatalf("a colour sequence %q in a NO_COLOR frame", seq)
				}
			}
		}
	}
}

func sizeMsg(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
