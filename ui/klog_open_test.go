package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
)

// The apiserver log page's cursor, enter on a line naming an audit ID, y on
// a line, and a 401's Detail showing what the apiserver said about it.

// fileLineWith is the first line of a testdata file holding text, read
// apart from kauditui's reader.
func fileLineWith(t *testing.T, rel, text string) string {
	t.Helper()
	f, err := os.Open(audittest.Path(strings.Split(rel, "/")...))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), text) {
			return sc.Text()
		}
	}
	t.Fatalf("no line of %s holds %q", rel, text)
	return ""
}

// findKlogLine puts the apiserver log page's cursor on the line holding
// text (f, the page's find).
func findKlogLine(t *testing.T, m *model, text string) *klogPage {
	t.Helper()
	press(m, "3", "g", "f")
	typeText(m, text)
	press(m, "enter")
	k := m.pages[stateKlog].(*klogPage)
	if i := k.selectedLine(); i < 0 || !strings.Contains(k.klog[i].Msg, text) {
		t.Fatalf("the cursor is not on the line holding %q (status %q)", text, m.message)
	}
	return k
}

// On the real stdout-mode log: enter on httplog's line of the kubectl 401
// opens that request's Detail; esc goes back to the line; y copies the
// line as the apiserver wrote it; enter on a line naming no request says so.
func TestKlogEnterOpensTheRequestTheLineNames(t *testing.T) {
	const rel = "stdout/kube-apiserver.log"
	st, set := loadStore(t, audittest.Path("stdout", "kube-apiserver.log"))
	m := newTestModel(t, st, set.Raw, 160, 30)
	// a request of the run, chosen in the file, not through kauditui
	line := fileLineWith(t, rel, `resp=401`)
	id := regexp.MustCompile(`audit-ID="([^"]+)"`).FindStringSubmatch(line)[1]

	k := findKlogLine(t, m, id)
	if v := screen(m); !strings.Contains(v, "enter open the line's request") && !strings.Contains(v, "open the line's request") {
		t.Errorf("the footer does not offer enter:\n%s", v)
	}
	press(m, "enter")
	if m.State() != stateDetail || m.detail.Request() == nil || m.detail.Request().AuditID != id {
		t.Fatalf("enter on the line of %s: page %v, request %v", id, m.State(), m.detail.Request())
	}
	if v := screen(m); !strings.Contains(v, "Audit ID  "+id) {
		t.Errorf("the Detail of the line's request is not on screen:\n%s", v)
	}
	at := k.selectedLine()
	press(m, "esc")
	if m.State() != stateKlog || k.selectedLine() != at {
		t.Fatalf("esc: page %v, cursor on line %d, want the apiserver log on line %d", m.State(), k.selectedLine(), at)
	}

	got, ok := clipboardOf(pressCollect(m, "y"))
	if !ok || got != line {
		t.Fatalf("y copied %q, want the line as logged %q", got, line)
	}
	if !strings.Contains(screen(m), "copied log line ") {
		t.Errorf("the status bar does not say a log line was copied:\n%s", screen(m))
	}

	press(m, "g", "enter") // the first line: a FLAG line
	if m.State() != stateKlog || !strings.Contains(m.message, "names no audit-ID") {
		t.Errorf("enter on a line naming no request: page %v, status %q", m.State(), m.message)
	}
}

// --logging-format=json (testdata/trust): httplog's "audit-ID" key.
func TestKlogEnterOpensFromJSONLogging(t *testing.T) {
	const rel = "trust/json-logging/kube-apiserver.log"
	st, set := loadStore(t, audittest.Path("trust", "json-logging", "kube-apiserver.log"))
	m := newTestModel(t, st, set.Raw, 160, 30)
	line := fileLineWith(t, rel, `"audit-ID":"`)
	id := regexp.MustCompile(`"audit-ID":"([^"]+)"`).FindStringSubmatch(line)[1]
	if len(st.WithID(id)) == 0 {
		t.Skipf("the policy of the run did not log %s", id)
	}
	findKlogLine(t, m, id)
	press(m, "enter")
	if m.State() != stateDetail || m.detail.Request() == nil || m.detail.Request().AuditID != id {
		t.Fatalf("enter on the JSON line of %s: page %v", id, m.State())
	}
}

