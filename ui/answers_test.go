package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
)

// Every answer's filter is valid in the filter language, with and without
// an object typed.
func TestAnswerCatalogParses(t *testing.T) {
	ids := map[string]bool{}
	for _, a := range answerCatalog {
		if ids[a.ID] {
			t.Errorf("answer id %q twice", a.ID)
		}
		ids[a.ID] = true
		inputs := []string{""}
		if a.Prompt != "" {
			inputs = []string{"deploy kubyk-web", "deploy/kubyk-web", "cm team-a/kubyk-config", "kubyk-web", "apps/deployments/kubyk-web", "deploy kubyk-*"}
		}
		for _, in := range inputs {
			expr, err := a.Expr(in)
			if err != nil {
				t.Errorf("%s %q: %v", a.ID, in, err)
				continue
			}
			if _, err := filter.Parse(expr, time.Now()); err != nil {
				t.Errorf("%s %q: filter %q does not parse: %v", a.ID, in, expr, err)
			}
		}
	}
}

func TestAnswerObjectSpec(t *testing.T) {
	deleted := answerCatalog[0]
	for _, c := range []struct{ in, want, err string }{
		{"deploy kubyk-web", "verb=delete code=2xx resource=deploy name=kubyk-web", ""},
		{"deploy/kubyk-web", "verb=delete code=2xx resource=deploy name=kubyk-web", ""},
		{"  deploy   team-a/kubyk-web ", "verb=delete code=2xx resource=deploy ns=team-a name=kubyk-web", ""},
		{"kubyk-web", "verb=delete code=2xx name=kubyk-web", ""},
		{"apps/deployments/kubyk-web", "verb=delete code=2xx resource=apps/deployments name=kubyk-web", ""},
		{"deploy kubyk-*", "verb=delete code=2xx resource=deploy name=kubyk-*", ""},
		{"deploy kubyk-web -n team-a", "verb=delete code=2xx resource=deploy ns=team-a name=kubyk-web", ""},
		{"deployments.apps/kubyk-web --namespace team-a", "verb=delete code=2xx resource=apps/deployments ns=team-a name=kubyk-web", ""},
		{"deploy/team-a/kubyk-web", "verb=delete code=2xx resource=deploy ns=team-a name=kubyk-web", ""},
		{"deploy web server", "", "name one object"},
		{"", "", "name one object"},
		{"deploy a/b/c", "", "is not an object"},
	} {
		got, err := deleted.Expr(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func newTestAnswersPage(t *testing.T, rel string, w, h int) (*answersPage, Data, audit.Snapshot) {
	t.Helper()
	d, snap, _ := pgLoad(t, rel)
	p := pgSized(newAnswersPage(pgEnv(d, true)), DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true}, w, h)
	return p.(*answersPage), d, snap
}

func answerIndex(t *testing.T, id string) int {
	for i, a := range answerCatalog {
		if a.ID == id {
			return i
		}
	}
	t.Fatalf("no answer %q", id)
	return -1
}

// "Who deleted deploy kubyk-web?" asked as a person would, on both runs,
// names exactly the ground truth's deleter, once.
func TestAnswerWhoDeletedMatchesGroundTruth(t *testing.T) {
	truth := audittest.Truth(t)
	del := truth.Get("facts.deploymentDeletedBy")
	user, ns, name := del.Get("user").String(), del.Get("namespace").String(), del.Get("name").String()
	if user == "" || name == "" {
		t.Fatal("the ground truth names no deleter")
	}
	for _, c := range []struct{ run, input string }{
		{"file/audit.log", "deploy " + name},
		{"stdout/kube-apiserver.log", "deploy " + ns + "/" + name},
		{"file/audit.log", "apps/deployments/" + name},
	} {
		p, d, snap := newTestAnswersPage(t, c.run, 120, 36)
		if p.catalog[p.cursor].ID != "deleted" {
			t.Fatalf("the first answer is %q, want deleted", p.catalog[p.cursor].ID)
		}
		if msgs := pgPress(p, "enter"); len(msgs) != 0 || !p.CapturesInput() {
			t.Fatalf("enter on a prompted answer: messages %v, prompting %v", msgs, p.CapturesInput())
		}
		pgType(p, c.input)
		if v := ansi.Strip(p.View()); !strings.Contains(v, "name="+name) {
			t.Errorf("the prompt does not preview the filter:\n%s", v)
		}
		expr := pgFilterOf(t, pgPress(p, "enter"), stateRequests)
		if p.CapturesInput() {
			t.Error("still prompting after enter")
		}
		got := pgMatch(t, expr, d, snap.Requests)
		if len(got) != 1 || got[0].User != user || got[0].Name != name || got[0].Namespace != ns {
			var who []string
			for _, r := range got {
				who = append(who, r.User+" "+r.Namespace+"/"+r.Name)
			}
			t.Errorf("%s, %q: %q matches %v; ground truth: %s deleted %s/%s", c.run, c.input, expr, who, user, ns, name)
		}
	}
}

// Answers without a prompt set their filter at once; denied requests are
// exactly the ground truth's 401s and 403s.
func TestAnswerDeniedMatchesGroundTruth(t *testing.T) {
	truth := audittest.Truth(t)
	p, d, snap := newTestAnswersPage(t, "file/audit.log", 120, 36)
	for range answerIndex(t, "denied") {
		pgPress(p, "j")
	}
	expr := pgFilterOf(t, pgPress(p, "enter"), stateRequests)
	got := pgMatch(t, expr, d, snap.Requests)
	want := int(truth.Get("runs.file.unauthorized401").Int() + truth.Get("runs.file.forbidden403").Int())
	if len(got) != want || want == 0 {
		t.Errorf("%q matches %d requests, ground truth has %d 401s and 403s", expr, len(got), want)
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, thousands(want)+" matching requests") {
		t.Errorf("the preview does not count %d matches:\n%s", want, v)
	}
}

// The exec answer finds the exec into the pod even though kubectl sends it
// as verb get, and shows its command from the URI.
func TestAnswerExecShowsCommand(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "file/audit.log", 120, 36)
	for range answerIndex(t, "exec") {
		pgPress(p, "j")
	}
	v := ansi.Strip(p.View())
	if !strings.Contains(v, "$ cat /etc/kubyk/db-password") || !strings.Contains(v, " get ") {
		t.Fatalf("the exec answer does not show the get of pods/exec with its command:\n%s", v)
	}
}

// → goes into the results, enter opens one; the slow answer stays on the
// page with its results slowest first.
func TestAnswerResultsOpen(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "file/audit.log", 120, 36)
	for range answerIndex(t, "slow") {
		pgPress(p, "j")
	}
	if msgs := pgPress(p, "enter"); len(msgs) != 0 || !p.inResults {
		t.Fatalf("enter on slowest requests: messages %v, in results %v", msgs, p.inResults)
	}
	m := reqsOf(p.result.matches)
	if len(m) < 2 {
		t.Fatal("fewer than two slow requests")
	}
	for i := 1; i < len(m); i++ {
		if m[i].Latency() > m[i-1].Latency() {
			t.Fatalf("not slowest first at %d: %v > %v", i, m[i].Latency(), m[i-1].Latency())
		}
		if m[i].Verb == "watch" {
			t.Fatal("a watch among the slow requests")
		}
	}
	pgPress(p, "j")
	msgs := pgPress(p, "enter")
	if len(msgs) != 1 {
		t.Fatalf("enter on a result: %v", msgs)
	}
	if o, ok := msgs[0].(openRequestMsg); !ok || o.Req != m[1] {
		t.Fatalf("enter on the second result opened %#v, want %s", msgs[0], m[1].AuditID)
	}
	pgPress(p, "h")
	if p.inResults {
		t.Fatal("h did not go back to the menu")
	}
}

