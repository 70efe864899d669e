package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// Secrets a command line put in a requestURI are redacted in the exec text,
// the URI and the event's JSON, and shown as logged with SetShowSecrets.
// Crafted URIs: the harness's apiserver has no kubelet to exec into, and
// these are the shapes kubernetes#97795 and operators report.
func TestRedactSecretsOfCommandLines(t *testing.T) {
	const r = Redacted
	for uri, want := range map[string]string{
		"/api/v1/namespaces/a/pods/db/exec?command=mysql&command=-u&command=root&command=-p&command=hunter2&container=db": "mysql -u root -p " + r,
		"/api/v1/namespaces/a/pods/p/exec?command=%2Fopt%2Fadmincli&command=--token%3DMYSECRET":                           "/opt/admincli --token=" + r,
		"/api/v1/namespaces/a/pods/p/exec?command=psql&command=--password%3Dx&command=--host%3Ddb":                        "psql --password=" + r + " --host=db",
		"/api/v1/namespaces/a/pods/p/exec?command=env&command=API_TOKEN%3Dabc123&command=run":                             "env API_TOKEN=" + r + " run",
		"/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=curl+-H+%27Authorization%3A+Bearer+eyJhbGci%27":   `sh -c "curl -H 'Authorization: Bearer ` + r + `'"`,
		"/api/v1/namespaces/a/pods/p/exec?command=git&command=clone&command=https%3A%2F%2Fu%3As3cret%40git.example%2Fr":   "git clone https://u:" + r + "@git.example/r",
		"/api/v1/namespaces/a/pods/p/exec?env=DB_PASSWORD%3Dpw&command=app":                                               "DB_PASSWORD=" + r + " app",
		"/api/v1/namespaces/a/pods/p/exec?command=cat&command=%2Fetc%2Fpasswd":                                            "cat /etc/passwd",
	} {
		got := execCommand(uri)
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", uri, got, want)
		}
		if red := RedactURI(uri); strings.Contains(want, r) && (strings.Contains(red, "hunter2") || strings.Contains(red, "MYSECRET") ||
			strings.Contains(red, "abc123") || strings.Contains(red, "eyJhbGci") || strings.Contains(red, "s3cret") || strings.Contains(red, "%3Dpw") || strings.Contains(red, "%3Dx&")) {
			t.Errorf("RedactURI(%s) = %s: the secret is still there", uri, red)
		}
	}
	uri := "/api/v1/namespaces/a/pods/db/exec?command=mysql&command=-p&command=hunter2"
	line := []byte(`{"kind":"Event","requestURI":"` + uri + `","verb":"create"}`)
	if red := RedactEvent(line); bytes.Contains(red, []byte("hunter2")) || !gjson.ValidBytes(red) || gjson.GetBytes(red, "verb").String() != "create" {
		t.Errorf("RedactEvent: %s", red)
	}
	SetShowSecrets(true)
	defer SetShowSecrets(false)
	if got := execCommand(uri); got != "mysql -p hunter2" {
		t.Errorf("shown: %q", got)
	}
	if RedactURI(uri) != uri || !bytes.Equal(RedactEvent(line), line) {
		t.Error("shown: the URI or the event is not as logged")
	}
}

// KEP-6035 (alpha in 1.37): an exec's env= parameters come before its
// command, and KUBERNETES_EXEC_AUDIT_ID links the session to what ran
// inside: Detail says whether it is the request's own auditID. Crafted
// (v1.37.2 needs the feature gate and a kubelet that knows it).
func TestExecEnvAndAuditID(t *testing.T) {
	st := audit.NewStore()
	ev := func(id, uri string) *audit.Request {
		line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"` + uri +
			`","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"a","name":"p","apiVersion":"v1"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2026-12-06T01:00:00.000000Z","stageTimestamp":"2026-12-06T01:00:01.000000Z"}`)
		r, _, _ := st.AddEvent(line, audit.Ref{Line: 1})
		return r
	}
	r := ev("aid-1", "/api/v1/namespaces/a/pods/p/exec?command=sh&env=KUBERNETES_EXEC_AUDIT_ID%3Daid-1&env=LANG%3DC&stdin=true")
	if got := ExecDetail(r, nil); got != "KUBERNETES_EXEC_AUDIT_ID=aid-1 LANG=C sh" {
		t.Errorf("ExecDetail = %q", got)
	}
	if n := ExecAuditIDNote(r); !strings.HasPrefix(n, "aid-1 (this request's auditID") {
		t.Errorf("note %q", n)
	}
	r = ev("aid-2", "/api/v1/namespaces/a/pods/p/exec?command=sh&env=KUBERNETES_EXEC_AUDIT_ID%3Dforged")
	if n := ExecAuditIDNote(r); !strings.Contains(n, "chosen by the client") {
		t.Errorf("a forged ID: note %q", n)
	}
	if n := ExecAuditIDNote(ev("aid-3", "/api/v1/namespaces/a/pods/p/exec?command=sh")); n != "" {
		t.Errorf("no env: note %q", n)
	}
}

