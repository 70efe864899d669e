package ui

import (
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// "Changes to one object", asked for deploy shop/web on the real answers
// log, opens its history in front of the menu: every write with what it
// changed, the deleter, the last state; esc goes back to the questions.
func TestAnswerHistoryScreen(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "answers/audit.log", 120, 40)
	for range answerIndex(t, "history") {
		pgPress(p, "j")
	}
	pgPress(p, "enter")
	pgType(p, "web") // no kind: the prompt asks for it
	pgPress(p, "enter")
	if v := ansi.Strip(p.View()); p.history() != nil || !strings.Contains(v, "type the kind too, e.g. deploy web") {
		t.Fatalf("a name without a kind: want the prompt to ask for the kind:\n%s", v)
	}
	pgPress(p, "ctrl+u")
	p.input.SetValue("")
	pgType(p, "deploy shop/web")
	if msgs := pgPress(p, "enter"); len(msgs) != 0 || p.history() == nil {
		t.Fatalf("enter: messages %v, history open %v", msgs, p.history() != nil)
	}
	v := ansi.Strip(p.View())
	for _, want := range []string{
		"History of deploy shop/web: 7 writes; deleted ",
		"create apps/deployments  by kubernetes-admin",
		"esc: back to the answers",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the history screen lacks %q:\n%s", want, v)
		}
	}
	if n := strings.Count(v, "\n"); n > 40 {
		t.Errorf("the screen is %d lines high, taller than 40", n)
	}
	// Further down: the scale, the JSON patch from the laptop, the delete.
	var all strings.Builder
	for range 10 {
		all.WriteString(ansi.Strip(p.View()))
		pgPress(p, "space")
	}
	for _, want := range []string{"patch: {\"spec\":{\"replicas\":3}}", "~ spec.replicas: 1 → 3", "~ spec.replicas: 3 → 1",
		"delete apps/deployments  by kubernetes-admin", "Last known state before the delete"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("paging through the history never shows %q", want)
		}
	}
	// enter shows its writes on the Requests page
	msgs := pgPress(p, "enter")
	if expr := pgFilterOf(t, msgs, stateRequests); !strings.Contains(expr, "name=web") || !strings.Contains(expr, "ns=shop") {
		t.Errorf("enter on the history sets %q", expr)
	}
	if p.history() != nil {
		t.Error("the history is still in front after enter")
	}
}

// answersActions is the actions of testdata/answers/expected.json, in the
// order hack/gen-answers.sh made them.
func answersActions(t *testing.T) []gjson.Result {
	t.Helper()
	return audittest.Expected(t, "answers").Get("actions").Array()
}

// newerThan counts the requests the actions after step made that match
// (an action of a burst made count of them): how far down a newest-first
// list that step's request is.
func newerThan(t *testing.T, step string, match func(a gjson.Result) bool) int {
	t.Helper()
	actions := answersActions(t)
	for i, a := range actions {
		if a.Get("step").String() != step {
			continue
		}
		n := 0
		for _, b := range actions[i+1:] {
			if match(b) {
				n += max(1, int(b.Get("count").Int()))
			}
		}
		return n
	}
	t.Fatalf("expected.json has no step %s", step)
	return 0
}

// H on an answer's result opens the history of that request's object; esc
// goes back.
func TestAnswerResultHistoryKey(t *testing.T) {
	m, p := answersModel(t, "answers/audit.log", 120, 45)
	for range answerIndex(t, "rbac") {
		press(m, "j")
	}
	press(m, "l") // into the results: the RBAC writes, newest first
	if !p.inResults {
		t.Fatal("no RBAC results")
	}
	// down to dana's rolebinding, past the RBAC writes made after it
	for range newerThan(t, "bind-dana", func(a gjson.Result) bool {
		return a.Get("apiGroup").String() == "rbac.authorization.k8s.io" && a.Get("verb").String() != "get"
	}) {
		press(m, "j")
	}
	press(m, "H")
	v := screen(m)
	if frontScreen(m) == nil || !strings.Contains(v, "History of rbac.authorization.k8s.io/rolebindings shop/dana-pod-reader: 1 write") ||
		!strings.Contains(v, `+ subjects[dev-dana].name: "dev-dana"`) {
		t.Fatalf("H on dana's rolebinding: want its history:\n%s", v)
	}
	press(m, "esc")
	if frontScreen(m) != nil || !strings.Contains(screen(m), "RBAC changes") {
		t.Error("esc does not go back to the answers")
	}
}

// The exec answer on the real answers log: exec over WebSockets (get) and
// SPDY (create), attach, port-forward, kubectl debug and nodes/proxy, each
// with what it ran or reached.
func TestAnswerExecAllWaysIn(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "answers/audit.log", 200, 40)
	for range answerIndex(t, "exec") {
		pgPress(p, "j")
	}
	v := ansi.Strip(p.View())
	for _, want := range []string{"6 matching requests", "pods/exec", "pods/attach", "pods/portforward", "pods/ephemeralcontainers", "nodes/proxy",
		`$ sh -c "cat /etc/shop/db-password; id"`, "$ /exec/shop/debug/debug id -u", "$ ports 8080", "$ debug container debugger (registry.k8s.io/e2e-test-images/busybox:1.36.1-1): sh"} {
		if !strings.Contains(v, want) {
			t.Errorf("the exec answer lacks %q:\n%s", want, v)
		}
	}
}

