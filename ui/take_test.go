package ui

import (
	"context"
	"encoding/csv"
	"fmt"
	"github.com/kauditui/kauditui/audit/audittest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
)

// Copy, export, pager, editor, mouse, search in a page and the order of the
// Requests list, through the explorer's keys (the in-process driver).

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

// pressCollect presses a key like press, and returns every message its
// commands produced (the clipboard's among them).
func pressCollect(m *model, k string) []tea.Msg {
	var msgs []tea.Msg
	var run func(cmd tea.Cmd, depth int)
	run = func(cmd tea.Cmd, depth int) {
		if cmd == nil || depth > 20 {
			return
		}
		ch := make(chan tea.Msg, 1)
		go func() { ch <- cmd() }()
		var msg tea.Msg
		select {
		case msg = <-ch:
		case <-time.After(cmdWait):
			panic("a command of the explorer did not return")
		}
		switch msg := msg.(type) {
		case nil, timerMsg:
		case tea.BatchMsg:
			for _, c := range msg {
				run(c, depth+1)
			}
		default:
			msgs = append(msgs, msg)
			_, next := m.Update(msg)
			run(next, depth+1)
		}
	}
	_, cmd := m.Update(keyMsg(k))
	run(cmd, 0)
	return msgs
}

// clipboardOf is what a key sent to the terminal's clipboard (bubbletea's
// OSC 52 message), and whether it sent anything.
func clipboardOf(msgs []tea.Msg) (string, bool) {
	for _, msg := range msgs {
		if reflect.TypeOf(msg).String() == "tea.setClipboardMsg" {
			return reflect.ValueOf(msg).String(), true
		}
	}
	return "", false
}

func clearInput(m *model) {
	for range 300 {
		press(m, "backspace")
	}
}

// y on Requests copies the selected request's auditID through OSC 52 and
// says what and how much; Y copies its events, raw, as JSON lines.
func TestCopyAuditIDAndEvents(t *testing.T) {
	m := sampleModel(t, 120, 30)
	m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
	r := selected(m)
	got, ok := clipboardOf(pressCollect(m, "y"))
	if !ok || got != r.AuditID {
		t.Fatalf("y copied %q (sent: %v), want the auditID %q", got, ok, r.AuditID)
	}
	if want := "copied the auditID of delete apps/deployments"; !strings.Contains(m.message, want) ||
		!strings.Contains(m.message, "(36 bytes) to the clipboard") {
		t.Errorf("the status line says %q, want %q… (36 bytes)", m.message, want)
	}
	if !strings.Contains(screen(m), "(36 bytes) to the clipboard") {
		t.Errorf("the status bar does not say what was copied:\n%s", screen(m))
	}
	got, ok = clipboardOf(pressCollect(m, "Y"))
	var want strings.Builder
	for _, ev := range r.Events {
		raw, _ := m.env.Data.Raw(ev.Ref)
		want.Write(raw)
		want.WriteByte('\n')
	}
	if !ok || got != want.String() {
		t.Fatalf("Y copied %q, want the raw events:\n%s", got, want.String())
	}
	if w := fmt.Sprintf("copied 2 events of delete apps/deployments"); !strings.Contains(m.message, w) ||
		!strings.Contains(m.message, "as JSON lines ("+byteCount(len(got))+")") {
		t.Errorf("the status line says %q", m.message)
	}
}

