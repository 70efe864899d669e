package main

// query --coverage on a master: the level None rules of the policy its
// apiserver manifest names (or --policy FILE), on kubeadm's real manifest,
// the real policies and testdata/answers/audit.log.

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render/policytext"
)

// masterRoot is a node's root holding kubeadm's real manifest patched by
// `kauditui setup --policy FILE` (the policy at the path its flag names,
// mounted from the node by a hostPath volume).
func masterRoot(t *testing.T, policy string) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "etc/kubernetes/manifests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/kubeadm/kube-apiserver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kube-apiserver.yaml"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	ios, _, errOut := testIO("")
	if code := run([]string{"setup", "--root", root, "--yes", "--no-wait", "--policy", policy}, ios); code != exitOK {
		t.Fatalf("setup: exit %d: %s", code, errOut)
	}
	m, err := os.ReadFile(filepath.Join(dir, "kube-apiserver.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--audit-policy-file=/etc/kubernetes/audit-policy.yaml", "mountPath: /etc/kubernetes/audit-policy.yaml"} {
		if !strings.Contains(string(m), want) {
			t.Fatalf("the patched manifest has no %q:\n%s", want, m)
		}
	}
	return root
}

func coverageOn(root string, read func(string) ([]byte, error)) *queryOptions {
	o := &queryOptions{Answers: answerFlags{Coverage: true, Gap: 5 * time.Minute}}
	o.Answers.Policy = policyFlags{Root: root, read: read}
	return o
}

