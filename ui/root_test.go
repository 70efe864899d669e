package ui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

func selected(m *model) *audit.Request { return m.requests.Selected() }

func cursor(m *model) int { c, _ := m.requests.Cursor(); return c }

// Every navigation key of the requests list moves the selection as the
// help says.
func TestRequestsNavigationKeys(t *testing.T) {
	m := sampleModel(t, 80, 12) // 8 page lines: header + 7 rows
	n := len(m.flt.shownReqs())
	if n < 15 {
		t.Fatalf("the sample has %d requests; the test needs more than two pages", n)
	}
	body := m.requests.table.bodyHeight()
	steps := []struct {
		keys []string
		want int
	}{
		{[]string{"j"}, 1},
		{[]string{"down"}, 2},
		{[]string{"k"}, 1},
		{[]string{"up"}, 0},
		{[]string{"up"}, 0}, // stays at the top
		{[]string{"pgdown"}, body},
		{[]string{"space"}, 2 * body},
		{[]string{"pgup"}, body},
		{[]string{"ctrl+d"}, body + body/2},
		{[]string{"ctrl+u"}, body},
		{[]string{"G"}, n - 1},
		{[]string{"j"}, n - 1}, // stays at the bottom
		{[]string{"g"}, 0},
		{[]string{"end"}, n - 1},
		{[]string{"home"}, 0},
	}
	for _, s := range steps {
		press(m, s.keys...)
		if got := cursor(m); got != s.want {
			t.Fatalf("after %v the cursor is on row %d, want %d", s.keys, got, s.want)
		}
		// The selected row is always on screen, drawn as selected.
		top := m.requests.table.Top()
		if c := cursor(m); c < top || c >= top+body {
			t.Fatalf("after %v row %d is off screen (top %d)", s.keys, c, top)
		}
	}
}

func TestMouseWheelAndClick(t *testing.T) {
	m := sampleModel(t, 80, 12)
	send(m, tea.MouseWheelMsg{Button: tea.MouseWheelDown, X: 5, Y: 5})
	if m.requests.table.Top() != 3 {
		t.Fatalf("the wheel scrolled to %d, want 3", m.requests.table.Top())
	}
	send(m, tea.MouseWheelMsg{Button: tea.MouseWheelUp, X: 5, Y: 5})
	if m.requests.table.Top() != 0 {
		t.Fatalf("the wheel scrolled back to %d, want 0", m.requests.table.Top())
	}
	// Screen line 2 is the table header, line 3 the first row.
	send(m, tea.MouseClickMsg{Button: tea.MouseLeft, X: 5, Y: 5})
	if cursor(m) != 2 {
		t.Fatalf("a click on screen line 5 selected row %d, want 2", cursor(m))
	}
	// A click on a tab switches to it.
	x := m.tabStarts()[stateKlog][0] + 1
	send(m, tea.MouseClickMsg{Button: tea.MouseLeft, X: x, Y: 0})
	if m.State() != stateKlog {
		t.Fatalf("a click on the apiserver-log tab gave state %v", m.State())
	}
}

func TestPageSwitchKeys(t *testing.T) {
	m := sampleModel(t, 80, 24)
	for _, c := range []struct {
		key  string
		want state
	}{
		{"tab", stateDetail}, {"tab", stateKlog}, {"tab", stateSummary}, {"tab", stateAnswers},
		{"tab", stateRequests}, {"shift+tab", stateAnswers}, {"1", stateRequests}, {"2", stateDetail},
		{"3", stateKlog}, {"4", stateSummary}, {"5", stateAnswers}, {"1", stateRequests},
	} {
		press(m, c.key)
		if m.State() != c.want {
			t.Fatalf("after %s the state is %v, want %v", c.key, m.State(), c.want)
		}
	}
	// The detail tab with nothing open says what to do.
	press(m, "2")
	if !strings.Contains(screen(m), "No request open") {
		t.Errorf("empty detail page:\n%s", screen(m))
	}
}