// On Detail, y copies the JSON value under the cursor as logged: a hostile
// name with a real ESC is copied raw (the user's data) while every frame
// and the status line show it escaped.
func TestCopyDetailValueRawDrawnEscaped(t *testing.T) {
	st, set := loadStore(t, "../testdata/hostile/audit.log")
	m := newTestModel(t, st, set.Raw, 120, 40)
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return strings.Contains(r.Name, "\x1b") }))
	press(m, "enter", "E") // everything expanded
	at := -1
	for i := 0; i < m.detail.lines(); i++ {
		if l := m.detail.lineText(i); strings.HasPrefix(strings.TrimSpace(l), `"name": "evil`) {
			at = i
		}
	}
	if at < 0 {
		t.Fatal("no name line in the detail of the hostile request")
	}
	m.detail.cursor = at
	m.detail.clamp()
	got, ok := clipboardOf(pressCollect(m, "y"))
	if !ok || got != "evil\x1b[2Jname" {
		t.Fatalf("y on the name copied %q, want the raw name", got)
	}
	if !strings.Contains(m.message, `copied the value of "name" (12 bytes)`) {
		t.Errorf("the status line says %q", m.message)
	}
	if strings.Contains(escSeq.ReplaceAllString(m.Render(), ""), "\x1b") {
		t.Error("the frame holds a raw ESC after copying")
	}
	// On the summary above the JSON, y copies the auditID.
	press(m, "g")
	if got, _ := clipboardOf(pressCollect(m, "y")); got != m.detail.Request().AuditID {
		t.Errorf("y on the summary copied %q, want the auditID", got)
	}
	// The status line names the request, escaped.
	if !strings.Contains(m.message, `evil\x1b[2Jname`) || strings.Contains(escSeq.ReplaceAllString(m.Render(), ""), "\x1b") {
		t.Errorf("the status line does not name the request escaped: %q", m.message)
	}
}

