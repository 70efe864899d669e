package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// Helpers of the summary, answers and klog tests: the real testdata read by
// the real source package, pages driven key by key.

// pgLoad reads a testdata input (rotated backups included) into a store.
func pgLoad(t *testing.T, rel string) (Data, audit.Snapshot, []string) {
	t.Helper()
	st, set := loadStore(t, audittest.Path(rel))
	var names []string
	for _, in := range set.Inputs() {
		names = append(names, in.Name)
	}
	return Data{Store: st, Raw: set.Raw}, st.Snapshot(), names
}

// pgEnv is the environment of the golden tests: plain styles (NO_COLOR),
// the real keymap, a fixed clock.
func pgEnv(d Data, noColor bool) *Env {
	src := newIndexSource(d)
	if d.Store != nil {
		src = testSrc(d.Store)
		src.update()
	}
	return &Env{Data: d, Styles: NewStyles(noColor), Keys: DefaultKeyMap(),
		Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }, src: src}
}

// pgKey is the key press a person makes: "enter", "esc", "j", "ctrl+u", "G".
func pgKey(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	r := []rune(s)
	if len(r) != 1 {
		panic("pgKey: " + s)
	}
	return tea.KeyPressMsg{Code: r[0], Text: s}
}

// pgPress sends keys to a page and returns the messages its commands made
// (batches and sequences opened, cursor blinks dropped).
func pgPress(p component, keys ...string) []tea.Msg {
	var msgs []tea.Msg
	for _, k := range keys {
		_, cmd := p.Update(pgKey(k))
		msgs = append(msgs, pgRun(cmd)...)
	}
	return msgs
}

// pgType types text into a page, one key per character.
func pgType(p component, text string) []tea.Msg {
	var msgs []tea.Msg
	for _, r := range text {
		_, cmd := p.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
		msgs = append(msgs, pgRun(cmd)...)
	}
	return msgs
}

func pgRun(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-time.After(2 * time.Second):
		return nil // a timer: not a message of ours (the pages' inputs do not blink)
	}
	if b, ok := msg.(tea.BatchMsg); ok {
		var out []tea.Msg
		for _, c := range b {
			out = append(out, pgRun(c)...)
		}
		return out
	}
	// tea.Sequence's message is an unexported []Cmd.
	if v := reflect.ValueOf(msg); v.IsValid() && v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		var out []tea.Msg
		for i := 0; i < v.Len(); i++ {
			out = append(out, pgRun(v.Index(i).Interface().(tea.Cmd))...)
		}
		return out
	}
	switch msg.(type) {
	case setFilterMsg, showPageMsg, openRequestMsg, statusMsg:
		return []tea.Msg{msg}
	}
	return nil
}

// pgFilterOf returns the expression of the SetFilterMsg among msgs and
// checks the page asked to show want.
func pgFilterOf(t *testing.T, msgs []tea.Msg, want state) string {
	t.Helper()
	expr, shown := "", state(-1)
	n := 0
	for _, m := range msgs {
		switch m := m.(type) {
		case setFilterMsg:
			expr = m.Expr
			n++
		case showPageMsg:
			shown = m.Page
		}
	}
	if n != 1 || shown != want {
		t.Fatalf("messages %#v: want one SetFilterMsg and ShowPageMsg{%d}", msgs, want)
	}
	return expr
}

// pgMatch is every request of reqs the expression matches.
func pgMatch(t *testing.T, expr string, d Data, reqs []*audit.Request) []*audit.Request {
	t.Helper()
	f, err := filter.Parse(expr, time.Now())
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	var out []*audit.Request
	for _, r := range reqs {
		if f.MatchRaw(r, d.Raw) {
			out = append(out, r)
		}
	}
	return out
}

// pgGolden compares a view (escape sequences stripped) with
// testdata/<name>.golden (go test -update rewrites it).
func pgGolden(t *testing.T, name, view string) {
	t.Helper()
	audittest.Golden(t, filepath.Join("testdata", name+".golden"), ansi.Strip(view))
}