func TestHelpOverlay(t *testing.T) {
	m := sampleModel(t, 120, 40)
	press(m, "4", "?")
	if m.State() != stateHelp {
		t.Fatalf("? gave state %v", m.State())
	}
	s := screen(m)
	// Generated from the keymap: every group and the quick-filter keys.
	for _, g := range m.env.Keys.Groups() {
		if !strings.Contains(s, g.Title) {
			t.Errorf("the help lacks group %q", g.Title)
		}
	}
	for _, want := range []string{"only this user", "x u/v/r/n", "export the events", "follow newest"} {
		if !strings.Contains(s, want) {
			t.Errorf("the help lacks %q", want)
		}
	}
	press(m, "esc")
	if m.State() != stateSummary {
		t.Fatalf("esc closed the help to %v, want the page it opened on", m.State())
	}
	press(m, "?", "?")
	if m.State() != stateSummary {
		t.Fatalf("? ? ended on %v", m.State())
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		m := sampleModel(t, 80, 24)
		_, cmd := m.Update(keyMsg(k))
		if cmd == nil {
			t.Fatalf("%s returned no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s does not quit", k)
		}
	}
	// While typing a filter, q is a letter; ctrl+c still quits.
	m := sampleModel(t, 80, 24)
	press(m, "/", "q")
	if m.filterBar.Value() != "q" {
		t.Fatalf("q typed in the filter bar gave %q", m.filterBar.Value())
	}
	_, cmd := m.Update(keyMsg("ctrl+c"))
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("ctrl+c does not quit from the filter bar")
	}
}

func TestOpenDetailAndBack(t *testing.T) {
	m := sampleModel(t, 80, 24)
	i := rowOf(t, m, isDeploymentDelete)
	m.requests.table.SetCursor(i)
	press(m, "enter")
	if m.State() != stateDetail || m.detail.Request() != m.flt.shownReqs()[i] {
		t.Fatalf("enter did not open the selected request")
	}
	if s := screen(m); !strings.Contains(s, "delete apps/deployments default/kubyk-web") {
		t.Fatalf("detail:\n%s", s)
	}
	press(m, "esc")
	if m.State() != stateRequests || cursor(m) != i {
		t.Fatalf("esc went to %v, row %d; want the list on row %d", m.State(), cursor(m), i)
	}
}

// Typing in the filter bar filters as you type (after the debounce); a
// parse error shows inline and the last good filter stays; enter applies
// and remembers; esc goes back to the filter from before.
func TestFilterBar(t *testing.T) {
	m := sampleModel(t, 100, 30)
	total := len(m.flt.shownReqs())
	press(m, "/")
	if !m.filterBar.Focused() {
		t.Fatal("/ did not open the filter bar")
	}
	typeText(m, "verb=delete")
	if len(m.flt.shownReqs()) != total {
		t.Fatal("the filter applied before the debounce")
	}
	send(m, debounceMsg{seq: m.editSeq - 1}) // a stale debounce does nothing
	if len(m.flt.shownReqs()) != total {
		t.Fatal("a stale debounce applied the filter")
	}
	settle(m)
	deletes := len(m.flt.shownReqs())
	if deletes == 0 || deletes == total {
		t.Fatalf("verb=delete shows %d of %d", deletes, total)
	}
	for _, r := range m.flt.shownReqs() {
		if r.Verb != "delete" {
			t.Fatalf("verb=delete shows a %s", r.Verb)
		}
	}
	typeText(m, " code=4x")
	settle(m)
	if len(m.flt.shownReqs()) != deletes || m.flt.expr != "verb=delete" {
		t.Fatalf("a bad filter replaced the good one: %q shows %d", m.flt.expr, len(m.flt.shownReqs()))
	}
	if s := screen(m); !strings.Contains(s, `"code=4x"`) || !strings.Contains(s, "expected") {
		t.Fatalf("the parse error is not shown:\n%s", s)
	}
	press(m, "enter") // does not parse: the bar stays open
	if !m.filterBar.Focused() {
		t.Fatal("enter on a bad filter closed the bar")
	}
	press(m, "backspace")
	typeText(m, "xx")
	press(m, "enter")
	if m.filterBar.Focused() || m.flt.expr != "verb=delete code=4xx" {
		t.Fatalf("enter applied %q (bar open: %v)", m.flt.expr, m.filterBar.Focused())
	}
	if s := screen(m); !strings.Contains(s, "/ verb=delete code=4xx") {
		t.Fatalf("the applied filter is not shown:\n%s", s)
	}
	// esc restores the filter in force when editing began.
	press(m, "/", "ctrl+u")
	settle(m)
	if len(m.flt.shownReqs()) != total {
		t.Fatalf("ctrl+u (cleared filter) shows %d, want all %d", len(m.flt.shownReqs()), total)
	}
	press(m, "esc")
	if m.flt.expr != "verb=delete code=4xx" || m.filterBar.Focused() {
		t.Fatalf("esc left filter %q", m.flt.expr)
	}
	// History: up recalls older filters, down comes back to the draft.
	press(m, "/", "ctrl+u")
	typeText(m, "user=alice")
	press(m, "enter")
	press(m, "/", "ctrl+u")
	typeText(m, "draft")
	press(m, "up")
	if v := m.filterBar.Value(); v != "user=alice" {
		t.Fatalf("up gave %q, want the last filter", v)
	}
	press(m, "up")
	if v := m.filterBar.Value(); v != "verb=delete code=4xx" {
		t.Fatalf("up up gave %q", v)
	}
	press(m, "down", "down")
	if v := m.filterBar.Value(); v != "draft" {
		t.Fatalf("down down gave %q, want the draft back", v)
	}
	press(m, "esc")
	if m.flt.expr != "user=alice" {
		t.Fatalf("after esc the filter is %q", m.flt.expr)
	}
	// ctrl+l drops the filter from the list.
	press(m, "ctrl+l")
	if m.flt.expr != "" || len(m.flt.shownReqs()) != total {
		t.Fatalf("ctrl+l left %q", m.flt.expr)
	}
}