// ctrl+s on Requests asks where, offering a file in OutDir; the extension
// typed chooses JSON lines (the raw events, as query -o json) or CSV (a
// row per request, values as logged); another extension is refused with
// what to type.
func TestExportRequestsJSONLinesAndCSV(t *testing.T) {
	m := sampleModel(t, 140, 30, withFilter("verb=delete"))
	shown := slices.Clone(reqsOf(m.requests.shown))
	press(m, "ctrl+s")
	def := filepath.Join(m.opts.OutDir, "kauditui-requests.jsonl")
	foot := lastLine(screen(m))
	if !strings.Contains(foot, fmt.Sprintf("export %d requests (.jsonl, .csv) to: %s", len(shown), def)) {
		t.Fatalf("ctrl+s shows no prompt with the default path; footer: %q", foot)
	}
	press(m, "enter")
	b, err := os.ReadFile(def)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for _, r := range shown {
		for _, ev := range r.Events {
			raw, _ := m.env.Data.Raw(ev.Ref)
			want.Write(raw)
			want.WriteByte('\n')
		}
	}
	if string(b) != want.String() {
		t.Errorf("the JSON lines are not the raw events of the requests shown")
	}
	if w := fmt.Sprintf("wrote %d requests as JSON lines (%s) to %s", len(shown), byteCount(len(b)), def); m.message != w {
		t.Errorf("the status line says %q, want %q", m.message, w)
	}

	// A name the formats do not know: refused, the prompt stays.
	press(m, "ctrl+s")
	clearInput(m)
	typeText(m, filepath.Join(m.opts.OutDir, "x.txt"))
	press(m, "enter")
	if !m.export.open || m.message != "end the file name in .jsonl (JSON lines) or .csv (CSV)" {
		t.Fatalf("a .txt name: prompt open %v, status %q", m.export.open, m.message)
	}
	clearInput(m)
	csvPath := filepath.Join(m.opts.OutDir, "deletes.csv")
	typeText(m, csvPath)
	press(m, "enter")
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(shown)+1 || !slices.Equal(rows[0], requestsCSVHeader) {
		t.Fatalf("the CSV has %d rows (want a header and %d) and header %v", len(rows), len(shown), rows[0])
	}
	for i, r := range shown {
		row := rows[i+1]
		if row[1] != r.AuditID || row[2] != r.User || row[4] != "delete" || row[9] != r.Name {
			t.Errorf("CSV row %d is %v, not request %s", i+1, row, r.AuditID)
		}
	}
	if fi, _ := os.Stat(csvPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("the export is mode %v; audit events may hold secrets", fi.Mode().Perm())
	}
	if entries, _ := filepath.Glob(filepath.Join(m.opts.OutDir, ".kauditui-*")); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// The kubelet's static pod folder is refused with a one-line reason,
// whatever the spelling; an existing file is replaced only on a second
// enter; esc exports nothing.
func TestExportRefusesManifestsAndAsksBeforeReplacing(t *testing.T) {
	m := sampleModel(t, 140, 30)
	for _, p := range []string{"/etc/kubernetes/manifests/rbac.yaml", "/etc/kubernetes/pki/../manifests/x.jsonl", "/etc/kubernetes/manifests"} {
		press(m, "ctrl+s")
		clearInput(m)
		typeText(m, p)
		press(m, "enter")
		if !strings.HasPrefix(m.message, "not into /etc/kubernetes/manifests: the kubelet would try to run every file there") {
			t.Errorf("%s: the status line says %q", p, m.message)
		}
		if _, err := os.Stat("/etc/kubernetes/manifests/rbac.yaml"); err == nil && p == "/etc/kubernetes/manifests/rbac.yaml" {
			t.Errorf("%s was written", p)
		}
		if !m.export.open {
			t.Errorf("%s: the prompt closed; it stays open to type another path", p)
		}
		press(m, "esc")
		if m.export.open || m.message != "nothing exported" {
			t.Errorf("esc: prompt open %v, status %q", m.export.open, m.message)
		}
	}
	// A link to the folder is followed.
	if _, err := os.Stat("/etc/kubernetes/manifests"); err == nil {
		link := filepath.Join(t.TempDir(), "m")
		if err := os.Symlink("/etc/kubernetes/manifests", link); err == nil {
			press(m, "ctrl+s")
			clearInput(m)
			typeText(m, filepath.Join(link, "x.jsonl"))
			press(m, "enter")
			if !strings.HasPrefix(m.message, "not into /etc/kubernetes/manifests") {
				t.Errorf("a link to the manifests folder: %q", m.message)
			}
			press(m, "esc")
		}
	}
	path := filepath.Join(m.opts.OutDir, "old.jsonl")
	os.WriteFile(path, []byte("keep\n"), 0o600)
	press(m, "ctrl+s")
	clearInput(m)
	typeText(m, path)
	press(m, "enter")
	if b, _ := os.ReadFile(path); string(b) != "keep\n" || m.message != path+" exists: enter again to replace it, or change the name" {
		t.Fatalf("an existing file: status %q, content %q", m.message, b)
	}
	press(m, "enter")
	if b, _ := os.ReadFile(path); string(b) == "keep\n" || !strings.HasPrefix(m.message, "wrote ") {
		t.Fatalf("the second enter did not replace the file: status %q", m.message)
	}
}

// The RBAC answer exports as YAML, the history as text, the timeline as
// CSV: each what its screen shows.
func TestExportAnswerScreens(t *testing.T) {
	st, set := loadStore(t, audittest.Path("answers", "audit.log"))
	m := newTestModel(t, st, set.Raw, 140, 50)
	ans := m.pages[stateAnswers].(*answersPage)
	press(m, "5")
	for range answerIndex(t, "denied") {
		press(m, "j")
	}
	press(m, "l", "R")
	h := frontScreen(m) // R pushes on the root's stack
	if h == nil {
		t.Fatal("R opened no RBAC screen")
	}
	press(m, "ctrl+s")
	if foot := lastLine(screen(m)); !strings.Contains(foot, "export the RBAC answer for ") || !strings.Contains(foot, ".yaml") {
		t.Fatalf("ctrl+s on the RBAC answer: footer %q", foot)
	}
	press(m, "enter")
	path := strings.TrimPrefix(m.message[strings.LastIndex(m.message, " to ")+4:], "")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (status %q)", err, m.message)
	}
	if string(b) != strings.Join(h.lines, "\n")+"\n" || !strings.Contains(string(b), "kind: Role") {
		t.Errorf("the YAML written is not the RBAC answer shown:\n%s", b)
	}
	if !strings.HasPrefix(m.message, "wrote the RBAC answer for ") || !strings.Contains(m.message, " as YAML (") {
		t.Errorf("the status line says %q", m.message)
	}
	// y copies the whole answer.
	if got, _ := clipboardOf(pressCollect(m, "y")); got != string(b) {
		t.Errorf("y on the RBAC answer copied %q", got)
	}

	// The timeline as CSV: a row per step, every column whole.
	press(m, "esc", "h", "g")
	for range answerIndex(t, "timeline") {
		press(m, "j")
	}
	press(m, "enter")
	tl := ans.timeline()
	if tl == nil {
		t.Fatal("no timeline screen")
	}
	press(m, "ctrl+s")
	clearInput(m)
	csvPath := filepath.Join(m.opts.OutDir, "when.csv")
	typeText(m, csvPath)
	press(m, "enter")
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatalf("%v (status %q)", err, m.message)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(tl.tl.Buckets)+1 || rows[0][0] != "TIME" || rows[0][len(rows[0])-1] != "SLOW TIME IN" {
		t.Fatalf("the timeline CSV has %d rows for %d steps; header %v", len(rows), len(tl.tl.Buckets), rows[0])
	}
	total := 0
	for _, r := range rows[1:] {
		var n int
		fmt.Sscan(r[1], &n)
		total += n
	}
	if total != tl.tl.Requests {
		t.Errorf("the CSV's REQS add up to %d, the timeline says %d", total, tl.tl.Requests)
	}
}

