package policytext

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
)

func writePolicy(t *testing.T, policy string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(name, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// A rule value, a path or an error is drawn escaped: a policy file is
// text anyone with write access to it chose.
func TestPolicyTextIsSanitised(t *testing.T) {
	name := writePolicy(t, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"+
		"- level: None\n  users: [\"\\e]0;pwned\\a\\e[31mroot\\u202e\"]\n  namespaces: [\"ns\\nfake line\"]\n  resources: [{group: \"\"}]\n"+
		"- level: Metadata\n  omitStages: [ResponseStarted]\n")
	p, err := setup.PolicyFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lines := Text(p, nil, nil)
	want := []string{
		Heading,
		"  Policy " + name + " (--policy): 2 rules",
		`  rule 1 drops: users \x1b]0;pwned\x07\x1b[31mroot\u202e; every resource in group "" (core); namespaces ns\nfake line`,
		"  Every request matches one of rules 1 to 2.",
		"  Stages the requests of rule 2 (level Metadata: every request) never have: ResponseStarted",
	}
	if !slices.Equal(lines, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range lines {
		if strings.ContainsAny(l, "\x1b\x07\n\u202e") {
			t.Errorf("unsanitised: %q", l)
		}
	}
	// An error is one line, escaped too.
	err = &setup.PolicyError{What: "cannot read the audit policy /etc/\x1b[2Jx", Err: fs.ErrPermission, Hint: "run as root, or pass --policy FILE"}
	if got := Text(nil, err, nil); len(got) != 1 || got[0] != `Not logged by the policy (level None): unknown, cannot read the audit policy /etc/\x1b[2Jx: permission denied (run as root, or pass --policy FILE)` {
		t.Errorf("%q", got)
	}
	if got := Text(nil, fmt.Errorf("/etc/kubernetes/manifests/kube-apiserver.yaml: %w", setup.ErrNotMaster), nil); got != nil {
		t.Errorf("not a master: %q", got)
	}
}

// Requests that a policy would not log are counted with the apiserver's
// matcher on testdata/answers/audit.log: rule 1 drops the log's busiest
// user, rule 2 logs every non-resource request, so the resource requests of
// the others match no rule. The numbers are computed from the log itself.
func TestCountDropsOnTheAnswersLog(t *testing.T) {
	// The live file and the backups beside it, as source reads them.
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{audittest.Path("answers", "audit.log")}}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	reqs := st.Snapshot().Requests
	var b []byte
	for _, in := range set.Inputs() {
		b = append(append(b, audittest.ReadLog(t, in.Name)...), '\n')
	}
	byUser, resourceOf := map[string]int{}, map[string]int{}
	seen := map[string]bool{}
	for l := range bytes.Lines(b) {
		e := gjson.ParseBytes(l)
		id := e.Get("auditID").Str + e.Get("requestReceivedTimestamp").Str
		if !e.Get("auditID").Exists() || seen[id] {
			continue
		}
		seen[id] = true
		u := e.Get("user.username").Str
		byUser[u]++
		if e.Get("objectRef.resource").Str != "" {
			resourceOf[u]++
		}
	}
	busiest := ""
	for u, n := range byUser {
		if n > byUser[busiest] || n == byUser[busiest] && u < busiest {
			busiest = u
		}
	}
	unmatched := 0
	for u, n := range resourceOf {
		if u != busiest {
			unmatched += n
		}
	}
	if byUser[busiest] == 0 || unmatched == 0 {
		t.Fatalf("the log has too little to count: %v", byUser)
	}
	p, err := setup.PolicyFile(writePolicy(t, fmt.Sprintf("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [%q]\n- level: Metadata\n  nonResourceURLs: [\"*\"]\n", busiest)))
	if err != nil {
		t.Fatal(err)
	}
	d := CountDrops(p, reqs)
	if d.Requests != len(seen) || d.ByRule[1] != byUser[busiest] || d.Unmatched != unmatched || len(d.ByRule) != 1 {
		t.Errorf("counted %+v; want %d requests, %d by rule 1 (%s), %d matching no rule", d, len(seen), byUser[busiest], busiest, unmatched)
	}
	lines := strings.Join(Text(p, nil, &d), "\n")
	for _, want := range []string{
		fmt.Sprintf("rule 1 drops: users %s [%d requests in this log]", busiest, byUser[busiest]),
		fmt.Sprintf("Resource requests no rule matches are not logged (the apiserver's level for them is None) [%d requests in this log]", unmatched),
		fmt.Sprintf("%d of the %d requests in this log are ones this policy does not log", byUser[busiest]+unmatched, len(seen)),
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("no %q in\n%s", want, lines)
		}
	}
	// The policy the log was written under drops none of it.
	p, err = setup.PolicyFile(filepath.Join("..", "..", "hack", "policy-answers.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if d := CountDrops(p, reqs); d.Dropped() != 0 {
		t.Errorf("hack/policy-answers.yaml drops %+v of the log it wrote", d)
	}
}