// Detail's facts of newer apiservers on real logs: the constrained
// impersonation (authenticationMetadata, v1.37.2 with ConstrainedImpersonation
// on by default) of testdata/findings; a stale token, crafted (v1.37.2 writes
// it only for a token past its warning threshold, which the harness's
// tokens never are).
func TestFactsOfNewerApiservers(t *testing.T) {
	var lines [][]byte
	for _, p := range audittest.Logs(t, "findings") {
		for l := range bytes.Lines(audittest.ReadLog(t, p)) {
			lines = append(lines, bytes.TrimRight(l, "\n"))
		}
	}
	st := audit.NewStore()
	for i, l := range lines {
		st.AddEvent(l, audit.Ref{Line: int64(i + 1)})
	}
	raw := func(r audit.Ref) ([]byte, error) { return lines[r.Line-1], nil }
	n := 0
	for _, r := range st.Snapshot().Requests {
		last, _ := raw(r.Events[len(r.Events)-1].Ref)
		c := gjson.GetBytes(last, "authenticationMetadata.impersonationConstraint").String()
		var got string
		for _, f := range Facts(r, raw) {
			if f.Label == "Imperson." {
				got = f.Text
			}
		}
		if want := "allowed by constrained impersonation, verb " + c; (c != "") != (got != "") || c != "" && got != want {
			t.Errorf("%s: fact %q, the event says %q", r.AuditID, got, c)
		}
		if c != "" {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no authenticationMetadata in testdata/findings: the test checks nothing")
	}
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"t","stage":"ResponseComplete","requestURI":"/api","verb":"get","user":{"username":"system:serviceaccount:a:b"},"requestReceivedTimestamp":"2026-12-06T01:00:00.000000Z","stageTimestamp":"2026-12-06T01:00:00.100000Z","annotations":{"authentication.k8s.io/stale-token":"subject: system:serviceaccount:a:b, seconds after warning threshold: 3600"}}`)
	st = audit.NewStore()
	r, _, _ := st.AddEvent(line, audit.Ref{Line: 1})
	fs := Facts(r, func(audit.Ref) ([]byte, error) { return line, nil })
	if len(fs) != 1 || fs[0].Label != "Token" || !strings.HasPrefix(fs[0].Text, "stale token") || !strings.Contains(fs[0].Text, "3600") {
		t.Errorf("stale token: %+v", fs)
	}
}

// SlowIn shows a value it cannot trust as logged, marked; crafted (a
// negative total was seen in a real cluster's log).
func TestSlowInMarksANegativeTotal(t *testing.T) {
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"s","stage":"ResponseComplete","requestURI":"/api/v1/pods","verb":"list","user":{"username":"u"},"requestReceivedTimestamp":"2026-12-06T01:00:00.000000Z","stageTimestamp":"2026-12-06T01:00:01.000000Z","annotations":{"apiserver.latency.k8s.io/etcd":"900ms","apiserver.latency.k8s.io/impersonation":"2ms","apiserver.latency.k8s.io/total":"-3.2ms"}}`)
	st := audit.NewStore()
	r, _, _ := st.AddEvent(line, audit.Ref{Line: 1})
	got := SlowIn(r, func(audit.Ref) ([]byte, error) { return line, nil })
	if want := "etcd 900ms, impersonation 2ms, total -3.2ms (negative: not trusted)"; got != want {
		t.Errorf("SlowIn = %q, want %q", got, want)
	}
}

// An apiserver log line (httplog at -v=3) carries the same URI: redacted
// too. Crafted from the shape of v1.37.2's httplog lines.
func TestRedactTextOfAnApiserverLogLine(t *testing.T) {
	l := `"HTTP" verb="POST" URI="/api/v1/namespaces/a/pods/db/exec?command=mysql&command=-p&command=hunter2&container=db" latency="1.2s" userAgent="kubectl/v1.37.2" audit-ID="x1" srcIP="10.0.0.1:5555" resp=101`
	got := RedactText(l)
	if strings.Contains(got, "hunter2") || !strings.Contains(got, `latency="1.2s"`) || !strings.Contains(got, "command=mysql") {
		t.Errorf("RedactText = %s", got)
	}
}
