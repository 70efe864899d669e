package detect

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/source"
)

// The ground truth of testdata/findings/ (hack/gen-findings.sh): each step
// the harness took against the real apiserver, the rule that must fire on
// it ("" for benign traffic) and the auditIDs of its requests.
type findingsTruth struct {
	Actions []struct {
		Step     string
		Rule     string
		AuditIDs []string `json:"auditIDs"`
	}
}

// loadFindings reads testdata/findings (every log there, found by glob) and
// its expected.json.
func loadFindings(t *testing.T) (*findingsTruth, []*audit.Request, *source.Set) {
	t.Helper()
	dir := filepath.Join("..", "testdata", "findings")
	if d := os.Getenv("KAUDITUI_FINDINGS"); d != "" {
		dir = d
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(logs) == 0 {
		t.Fatalf("no logs in %s: run hack/gen-findings.sh", dir)
	}
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt findingsTruth
	if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatal(err)
	}
	set, err := source.Open(context.Background(), source.Spec{Paths: logs}, source.Options{Warn: func(m string) { t.Logf("warning: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return &gt, st.Snapshot().Requests, set
}

// TestFindingsGroundTruth: every attack step of the harness is found by its
// rule, on each of its requests; the benign traffic (hack/traffic.sh and the
// near misses) gives only the false positives the README lists.
func TestFindingsGroundTruth(t *testing.T) {
	gt, reqs, set := loadFindings(t)
	res := Run(Builtin(), reqs, set.Raw)

	fired := map[string][]string{} // auditID -> rules that fired on it
	for _, f := range res.Findings {
		for _, id := range f.AuditIDs() {
			fired[id] = append(fired[id], f.Rule.ID)
		}
	}
	attack := map[string]string{} // auditID -> rule the step wants
	rulesSeen := map[string]bool{}
	for _, a := range gt.Actions {
		if a.Rule == "" {
			continue
		}
		rulesSeen[a.Rule] = true
		if len(a.AuditIDs) == 0 {
			t.Errorf("step %s: no request in the ground truth", a.Step)
		}
		for _, id := range a.AuditIDs {
			attack[id] = a.Rule
			if !slices.Contains(fired[id], a.Rule) {
				t.Errorf("step %s (%s): rule %s did not fire (fired: %v)", a.Step, id, a.Rule, fired[id])
			}
		}
	}
	// every built-in rule is exercised by some step
	for _, r := range Builtin() {
		if !rulesSeen[r.ID] {
			t.Errorf("rule %s: no step of hack/gen-findings.sh performs it", r.ID)
		}
	}
	// False positives: findings none of whose requests is a step of their rule.
	var fps []string
	for _, f := range res.Findings {
		tp := false
		for _, id := range f.AuditIDs() {
			if attack[id] == f.Rule.ID {
				tp = true
			}
		}
		if !tp {
			fps = append(fps, f.Rule.ID+": "+f.User()+": "+f.Detail)
		}
	}
	// The README's Findings section lists these: the admin's
	// `kubectl create token kubyk-bot` in the benign traffic (hack/traffic.sh)
	// is a token for another identity.
	want := []string{"token-other-sa: kubernetes-admin: token for service account team-a/kubyk-bot (201)"}
	if !slices.Equal(fps, want) {
		t.Errorf("false positives on the benign traffic:\n got %s\nwant %s", strings.Join(fps, "\n     "), strings.Join(want, "\n     "))
	}
	// what a finding says is read from the request and its body
	details := map[string]string{
		"csr-approval":        "approved CSR mallory-backdoor (signer kubernetes.io/kube-apiserver-client): CN=mallory-backdoor O=kubeadm:cluster-admins",
		"rbac-bind-admin":     "create mallory-admin binds User mallory to ClusterRole cluster-admin (cluster-wide)",
		"rbac-bind-anonymous": "create prod/anon-config-reader binds User system:anonymous to Role anon-config-reader (in namespace prod)",
		"host-namespace-pod":  "create pods prod/hostns: hostPID, hostNetwork",
		"hostpath-pod":        "create pods prod/hostpath: hostPath / (volume root)",
	}
	for _, f := range res.Findings {
		if d, ok := details[f.Rule.ID]; ok && f.Detail != d {
			t.Errorf("%s says %q, want %q", f.Rule.ID, f.Detail, d)
		}
	}
	if len(res.Unchecked) != 0 {
		t.Errorf("requests unchecked (the policy logs pod and binding bodies): %+v", res.Unchecked)
	}
}

// TestFindingsOnOtherRealLogs: the other harnesses' real logs (testdata/,
// made for the other answers, none an attack) give only the findings the
// README's Findings section lists under false positives: each the rule
// seeing what it is for, done by the harness on purpose.
func TestFindingsOnOtherRealLogs(t *testing.T) {
	want := map[string]map[string]int{
		"file":    {"token-other-sa": 1},
		"stdout":  {"token-other-sa": 1},
		"answers": {"nodes-proxy-exec": 1, "rbac-bind-admin": 1, "webhook-change": 4, "auth-failure-burst": 1, "token-other-sa": 1},
		// admission: 8 webhook-change = the three webhook configurations, two
		// policies and three bindings hack/gen-admission.sh registers
		"admission":       {"webhook-change": 8, "impersonation-refused": 1},
		"backend":         {"nodes-proxy": 2},
		"hostile":         {},
		"trust/reused-id": {},
	}
	for dir, w := range want {
		t.Run(dir, func(t *testing.T) {
			var logs []string
			for _, pat := range []string{"*.log", "*.log.gz"} {
				m, _ := filepath.Glob(filepath.Join("..", "testdata", dir, pat))
				logs = append(logs, m...)
			}
			if len(logs) == 0 {
				t.Fatalf("no logs in testdata/%s", dir)
			}
			set, err := source.Open(context.Background(), source.Spec{Paths: logs}, source.Options{Warn: func(m string) { t.Logf("warning: %s", m) }})
			if err != nil {
				t.Fatal(err)
			}
			defer set.Close()
			st := audit.NewStore()
			if err := set.Load(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, f := range Run(Builtin(), st.Snapshot().Requests, set.Raw).Findings {
				got[f.Rule.ID]++
			}
			if !maps.Equal(got, w) {
				t.Errorf("findings %v, want %v", got, w)
			}
		})
	}
}
