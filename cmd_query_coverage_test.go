package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit/audittest"
)

// --coverage on the real log and its backups: the span of each input and
// every gap longer than --gap, computed here independently from the
// events' stageTimestamps.
func TestQueryCoverageGapsOfTheRealLog(t *testing.T) {
	paths := audittest.Logs(t, "file") // the compressed backup, the plain one, audit.log
	var times []time.Time
	for _, p := range paths {
		for l := range bytes.Lines(audittest.ReadLog(t, p)) {
			if at := gjson.GetBytes(l, "stageTimestamp").Time(); !at.IsZero() {
				times = append(times, at)
			}
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var want []string
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d > 10*time.Second {
			want = append(want, fmt.Sprintf("%s  %s to %s", d.Round(time.Second), times[i-1].UTC().Format(time.RFC3339), times[i].UTC().Format(time.RFC3339)))
		}
	}
	if len(want) == 0 {
		t.Fatal("the real log has no pause over 10 s: the test checks nothing")
	}
	out, errOut, code := runQueryArgs(t, "--coverage", "--gap", "10s", audittest.Path("file", "audit.log"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if m := regexp.MustCompile(`^  (\S+  \S+ to \S+),`).FindStringSubmatch(l); m != nil {
			got = append(got, m[1])
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("gaps over 10s: got %q, want %q\n%s", got, want, out)
	}
	for _, p := range paths {
		if !strings.Contains(out, p) {
			t.Errorf("input %s is not listed:\n%s", p, out)
		}
	}
	if !strings.Contains(out, "1195 requests, 2392 events") {
		t.Errorf("the totals are not the log's (1195 requests, 2392 events):\n%s", out)
	}
}

// Writes logged at Metadata level are named (no diff is possible for
// them); those with bodies are not. testdata/answers was written under a
// policy with RequestResponse for deployments and Metadata for secrets.
func TestQueryCoverageWritesWithoutBodies(t *testing.T) {
	log := filepath.Join(answersDir, "audit.log")
	// the apiserver rotated the log: its backups hold the events before audit.log's
	var b []byte
	for _, p := range audittest.Logs(t, "answers") {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, data...)
	}
	want := map[string]bool{}
	seen := map[string]bool{}
	for l := range bytes.Lines(b) {
		e := gjson.ParseBytes(l)
		id := e.Get("auditID").Str + e.Get("requestReceivedTimestamp").Str
		if seen[id] || e.Get("objectRef.resource").Str == "" {
			continue
		}
		seen[id] = true
		switch e.Get("verb").Str {
		case "create", "update", "patch", "delete", "deletecollection":
			if e.Get("level").Str == "Metadata" {
				res := e.Get("objectRef.resource").Str
				if sub := e.Get("objectRef.subresource").Str; sub != "" {
					res += "/" + sub
				}
				if g := e.Get("objectRef.apiGroup").Str; g != "" {
					res = g + "/" + res
				}
				want[res] = true
			}
		}
	}
	if !want["secrets"] {
		t.Fatal("the answers log has no Metadata-level write of a secret: the test checks less than it says")
	}
	out, errOut, code := runQueryArgs(t, "--coverage", log)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	_, list, ok := strings.Cut(out, "Writes without a logged body")
	if !ok {
		t.Fatalf("no list of writes without a body:\n%s", out)
	}
	got := map[string]bool{}
	for _, l := range strings.Split(list, "\n")[1:] {
		if f := strings.Fields(l); len(f) == 2 {
			got[f[1]] = true
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("writes without a body: got %v, want %v", got, want)
	}
	if got["apps/deployments"] {
		t.Error("deployments were logged with their bodies, yet are listed")
	}
}

// The pause of hack/gen-answers.sh: over a minute with no audited request,
// then a write so large that the apiserver rotated its log on it. --gap 1m
// names that gap, and only it, between the backup and audit.log, from the
// last event before the pause to the first after, as expected.json says.
func TestQueryCoverageGapBetweenRotatedFiles(t *testing.T) {
	exp := audittest.Expected(t, "answers")
	from, to := exp.Get("pause.from").Time(), exp.Get("pause.to").Time()
	backup := exp.Get("rotation.backup").String()
	if from.IsZero() || to.IsZero() || backup == "" {
		t.Fatalf("expected.json has no pause or rotation: %s %s", exp.Get("pause"), exp.Get("rotation"))
	}
	if to.Sub(from) <= time.Minute {
		t.Fatalf("the pause lasted %s: not over the 1m asked for, the test checks nothing", to.Sub(from))
	}
	log := filepath.Join(answersDir, "audit.log")
	out, errOut, code := runQueryArgs(t, "--coverage", "--gap", "1m", log)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const day = time.RFC3339
	want := fmt.Sprintf("  %s  %s to %s, between %s and %s\n", to.Sub(from).Round(time.Second),
		from.UTC().Format(day), to.UTC().Format(day), filepath.Join(answersDir, backup), log)
	if !strings.Contains(out, "Gaps longer than 1m0s with no event: 1\n"+want) {
		t.Errorf("want the one gap %q:\n%s", want, out)
	}
}

// The apiserver marks an event it cut (--audit-log-truncate-enabled) with
// an annotation; they are counted. (Handmade: the harness's apiserver does
// not truncate events of the sizes it logs.)
func TestQueryCoverageCountsTruncatedEvents(t *testing.T) {
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/configmaps","verb":"create","user":{"username":"u"},"objectRef":{"resource":"configmaps","namespace":"a","apiVersion":"v1"},"responseStatus":{"code":201},"requestReceivedTimestamp":"2026-11-26T04:00:0%d.000000Z","stageTimestamp":"2026-11-26T04:00:0%d.000000Z","annotations":{%s}}`
	var in strings.Builder
	for i, ann := range []string{`"audit.k8s.io/truncated":"true"`, ``, `"audit.k8s.io/truncated":"true"`} {
		fmt.Fprintf(&in, line+"\n", fmt.Sprint(i), i, i, ann)
	}
	ios, out, errOut := testIO(in.String())
	code := run([]string{"query", "--coverage", "-"}, ios)
	if code != exitOK || !strings.Contains(out.String(), "Truncated events (audit.k8s.io/truncated, a body or the event cut by the apiserver): 2\n") {
		t.Errorf("exit %d, want 2 truncated events:\n%s%s", code, out, errOut)
	}
}

func runQueryArgs(t *testing.T, args ...string) (out, errOut string, code int) {
	t.Helper()
	ios, o, e := testIO("")
	opts := []string{"query"}
	code = run(append(opts, args...), ios)
	return o.String(), e.String(), code
}
