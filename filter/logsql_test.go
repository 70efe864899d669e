package filter

import (
	"strings"
	"testing"
	"time"
)

// The translation term by term, as --explain shows it. That the store then
// selects the same requests as Match is checked against a real VictoriaLogs
// in the main package (cmd_store_test.go).
func TestTranslateLogsQL(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		expr, want, local string
	}{
		{"", `kind:=Event | sort by (_time) | fields _msg`, ""},
		{"verb=delete", `kind:=Event auditID:in(kind:=Event verb:~"(?is)^delete$" | fields auditID)`, ""},
		{"user=alice", `auditID:in(kind:=Event (user.username:~"(?is)^alice$" OR impersonatedUser.username:~"(?is)^alice$") | fields auditID)`, ""},
		{`user=""`, `auditID:in(kind:=Event user.username:="" | fields auditID)`, ""},
		{"ns=kube-*", `objectRef.namespace:~"(?is)^kube-.*$"`, ""},
		{`ns=""`, `objectRef.namespace:=""`, ""},
		{"!ns=a.b", `-(objectRef.namespace:~"(?is)^a\\.b$")`, ""},
		{"resource=deploy", `(objectRef.subresource:="" objectRef.resource:~"(?is)^deployments$")`, ""},
		{"resource=core/pods/exec", `(objectRef.apiGroup:=""`, ""},
		{"code=4xx", `responseStatus.code:range[400, 499]`, ""},
		{"code<300", `(responseStatus.code:<=299 OR responseStatus.code:="")`, ""},
		{"code=403,404", `(responseStatus.code:=403 OR responseStatus.code:=404)`, ""},
		{"decision=forbid", `"annotations.authorization.k8s.io/decision":~"(?is)^forbid$"`, ""},
		{"group=system:masters", `user.groups:~"(?i)(?:^\\[|,)\"system:masters\"(?:,|\\]$)"`, ""},
		{"since=2h", `_time:>=2026-11-26T10:00:00Z kind:=Event | sort`, ""}, // since bounds every stage: no subquery
		{"since=2h verb=get", `_time:>=2026-11-26T10:00:00Z kind:=Event auditID:in(_time:>=2026-11-26T10:00:00Z kind:=Event verb:`, ""},
		{"until=2026-11-26T10:00:00.0000005Z", `requestReceivedTimestamp:<="2026-11-26T10:00:00.000000Z"`, ""},
		{"kubyk", `auditID:in(kind:=Event _msg:~"(?is)kubyk" | fields auditID)`, ""},
		{"a*b", `_msg:~"(?is)a.*b"`, ""},
		{"ns=* verb=get", `auditID:in(kind:=Event verb:~"(?is)^get$" | fields auditID)`, "ns=*"},
		{"latency>1s !foo ip=10.0.0.0/8 ip=127.*", `sourceIPs:~`, "latency>1s !foo ip=10.0.0.0/8"},
		{`group="a\"b"`, `kind:=Event | sort`, `group="a\"b"`},
	} {
		q, err := TranslateLogsQL(c.expr, now)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		got := q.Query("")
		if !strings.Contains(got, c.want) {
			t.Errorf("%q:\n got %s\nwant it to hold %s", c.expr, got, c.want)
		}
		if local := strings.Join(q.Local, " "); local != c.local {
			t.Errorf("%q: left to kauditui %q, want %q", c.expr, local, c.local)
		}
	}
	if q, _ := TranslateLogsQL("verb=get", now); !strings.HasPrefix(q.Query(`{cluster="c1"}`), `{cluster="c1"} kind:=Event auditID:in({cluster="c1"} kind:=Event verb:`) {
		t.Errorf("streams are not in both the query and its subquery: %s", q.Query(`{cluster="c1"}`))
	}
	if _, err := TranslateLogsQL("code=4*", now); err == nil || !strings.Contains(err.Error(), "term 1") {
		t.Errorf("a bad filter: %v", err)
	}
}