// esc closes the prompt without a filter; a bad object is refused with a
// message and the prompt stays open.
func TestAnswerPromptCancelAndError(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "file/audit.log", 80, 20)
	pgPress(p, "enter")
	pgType(p, "deploy web server")
	if msgs := pgPress(p, "enter"); len(msgs) != 0 {
		t.Fatalf("a bad object set a filter: %v", msgs)
	}
	if !p.CapturesInput() || !strings.Contains(ansi.Strip(p.View()), "name one object") {
		t.Fatalf("a bad object: prompting %v, view:\n%s", p.CapturesInput(), ansi.Strip(p.View()))
	}
	if msgs := pgPress(p, "esc"); len(msgs) != 0 || p.CapturesInput() {
		t.Fatalf("esc: messages %v, prompting %v", msgs, p.CapturesInput())
	}
	// q while prompting is a letter, not a quit: the page takes it.
	pgPress(p, "enter")
	pgType(p, "q")
	if p.input.Value() != "q" {
		t.Fatalf("typed q, the prompt holds %q", p.input.Value())
	}
}

func TestAnswersCursorKeys(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "file/audit.log", 80, 20)
	pgPress(p, "k")
	if p.cursor != 0 {
		t.Fatal("k at the top moved")
	}
	pgPress(p, "G")
	if p.cursor != len(answerCatalog)-1 {
		t.Fatal("G did not go to the last answer")
	}
	pgPress(p, "j", "down")
	if p.cursor != len(answerCatalog)-1 {
		t.Fatal("j at the bottom moved")
	}
	pgPress(p, "up", "g")
	if p.cursor != 0 {
		t.Fatal("g did not go to the first answer")
	}
}