// Enter and esc close the filter bar in the same Update: the very next key
// goes to the page, even when it arrives before any command enter returned
// has run (a fast typist, or keys pasted by tmux).
func TestFilterBarClosesBeforeTheNextKey(t *testing.T) {
	m := sampleModel(t, 100, 30)
	press(m, "/")
	typeText(m, "verb=delete")
	_, pending := m.Update(keyMsg("enter"))
	if m.filterBar.Focused() || m.flt.expr != "verb=delete" {
		t.Fatalf("enter left the bar open (%v) with filter %q", m.filterBar.Focused(), m.flt.expr)
	}
	user := selected(m).User
	send(m, keyMsg("u")) // a quick filter, before enter's commands ran
	run(m, pending, 0)
	if want := "verb=delete user=" + user; m.flt.expr != want || m.filterBar.Focused() {
		t.Fatalf("u right after enter gave filter %q (bar open: %v), want %q", m.flt.expr, m.filterBar.Focused(), want)
	}

	// / right after enter opens the bar again, and it stays open.
	press(m, "/")
	typeText(m, " code=2xx")
	_, pending = m.Update(keyMsg("enter"))
	send(m, keyMsg("/"))
	run(m, pending, 0)
	if !m.filterBar.Focused() || m.filterBar.Value() != "verb=delete user="+user+" code=2xx" {
		t.Fatalf("/ right after enter: bar open %v with %q", m.filterBar.Focused(), m.filterBar.Value())
	}

	// esc, then a key at once: the key goes to the list, not the bar.
	press(m, "esc", "ctrl+l", "g", "/")
	typeText(m, "verb=delete")
	_, pending = m.Update(keyMsg("esc"))
	send(m, keyMsg("j"))
	run(m, pending, 0)
	if m.filterBar.Focused() || m.flt.expr != "" || cursor(m) != 1 {
		t.Fatalf("j right after esc: bar open %v, filter %q, cursor on row %d", m.filterBar.Focused(), m.flt.expr, cursor(m))
	}
}

