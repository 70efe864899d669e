package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// findingsLog is the real log of hack/gen-findings.sh and its ground truth.
func findingsLog(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := filepath.Join("testdata", "findings")
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(logs) != 1 {
		t.Fatalf("want one log in %s, found %v (run hack/gen-findings.sh)", dir, logs)
	}
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gt struct {
		Actions []struct {
			Rule     string
			AuditIDs []string `json:"auditIDs"`
		}
	}
	if err := json.Unmarshal(b, &gt); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{} // auditID -> rule
	for _, a := range gt.Actions {
		for _, id := range a.AuditIDs {
			if a.Rule != "" {
				want[id] = a.Rule
			}
		}
	}
	return logs[0], want
}

// `query --detect -o json` on the real attack log: one object per finding
// with rule, severity, technique, why, time, user and auditID (auditIDs for
// the burst); every attack step's requests are among them under its rule.
func TestQueryDetectJSON(t *testing.T) {
	log, want := findingsLog(t)
	r := runQueryTest(t, "", "--detect", "-o", "json", log)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	got := map[string][]string{} // auditID -> rules
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, l := range lines {
		var f struct {
			Rule, Severity, Technique, Why, Time, User, AuditID string
			AuditIDs                                            []string
		}
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if f.Rule == "" || f.Severity == "" || f.Technique == "" || f.Why == "" || f.Time == "" || f.User == "" {
			t.Errorf("finding lacks a field: %s", l)
		}
		ids := f.AuditIDs
		if f.AuditID != "" {
			ids = append(ids, f.AuditID)
		}
		if len(ids) == 0 || (f.AuditID != "") == (len(f.AuditIDs) > 0) {
			t.Errorf("finding wants auditID or (for several requests) auditIDs: %s", l)
		}
		for _, id := range ids {
			got[id] = append(got[id], f.Rule)
		}
	}
	for id, rule := range want {
		if !slices.Contains(got[id], rule) {
			t.Errorf("request %s: rule %s not among the findings (%v)", id, rule, got[id])
		}
	}
	// the table: one finding per line, and a line per rule that fired saying why
	tr := runQueryTest(t, "", "--detect", log)
	rows := 0
	for _, l := range strings.Split(tr.stdout, "\n") {
		if strings.HasPrefix(l, "20") {
			rows++
		}
	}
	if rows != len(lines) || !strings.Contains(tr.stdout, "privileged-pod (T1611 Escape to Host, high): ") {
		t.Errorf("table: %d rows for %d findings, or no why:\n%s", rows, len(lines), tr.stdout)
	}
}

// --detect's usage errors and requests with nothing to find (exit 1); a
// --rules folder with a rule outside the supported Sigma subset is refused
// naming the file and the construct.
func TestQueryDetectErrors(t *testing.T) {
	log, _ := findingsLog(t)
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "agg.yml"), []byte("title: t\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  sel: {verb: get}\n  condition: sel | count() > 3\n"), 0o644)
	for _, tc := range []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"--rules", bad, log}, 2, "--rules goes with --detect"},
		{[]string{"--detect", "--count", log}, 2, "does not go with --count"},
		{[]string{"--detect", "--exec", log}, 2, "separate questions"},
		{[]string{"--detect", "-o", "wide", log}, 2, "-o wide is for requests"},
		{[]string{"--detect", "--rules", bad, log}, 2, "agg.yml: condition \"sel | count() > 3\": aggregations"},
		{[]string{"--detect", "--rules", "testdata/findings/sigma", "-q", "user=nobody", log}, 1, ""},
	} {
		r := runQueryTest(t, "", tc.args...)
		if r.code != tc.code {
			t.Errorf("query %q: exit %d, want %d (stderr %q)", tc.args, r.code, tc.code, r.stderr)
		}
		if !strings.Contains(r.stderr, tc.inStderr) || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("query %q: stderr %q, want one line containing %q", tc.args, r.stderr, tc.inStderr)
		}
	}
}

// The impersonation testdata/admission's harness had refused (hack/gen-admission.sh,
// impersonate-deny) is a finding there too: the rules hold on another run.
func TestQueryDetectAdmissionImpersonation(t *testing.T) {
	r := runQueryTest(t, "", "--detect", "-o", "json", "-q", "user=dev-pat", filepath.Join("testdata", "admission", "audit.log"))
	if r.code != 0 || strings.Count(r.stdout, "\n") != 1 || !strings.Contains(r.stdout, `"rule":"impersonation-refused"`) {
		t.Errorf("exit %d: %s", r.code, r.stdout)
	}
}

// A finding's text comes from the log: a hostile client's name and user
// reach the table escaped, and -o json as JSON escapes (crafted event).
// A pod created at level Metadata cannot be looked into: a warning says so.
func TestQueryDetectHostileAndUnchecked(t *testing.T) {
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"e1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"mallory\u001b]0;pwned\u0007"},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"pods","namespace":"default","name":"x\u001b[31mred","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"kind":"Pod","spec":{"containers":[{"name":"c\u001b[2J","securityContext":{"privileged":true}}]}},"requestReceivedTimestamp":"2026-11-26T03:00:00.000000Z","stageTimestamp":"2026-11-26T03:00:00.001000Z"}` + "\n" +
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"e2","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"create","user":{"username":"bob"},"sourceIPs":["10.0.0.2"],"objectRef":{"resource":"pods","namespace":"default","name":"y","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestReceivedTimestamp":"2026-11-26T03:00:01.000000Z","stageTimestamp":"2026-11-26T03:00:01.001000Z"}` + "\n"
	r := runQueryTest(t, event, "--detect", "-")
	if r.code != 0 || strings.ContainsAny(r.stdout, "\x1b\x07") || !strings.Contains(r.stdout, `container c\x1b[2J privileged`) {
		t.Errorf("table: exit %d, not escaped or not found:\n%q", r.code, r.stdout)
	}
	if !strings.Contains(r.stderr, "privileged-pod: 1 pod specs logged without a body (level Metadata") {
		t.Errorf("no warning on the pod logged at Metadata: %q", r.stderr)
	}
	j := runQueryTest(t, event, "--detect", "-o", "json", "-")
	if strings.ContainsAny(j.stdout, "\x1b\x07") || !strings.Contains(j.stdout, `"auditID":"e1"`) {
		t.Errorf("-o json: %q", j.stdout)
	}
}
