package detect

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// TestSigmaGroundTruth runs the Sigma rules of testdata/findings/sigma
// (written for these tests in the shape of Sigma's public Kubernetes rules:
// lists, contains/startswith/endswith/re/all, not, all of x*, 1 of them, the
// hostPath alias) over the real log: each fires on exactly the requests of
// the harness's steps it describes.
func TestSigmaGroundTruth(t *testing.T) {
	gt, reqs, set := loadFindings(t)
	rules, err := LoadSigmaDir(filepath.Join("..", "testdata", "findings", "sigma"))
	if err != nil {
		t.Fatal(err)
	}
	steps := func(names ...string) []string {
		var ids []string
		for _, a := range gt.Actions {
			if slices.Contains(names, a.Step) {
				ids = append(ids, a.AuditIDs...)
			}
		}
		slices.Sort(ids)
		return ids
	}
	want := map[string][]string{
		"sigma:webhook_change":      steps("admin-register-validating-webhook", "mallory-register-mutating-webhook", "mallory-delete-validating-webhook"),
		"sigma:exec_kube_system":    steps("mallory-exec-static-pod"),
		"sigma:hostpath_root":       steps("mallory-hostpath-pod"),
		"sigma:anonymous_allowed":   steps("anonymous-read-configmap", "anonymous-version"),
		"sigma:impersonate_masters": steps("mallory-impersonate-masters"),
		"sigma:scanner_agent":       steps("eve-403-burst", "mallory-patch-kubeadm-config"),
	}
	res := Run(rules, reqs, set.Raw)
	got := map[string][]string{}
	for _, f := range res.Findings {
		got[f.Rule.ID] = append(got[f.Rule.ID], f.AuditIDs()...)
		if f.Rule.ID == "sigma:hostpath_root" && f.Detail != "create pods prod/hostpath (201)" {
			t.Errorf("a Sigma finding says %q, want what the request did", f.Detail)
		}
	}
	for _, r := range rules {
		g := got[r.ID]
		slices.Sort(g)
		if len(want[r.ID]) == 0 {
			t.Errorf("%s: no expectation", r.ID)
		}
		if !slices.Equal(g, want[r.ID]) {
			t.Errorf("%s fired on %d requests %v, want %d %v", r.ID, len(g), g, len(want[r.ID]), want[r.ID])
		}
	}
	imp := rules[slices.IndexFunc(rules, func(r *Rule) bool { return r.ID == "sigma:impersonate_masters" })]
	if imp.Severity != Critical || imp.Technique != "T1078" || imp.Why != "Impersonation of a group holding every right." {
		t.Errorf("impersonate_masters: severity %q technique %q why %q", imp.Severity, imp.Technique, imp.Why)
	}
}