// ctrl+u clears the text, also after browsing the history: an edit ends the
// browsing, so ↓ then finds nothing newer (no entry comes back) and ↑
// starts again from the newest filter.
func TestFilterBarClearAfterHistory(t *testing.T) {
	m := sampleModel(t, 100, 30)
	for _, expr := range []string{"verb=get", "verb=delete", "user=alice"} {
		press(m, "/", "ctrl+u")
		typeText(m, expr)
		press(m, "enter")
	}
	press(m, "/", "up", "up", "up")
	if v := m.filterBar.Value(); v != "verb=get" {
		t.Fatalf("up up up gave %q, want the oldest filter", v)
	}
	press(m, "ctrl+u")
	settle(m)
	if v := m.filterBar.Value(); v != "" || m.flt.expr != "" {
		t.Fatalf("ctrl+u left %q in the bar, filter %q", v, m.flt.expr)
	}
	press(m, "down")
	if v := m.filterBar.Value(); v != "" {
		t.Fatalf("down after ctrl+u brought back %q, want the cleared text", v)
	}
	press(m, "up")
	if v := m.filterBar.Value(); v != "user=alice" {
		t.Fatalf("up after ctrl+u gave %q, want the newest filter", v)
	}
	// Typing over a recalled filter ends the browsing too.
	press(m, "up")
	typeText(m, " code=2xx")
	press(m, "down")
	if v := m.filterBar.Value(); v != "verb=delete code=2xx" {
		t.Fatalf("down after editing a recalled filter gave %q", v)
	}
	press(m, "up")
	if v := m.filterBar.Value(); v != "user=alice" {
		t.Fatalf("up after editing a recalled filter gave %q, want the newest", v)
	}
	press(m, "down")
	if v := m.filterBar.Value(); v != "verb=delete code=2xx" {
		t.Fatalf("down went back to %q, want the edited text", v)
	}
}

// The apiserver-log page names the input of each other line by its file,
// from Options.InputNames (the source set's inputs, rotated backups
// included), not "input N". The real testdata has no such lines: the mixed
// log here is the start of the real apiserver output plus a line that is
// neither audit nor klog, as a deprecation notice on stderr is.
func TestKlogOtherLinesNameTheirFile(t *testing.T) {
	real, err := os.ReadFile(audittest.Path("stdout", "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(real), "\n")
	n := min(len(lines), 200)
	// First: after a klog line it would read as the message's next line.
	mixed := "Flag --insecure-port has been deprecated, This flag has no effect now.\n" + strings.Join(lines[:n], "")
	mixedPath := filepath.Join(t.TempDir(), "kube-apiserver-previous.log")
	if err := os.WriteFile(mixedPath, []byte(mixed), 0o644); err != nil {
		t.Fatal(err)
	}
	st, set := loadStore(t, audittest.Path("file", "audit.log"), mixedPath)
	var names []string
	for _, in := range set.Inputs() {
		names = append(names, in.Name)
	}
	other := st.Snapshot().Other
	if len(other) != 1 {
		t.Fatalf("%d other lines, want the one added", len(other))
	}
	m := newTestModel(t, st, set.Raw, 120, 40, func(o *Options) { o.InputName = namesOf(names) })
	press(m, "3", "o")
	s := screen(m)
	want := "kube-apiserver-previous.log:1 "
	if !strings.Contains(s, want) || strings.Contains(s, "input ") {
		t.Fatalf("the other line is not shown as %s:\n%s", want, s)
	}
}

// u, v, r, n narrow by the selected request; x then a field key excludes.
func TestQuickFilters(t *testing.T) {
	m := sampleModel(t, 100, 30)
	m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
	press(m, "u")
	if m.flt.expr != "user=kubernetes-admin" {
		t.Fatalf("u gave %q", m.flt.expr)
	}
	press(m, "v")
	press(m, "r")
	press(m, "n")
	if m.flt.expr != "user=kubernetes-admin verb=delete resource=apps/deployments ns=default" {
		t.Fatalf("u v r n gave %q", m.flt.expr)
	}
	if len(m.flt.shownReqs()) != 1 || !isDeploymentDelete(m.flt.shownReqs()[0]) {
		t.Fatalf("the quick filters show %d requests", len(m.flt.shownReqs()))
	}
	// The selection stays on the request the filters were built from.
	if !isDeploymentDelete(selected(m)) {
		t.Fatal("the selection moved away")
	}
	press(m, "ctrl+l")
	m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
	press(m, "x", "u")
	if m.flt.expr != "user!=kubernetes-admin" {
		t.Fatalf("x u gave %q", m.flt.expr)
	}
	for _, r := range m.flt.shownReqs() {
		if r.User == "kubernetes-admin" {
			t.Fatal("x u left a kubernetes-admin request")
		}
	}
	// x then a key that is not a field cancels, and the key does nothing else.
	before := m.flt.expr
	press(m, "x", "j")
	if m.flt.expr != before || m.requests.excludePending {
		t.Fatal("x j changed something")
	}
	// The resource quick filter on a non-resource request uses its path.
	press(m, "ctrl+l")
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return r.RequestURI() == "/livez" }))
	press(m, "r")
	if m.flt.expr != "uri=/livez" || len(m.flt.shownReqs()) != 1 {
		t.Fatalf("r on /livez gave %q (%d)", m.flt.expr, len(m.flt.shownReqs()))
	}
}

