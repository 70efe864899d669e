package ui

// Why a 403 was refused, in the explorer, on testdata/admission/ (a real
// kube-apiserver's log of 403s that admission controls and RBAC gave dev-pat;
// expected.json says what hack/gen-admission.sh did and which control
// refused each one).

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// isAction reports whether r is the request of action a (the event names
// the object when the request did: not kubectl's create rolebinding).
func isAction(r *audit.Request, a gjson.Result) bool {
	return r.User == a.Get("user").String() && r.Verb == a.Get("verb").String() &&
		r.Resource == a.Get("resource").String() && r.Namespace == a.Get("namespace").String() &&
		r.Code == int(a.Get("code").Int()) && (r.Name == "" || r.Name == a.Get("name").String())
}

// Detail of each 403: what RBAC would have to allow ("Missing") when RBAC
// refused it; which admission control refused it ("Refused") when RBAC
// allowed it, with no "Missing"; "cannot tell" without the decision.
func TestDetailSaysWhatRefusedA403(t *testing.T) {
	st, set := loadStore(t, audittest.Path("admission", "audit.log"))
	m := newTestModel(t, st, set.Raw, 200, 60)
	for _, a := range audittest.Refusals(t) {
		step := a.Get("step").String()
		m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool { return isAction(r, a) }))
		press(m, "enter")
		if m.State() != stateDetail {
			t.Fatalf("%s: state %v after enter, want the detail", step, m.State())
		}
		scr := screen(m)
		missing, refused := labelLine(scr, "Missing"), labelLine(scr, "Refused")
		switch a.Get("refusedBy").String() {
		case "rbac":
			if !strings.Contains(missing, a.Get("verb").String()+" "+a.Get("resource").String()) || refused != "" {
				t.Errorf("%s: RBAC's 403 shows Missing %q, Refused %q:\n%s", step, missing, refused, scr)
			}
		case "impersonation":
			if !strings.Contains(missing, "the log cannot tell") || refused != "" {
				t.Errorf("%s: a 403 without decision shows Missing %q, Refused %q:\n%s", step, missing, refused, scr)
			}
		default:
			c := a.Get("control").String()
			if !strings.Contains(refused, c) || !strings.Contains(refused, "no Role lets it through") || missing != "" {
				t.Errorf("%s: the 403 %s refused shows Refused %q, Missing %q:\n%s", step, c, refused, missing, scr)
			}
			if b := a.Get("binding").String(); b != "" && !strings.Contains(refused, b) {
				t.Errorf("%s: Refused %q does not name the binding %s", step, refused, b)
			}
		}
		press(m, "esc")
	}
}

// labelLine is the line of the detail header with that label, "" if none.
func labelLine(scr, label string) string {
	for _, l := range strings.Split(scr, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " ▸"), label+" ") {
			return strings.Join(strings.Fields(l), " ")
		}
	}
	return ""
}

// R on a 403 in Answers: the RBAC screen says what refused each of the
// user's requests, as --rbac does (one rule: audit.WhyRefused).
func TestAnswerRBACScreenSaysWhatRefused(t *testing.T) {
	m, _ := answersModel(t, "admission/audit.log", 200, 85)
	for range answerIndex(t, "denied") {
		press(m, "j")
	}
	press(m, "l")
	press(m, "R")
	v := screen(m)
	if frontScreen(m) == nil {
		t.Fatalf("R on a denial shows no RBAC screen:\n%s", v)
	}
	for _, a := range audittest.Refusals(t) {
		c := a.Get("control").String()
		if c != "" && !strings.Contains(v, c) {
			t.Errorf("the RBAC screen does not name %s, which refused %s:\n%s", c, a.Get("step"), v)
		}
	}
	if !strings.Contains(v, "no Role lets it through") || !strings.Contains(v, "the log cannot tell") {
		t.Errorf("the RBAC screen does not tell admission's refusals from RBAC's:\n%s", v)
	}
}