// The cursor stays on its line while lines come, unless it is on the last
// one (following): then it goes to the newest. The selected line is drawn
// in reverse video.
func TestKlogCursorKeptWhileFollowing(t *testing.T) {
	p, snap := newTestKlogPage(t, 100, 20, true)
	grow := func(msg string) {
		grown := snap
		grown.Klog = append(append([]audit.KlogLine(nil), p.klog...), audit.KlogLine{Severity: 'I', Time: snap.Klog[0].Time, File: "t.go:1", Msg: msg})
		p.Update(DataMsg{Snap: grown, All: testRows(grown.Requests)})
	}
	pgPress(p, "k", "k")
	at := p.selectedLine()
	grow("first new line")
	if p.selectedLine() != at || p.follow {
		t.Fatalf("a new line moved the cursor from line %d to %d (following %v)", at, p.selectedLine(), p.follow)
	}
	v := p.View()
	if !strings.Contains(v, "\x1b[7m") || !strings.Contains(ansi.Strip(v), fmt.Sprintf("line %d", at+1)) {
		t.Errorf("the selected line is not shown (reverse video, its number in the header):\n%s", v)
	}
	if strings.Contains(ansi.Strip(v), "first new line") {
		t.Errorf("the view moved to the new line while the cursor is above it")
	}
	pgPress(p, "G")
	grow("second new line")
	if p.selectedLine() != len(p.klog)-1 || !strings.Contains(ansi.Strip(p.View()), "second new line") {
		t.Errorf("following, the cursor is on line %d, want the newest %d", p.selectedLine(), len(p.klog)-1)
	}
}

// A 401's Detail shows the apiserver's own lines about it: on the real
// stdout-mode log, kubectl with an invalid token (no user) gets httplog's
// line naming its audit ID and the authentication filter's
// "Unable to authenticate the request" line of the same second.
func TestDetailOf401ShowsTheApiserversLines(t *testing.T) {
	const rel = "stdout/kube-apiserver.log"
	st, set := loadStore(t, audittest.Path("stdout", "kube-apiserver.log"))
	m := newTestModel(t, st, set.Raw, 200, 50)
	authLine := fileLineWith(t, rel, "Unable to authenticate the request")
	reason := authLine[strings.Index(authLine, `"Unable`):]
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return r.Code == 401 && r.User == "" }))
	r := selected(m)
	press(m, "enter")
	v := screen(m)
	if !strings.Contains(v, "Apiserver ") || !strings.Contains(v, reason) {
		t.Fatalf("the 401's Detail does not show the apiserver's %s:\n%s", reason, v)
	}
	if !strings.Contains(v, `audit-ID="`+r.AuditID+`"`) || !strings.Contains(v, "resp=401") {
		t.Errorf("the 401's Detail does not show httplog's line naming it:\n%s", v)
	}
	if !strings.Contains(v, "(by time)") {
		t.Errorf("the line matched by time is not marked so:\n%s", v)
	}
}

// Without the apiserver's log (a file-mode audit log), a 401's Detail says
// it is not loaded and how to load it (testdata/backend: the kubelet's 401).
func TestDetailOf401SaysTheApiserverLogIsNotLoaded(t *testing.T) {
	st, set := loadStore(t, audittest.Logs(t, "backend")...)
	m := newTestModel(t, st, set.Raw, 200, 50)
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return r.Code == 401 }))
	press(m, "enter")
	if v := screen(m); !strings.Contains(v, "the apiserver's log is not loaded: run with --pods or on a stdout-mode log") {
		t.Fatalf("the 401's Detail does not say the apiserver's log is not loaded:\n%s", v)
	}
}