func TestDetailKeys(t *testing.T) {
	st, set := loadStore(t, "testdata/objects.log")
	m := newTestModel(t, st, set.Raw, 100, 30)
	press(m, "enter")
	d := m.detail
	if d.evIdx != len(d.raws)-1 {
		t.Fatalf("the detail opened on event %d of %d, want the last", d.evIdx, len(d.raws))
	}
	if !strings.Contains(screen(m), "Event 2 of 2: ResponseComplete") {
		t.Fatalf("detail:\n%s", screen(m))
	}
	press(m, "[")
	if d.evIdx != 0 || !strings.Contains(screen(m), "Event 1 of 2: RequestReceived") {
		t.Fatalf("[ shows event %d:\n%s", d.evIdx, screen(m))
	}
	press(m, "]")
	if d.evIdx != 1 {
		t.Fatalf("] shows event %d", d.evIdx)
	}
	// requestObject is folded; e unfolds everything, e again folds back.
	folded := d.json.Len()
	if !strings.Contains(screen(m)+strings.Join(allLines(d), "\n"), `"requestObject": {…}`) {
		t.Fatalf("requestObject is not folded:\n%s", strings.Join(allLines(d), "\n"))
	}
	press(m, "E")
	if d.json.Len() <= folded || d.json.Folded() {
		t.Fatalf("e: %d lines, folded %v", d.json.Len(), d.json.Folded())
	}
	press(m, "E")
	if d.json.Len() != folded {
		t.Fatalf("e e: %d lines, want %d", d.json.Len(), folded)
	}
	// space on the requestObject line unfolds it, space again folds it.
	for i, l := range allLines(d) {
		if strings.Contains(l, `"requestObject": {…}`) {
			d.cursor = len(d.header) + i
		}
	}
	press(m, "space")
	if d.json.Len() <= folded {
		t.Fatal("space did not unfold requestObject")
	}
	press(m, "z")
	if d.json.Len() != folded {
		t.Fatal("z did not fold requestObject back")
	}
	// Scrolling keys.
	press(m, "G")
	if d.cursor != d.lines()-1 {
		t.Fatalf("G: cursor %d of %d", d.cursor, d.lines())
	}
	press(m, "g")
	if d.cursor != 0 || d.top != 0 {
		t.Fatalf("g: cursor %d top %d", d.cursor, d.top)
	}
	press(m, "j", "down")
	if d.cursor != 2 {
		t.Fatalf("j down: cursor %d", d.cursor)
	}
	press(m, "k")
	if d.cursor != 1 {
		t.Fatalf("k: cursor %d", d.cursor)
	}
	press(m, "pgdown")
	if d.top == 0 {
		t.Fatal("pgdown did not scroll")
	}
	press(m, "pgup")
	if d.top != 0 {
		t.Fatalf("pgup: top %d", d.top)
	}
	send(m, tea.MouseWheelMsg{Button: tea.MouseWheelDown, Y: 5})
	if d.top != 3 {
		t.Fatalf("wheel: top %d", d.top)
	}
}

func allLines(d *detailPage) []string {
	var out []string
	for i := 0; i < d.json.Len(); i++ {
		out = append(out, strings.TrimSpace(stripped(d.json.Line(i, 200))))
	}
	return out
}

