package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"sigs.k8s.io/yaml"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render/policytext"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
)

// The seed policy testdata/file and testdata/stdout were written under.
const seedPolicy = "hack/policy-seed-v1.yaml"

func loadRequests(t *testing.T, paths ...string) []*audit.Request {
	t.Helper()
	set, err := source.Open(context.Background(), source.Spec{Paths: paths}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return st.Snapshot().Requests
}

// policyLevel is the level a policy gives an event, matched here apart
// from the apiserver's matcher (first matching rule wins; none: None), for
// the rule kinds a proposal and the seed policy use.
func policyLevel(p *auditv1.Policy, e gjson.Result) string {
	user, verb := e.Get("user.username").Str, e.Get("verb").Str
	var groups []string
	for _, g := range e.Get("user.groups").Array() {
		groups = append(groups, g.Str)
	}
	res, sub := e.Get("objectRef.resource").Str, e.Get("objectRef.subresource").Str
	if sub != "" {
		res += "/" + sub
	}
	path, _, _ := strings.Cut(e.Get("requestURI").Str, "?")
	for _, r := range p.Rules {
		if len(r.Users) > 0 && !slices.Contains(r.Users, user) {
			continue
		}
		if len(r.UserGroups) > 0 && !slices.ContainsFunc(r.UserGroups, func(g string) bool { return slices.Contains(groups, g) }) {
			continue
		}
		if len(r.Verbs) > 0 && !slices.Contains(r.Verbs, verb) {
			continue
		}
		if len(r.Resources) > 0 {
			if res == "" || !slices.ContainsFunc(r.Resources, func(gr auditv1.GroupResources) bool {
				return gr.Group == e.Get("objectRef.apiGroup").Str && (len(gr.Resources) == 0 || slices.Contains(gr.Resources, res))
			}) {
				continue
			}
		}
		if len(r.NonResourceURLs) > 0 {
			if res != "" || !slices.ContainsFunc(r.NonResourceURLs, func(u string) bool {
				if pre, ok := strings.CutSuffix(u, "*"); ok {
					return strings.HasPrefix(path, pre)
				}
				return u == path
			}) {
				continue
			}
		}
		if len(r.Namespaces) > 0 {
			panic("the test's matcher does not know namespaces")
		}
		return string(r.Level)
	}
	return "None"
}

// On the harness's file log (a service account's poller is most of it,
// written under the seed policy): --advise-policy proposes to drop the
// poller's reads; the proposal keeps every write (the apiserver's matcher
// on the printed YAML: each write matches the rule of the policy in force
// it matched before, so neither RBAC nor secret writes are dropped or
// lowered); the kept lines it prints are the lines a count of its own over
// the raw files finds; and setup takes the file.
func TestAdvisePolicyOnTheFileLog(t *testing.T) {
	logs := audittest.Logs(t, "file")
	live := logs[len(logs)-1]
	out, errOut, code := runQueryArgs(t, "--advise-policy", "--policy", seedPolicy, "-o", "yaml", live)
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	proposal := []byte(out)
	if !strings.Contains(out, `users: ["system:serviceaccount:team-a:kubyk-bot"]`) {
		t.Errorf("the poller's reads are not proposed:\n%s", out)
	}

	// The lines kept, counted apart: every audit line of the files whose
	// event the proposal (parsed here, matched here) logs.
	var pol auditv1.Policy
	if err := yaml.Unmarshal(proposal, &pol); err != nil {
		t.Fatal(err)
	}
	var seed auditv1.Policy
	b, _ := os.ReadFile(seedPolicy)
	if err := yaml.Unmarshal(b, &seed); err != nil {
		t.Fatal(err)
	}
	keptLines, totalLines := 0, 0
	for _, name := range logs {
		for l := range bytes.Lines(audittest.ReadLog(t, name)) {
			e := gjson.ParseBytes(l)
			if !e.Get("auditID").Exists() {
				continue
			}
			totalLines++
			if policyLevel(&seed, e) == "None" {
				t.Fatalf("the seed policy drops a line it wrote: %s", l)
			}
			if policyLevel(&pol, e) != "None" {
				keptLines++
			}
		}
	}
	m := regexp.MustCompile(`would have kept (\S+) of the lines \((\d+) of (\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no dry run in\n%s", out)
	}
	if m[2] != strconv.Itoa(keptLines) || m[3] != strconv.Itoa(totalLines) || m[1] != policytext.Percent(keptLines, totalLines) {
		t.Errorf("the dry run says %s of the lines (%s of %s); counted apart: %d of %d", m[1], m[2], m[3], keptLines, totalLines)
	}
	if keptLines*2 > totalLines {
		t.Errorf("the proposal keeps %d of %d lines: the poller (most of the log) is still logged", keptLines, totalLines)
	}
	if !strings.Contains(out, "and every write (") {
		t.Errorf("the dry run does not say it keeps every write:\n%s", out)
	}

	// Every write matches, by the apiserver's matcher, the rule of the seed
	// policy it matched before: nothing written is dropped or lowered.
	sameRule(t, proposal, loadRequests(t, live), []string{"rolebindings", "roles", "secrets"})

	// setup validates it and would write it.
	file := filepath.Join(t.TempDir(), "proposed.yaml")
	if err := os.WriteFile(file, proposal, 0o600); err != nil {
		t.Fatal(err)
	}
	code, sout, serr := runSetup("--root", setupRoot(t), "--dry-run", "--policy", file)
	if code != exitOK || !strings.Contains(sout, "system:serviceaccount:team-a:kubyk-bot") || strings.Contains(serr+sout, "leniently") {
		t.Errorf("setup --policy %s: code %d\n%s\n%s", file, code, sout, serr)
	}
}

// sameRule asserts that every request of reqs that is not a read matches
// the same rule of the seed policy under the proposal (whose added rules
// come first) as under the seed policy, by the apiserver's own matcher;
// and that the log holds writes to each of the resources must.
func sameRule(t *testing.T, proposal []byte, reqs []*audit.Request, must []string) int {
	t.Helper()
	file := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(file, proposal, 0o600)
	prop, err := setup.PolicyFile(file)
	if err != nil {
		t.Fatal(err)
	}
	base, err := setup.PolicyFile(seedPolicy)
	if err != nil {
		t.Fatal(err)
	}
	added := prop.Rules - base.Rules
	if added < 1 {
		t.Fatalf("the proposal adds %d rules", added)
	}
	seen := map[string]int{}
	for _, r := range reqs {
		if slices.Contains([]string{"get", "list", "watch"}, r.Verb) && r.Subresource == "" {
			continue
		}
		seen[r.Resource]++
		was, is := base.RuleFor(policytext.Attrs(r)), prop.RuleFor(policytext.Attrs(r))
		if is != was+added {
			t.Errorf("%s %s/%s by %s: rule %d of the seed policy, rule %d of the proposal (which adds %d first)", r.Verb, r.Resource, r.Subresource, r.User, was, is, added)
		}
	}
	for _, res := range must {
		if seen[res] == 0 {
			t.Errorf("the log has no write of %s to check (%v)", res, seen)
		}
	}
	return added
}

// The harness's file log and the findings log (webhook and RBAC tampering,
// secrets created) read together: no write to RBAC, secrets or webhooks is
// touched by the proposal.
func TestAdvisePolicyKeepsRBACSecretAndWebhookWrites(t *testing.T) {
	logs := []string{audittest.Logs(t, "file")[len(audittest.Logs(t, "file"))-1], audittest.Path("findings", "audit.log")}
	out, errOut, code := runQueryArgs(t, append([]string{"--advise-policy", "--policy", seedPolicy, "-o", "yaml"}, logs...)...)
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	added := sameRule(t, []byte(out), loadRequests(t, logs...), []string{"rolebindings", "clusterrolebindings", "secrets", "validatingwebhookconfigurations", "mutatingwebhookconfigurations"})
	// and the rules it adds drop reads only, of none of them
	var pol auditv1.Policy
	if err := yaml.Unmarshal([]byte(out), &pol); err != nil {
		t.Fatal(err)
	}
	for _, r := range pol.Rules[:added] {
		for _, v := range r.Verbs {
			if !slices.Contains([]string{"get", "list", "watch"}, v) {
				t.Errorf("a rule drops %s: %+v", v, r)
			}
		}
		if len(r.Verbs) == 0 {
			t.Errorf("a rule drops every verb: %+v", r)
		}
		for _, gr := range r.Resources {
			if gr.Group == "rbac.authorization.k8s.io" || gr.Group == "admissionregistration.k8s.io" || len(gr.Resources) == 0 ||
				slices.ContainsFunc(gr.Resources, func(s string) bool { return s == "secrets" || strings.Contains(s, "/") || s == "*" }) {
				t.Errorf("a rule drops reads of %+v", gr)
			}
		}
	}
}

// Without -o yaml: the volume table first, its top row the poller with the
// lines and requests a count of the raw files finds; then the policy.
func TestAdvisePolicyVolumeTable(t *testing.T) {
	logs := audittest.Logs(t, "file")
	out, errOut, code := runQueryArgs(t, "--advise-policy", "--policy", seedPolicy, logs[len(logs)-1])
	if code != exitOK {
		t.Fatalf("code %d: %s", code, errOut)
	}
	lines, ids := 0, map[string]bool{}
	for _, name := range logs {
		for l := range bytes.Lines(audittest.ReadLog(t, name)) {
			e := gjson.ParseBytes(l)
			if e.Get("user.username").Str == "system:serviceaccount:team-a:kubyk-bot" && e.Get("verb").Str == "list" && e.Get("objectRef.resource").Str == "pods" {
				lines++
				ids[e.Get("auditID").Str] = true
			}
		}
	}
	rows := strings.Split(out, "\n")
	if len(rows) < 3 || !strings.HasPrefix(rows[0], "Volume by user, verb and resource: ") {
		t.Fatalf("no volume table:\n%s", out)
	}
	f := strings.Fields(rows[2])
	if len(f) != 8 || f[0] != strconv.Itoa(lines) || f[4] != strconv.Itoa(len(ids)) || f[5] != "system:serviceaccount:team-a:kubyk-bot" || f[6] != "list" || f[7] != "pods" {
		t.Errorf("top row %q; want %d lines, %d requests of the poller's list pods", rows[2], lines, len(ids))
	}
	if !strings.Contains(out, "\napiVersion: audit.k8s.io/v1\n") {
		t.Errorf("no policy after the table:\n%s", out)
	}
	// Without the policy in force, on a machine that is not a master: one
	// line that says what to do.
	_, errOut, code = runQueryArgs(t, "--advise-policy", logs[len(logs)-1])
	if code != exitUsage || !strings.Contains(errOut, "pass --policy FILE") {
		t.Errorf("no policy: code %d, %q", code, errOut)
	}
}

// Crafted (no real apiserver lets a service account be named so, but a
// client certificate's CN can say anything): a user name with escape
// sequences and a bidi override reaches the proposed rules escaped, with a
// warning, and the YAML still parses to the same value in the quoted
// string.
func TestAdvisePolicyEscapesTheLog(t *testing.T) {
	user := "system:serviceaccount:a:b\x1b]0;x\x07\u202e"
	var b strings.Builder
	for i := range 20 {
		ev := map[string]any{"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "id-" + strconv.Itoa(i),
			"stage": "ResponseComplete", "requestURI": "/api/v1/namespaces/a/pods", "verb": "list",
			"user":      map[string]any{"username": user, "groups": []string{"system:authenticated"}},
			"objectRef": map[string]any{"resource": "pods", "namespace": "a", "apiVersion": "v1"}, "responseStatus": map[string]any{"code": 200},
			"requestReceivedTimestamp": "2026-12-01T00:00:00.000000Z", "stageTimestamp": "2026-12-01T00:00:00.100000Z"}
		j, _ := json.Marshal(ev)
		b.Write(append(j, '\n'))
	}
	log := filepath.Join(t.TempDir(), "audit.log")
	os.WriteFile(log, []byte(b.String()), 0o600)
	out, errOut, code := runQueryArgs(t, "--advise-policy", "--policy", "setup/policies/metadata.yaml", "-o", "yaml", log)
	if code != exitOK || strings.ContainsAny(out, "\x1b\x07\u202e") || !strings.Contains(errOut, "printed escaped") {
		t.Fatalf("code %d\n%q\n%s", code, out, errOut)
	}
	var pol auditv1.Policy
	if err := yaml.Unmarshal([]byte(out), &pol); err != nil || len(pol.Rules) != 2 || !slices.Equal(pol.Rules[0].Users, []string{user}) {
		t.Errorf("%v %+v", err, pol.Rules)
	}
}