// TestSigmaRefused: constructs outside the supported subset are refused
// with one line naming the file and the construct (crafted rules).
func TestSigmaRefused(t *testing.T) {
	head := "title: t\nlogsource:\n  product: kubernetes\n  service: audit\n"
	cases := []struct{ name, body, want string }{
		{"keywords", head + "detection:\n  keywords:\n    - evil\n  condition: keywords\n", "keyword"},
		{"base64", head + "detection:\n  sel:\n    verb|base64: get\n  condition: sel\n", `modifier "base64" is not supported`},
		{"count", head + "detection:\n  sel:\n    verb: get\n  condition: sel | count() by user.username > 5\n", "aggregations"},
		{"timeframe", head + "detection:\n  sel:\n    verb: get\n  timeframe: 5m\n  condition: sel\n", "timeframe"},
		{"logsource", "title: t\nlogsource:\n  product: windows\n  service: security\ndetection:\n  sel:\n    EventID: 1\n  condition: sel\n", `product "windows"`},
		{"field", head + "detection:\n  sel:\n    file_path: '*gcc*'\n  condition: sel\n", `field "file_path" is not in an audit event`},
		{"two-of", head + "detection:\n  sel1:\n    verb: get\n  sel2:\n    verb: list\n  condition: 2 of sel*\n", "only 1 of and all of"},
		{"collection", head + "detection:\n  sel:\n    verb: get\n  condition: sel\n---\n" + head + "detection:\n  sel:\n    verb: list\n  condition: sel\n", "rule collections"},
		{"regexp", head + "detection:\n  sel:\n    verb|re: '(?<=a)b'\n  condition: sel\n", "verb|re"},
		{"unknown-selection", head + "detection:\n  sel:\n    verb: get\n  condition: sel and other\n", `no selection named "other"`},
		{"paren", head + "detection:\n  sel:\n    verb: get\n  condition: (sel\n", "without its )"},
		{"no-condition", head + "detection:\n  sel:\n    verb: get\n", "condition: missing"},
		{"level", head + "level: severe\ndetection:\n  sel:\n    verb: get\n  condition: sel\n", `level "severe"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := "rules/" + c.name + ".yml"
			_, err := ParseSigma(file, []byte(c.body))
			if err == nil {
				t.Fatalf("accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, file+": ") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line starting with %q and holding %q", msg, file+": ", c.want)
			}
		})
	}
}

// TestSigmaValues: Sigma's value semantics on crafted requests: plain
// values compare whole ignoring case, * and ? are wildcards and \* a star,
// numbers match as text, null is an absent field, cased and re are
// case-sensitive.
func TestSigmaValues(t *testing.T) {
	r := audit.NewRequest(audit.Who{User: "Alice*", Groups: []string{"dev", "system:authenticated"}},
		audit.What{Verb: "get", Resource: "pods", Code: 403}, "id-1", "/api/v1/pods", "web-1")
	head := "title: t\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  condition: sel\n  sel:\n"
	cases := []struct {
		sel  string
		want bool
	}{
		{"    verb: GET\n", true},
		{"    verb: ge\n", false},
		{"    verb: 'g?t'\n", true},
		{"    user.username: 'alice\\*'\n", true},
		{"    user.username: 'alice\\?'\n", false},
		{"    user.username|cased: 'alice*'\n", false},
		{"    responseStatus.code: 403\n", true},
		{"    responseStatus.code: [401, 404]\n", false},
		{"    objectRef.namespace: null\n", true},
		{"    objectRef.name: null\n", false},
		{"    user.groups: DEV\n", true},
		{"    user.groups|all: [dev, system:authenticated]\n", true},
		{"    user.groups|all: [dev, system:masters]\n", false},
		{"    objectRef.name|re: '^WEB'\n", false},
		{"    objectRef.name|re|i: '^WEB'\n", true},
		{"    objectRef.name|exists: true\n", true},
		{"    objectRef.subresource|exists: true\n", false},
		{"    requestURI|endswith: /PODS\n", true},
	}
	for _, c := range cases {
		rule, err := ParseSigma("v.yml", []byte(head+c.sel))
		if err != nil {
			t.Fatalf("%s: %v", c.sel, err)
		}
		res := Run([]*Rule{rule}, []*audit.Request{r}, nil)
		if got := len(res.Findings) == 1; got != c.want {
			t.Errorf("%s: fired %v, want %v", strings.TrimSpace(c.sel), got, c.want)
		}
	}
}

// FuzzSigma: no rule file makes the parser or a compiled rule panic.
func FuzzSigma(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "testdata", "findings", "sigma", "*.yml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("title: t\nlogsource: {product: kubernetes, service: audit}\ndetection: {sel: {verb|contains|all: [a, b]}, condition: 'not (sel or 1 of s*) and all of them'}\n"))
	f.Add([]byte("title: t\nlogsource: {product: kubernetes, service: audit}\ndetection: {sel: {requestObject.spec.containers.#.name|re: '^a', annotations.a.b/c: x, user.extra.k.x: null, hostPath|exists: true}, condition: sel}\n"))
	reqs := []*audit.Request{
		audit.NewRequest(audit.Who{User: "u", Groups: []string{"g"}}, audit.What{Verb: "get", Resource: "pods", Code: 200, Stage: "ResponseComplete"}, "a", "/api/v1/pods", "p"),
		audit.NewRequest(audit.Who{}, audit.What{Code: 401}, "b", "/", ""),
	}
	// the first request's event, for fields read from the raw line
	reqs[0].Events = []audit.EventRef{audit.NewEventRef(audit.Ref{}, "ResponseComplete", time.Unix(0, 0))}
	ev := []byte(`{"kind":"Event","stage":"ResponseComplete","verb":"get","user":{"username":"u","extra":{"k.x":["1"]}},"annotations":{"a.b/c":"x"},"requestObject":{"spec":{"containers":[{"name":"a"},{"name":"b"}],"volumes":[{"hostPath":{"path":"/"}}]}}}`)
	raw := func(audit.Ref) ([]byte, error) { return ev, nil }
	f.Fuzz(func(t *testing.T, data []byte) {
		rule, err := ParseSigma("fuzz.yml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error on several lines: %q", err)
			}
			return
		}
		Run([]*Rule{rule}, reqs, raw)
	})
}

// TestSigmaRawFields: fields the request model does not hold are read from
// the request's last-stage event: an annotation key with dots and a slash,
// the pod spec of a create (the real log of hack/gen-findings.sh).
func TestSigmaRawFields(t *testing.T) {
	gt, reqs, set := loadFindings(t)
	rule, err := ParseSigma("raw.yml", []byte(`title: host PID by an allowed request
logsource: {product: kubernetes, service: audit}
detection:
  sel:
    annotations.authorization.k8s.io/decision: allow
    requestObject.spec.hostPID: true
    requestObject.spec.containers.#.image|endswith: 'busybox:1.36.1-1'
  condition: sel
`))
	if err != nil {
		t.Fatal(err)
	}
	res := Run([]*Rule{rule}, reqs, set.Raw)
	var want []string
	for _, a := range gt.Actions {
		if a.Step == "mallory-host-namespace-pod" {
			want = a.AuditIDs
		}
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.AuditIDs()...)
	}
	if !slices.Equal(got, want) {
		t.Errorf("fired on %v, want %v", got, want)
	}
}