func stripped(s string) string { return ansi.Strip(s) }

// w asks where (the export prompt, a file in OutDir first), then writes
// the request's raw events, one per line, and says where.
func TestDetailWrite(t *testing.T) {
	m := sampleModel(t, 100, 30)
	m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
	press(m, "enter", "w")
	r := m.detail.Request()
	path := filepath.Join(m.opts.OutDir, "kauditui-"+r.AuditID+".jsonl")
	if foot := lastLine(screen(m)); !strings.HasPrefix(foot, "export 2 events of this request (.jsonl) to: ") || m.export.input.Value() != path {
		t.Fatalf("w shows no prompt with the default path %s; footer: %q", path, foot)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("w wrote before the user said where")
	}
	press(m, "enter")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(r.Events) {
		t.Fatalf("wrote %d lines for %d events", len(lines), len(r.Events))
	}
	for i, l := range lines {
		raw, _ := m.env.Data.Raw(r.Events[i].Ref)
		if l != string(raw) {
			t.Fatalf("line %d is not the raw event:\n%s\n%s", i, l, raw)
		}
	}
	if want := "wrote 2 events of this request as JSON lines (" + byteCount(len(b)) + ") to " + path; m.message != want {
		t.Fatalf("the status bar says %q, want %q", m.message, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("the file is mode %v; audit events may hold secrets", st.Mode().Perm())
	}
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"7f1b-42":          "7f1b-42",
		"../../etc/passwd": ".._.._etc_passwd",
		"":                 "request",
		"..":               "request",
		"a\x1b[2Jb":        "a__2Jb",
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Follow: the list sticks to the newest request as the store grows, until
// the user moves up; F resumes.
func TestFollow(t *testing.T) {
	lines, err := os.ReadFile(sampleLog(t))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Split(strings.TrimSpace(string(lines)), "\n")
	st := audit.NewStore()
	add := func(from, to int) {
		for i := from; i < to; i++ {
			st.AddEvent([]byte(all[i]), audit.Ref{Line: int64(i + 1)})
		}
	}
	add(0, 10)
	m := newTestModel(t, st, nil, 80, 12, withFollow())
	last := func() *audit.Request { return m.flt.shownReqs()[len(m.flt.shownReqs())-1] }
	if selected(m) != last() {
		t.Fatal("following does not start on the newest request")
	}
	add(10, 20)
	send(m, tickMsg{})
	if selected(m) != last() {
		t.Fatal("the list did not follow new requests")
	}
	if !strings.Contains(screen(m), "following") {
		t.Errorf("the status bar does not say it follows:\n%s", screen(m))
	}
	press(m, "k")
	held := selected(m)
	add(20, 30)
	send(m, tickMsg{})
	if selected(m) != held || m.requests.Following() {
		t.Fatal("after k the list still follows")
	}
	if !strings.Contains(screen(m), "paused") {
		t.Errorf("the status bar does not say following is paused:\n%s", screen(m))
	}
	press(m, "F")
	add(30, len(all))
	send(m, tickMsg{})
	if selected(m) != last() || !m.requests.Following() {
		t.Fatal("F did not resume following")
	}
}

// The loader runs in the background: the list is usable before it ends,
// and the status bar shows progress while it reads.
func TestLoadInBackground(t *testing.T) {
	lines, _ := os.ReadFile(sampleLog(t))
	all := strings.Split(strings.TrimSpace(string(lines)), "\n")
	st := audit.NewStore()
	release := make(chan struct{})
	prog := &Progress{}
	m := New(Options{
		Data: Data{Store: st},
		Load: func(ctx context.Context) error {
			for i, l := range all[:10] {
				st.AddEvent([]byte(l), audit.Ref{Line: int64(i + 1)})
			}
			prog.Set(1000, 4000)
			<-release
			for i, l := range all[10:] {
				st.AddEvent([]byte(l), audit.Ref{Line: int64(i + 11)})
			}
			prog.Set(4000, 4000)
			return nil
		},
		Progress: prog,
		NoColor:  true,
		Now:      func() time.Time { return testNow },
	})
	t.Cleanup(m.Close)
	send(m, tea.WindowSizeMsg{Width: 100, Height: 20})
	cmd := m.Init()
	done := make(chan tea.Msg, 16)
	go func() {
		for _, c := range flatten(cmd) {
			go func(c tea.Cmd) { done <- c() }(c)
		}
	}()
	// Wait for the first half, as the ticks would.
	deadline := time.Now().Add(2 * time.Second)
	for len(st.Snapshot().Requests) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	send(m, tickMsg{})
	if n := len(m.flt.shownReqs()); n == 0 {
		t.Fatal("nothing listed while loading")
	}
	if s := screen(m); !strings.Contains(s, "loading") || !strings.Contains(s, "25%") {
		t.Fatalf("no progress while loading:\n%s", s)
	}
	press(m, "j")
	if cursor(m) != 1 {
		t.Fatal("the list does not move while loading")
	}
	close(release)
	for {
		msg := <-done
		if _, ok := msg.(loadDoneMsg); ok {
			send(m, msg)
			break
		}
	}
	if strings.Contains(screen(m), "loading") {
		t.Fatalf("still loading after the loader ended:\n%s", screen(m))
	}
	if len(m.flt.shownReqs()) != len(st.Snapshot().Requests) {
		t.Fatal("the last requests are missing")
	}
}

func flatten(cmd tea.Cmd) []tea.Cmd {
	if cmd == nil {
		return nil
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	select {
	case msg := <-ch:
		if b, ok := msg.(tea.BatchMsg); ok {
			var out []tea.Cmd
			for _, c := range b {
				out = append(out, flatten(c)...)
			}
			return out
		}
		return []tea.Cmd{func() tea.Msg { return msg }}
	case <-time.After(50 * time.Millisecond):
		return []tea.Cmd{func() tea.Msg { return <-ch }}
	}
}

// On the apiserver-log page, / edits the log's own text filter (the request
// filter does not apply there); global keys type letters while it does.
func TestSlashOnKlogPage(t *testing.T) {
	m := sampleModel(t, 100, 30)
	press(m, "3", "/")
	if m.filterBar.Focused() {
		t.Fatal("/ on the apiserver log opened the request filter")
	}
	c, ok := m.active().(inputCapturer)
	if !ok || !c.CapturesInput() {
		t.Fatal("/ on the apiserver log did not start its text filter")
	}
	press(m, "q", "1")
	if m.State() != stateKlog {
		t.Fatalf("keys typed into the log filter switched to %v", m.State())
	}
}

// Big stores are filtered off the UI goroutine: the status bar says so, a
// result that a newer filter overtook is dropped, and requests that arrived
// meanwhile are caught up.
func TestAsyncRefilter(t *testing.T) {
	defer func(n int) { asyncOver = n }(asyncOver)
	asyncOver = 0
	lines, _ := os.ReadFile(sampleLog(t))
	all := strings.Split(strings.TrimSpace(string(lines)), "\n")
	st := audit.NewStore()
	for i, l := range all[:20] {
		st.AddEvent([]byte(l), audit.Ref{Line: int64(i + 1)})
	}
	m := newTestModel(t, st, nil, 100, 20)
	_, first := m.Update(setFilterMsg{Expr: "verb=get"})
	if !m.refiltering || !strings.Contains(screen(m), "filtering…") {
		t.Fatalf("no sign of filtering:\n%s", screen(m))
	}
	_, second := m.Update(setFilterMsg{Expr: "verb=delete"})
	msg2 := second()
	msg1 := first()
	for i, l := range all[20:] {
		st.AddEvent([]byte(l), audit.Ref{Line: int64(i + 21)})
	}
	send(m, msg2)
	send(m, msg1) // overtaken: dropped
	if m.flt.expr != "verb=delete" || m.refiltering {
		t.Fatalf("filter %q, refiltering %v", m.flt.expr, m.refiltering)
	}
	want := 0
	for _, r := range st.Snapshot().Requests {
		if r.Verb == "delete" {
			want++
		}
	}
	if len(m.flt.shownReqs()) != want {
		t.Fatalf("shows %d deletes, the store has %d", len(m.flt.shownReqs()), want)
	}
}