// fakeExec runs the program at once, without a terminal, as ExecProcess
// would run it in the explorer's place.
func fakeExec(c *exec.Cmd, fn tea.ExecCallback) tea.Cmd {
	return func() tea.Msg { return fn(c.Run()) }
}

// A pager (or editor) that copies the file it is given to out.
func catTo(t *testing.T, out string) string {
	t.Helper()
	script := filepath.Join(t.TempDir(), "fake-pager")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ncat \"$1\" > "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// v opens the page's text in $PAGER, e in $EDITOR: the text as drawn
// (sanitised: the pager draws it), the temporary file gone after. On
// Requests v stays "only this verb".
func TestPagerAndEditor(t *testing.T) {
	st, set := loadStore(t, "../testdata/hostile/audit.log")
	m := newTestModel(t, st, set.Raw, 120, 40)
	m.execProcess = fakeExec
	dir := t.TempDir()
	t.Setenv("PAGER", catTo(t, filepath.Join(dir, "paged")))
	t.Setenv("EDITOR", catTo(t, filepath.Join(dir, "edited")))
	t.Setenv("TMPDIR", dir)
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return strings.Contains(r.Name, "\x1b") }))
	r := selected(m)
	press(m, "enter", "v")
	b, err := os.ReadFile(filepath.Join(dir, "paged"))
	if err != nil {
		t.Fatalf("v ran no pager: %v (status %q)", err, m.message)
	}
	for _, want := range []string{"Audit ID", r.AuditID, `"name": "evil\u001b[2Jname"`, "── Event 1 of "} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the pager's text lacks %q:\n%s", want, b)
		}
	}
	if strings.ContainsAny(string(b), "\x1b\u202e\u009b") {
		t.Errorf("the pager's text holds a raw control character")
	}
	if !strings.HasPrefix(m.message, "back from ") {
		t.Errorf("after the pager the status line says %q", m.message)
	}
	press(m, "e")
	e, err := os.ReadFile(filepath.Join(dir, "edited"))
	if err != nil || string(e) != string(b) {
		t.Fatalf("e gave the editor another text (%v)", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "kauditui-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// On Requests, v is still a quick filter.
	press(m, "esc", "v")
	if !strings.HasPrefix(m.flt.expr, "verb=") {
		t.Errorf("v on Requests set the filter %q, want verb=…", m.flt.expr)
	}
	// A pager that fails says so.
	t.Setenv("PAGER", filepath.Join(dir, "no-such-pager"))
	press(m, "enter", "v")
	if !m.messageErr || !strings.HasPrefix(m.message, "$PAGER (") {
		t.Errorf("a missing pager: status %q", m.message)
	}
}

// M turns the mouse off (the terminal selects text) and on again.
func TestMouseToggle(t *testing.T) {
	m := sampleModel(t, 100, 30)
	if m.View().MouseMode != tea.MouseModeCellMotion {
		t.Fatal("the mouse is not on at the start")
	}
	press(m, "M")
	if m.View().MouseMode != tea.MouseModeNone || !strings.Contains(screen(m), "mouse off: the terminal selects text") {
		t.Fatalf("M: mouse mode %v, screen:\n%s", m.View().MouseMode, screen(m))
	}
	press(m, "M")
	if m.View().MouseMode != tea.MouseModeCellMotion {
		t.Fatal("M again did not turn the mouse on")
	}
}

// / on Detail searches its text; n and N go to the next and previous
// line holding it, round the end; / on Requests is still the filter.
func TestSearchDetail(t *testing.T) {
	m := sampleModel(t, 120, 30)
	m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
	press(m, "enter", "E", "g", "/")
	if !m.detail.search.editing || !strings.Contains(lastLine(strings.TrimRight(ansi.Strip(m.detail.View()), " ")), "search:") {
		t.Fatalf("/ on Detail opened no search prompt:\n%s", screen(m))
	}
	typeText(m, "kubernetes-admin")
	press(m, "enter")
	var hits []int
	for i := 0; i < m.detail.lines(); i++ {
		if strings.Contains(m.detail.lineText(i), "kubernetes-admin") {
			hits = append(hits, i)
		}
	}
	if len(hits) < 2 {
		t.Fatalf("the test needs two lines holding the text, found %v", hits)
	}
	if m.detail.cursor != hits[0] || m.message != fmt.Sprintf("match 1 of %d for %q", len(hits), "kubernetes-admin") {
		t.Fatalf("the search put the cursor on %d (want %d); status %q", m.detail.cursor, hits[0], m.message)
	}
	press(m, "n")
	if m.detail.cursor != hits[1] {
		t.Errorf("n went to %d, want %d", m.detail.cursor, hits[1])
	}
	press(m, "N", "N")
	if m.detail.cursor != hits[len(hits)-1] {
		t.Errorf("N round the start went to %d, want %d", m.detail.cursor, hits[len(hits)-1])
	}
	// q typed into the prompt is a letter, not quit.
	press(m, "/")
	typeText(m, "zzq")
	press(m, "enter")
	if m.message != `no line holds "zzq"` {
		t.Errorf("a text nowhere: %q", m.message)
	}
	press(m, "1", "/")
	if !m.filterBar.Focused() {
		t.Error("/ on Requests does not open the filter bar")
	}
}

// / on the history screen finds a line and brings it to the top, marked.
func TestSearchHistoryScreen(t *testing.T) {
	st, set := loadStore(t, audittest.Path("answers", "audit.log"))
	m := newTestModel(t, st, set.Raw, 120, 20)
	ans := m.pages[stateAnswers].(*answersPage)
	press(m, "5")
	for range answerIndex(t, "history") {
		press(m, "j")
	}
	press(m, "enter")
	typeText(m, "deploy shop/web")
	press(m, "enter")
	h := ans.history()
	if h == nil {
		t.Fatal("no history screen")
	}
	press(m, "/")
	typeText(m, "Last known state")
	press(m, "enter")
	if !strings.Contains(screen(m), "Last known state before the delete") || !strings.HasPrefix(m.message, "match 1 of 1") {
		t.Fatalf("the search did not bring the line in view (status %q):\n%s", m.message, screen(m))
	}
	if top := strings.Split(screen(m), "\n")[2]; !strings.Contains(top, "Last known state") {
		t.Errorf("the line found is not at the top: %q", top)
	}
	// ctrl+s writes the history as text, as shown.
	press(m, "ctrl+s")
	if want := filepath.Join(m.opts.OutDir, "kauditui-history-web.txt"); m.export.input.Value() != want {
		t.Fatalf("the history export offers %q, want %q", m.export.input.Value(), want)
	}
	press(m, "enter")
	b, err := os.ReadFile(filepath.Join(m.opts.OutDir, "kauditui-history-web.txt"))
	if err != nil || string(b) != strings.Join(h.lines, "\n")+"\n" || !strings.HasPrefix(string(b), "History of deploy shop/web: 7 writes") {
		t.Fatalf("the history written is not the one shown (%v):\n%s", err, b)
	}
	if !strings.HasPrefix(m.message, "wrote the history of deploy shop/web as text (") {
		t.Errorf("the status line says %q", m.message)
	}
}

// f on the apiserver log finds a line (its / is the text filter); n goes on.
func TestFindInApiserverLog(t *testing.T) {
	st, set := loadStore(t, "../testdata/stdout/kube-apiserver.log")
	m := newTestModel(t, st, set.Raw, 140, 20)
	press(m, "3", "g", "f")
	typeText(m, "audit-ID=")
	press(m, "enter")
	k := m.pages[stateKlog].(*klogPage)
	if k.follow || !strings.HasPrefix(m.message, "match 1 of ") {
		t.Fatalf("f: status %q, following %v", m.message, k.follow)
	}
	first := k.top
	if !strings.Contains(k.klog[k.rows[first].line].Msg, "audit-ID=") {
		t.Fatalf("the top line does not hold the text: %q", k.klog[k.rows[first].line].Msg)
	}
	press(m, "n")
	if k.top <= first || !strings.HasPrefix(m.message, "match 2 of ") {
		t.Errorf("n: top %d (was %d), status %q", k.top, first, m.message)
	}
}

// s sorts Requests by the next column, S reverses; the header's column
// and the footer say the order; s round to time is the store's order.
func TestSortRequests(t *testing.T) {
	m := sampleModel(t, 160, 40)
	inOrder := slices.Clone(reqsOf(m.requests.shown))
	press(m, "s") // latency, slowest first
	got := reqsOf(m.requests.shown)
	if len(got) != len(inOrder) {
		t.Fatalf("the sorted list has %d requests, want %d", len(got), len(inOrder))
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].Latency() < got[i].Latency() {
			t.Fatalf("row %d (%s) is faster than row %d (%s)", i-1, got[i-1].Latency(), i, got[i].Latency())
		}
	}
	s := screen(m)
	if !strings.Contains(strings.Split(s, "\n")[2], "LATENCY↓") || !strings.Contains(lastLine(s), "sort: latency ↓") {
		t.Fatalf("the header and footer do not say the order:\n%s", s)
	}
	// The first row shown is the slowest.
	if !strings.Contains(strings.Split(s, "\n")[3], got[0].Name) {
		t.Errorf("the first row is not the slowest request %s:\n%s", got[0].Name, s)
	}
	press(m, "S")
	if reqsOf(m.requests.shown)[0].Latency() > reqsOf(m.requests.shown)[len(got)-1].Latency() || !strings.Contains(screen(m), "LATENCY↑") {
		t.Errorf("S did not reverse the order")
	}
	press(m, "s") // user
	for i := 1; i < len(reqsOf(m.requests.shown)); i++ {
		if reqsOf(m.requests.shown)[i-1].Actor() > reqsOf(m.requests.shown)[i].Actor() {
			t.Fatalf("by user: %q before %q", reqsOf(m.requests.shown)[i-1].Actor(), reqsOf(m.requests.shown)[i].Actor())
		}
	}
	if !strings.Contains(screen(m), "USER↑") {
		t.Errorf("the header does not mark USER:\n%s", screen(m))
	}
	// The selected request stays selected across orders.
	sel := selected(m)
	for range len(requestOrders) - 2 {
		press(m, "s")
	}
	if head := strings.Split(screen(m), "\n")[2]; !slices.Equal(reqsOf(m.requests.shown), inOrder) || strings.ContainsAny(head, "↑↓") {
		t.Fatal("s round to time is not the store's order, unmarked")
	}
	if selected(m) != sel {
		t.Error("the selection moved to another request when the order changed")
	}
	// A new filter is sorted too.
	press(m, "s")
	send(m, setFilterMsg{Expr: "verb=get"})
	for i := 1; i < len(reqsOf(m.requests.shown)); i++ {
		if reqsOf(m.requests.shown)[i-1].Latency() < reqsOf(m.requests.shown)[i].Latency() || reqsOf(m.requests.shown)[i].Verb != "get" {
			t.Fatal("the new filter's result is not in latency order")
		}
	}
}