// On a master, --coverage ends with the policy's level None rules, and says
// that none of the log's requests is one the policy drops (the log was
// written under this policy).
func TestQueryCoverageShowsTheMastersPolicy(t *testing.T) {
	r := runAnswersQuery(t, coverageOn(masterRoot(t, "hack/policy-answers.yaml"), nil))
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	_, policy, ok := strings.Cut(r.stdout, "\n\n"+policytext.Heading+"\n")
	if !ok {
		t.Fatalf("no policy part:\n%s", r.stdout)
	}
	m := regexp.MustCompile(`, (\d+) requests, \d+ events`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no request count:\n%s", r.stdout)
	}
	want := strings.Join([]string{
		"  Policy /etc/kubernetes/audit-policy.yaml (--audit-policy-file of /etc/kubernetes/manifests/kube-apiserver.yaml, volume audit-policy from the node's /etc/kubernetes/audit-policy.yaml): 6 rules",
		"  rule 1 drops: user groups system:serviceaccounts:kube-system, system:nodes",
		"  rule 2 drops: users system:apiserver, system:kube-controller-manager, system:kube-scheduler",
		"  rule 3 drops: URLs /healthz*, /livez*, /readyz*, /version, /openapi*",
		"  rule 4 drops: verbs get; URLs /api, /api/*, /apis, /apis/*",
		"  Every request matches one of rules 1 to 6.",
		"  Stages no request has in the log (the policy's omitStages): RequestReceived",
		"  None of the " + m[1] + " requests in this log is one this policy does not log.",
		""}, "\n")
	if policy != want {
		t.Errorf("the policy part:\n%s\nwant:\n%s", policy, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// --policy FILE names the policy, on a master or not; a preset the log was
// not written under shows the requests it would have dropped.
func TestQueryCoveragePolicyFlag(t *testing.T) {
	log := filepath.Join(answersDir, "audit.log")
	out, errOut, code := runQueryArgs(t, "--coverage", "--policy", "setup/policies/security.yaml", log)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"\n\n" + policytext.Heading + "\n  Policy setup/policies/security.yaml (--policy): 7 rules\n",
		"\n  rule 1 drops: URLs /healthz*, /livez*, /readyz*",
		"\n  rule 2 drops: verbs get, update, watch, list; resources leases in group \"coordination.k8s.io\"",
		"\n  rule 3 drops: resources events in group \"\" (core)",
		"\n  Stages no request has in the log (the policy's omitStages): RequestReceived\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	// --policy wins over the master's own policy.
	r := runAnswersQuery(t, func() *queryOptions {
		o := coverageOn(masterRoot(t, "metadata"), nil)
		o.Answers.Policy.File = "hack/policy-answers.yaml"
		return o
	}())
	if !strings.Contains(r.stdout, "  Policy hack/policy-answers.yaml (--policy): 6 rules\n") {
		t.Errorf("--policy on a master:\n%s", r.stdout)
	}
	// A policy that drops the log's admins counts them.
	p := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(p, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  userGroups: [kubeadm:cluster-admins, system:masters]\n- level: Metadata\n"), 0o600)
	out, _, _ = runQueryArgs(t, "--coverage", "--policy", p, log)
	if !regexp.MustCompile(`\n  rule 1 drops: user groups kubeadm:cluster-admins, system:masters \[\d+ requests in this log\]\n(.|\n)*\n  \d+ of the \d+ requests in this log are ones this policy does not log: they were logged under another policy`).MatchString(out) {
		t.Errorf("no count of the admins' requests:\n%s", out)
	}
	// A --policy that is not one is one line and the report still prints.
	out, errOut, code = runQueryArgs(t, "--coverage", "--policy", "no/such/policy.yaml", log)
	if code != exitOK || !strings.HasSuffix(out, "\n\nNot logged by the policy (level None): unknown, --policy: cannot read no/such/policy.yaml: no such file or directory\n") {
		t.Errorf("exit %d, a missing --policy:\n%s%s", code, out, errOut)
	}
}

// A master whose manifest or policy only root can read: one line saying so
// and what to do.
func TestQueryCoveragePolicyUnreadable(t *testing.T) {
	root := masterRoot(t, "hack/policy-answers.yaml")
	deny := func(suffix string) func(string) ([]byte, error) {
		return func(name string) ([]byte, error) {
			if strings.HasSuffix(name, suffix) {
				return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
			}
			return os.ReadFile(name)
		}
	}
	for _, c := range []struct{ file, want string }{
		{"audit-policy.yaml", "Not logged by the policy (level None): unknown, cannot read the audit policy /etc/kubernetes/audit-policy.yaml (volume audit-policy from the node's /etc/kubernetes/audit-policy.yaml): permission denied (run as root, or pass --policy FILE)"},
		{"kube-apiserver.yaml", "Not logged by the policy (level None): unknown, cannot read /etc/kubernetes/manifests/kube-apiserver.yaml to find the audit policy: permission denied (run as root, or pass --policy FILE)"},
	} {
		r := runAnswersQuery(t, coverageOn(root, deny(c.file)))
		if r.code != exitOK || !strings.HasSuffix(r.stdout, "\n\n"+c.want+"\n") || strings.Contains(r.stdout, policytext.Heading) {
			t.Errorf("%s unreadable: exit %d:\n%s", c.file, r.code, r.stdout)
		}
	}
	if os.Geteuid() != 0 { // really, where permissions apply
		if err := os.Chmod(filepath.Join(root, "etc/kubernetes/audit-policy.yaml"), 0); err != nil {
			t.Fatal(err)
		}
		if r := runAnswersQuery(t, coverageOn(root, nil)); !strings.Contains(r.stdout, "permission denied (run as root, or pass --policy FILE)") {
			t.Errorf("mode 000:\n%s", r.stdout)
		}
	}
}

// Not a master: one line saying --policy would add the policy, nothing else.
func TestQueryCoverageNotAMaster(t *testing.T) {
	r := runAnswersQuery(t, coverageOn(t.TempDir(), nil))
	if r.code != exitOK || !strings.HasSuffix(r.stdout, "\n\n"+policytext.NotMasterHint+"\n") || strings.Contains(r.stdout, "Not logged by the policy") {
		t.Errorf("exit %d:\n%s", r.code, r.stdout)
	}
}

// A hostile rule value (escape sequences in a user name) is drawn escaped.
func TestQueryCoveragePolicySanitised(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(p, []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  users: [\"\\e]2;owned\\a\\e[2Jeve\"]\n- level: Metadata\n"), 0o600)
	out, errOut, code := runQueryArgs(t, "--coverage", "--policy", p, filepath.Join(answersDir, "audit.log"))
	if code != exitOK || !strings.Contains(out, "\n  rule 1 drops: users \\x1b]2;owned\\x07\\x1b[2Jeve\n") || strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("exit %d:\n%q\n%s", code, out, errOut)
	}
}

// --policy is for --coverage: alone it is a usage error, not ignored.
func TestQueryPolicyWithoutCoverage(t *testing.T) {
	_, errOut, code := runQueryArgs(t, "--policy", "hack/policy-answers.yaml", audittest.Path("file", "audit.log"))
	if code != exitUsage || !strings.Contains(errOut, "--policy goes with --coverage") {
		t.Errorf("exit %d, %q; want %d and a line naming --coverage", code, errOut, exitUsage)
	}
}