// Menu counts follow the store as it grows, counting only new requests.
func TestAnswersCountsGrow(t *testing.T) {
	d, snap, _ := pgLoad(t, "file/audit.log")
	p := pgSized(newAnswersPage(pgEnv(d, true)), DataMsg{Snap: snap, All: testRows(snap.Requests), Reset: true}, 120, 36).(*answersPage)
	half := snap
	half.Requests = snap.Requests[:len(snap.Requests)/2]
	p.Update(DataMsg{Snap: half, All: testRows(half.Requests)})
	p.View()
	p.Update(DataMsg{Snap: snap, All: testRows(snap.Requests)})
	p.View()
	for i, a := range answerCatalog {
		matches := pgMatch(t, a.Filter, d, snap.Requests)
		if a.Admission { // of the filter's matches, those admission refused or changed
			matches = reqsOf(p.admissionOnly(testRows(matches).(*indexRows)))
		}
		if got, want := p.counts[i], len(matches); got != want {
			t.Errorf("%s: counted %d after growth, want %d", a.ID, got, want)
		}
	}
}

func TestAnswersGolden(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		p, _, _ := newTestAnswersPage(t, "file/audit.log", size[0], size[1]-4)
		pgGolden(t, "answers_"+sizeName(size), p.View())
		pgPress(p, "enter")
		pgType(p, "deploy kubyk-web")
		pgGolden(t, "answers_prompt_"+sizeName(size), p.View())
	}
}

// Moving to another answer matches it against every request of the big log.
func BenchmarkAnswersPreview(b *testing.B) {
	d, snap := pgBig(b)
	p := pgSized(newAnswersPage(pgEnv(d, false)), DataMsg{Snap: snap, All: testRows(snap.Requests), Shown: testRows(snap.Requests), Reset: true}, 120, 36).(*answersPage)
	benchCursorKeys(b, p)
	b.ReportMetric(float64(len(snap.Requests)), "requests")
}