// Sorted while the store grows (following): the list holds exactly the
// requests the filter shows, in order, when requests come in at the end and
// when an older one comes in with its last stage, in the middle of the list
// (merged, not sorted whole, when sortWholeUpTo is lowered). A crafted log:
// each request's final stage comes after two newer requests began, and
// every other one after the next one's.
func TestSortWhileGrowing(t *testing.T) {
	ev := func(i int, stage string, ms int) string {
		t0 := time.Date(2026, 11, 26, 3, 0, i, 0, time.UTC)
		code := ""
		if stage == "ResponseComplete" {
			code = `"responseStatus":{"code":200},`
		}
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"req-%d","stage":%q,`+
			`"requestURI":"/api/v1/namespaces/ns/pods/p%d","verb":"get","user":{"username":"u%d"},`+
			`"objectRef":{"resource":"pods","namespace":"ns","name":"p%d","apiVersion":"v1"},%s`+
			`"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, i, stage, i, i%3, i, code,
			t0.Format(time.RFC3339Nano), t0.Add(time.Duration(ms)*time.Millisecond).Format(time.RFC3339Nano))
	}
	const n = 40
	var all []string
	for i := range n + 2 {
		if i < n {
			all = append(all, ev(i, "RequestReceived", 0))
		}
		if i >= 2 { // 1 ends before 0, 3 before 2...: the older one comes in before the newer
			j := (i - 2) ^ 1
			all = append(all, ev(j, "ResponseComplete", (j*37)%11+1))
		}
	}
	defer func(n int) { sortWholeUpTo = n }(sortWholeUpTo)
	for _, whole := range []int{200_000, 0} {
		sortWholeUpTo = whole
		st := audit.NewStore()
		st.AddEvent([]byte(all[0]), audit.Ref{Line: 1})
		loading := func(o *Options) { o.Load = func(ctx context.Context) error { <-ctx.Done(); return nil } }
		m := newTestModel(t, st, nil, 120, 30, withFollow(), withFilter("code=200"), loading)
		press(m, "s")
		for at := 1; at < len(all); at++ {
			st.AddEvent([]byte(all[at]), audit.Ref{Line: int64(at + 1)})
			send(m, tickMsg{})
			got, want := reqsOf(m.requests.shown), m.flt.shownReqs()
			if len(got) != len(want) {
				t.Fatalf("whole≤%d, %d lines: the sorted list has %d requests, the filter %d", whole, at+1, len(got), len(want))
			}
			seen := map[*audit.Request]bool{}
			for i, r := range got {
				if seen[r] || !slices.Contains(want, r) {
					t.Fatalf("whole≤%d, %d lines: request %s twice or not shown by the filter", whole, at+1, r.AuditID)
				}
				seen[r] = true
				if i > 0 && got[i-1].Latency() < r.Latency() {
					t.Fatalf("whole≤%d, %d lines: row %d (%s) is faster than row %d (%s)", whole, at+1, i-1, got[i-1].Latency(), i, r.Latency())
				}
			}
		}
		if len(reqsOf(m.requests.shown)) != n {
			t.Fatalf("whole≤%d: %d requests at the end, want %d", whole, len(reqsOf(m.requests.shown)), n)
		}
	}
}
