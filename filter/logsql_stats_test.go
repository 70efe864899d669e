package filter

import (
	"strings"
	"testing"
	"time"
)

// What the store counts: one event a request, the whole filter on it, and
// the checks' answers read into why it cannot (the counts themselves are
// compared with the files' against a real VictoriaLogs in the main
// package: cmd_store_test.go).
func TestLogsQLRequests(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	q, _ := TranslateLogsQL("verb=delete since=2026-11-26T10:00:00.123456Z kubyk", now)
	got, why := q.Requests(`{cluster="c1"}`)
	for _, want := range []string{
		`{cluster="c1"} _time:>=2026-11-26T10:00:00.123456Z kind:=Event (stage:in(ResponseComplete,Panic) OR`,
		`requestReceivedTimestamp:>="2026-11-26T10:00:00.123456Z"`, // as kube-apiserver writes it
		`verb:~"(?is)^delete$"`,
		`auditID:in({cluster="c1"} _time:>=2026-11-26T10:00:00.123456Z kind:=Event _msg:~"(?is)kubyk" | fields auditID)`,
	} {
		if why != "" || !strings.Contains(got, want) {
			t.Errorf("Requests: %s (why %q)\nwant it to hold %s", got, why, want)
		}
	}
	if q, _ := TranslateLogsQL("latency>1s verb=get", now); func() bool { _, why := q.Requests(""); return !strings.Contains(why, "latency>1s") }() {
		t.Error("a term only kauditui checks is counted by the store")
	}
	checks := map[string]int64{"events": 10, "ids": 5, "idstages": 10, "identities": 5, "ends": 5, "endids": 5}
	field := func(name string) int64 { return checks[name] }
	q, _ = TranslateLogsQL("code=200", now)
	if why := q.StatsExact(field, false, nil); why != "" {
		t.Errorf("one request an auditID: %q", why)
	}
	checks["identities"] = 6
	if why := q.StatsExact(field, false, nil); !strings.Contains(why, "reusing an auditID") {
		t.Errorf("an auditID of two requests: %q", why)
	}
	checks["identities"], checks["v0"], checks["with0"] = 5, 4, 3
	if why := q.StatsExact(field, false, nil); !strings.Contains(why, "disagree on responseStatus.code") {
		t.Errorf("stages that disagree on the code: %q", why)
	}
	q, _ = TranslateLogsQL("stage=complete", now)
	if checks := q.StatsChecks("", nil); len(checks) < 2 || !strings.Contains(checks[1], "lt_field") {
		t.Errorf("stage= is not checked for stages logged out of order: %q", checks)
	}
	if why := q.StatsExact(func(name string) int64 { return map[string]int64{"outoforder": 1}[name] }, false, nil); !strings.Contains(why, "stage= is the stage logged last") {
		t.Errorf("a request with stages out of order: %q", why)
	}
	for step, want := range map[time.Duration]string{time.Minute: "requestReceivedTimestamp:1m0s", 7 * time.Minute: "requestReceivedTimestamp:7m0s offset 1m0s", 24 * time.Hour: "requestReceivedTimestamp:24h0m0s"} {
		if got := HistogramStep(step); got != want {
			t.Errorf("HistogramStep(%s) = %q, want %q", step, got, want)
		}
	}
}