// A request matched before its final stage was read (a growing log) is
// matched again when the stage arrives: a successful delete whose status
// comes later still answers "who deleted".
func TestAnswersRematchUnsettled(t *testing.T) {
	d, snap, _ := pgLoad(t, "file/audit.log")
	var del *audit.Request
	for _, r := range snap.Requests {
		if r.Verb == "delete" && r.Code == 200 && len(r.Events) >= 2 && r.Events[0].Stage() == "RequestReceived" {
			del = r
		}
	}
	if del == nil {
		t.Fatal("no successful delete logged in stages")
	}
	st := audit.NewStore()
	p := pgSized(newAnswersPage(pgEnv(Data{Store: st, Raw: d.Raw}, true)), DataMsg{Reset: true}, 120, 36).(*answersPage)
	for i, e := range del.Events {
		raw, err := d.Raw(e.Ref)
		if err != nil {
			t.Fatal(err)
		}
		st.AddEvent(raw, e.Ref)
		p.Update(DataMsg{Snap: st.Snapshot(), All: testRows(st.Snapshot().Requests)})
		p.View()
		want := 0
		if i == len(del.Events)-1 {
			want = 1
		}
		if p.result.total != want || p.counts[0] != want {
			t.Fatalf("after stage %s: preview %d, menu count %d, want %d", e.Stage(), p.result.total, p.counts[0], want)
		}
	}
}

// The result list scrolls: every match can be reached with the keys, not
// only those on the first screen (dana's denials sit below ci-bot's burst
// in testdata/answers), and the selected one is drawn.
func TestAnswerResultsScrollToEveryMatch(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "answers/audit.log", 120, 30)
	for range answerIndex(t, "denied") {
		pgPress(p, "j")
	}
	pgPress(p, "l")
	n := len(reqsOf(p.result.matches))
	if n <= p.resultRows() {
		t.Fatalf("%d denials fit on %d rows: the test checks nothing", n, p.resultRows())
	}
	for i := 1; i < n; i++ {
		pgPress(p, "j")
		if p.resultAt != i {
			t.Fatalf("after %d downs the cursor is on result %d", i, p.resultAt)
		}
		r := reqsOf(p.result.matches)[i]
		v := ansi.Strip(p.View())
		actor := []rune(sanitize(r.Actor()))
		if !strings.Contains(v, r.First().UTC().Format("01-02 15:04:05Z")+"  "+string(actor[:min(12, len(actor))])) {
			t.Fatalf("result %d (%s by %s) is selected but not drawn:\n%s", i, r.First().UTC().Format(time.TimeOnly), r.Actor(), v)
		}
	}
	pgPress(p, "g")
	pgPress(p, "G")
	if p.resultAt != n-1 {
		t.Errorf("G goes to result %d of %d", p.resultAt, n)
	}
	pgPress(p, "g")
	if p.resultAt != 0 {
		t.Errorf("g goes to result %d", p.resultAt)
	}
}

// On an 80x24 terminal the page keeps room for the answer: the menu
// scrolls so at least 8 results show, going into the results leaves only
// the question asked, and the exec command (the answer) is given room
// before the actor, resource and object.
func TestAnswersSmallTerminal(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "answers/audit.log", 80, 19) // 24 rows less the chrome
	for range answerIndex(t, "denied") {
		pgPress(p, "j")
	}
	p.View()
	if rows := p.resultRows(); rows < 8 {
		t.Errorf("80x24: the menu leaves %d result rows, want 8:\n%s", rows, ansi.Strip(p.View()))
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "› Denied requests") {
		t.Errorf("80x24: the selected question is scrolled out of the menu:\n%s", v)
	}
	pgPress(p, "g")
	for range answerIndex(t, "exec") {
		pgPress(p, "j")
	}
	pgPress(p, "l")
	v := ansi.Strip(p.View())
	if !strings.Contains(v, `$ sh -c "cat /etc/shop/db-passwor`) {
		t.Errorf("80x24: the exec command is cut before the columns around it:\n%s", v)
	}
	if n := strings.Count(v, "\n$") + strings.Count(v, "  $ "); n != len(reqsOf(p.result.matches)) {
		t.Errorf("80x24: %d of %d exec results shown:\n%s", n, len(reqsOf(p.result.matches)), v)
	}
}
