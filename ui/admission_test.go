package ui

import (
	"github.com/kauditui/kauditui/audit"
	"github.com/tidwall/gjson"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
)

// "Why refused or changed by admission" on testdata/answers (a real
// apiserver with hack/slow-webhook's /mutate as slow-mutate.kauditui.example,
// 700 ms): the answer lists the configmap the webhook patched, saying so;
// enter opens its Detail, which names the webhook and its patch and says
// where the apiserver says the time went (the mutating webhook).
func TestAnswerAdmissionListsWhatAWebhookPatched(t *testing.T) {
	st, set := loadStore(t, audittest.Logs(t, "answers")...)
	m := newTestModel(t, st, set.Raw, 200, 60)
	r := openAnswerResults(t, m, "admission", 0)
	if r.Name != "stamped-config" {
		t.Errorf("first result %s %s, want the configmap stamped-config", r.Verb, r.Name)
	}
	if s := screen(m); !strings.Contains(s, "patched by slow-mutate.kauditui.example") {
		t.Errorf("the result does not say which webhook patched it:\n%s", s)
	}
	press(m, "enter")
	scr := screen(m)
	if l := labelLine(scr, "Admission"); !strings.Contains(l, `patched by mutating webhook "slow-mutate.kauditui.example", round 0: [{"op":"add"`) {
		t.Errorf("Admission line %q:\n%s", l, scr)
	}
	if l := labelLine(scr, "Slow in"); !strings.HasPrefix(l, "Slow in mutating-webhook 70") || !strings.Contains(l, "total 70") {
		t.Errorf("Slow in line %q:\n%s", l, scr)
	}
}

// A password in an exec's command line is redacted in Detail (the command,
// the URI and the event's JSON) until U shows it, and U redacts it again.
// Crafted: the harness's apiserver has no kubelet to exec into.
func TestDetailRedactsSecretsUntilU(t *testing.T) {
	defer render.SetShowSecrets(false)
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/pods/db/exec?command=mysql\u0026command=-p\u0026command=hunter2\u0026container=db","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"a","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-12-06T01:00:00.000000Z","stageTimestamp":"2026-12-06T01:00:01.000000Z"}`
	st, set := loadStore(t, writeLog(t, line))
	m := newTestModel(t, st, set.Raw, 200, 50)
	press(m, "enter")
	scr := screen(m)
	if strings.Contains(scr, "hunter2") || !strings.Contains(labelLine(scr, "Command"), "mysql -p "+render.Redacted) {
		t.Fatalf("the password shows:\n%s", scr)
	}
	press(m, "U")
	if scr := screen(m); !strings.Contains(labelLine(scr, "Command"), "mysql -p hunter2") || !strings.Contains(labelLine(scr, "URI"), "hunter2") {
		t.Errorf("U does not show it:\n%s", scr)
	}
	press(m, "U")
	if scr := screen(m); strings.Contains(scr, "hunter2") {
		t.Errorf("U again does not redact it:\n%s", scr)
	}
}

// writeLog writes lines to a log file of the test's own.
func writeLog(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// On testdata/admission (hack/gen-admission.sh): the admission answer lists
// exactly the requests expected.json says an admission control refused
// (webhook, PodSecurity, policy, quota: not RBAC, not the impersonation)
// or a mutating webhook patched, each saying which; the patched ones also
// name the webhooks that failed open, in Detail too.
func TestAnswerAdmissionMatchesTheHarness(t *testing.T) {
	m, _ := answersModel(t, "admission/audit.log", 250, 80)
	openAnswerResults(t, m, "admission", 0)
	a := answersOf(m)
	var want []gjson.Result
	for _, act := range audittest.Expected(t, "admission").Get("actions").Array() {
		switch act.Get("refusedBy").String() {
		case "webhook", "podsecurity", "policy", "quota":
			want = append(want, act)
			continue
		}
		if act.Get("patchedBy").String() != "" {
			want = append(want, act)
		}
	}
	if len(reqsOf(a.result.matches)) != len(want) {
		t.Errorf("%d results, want %d (the harness's refused and patched steps)", len(reqsOf(a.result.matches)), len(want))
	}
	scr := screen(m)
	for _, act := range want {
		found := false
		for _, r := range reqsOf(a.result.matches) {
			found = found || isAction(r, act)
		}
		if !found {
			t.Errorf("step %s is not listed", act.Get("step"))
		}
		if p := act.Get("patchedBy").String(); p != "" && !strings.Contains(scr, "patched by "+p) {
			t.Errorf("step %s: no row says patched by %s:\n%s", act.Get("step"), p, scr)
		}
	}
	// the newest patched one: its Detail
	for i, r := range reqsOf(a.result.matches) {
		if r.Name != "stamped" {
			continue
		}
		for range i {
			press(m, "j")
		}
		press(m, "enter")
		scr := screen(m)
		for _, w := range []string{`patched by mutating webhook "stamp.kauditui.example"`,
			`mutating webhook "gone-mutate.kauditui.example" failed open`, `validating webhook "gone-validate.kauditui.example" failed open`} {
			if !strings.Contains(strings.Join(strings.Fields(scr), " "), w) {
				t.Errorf("Detail does not say %s:\n%s", w, scr)
			}
		}
		break
	}
}

// Detail of an impersonated request of testdata/findings (a real v1.37.2,
// constrained impersonation on by default) says which constrained verb let
// it through, as its authenticationMetadata does.
func TestDetailShowsConstrainedImpersonation(t *testing.T) {
	st, set := loadStore(t, audittest.Logs(t, "findings")...)
	m := newTestModel(t, st, set.Raw, 200, 60)
	var constraint string
	row := rowOf(t, m, func(r *audit.Request) bool {
		line, err := set.Raw(r.Events[len(r.Events)-1].Ref)
		constraint = gjson.GetBytes(line, "authenticationMetadata.impersonationConstraint").String()
		return err == nil && constraint != ""
	})
	m.requests.table.SetCursor(row)
	press(m, "enter")
	scr := screen(m)
	if l := labelLine(scr, "Imperson."); l != "Imperson. allowed by constrained impersonation, verb "+constraint {
		t.Errorf("Imperson. line %q, the event says %q:\n%s", l, constraint, scr)
	}
}