// Crafted (the real runs have one failed authentication a second): a line
// from another address is not shown, and two failed authentications in one
// second are said to be ambiguous.
func TestDetailOf401MatchesByAddressAndSaysWhenAmbiguous(t *testing.T) {
	dir := t.TempDir()
	ev := func(id, ip string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseStarted","requestURI":"/api/v1/pods","verb":"list","user":{},"sourceIPs":["` + ip + `"],"userAgent":"curl","objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401},"requestReceivedTimestamp":"2026-11-26T03:59:11.472346Z","stageTimestamp":"2026-11-26T03:59:11.472973Z"}`
	}
	log := strings.Join([]string{
		`E1126 03:59:11.472705   12364 authentication.go:76] "Unable to authenticate the request" err="invalid bearer token" srcIP="10.0.0.9:4242"`,
		ev("aaaaaaaa-0000-0000-0000-000000000001", "10.0.0.1"),
		`E1126 03:59:11.600000   12364 authentication.go:76] "Unable to authenticate the request" err="x509: certificate has expired"`,
		ev("aaaaaaaa-0000-0000-0000-000000000002", "10.0.0.2"),
	}, "\n") + "\n"
	path := dir + "/kube-apiserver.log"
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	st, set := loadStore(t, path)
	m := newTestModel(t, st, set.Raw, 200, 50)
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return strings.HasSuffix(r.AuditID, "01") }))
	press(m, "enter")
	v := screen(m)
	if strings.Contains(v, "invalid bearer token") {
		t.Errorf("a line from 10.0.0.9 is shown for a request from 10.0.0.1:\n%s", v)
	}
	if !strings.Contains(v, "certificate has expired") || !strings.Contains(v, "1 other failed authentication in that second") {
		t.Errorf("the line by time is not shown with its ambiguity:\n%s", v)
	}
}

// Detail says where a slow request spent its time, from the apiserver's
// latency annotations (testdata/answers: a create held by a slow
// validating webhook, and one stalled outside every layer).
func TestDetailSaysWhereASlowRequestSpentItsTime(t *testing.T) {
	logs := audittest.Logs(t, "answers")
	st, set := loadStore(t, logs...)
	m := newTestModel(t, st, set.Raw, 200, 50)
	want := map[string]string{} // auditID: the validating webhook's time
	for _, path := range logs {
		for _, line := range strings.Split(string(audittest.ReadLog(t, path)), "\n") {
			v := gjson.Get(line, `annotations.apiserver\.latency\.k8s\.io/validating-webhook`)
			if d, err := time.ParseDuration(v.String()); err == nil && d > audit.SlowRequest {
				want[gjson.Get(line, "auditID").String()] = render.FormatLatency(d)
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("no request held by the validating webhook in testdata/answers")
	}
	for id, d := range want {
		press(m, "1")
		m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return r.AuditID == id }))
		press(m, "enter")
		if v := screen(m); !strings.Contains(v, "Slow in   validating-webhook "+d+", ") {
			t.Errorf("the Detail of %s does not say it was slow in the validating webhook (%s):\n%s", id, d, v)
		}
	}
	// the step the harness stalled outside the apiserver's layers
	stalled := audittest.Expected(t, "answers").Get(`actions.#(slow=="total")`)
	press(m, "1")
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool {
		return r.Name == stalled.Get("name").String() && r.Verb == stalled.Get("verb").String()
	}))
	press(m, "enter")
	if v := screen(m); !strings.Contains(v, "in no layer the apiserver names") {
		t.Errorf("the stalled request's Detail does not say its time is in no named layer:\n%s", v)
	}
}

