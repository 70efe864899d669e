package detect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/source"
)

// Every rule of the pack is complete: a unique id, a title, a MITRE
// technique, a severity and a one-line why; its filter parses (Builtin
// panics otherwise).
func TestBuiltinRulesComplete(t *testing.T) {
	ids := map[string]bool{}
	tech := regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)
	for _, r := range Builtin() {
		if ids[r.ID] || r.ID == "" {
			t.Errorf("rule id %q empty or twice", r.ID)
		}
		ids[r.ID] = true
		if r.Title == "" || !tech.MatchString(r.Technique) || r.TechniqueName == "" || SeverityRank(r.Severity) < 1 ||
			r.Why == "" || strings.Contains(r.Why, "\n") {
			t.Errorf("rule %s incomplete: %+v", r.ID, r)
		}
		if r.body == nil && r.burst == nil && r.Filter == "" {
			t.Errorf("rule %s matches every request", r.ID)
		}
	}
}

// event is a crafted audit event line (the shape kube-apiserver writes).
func event(id, user, verb, resource, sub, ns, name string, code int, level, body string, at time.Time) string {
	group := map[string]string{"clusterrolebindings": "rbac.authorization.k8s.io", "rolebindings": "rbac.authorization.k8s.io"}[resource]
	obj := fmt.Sprintf(`{"resource":%q,"subresource":%q,"namespace":%q,"name":%q,"apiGroup":%q,"apiVersion":"v1"}`, resource, sub, ns, name, group)
	uri := "/api/v1/" + resource
	if resource == "" {
		obj, uri = "null", "/healthz"
	}
	e := fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":%q,"auditID":%q,"stage":"ResponseComplete","requestURI":%q,"verb":%q,"user":{"username":%q},"sourceIPs":["10.0.0.9"],"objectRef":%s,"responseStatus":{"metadata":{},"code":%d},"requestReceivedTimestamp":%q,"stageTimestamp":%q`,
		level, id, uri, verb, user, obj, code, at.Format("2006-01-02T15:04:05.000000Z"), at.Add(time.Millisecond).Format("2006-01-02T15:04:05.000000Z"))
	if body != "" {
		e += `,"requestObject":` + body
	}
	return e + "}"
}

// runLines runs the pack over crafted event lines.
func runLines(t *testing.T, lines ...string) Result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{p}}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return Run(Builtin(), st.Snapshot().Requests, set.Raw)
}

func fired(res Result) map[string]int {
	m := map[string]int{}
	for _, f := range res.Findings {
		m[f.Rule.ID]++
	}
	return m
}

// Crafted edge cases the harness does not make: bodies the policy did not
// log are counted as unchecked, never passed as clean; a merge patch adding
// system:masters to a binding's subjects fires; a service account asking
// for its own token, anonymous health checks and a kube-system controller's
// pods do not.
func TestRulesEdgeCases(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	priv := `{"kind":"Pod","spec":{"containers":[{"name":"c","securityContext":{"privileged":true}}]}}`
	res := runLines(t,
		event("a1", "bob", "create", "pods", "", "default", "p1", 201, "Metadata", "", at),
		event("a2", "bob", "patch", "pods", "", "default", "p2", 200, "Request", `[{"op":"add","path":"/spec/hostPID","value":true}]`, at.Add(time.Second)),
		event("a3", "bob", "create", "clusterrolebindings", "", "", "b1", 201, "Metadata", "", at.Add(2*time.Second)),
		event("a4", "bob", "patch", "rolebindings", "", "team", "b2", 200, "Request", `{"subjects":[{"kind":"Group","name":"system:masters"}]}`, at.Add(3*time.Second)),
		event("a5", "system:serviceaccount:ci:builder", "create", "serviceaccounts", "token", "ci", "builder", 201, "Metadata", "", at.Add(4*time.Second)),
		event("a6", "system:anonymous", "get", "", "", "", "", 200, "Metadata", "", at.Add(5*time.Second)),
		event("a7", "system:serviceaccount:kube-system:daemon-set-controller", "create", "pods", "", "kube-system", "agent-x", 201, "Request", priv, at.Add(6*time.Second)),
		event("a8", "bob", "create", "pods", "", "default", "p3", 201, "Request", priv, at.Add(7*time.Second)),
	)
	got := fired(res)
	want := map[string]int{"rbac-bind-admin": 1, "privileged-pod": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fired %v, want %v", got, want)
	}
	unchecked := map[string]int{}
	for _, u := range res.Unchecked {
		unchecked[u.Rule.ID] = u.Count
	}
	// a1 (Metadata) and a2 (a JSON patch) for each pod rule; a3 for each binding rule
	wantU := map[string]int{"privileged-pod": 2, "host-namespace-pod": 2, "hostpath-pod": 2, "rbac-bind-admin": 1, "rbac-bind-anonymous": 1}
	if fmt.Sprint(unchecked) != fmt.Sprint(wantU) {
		t.Errorf("unchecked %v, want %v", unchecked, wantU)
	}
}

// The burst rule: 10 refusals of one source within a minute fire, 9 do not;
// two users refused from one address are two sources; the 401s of an
// address (no user) are one.
func TestBurstThreshold(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	var lines []string
	add := func(prefix, user string, n, code int, step time.Duration) {
		for i := range n {
			lines = append(lines, event(fmt.Sprintf("%s%d", prefix, i), user, "list", "secrets", "", "default", "", code, "Metadata", "", at.Add(time.Duration(i)*step)))
		}
	}
	add("nine", "nina", 9, 403, time.Second)
	add("ten", "tom", 10, 403, 5*time.Second)
	add("slow", "sam", 12, 403, 61*time.Second) // never 10 within a minute
	add("anon", "", 10, 401, time.Second)
	res := runLines(t, lines...)
	var got []string
	for _, f := range res.Findings {
		if f.Rule.ID == "auth-failure-burst" {
			got = append(got, fmt.Sprintf("%s:%d", f.User(), len(f.Requests)))
		}
	}
	want := "[(unauthenticated):10 tom:10]"
	if fmt.Sprint(got) != want {
		t.Errorf("bursts %v, want %s", got, want)
	}
}