// pgSized is a page with a DataMsg and a size, as the root sets it up.
func pgSized(p page, dm DataMsg, w, h int) page {
	p.SetSize(w, h)
	np, _ := p.Update(dm)
	return np.(page)
}

// ---------------------------------------------------------------------------

func summaryOnFileRun(t *testing.T, w, h int) (*summaryPage, Data, audit.Snapshot) {
	t.Helper()
	d, snap, _ := pgLoad(t, "file/audit.log")
	p := pgSized(newSummaryPage(pgEnv(d, true)), DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true}, w, h)
	return p.(*summaryPage), d, snap
}

// The Users box counts what the harness says each identity did.
func TestSummaryCountsMatchGroundTruth(t *testing.T) {
	truth := audittest.Truth(t)
	p, _, snap := summaryOnFileRun(t, 120, 36)
	p.View()
	users := p.sections[0]
	if users.field != "user" || users.total != len(snap.Requests) {
		t.Fatalf("first box %q counts %d of %d requests", users.field, users.total, len(snap.Requests))
	}
	got := map[string]int{}
	for _, v := range users.values {
		got[v.value] = v.count
	}
	// The box counts a request under its user and under the user it
	// impersonated (as the filter's user field matches both).
	want := map[string]int{}
	truth.Get("runs.file.requestsPerUser").ForEach(func(k, v gjson.Result) bool {
		want[k.String()] = int(v.Int())
		return true
	})
	want[truth.Get("facts.impersonation.impersonatedUser").String()] += int(truth.Get("runs.file.impersonated").Int())
	checked := 0
	for user, n := range want {
		if got[user] != n {
			t.Errorf("user %q: summary counts %d, ground truth %d", user, got[user], n)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("ground truth has no requestsPerUser")
	}
	for i := 1; i < len(users.values); i++ {
		if users.values[i].count > users.values[i-1].count {
			t.Fatalf("users not highest first: %+v", users.values)
		}
	}
}

// Enter on a value narrows the current filter to it; x excludes it. The
// resulting filter selects exactly the requests the box counted.
func TestSummaryNarrowAndExclude(t *testing.T) {
	p, d, snap := summaryOnFileRun(t, 120, 36)
	p.View()
	// → to the Verbs box, then down to "delete".
	pgPress(p, "l")
	if p.sec != 1 {
		t.Fatalf("after l the cursor is in box %d, want 1 (verbs)", p.sec)
	}
	row := -1
	for i, v := range p.sections[1].values[:p.rowsShown(1)] {
		if v.value == "delete" {
			row = i
		}
	}
	if row < 0 {
		t.Fatalf("no delete among the drawn verbs %+v", p.sections[1].values)
	}
	for range row {
		pgPress(p, "j")
	}
	if !strings.Contains(ansi.Strip(p.View()), "delete") {
		t.Fatal("the view does not show delete")
	}
	expr := pgFilterOf(t, pgPress(p, "enter"), stateRequests)
	if expr != "verb=delete" {
		t.Fatalf("enter on delete: filter %q, want verb=delete", expr)
	}
	want := p.sections[1].values[row].count
	if got := len(pgMatch(t, expr, d, snap.Requests)); got != want {
		t.Errorf("%q matches %d requests, the box counted %d", expr, got, want)
	}
	expr = pgFilterOf(t, pgPress(p, "x"), stateRequests)
	if expr != "verb!=delete" {
		t.Fatalf("x on delete: filter %q, want verb!=delete", expr)
	}
	if got := len(pgMatch(t, expr, d, snap.Requests)); got != len(snap.Requests)-want {
		t.Errorf("%q matches %d requests, want %d", expr, got, len(snap.Requests)-want)
	}

	// Under a filter, the value is added to it.
	users := pgMatch(t, "verb=delete", d, snap.Requests)
	p.Update(DataMsg{Snap: snap, All: testRows(snap.Requests), Filter: "verb=delete", Shown: testRows(users), Reset: true})
	pgPress(p, "g")
	expr = pgFilterOf(t, pgPress(p, "enter"), stateRequests)
	top := p.sections[0].values[0]
	if got := len(pgMatch(t, expr, d, snap.Requests)); !strings.HasPrefix(expr, "verb=delete user=") || got != top.count {
		t.Errorf("enter on user %s under verb=delete: %q matches %d, want %d", top.value, expr, got, top.count)
	}
}

// The histogram's buckets fit the width and hold every request; enter on a
// bucket narrows the filter to its time span, which holds what it counted.
func TestSummaryHistogram(t *testing.T) {
	for _, size := range [][2]int{{80, 20}, {120, 36}} {
		p, d, snap := summaryOnFileRun(t, size[0], size[1])
		view := p.View()
		n := len(p.hist.counts)
		if n == 0 || n > p.histWidth() {
			t.Fatalf("%dx%d: %d buckets for %d columns", size[0], size[1], n, p.histWidth())
		}
		sum := 0
		for _, c := range p.hist.counts {
			sum += c
		}
		if sum != len(snap.Requests) {
			t.Errorf("%dx%d: buckets hold %d requests of %d", size[0], size[1], sum, len(snap.Requests))
		}
		for _, line := range strings.Split(ansi.Strip(view), "\n") {
			if w := ansi.StringWidth(line); w > size[0] {
				t.Errorf("%dx%d: line %d cells wide: %q", size[0], size[1], w, line)
			}
		}
		pgPress(p, "G") // the histogram's last bucket
		for p.hist.counts[p.row] == 0 {
			pgPress(p, "h")
		}
		want := p.hist.counts[p.row]
		expr := pgFilterOf(t, pgPress(p, "enter"), stateRequests)
		if !strings.Contains(expr, "since=") || !strings.Contains(expr, "until=") {
			t.Fatalf("bucket filter %q has no time span", expr)
		}
		if got := len(pgMatch(t, expr, d, snap.Requests)); got != want {
			t.Errorf("%dx%d: %q matches %d requests, the bucket counted %d", size[0], size[1], expr, got, want)
		}
	}
}

// Moving goes box by box with j/k and h/l, and never leaves the items.
func TestSummaryCursorKeys(t *testing.T) {
	p, _, _ := summaryOnFileRun(t, 80, 20)
	p.View()
	pgPress(p, "k", "h")
	if p.sec != 0 || p.row != 0 {
		t.Fatalf("k/h at the start moved to %d/%d", p.sec, p.row)
	}
	rows := p.rowsShown(0)
	for range rows {
		pgPress(p, "j")
	}
	if p.sec != 1 || p.row != 0 {
		t.Fatalf("j past the first box: at %d/%d, want 1/0", p.sec, p.row)
	}
	pgPress(p, "k")
	if p.sec != 0 || p.row != rows-1 {
		t.Fatalf("k back: at %d/%d, want 0/%d", p.sec, p.row, rows-1)
	}
	pgPress(p, "G")
	if p.sec != len(p.sections) || p.row != len(p.hist.counts)-1 {
		t.Fatalf("G: at %d/%d, want the last bucket", p.sec, p.row)
	}
	pgPress(p, "l")
	if p.row != len(p.hist.counts)-1 {
		t.Fatal("l past the last bucket moved")
	}
	for range len(p.hist.counts) {
		pgPress(p, "h")
	}
	if p.sec != len(p.sections)-1 {
		t.Fatalf("h past the first bucket: box %d, want the last box", p.sec)
	}
	pgPress(p, "g")
	if p.sec != 0 || p.row != 0 {
		t.Fatal("g did not go back to the first value")
	}
}

// An empty value (cluster-scoped namespace) cannot be a filter: a status
// message says so and the filter does not change.
func TestSummaryEmptyValue(t *testing.T) {
	p, _, _ := summaryOnFileRun(t, 120, 36)
	p.View()
	ns := 5
	p.sec, p.row = ns, -1
	for i, v := range p.sections[ns].values[:p.rowsShown(ns)] {
		if v.value == "" {
			p.row = i
		}
	}
	if p.row < 0 {
		t.Skip("no cluster-scoped request among the top namespaces")
	}
	msgs := pgPress(p, "enter")
	if len(msgs) != 1 {
		t.Fatalf("messages %#v, want one StatusMsg", msgs)
	}
	if m, ok := msgs[0].(statusMsg); !ok || !m.Err {
		t.Fatalf("message %#v, want an error StatusMsg", msgs[0])
	}
}

// Log strings are client-chosen: an escape sequence in a user agent is drawn
// escaped. (The request is a real event of the testdata with its agent
// replaced: no real client here sends escapes.)
func TestSummarySanitizes(t *testing.T) {
	d, snap, _ := pgLoad(t, "file/audit.log")
	raw, err := d.Raw(snap.Requests[len(snap.Requests)-1].Events[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	evil := "evil\x1b]0;pwned\x07\x1b[2J"
	line := strings.Replace(string(raw), `"userAgent":"`, `"userAgent":"`+strings.ReplaceAll(strings.ReplaceAll(evil, "\x1b", `\u001b`), "\x07", `\u0007`), 1)
	line = strings.Replace(line, `"auditID":"`, `"auditID":"x`, 1)
	st := audit.NewStore()
	if _, _, ok := st.AddEvent([]byte(line), audit.Ref{}); !ok {
		t.Fatal("the edited event does not parse")
	}
	s := st.Snapshot()
	testSrc(st) // its rows, as the explorer would index them
	p := pgSized(newSummaryPage(pgEnv(d, false)), DataMsg{Snap: s, All: testRows(s.Requests), Shown: testRows(s.Requests), Reset: true}, 120, 36)
	view := p.View()
	if strings.Contains(view, "\x1b]0;") || strings.Contains(view, "\x07") || strings.Contains(view, "\x1b[2J") {
		t.Fatalf("the view sends the agent's escape sequences to the terminal: %q", view)
	}
	if !strings.Contains(ansi.Strip(view), `evil\x1b]0;pwned\x07`) {
		t.Fatalf("the agent is not drawn escaped:\n%s", ansi.Strip(view))
	}
}

func TestSummaryNoRequests(t *testing.T) {
	p := pgSized(newSummaryPage(pgEnv(Data{}, true)), DataMsg{Filter: "user=nobody", Reset: true}, 80, 20)
	if v := ansi.Strip(p.View()); !strings.Contains(v, "no requests match") {
		t.Fatalf("empty summary: %q", v)
	}
}

func TestSummaryGolden(t *testing.T) {
	// The page's size is the terminal's less the root's chrome (4 lines).
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		p, _, _ := summaryOnFileRun(t, size[0], size[1]-4)
		pgGolden(t, "summary_"+sizeName(size), p.View())
		pgPress(p, "l", "j", "G", "h")
		pgGolden(t, "summary_moved_"+sizeName(size), p.View())
	}
}

func sizeName(s [2]int) string { return fmt.Sprintf("%dx%d", s[0], s[1]) }

// pgBig loads testdata/big/audit-100MB.log (made by the engine's generator,
// never committed) once per benchmark binary.
func pgBig(b *testing.B) (Data, audit.Snapshot) {
	b.Helper()
	path := audittest.Path("big", "audit-100MB.log")
	if _, err := os.Stat(path); err != nil {
		b.Skipf("%s missing: generate it with the engine's hack generator", path)
	}
	if pgBigData.Store == nil {
		set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}}, source.Options{})
		if err != nil {
			b.Fatal(err)
		}
		st := audit.NewStore()
		if err := set.Load(context.Background(), st); err != nil {
			b.Fatal(err)
		}
		pgBigData = Data{Store: st, Raw: set.Raw}
	}
	return pgBigData, pgBigData.Store.Snapshot()
}