// Detail's JSON view is valid JSON as drawn: copied from the screen (the
// mouse off) or from the pager, an event with inner quotes, backslashes
// and escape sequences (testdata/hostile) parses to what was logged, while
// no frame holds a raw control character.
func TestDetailJSONViewIsValidJSON(t *testing.T) {
	st, set := loadStore(t, "../testdata/hostile/audit.log")
	m := newTestModel(t, st, set.Raw, 200, 50)
	m.execProcess = fakeExec
	dir := t.TempDir()
	t.Setenv("PAGER", catTo(t, dir+"/paged"))
	t.Setenv("TMPDIR", dir)
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return strings.Contains(r.Name, "\x1b") }))
	press(m, "enter", "E") // every part expanded
	d := m.detail
	raw, err := set.Raw(d.Request().Events[d.evIdx].Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `\"evil`) {
		t.Fatalf("the hostile event has no inner quote: %s", raw)
	}
	var drawn strings.Builder
	for i := len(d.header); i < d.lines(); i++ {
		drawn.WriteString(d.lineText(i))
		drawn.WriteByte('\n')
	}
	sameJSON(t, "the JSON view as drawn", drawn.String(), raw)
	if strings.Contains(escSeq.ReplaceAllString(m.Render(), ""), "\x1b") || strings.ContainsAny(ansi.Strip(m.Render()), "\u009b\u202e") {
		t.Error("the frame holds a raw control character")
	}

	press(m, "v")
	paged, err := os.ReadFile(dir + "/paged")
	if err != nil {
		t.Fatalf("v ran no pager: %v (status %q)", err, m.message)
	}
	sections := regexp.MustCompile(`(?m)^── Event \d+ of \d+ ──\n`).Split(string(paged), -1)[1:]
	if len(sections) != len(d.Request().Events) {
		t.Fatalf("the pager has %d events, want %d", len(sections), len(d.Request().Events))
	}
	for i, sec := range sections {
		raw, _ := set.Raw(d.Request().Events[i].Ref)
		sameJSON(t, fmt.Sprintf("the pager's event %d", i+1), sec, raw)
	}
}

// sameJSON asserts text is valid JSON holding what raw holds.
func sameJSON(t *testing.T, what, text string, raw []byte) {
	t.Helper()
	if !json.Valid([]byte(text)) {
		t.Fatalf("%s is not valid JSON:\n%s", what, text)
	}
	var got, want any
	json.Unmarshal([]byte(text), &got)
	json.Unmarshal(raw, &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s parses to another value than logged:\n%s", what, text)
	}
}

// Following a stdout-mode log, the apiserver's line about a 401 open in
// Detail shows up when it is read (crafted: the line comes after the
// event).
func TestDetailOf401GainsTheApiserversLineWhileFollowing(t *testing.T) {
	path := t.TempDir() + "/kube-apiserver.log"
	ev := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"bbbbbbbb-0000-0000-0000-000000000001","stage":"ResponseStarted","requestURI":"/api/v1/pods","verb":"list","user":{},"sourceIPs":["10.0.0.1"],"userAgent":"curl","objectRef":{"resource":"pods","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401},"requestReceivedTimestamp":"2026-11-26T03:59:11.472346Z","stageTimestamp":"2026-11-26T03:59:11.472973Z"}`
	if err := os.WriteFile(path, []byte(ev+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, set := loadStore(t, path)
	m := newTestModel(t, st, set.Raw, 200, 40)
	press(m, "enter")
	if v := screen(m); !strings.Contains(v, "the apiserver's log is not loaded") {
		t.Fatalf("before any klog line the Detail does not say the log is not loaded:\n%s", v)
	}
	at := st.Snapshot().Requests[0].First()
	st.AddKlog(audit.KlogLine{Severity: 'E', Time: at.Add(300 * time.Microsecond), File: "authentication.go:76",
		Msg: `"Unable to authenticate the request" err="invalid bearer token"`})
	send(m, tickMsg{})
	if v := screen(m); !strings.Contains(v, `err="invalid bearer token"`) {
		t.Fatalf("the line read later is not shown in the open Detail:\n%s", v)
	}
}