// R on a denied request opens the RBAC of its user: the denial in words
// and the Role that would allow what the user did.
func TestAnswerResultRBACKey(t *testing.T) {
	// tall enough for every denial of the log on one screen: the cursor
	// does not go below the rows shown (ui/answers.go, resultRows)
	m, _ := answersModel(t, "answers/audit.log", 120, 65)
	for range answerIndex(t, "denied") {
		press(m, "j")
	}
	press(m, "l")
	// the denials newest first: down to dana's newer one, past the later
	// ones (the deployer's list, ci-bot's burst)
	for range newerThan(t, "dana-list-secrets", func(a gjson.Result) bool {
		c := a.Get("code").Int()
		return c == 401 || c == 403
	}) {
		press(m, "j")
	}
	press(m, "R")
	v := screen(m)
	for _, want := range []string{"# 3 requests by dev-dana (groups kubyk:contractors, system:authenticated), 2 denied",
		"may not create deployments.apps in namespace shop", "kind: Role", `  resources: ["deployments"]`,
		"enter: this user's requests on the Requests page"} {
		if frontScreen(m) == nil || !strings.Contains(v, want) {
			t.Errorf("R on dana's denial: the screen lacks %q:\n%s", want, v)
		}
	}
	press(m, "enter")
	if m.State() != stateRequests || m.flt.expr != "user=dev-dana" {
		t.Errorf("enter on the RBAC screen: page %v, filter %q; want the Requests page and user=dev-dana", m.State(), m.flt.expr)
	}
}

// "Which admin": the admins' requests, each with the certificate it came
// with; admin.conf of this node by name, the laptop's copy by fingerprint.
func TestAnswerWhichAdmin(t *testing.T) {
	fps := audittest.Expected(t, "answers").Get("fingerprints")
	audit.SetCredentialNames(map[string]string{fps.Get(`etc-kubernetes/admin\.conf`).String(): "admin.conf on this node"})
	t.Cleanup(func() { audit.SetCredentialNames(nil) })
	p, _, _ := newTestAnswersPage(t, "answers/audit.log", 140, 40)
	for range answerIndex(t, "admins") {
		pgPress(p, "j")
	}
	v := ansi.Strip(p.View())
	laptop := "[unknown certificate " + fps.Get(`laptop/admin\.conf`).String()[:12] + "]"
	var deleteRow string
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, " delete ") && strings.Contains(l, "shop/web") {
			deleteRow = l
		}
	}
	if !strings.Contains(deleteRow, laptop) {
		t.Errorf("the delete of web does not show %s:\n%s", laptop, v)
	}
	if !strings.Contains(v, "[admin.conf on this node]") || !strings.Contains(v, "kubernetes-super-admin") {
		t.Errorf("the admins' requests lack admin.conf on this node or the super admin:\n%s", v)
	}
}

// "What the log cannot see" on the real log and its backups: the span of
// each input, the gaps (none over 5 minutes), and the writes logged without
// a body, counted here from the log itself.
func TestAnswerCoverageScreen(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "file/audit.log", 120, 40)
	p.setInputName(func(i int32) string { return []string{"backup.gz", "backup", "audit.log"}[i] })
	for range answerIndex(t, "coverage") {
		pgPress(p, "j")
	}
	if msgs := pgPress(p, "enter"); len(msgs) != 0 || p.history() == nil {
		t.Fatalf("enter: messages %v, screen open %v", msgs, p.history() != nil)
	}
	v := ansi.Strip(p.View())
	noBody := map[string]int{}
	seen := map[string]bool{}
	// the plain rotated backup and the live log
	for _, p := range []string{audittest.Rotated(t, "file", "audit-*.log"), audittest.Path("file", "audit.log")} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			e := gjson.Parse(l)
			id := e.Get("auditID").Str
			if e.Get("level").Str == "Metadata" && !seen[id] && strings.Contains("create update patch delete deletecollection", e.Get("verb").Str) && e.Get("objectRef.resource").Str != "" {
				seen[id] = true
				noBody[e.Get("objectRef.resource").Str]++
			}
		}
	}
	wants := []string{"Covered: 2026-11-26T03:57:47Z to 2026-11-26T03:58:36Z (49s), 1195 requests, 2392 events",
		"backup.gz", "audit.log", "Gaps longer than 5m0s with no event: 0", "Writes without a logged body"}
	for res := range noBody {
		wants = append(wants, res)
	}
	for _, want := range wants {
		if !strings.Contains(v, want) {
			t.Errorf("the coverage screen lacks %q:\n%s", want, v)
		}
	}
	if len(noBody) == 0 {
		t.Error("the real log has no Metadata-level write: the test checks less than it says")
	}
}