var pgBigData Data

// A full recount of the Summary (filter changed) and its draw, on every
// request of the big log.
func BenchmarkSummaryRecount(b *testing.B) {
	d, snap := pgBig(b)
	p := pgSized(newSummaryPage(pgEnv(d, false)), DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true}, 120, 36)
	b.ResetTimer()
	for range b.N {
		p.Update(DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true})
		p.View()
	}
	b.ReportMetric(float64(len(snap.Requests)), "requests")
}

// A keypress on the Summary (no recount): what moving the cursor costs.
func BenchmarkSummaryKey(b *testing.B) {
	d, snap := pgBig(b)
	p := pgSized(newSummaryPage(pgEnv(d, false)), DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true}, 120, 36)
	p.View()
	benchCursorKeys(b, p)
}

// A request counted before its last stage was read (a growing log) moves
// from "(no status)" to its code when the stage arrives.
func TestSummaryCodeFollowsLaterStage(t *testing.T) {
	d, snap, _ := pgLoad(t, "file/audit.log")
	var req *audit.Request
	for _, r := range snap.Requests {
		if len(r.Events) >= 2 && r.Events[0].Stage() == "RequestReceived" && r.Code != 0 {
			req = r
			break
		}
	}
	if req == nil {
		t.Fatal("no request with a RequestReceived stage and a code")
	}
	st := audit.NewStore()
	testSrc(st) // its rows, as the explorer would index them
	var p *summaryPage
	for i, e := range req.Events {
		raw, err := d.Raw(e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		st.AddEvent(raw, e.Ref)
		s := st.Snapshot()
		if i == 0 {
			p = pgSized(newSummaryPage(pgEnv(d, true)), DataMsg{Snap: s, All: testRows(s.Requests), Shown: testRows(s.Requests), Reset: true}, 120, 36).(*summaryPage)
			p.View()
			if c := p.sections[summaryCodeBox].values; len(c) != 1 || c[0].value != "" {
				t.Fatalf("after RequestReceived: codes %+v, want (no status)", c)
			}
			continue
		}
		p.Update(DataMsg{Snap: s, All: testRows(s.Requests), Shown: testRows(s.Requests)})
		p.View()
	}
	c := p.sections[summaryCodeBox].values
	if len(c) != 1 || c[0].value != codeText[req.Code] {
		t.Fatalf("after every stage: codes %+v, want %d", c, req.Code)
	}
}

// Every value drawn in every box, chosen with enter, gives a filter that
// selects exactly the requests the box counted for it.
func TestSummaryEveryValueNarrowsExactly(t *testing.T) {
	p, d, snap := summaryOnFileRun(t, 120, 36)
	p.View()
	for sec, s := range p.sections {
		for row, v := range s.values[:p.rowsShown(sec)] {
			if v.value == "" {
				continue // not expressible; TestSummaryEmptyValue
			}
			p.sec, p.row = sec, row
			expr := pgFilterOf(t, pgPress(p, "enter"), stateRequests)
			if got := len(pgMatch(t, expr, d, snap.Requests)); got != v.count {
				t.Errorf("%s %q: %q matches %d requests, the box counted %d", s.title, v.value, expr, got, v.count)
			}
		}
	}
}

// benchCursorKeys times j and k, alternately, each with a redraw.
func benchCursorKeys(b *testing.B, p component) {
	b.ResetTimer()
	for i := range b.N {
		key := "j"
		if i%2 == 1 {
			key = "k"
		}
		p.Update(pgKey(key))
		p.View()
	}
}

// The Summary's last line says what the log cannot see, over every request
// whatever the filter: the shared auditIDs of a log whose clients reused
// them, and the writes logged without a body, as the full report counts.
func TestSummaryCoverageLine(t *testing.T) {
	d, snap, _ := pgLoad(t, "trust/reused-id/audit.log")
	if snap.SharedIDs == 0 {
		t.Fatal("the reused-id log has no shared auditID: the test checks nothing")
	}
	writes := 0
	for _, w := range audit.CoverageOf(snap.Requests, coverageGap).NoBody {
		writes += w.N
	}
	p := pgSized(newSummaryPage(pgEnv(d, true)), DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests[:1]), Filter: "x", Reset: true}, 160, 40)
	v := ansi.Strip(p.View())
	want := fmt.Sprintf("The log: no gap over 5m · %d shared auditIDs · %d writes without a body · more: 5 Answers", snap.SharedIDs, writes)
	if !strings.Contains(v, want) {
		t.Errorf("the summary of one request of the log lacks %q:\n%s", want, v)
	}
}
