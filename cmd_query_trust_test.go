package main

// Issue "answers you can trust": inputs and clients that made main give
// wrong answers, crash or stay silent. Each case runs `kauditui query` as a
// user would; crafted lines only where a real apiserver cannot write them.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit/audittest"
)

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// reusedIDLog is the case: mallory reads a configmap, then an hour
// later deletes a secret with the same client-chosen auditID.
func reusedIDLog() string {
	ev := func(stage, verb, res, name, recv, at string, code int) string {
		status := ""
		if code != 0 {
			status = fmt.Sprintf(`,"responseStatus":{"metadata":{},"code":%d}`, code)
		}
		return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"cafe0000-0000-4000-8000-000000000001","stage":%q,`+
			`"requestURI":"/api/v1/namespaces/default/%s/%s","verb":%q,"user":{"username":"mallory","groups":["system:authenticated"]},"sourceIPs":["10.0.0.9"],"userAgent":"curl/8",`+
			`"objectRef":{"resource":%q,"namespace":"default","name":%q,"apiVersion":"v1"}%s,"requestReceivedTimestamp":%q,"stageTimestamp":%q}`,
			stage, res, name, verb, res, name, status, recv, at) + "\n"
	}
	return ev("RequestReceived", "get", "configmaps", "cm", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.000000Z", 0) +
		ev("ResponseComplete", "get", "configmaps", "cm", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.002000Z", 200) +
		ev("RequestReceived", "delete", "secrets", "prod-db", "2026-11-26T05:00:00.000000Z", "2026-11-26T05:00:00.000000Z", 0) +
		ev("ResponseComplete", "delete", "secrets", "prod-db", "2026-11-26T05:00:00.000000Z", "2026-11-26T05:00:00.003000Z", 200)
}

func TestQueryReusedAuditIDHidesNothing(t *testing.T) {
	log := writeTemp(t, "audit.log", []byte(reusedIDLog()))
	all := runQueryTest(t, "", log)
	if got := rows(all.stdout); len(got) != 2 {
		t.Fatalf("%d rows, want the get and the delete:\n%s", len(got), all.stdout)
	}
	if !strings.Contains(all.stderr, "2 requests carry an auditID that another request carries too") {
		t.Errorf("no warning about the shared auditID: %q", all.stderr)
	}
	if strings.Contains(all.stdout, "3600") {
		t.Errorf("a latency spans the two requests:\n%s", all.stdout)
	}
	for _, q := range []string{"verb!=get", "user=mallory verb=delete", "verb=delete", "name=prod-db"} {
		r := runQueryTest(t, "", "-q", q, log)
		got := rows(r.stdout)
		if len(got) != 1 || !strings.Contains(got[0], "delete") || !strings.Contains(got[0], "default/prod-db") {
			t.Errorf("-q %q: %q, want the delete of prod-db", q, got)
		}
	}
}

// Every kind of input gives the same apiserver log lines (-o klog) and the
// same events (-o json) as the plain file: each line shown is the line that
// was logged.
func TestQueryEveryInputKindShowsTheLoggedLines(t *testing.T) {
	plain := audittest.Path("stdout", "kube-apiserver.log")
	cri := audittest.Path("stdout", "cri", "0.log")
	raw, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	criRaw, err := os.ReadFile(cri)
	if err != nil {
		t.Fatal(err)
	}
	gz := writeTemp(t, "kube-apiserver.log.gz", gzipBytes(t, raw))
	want := map[string]string{}
	for _, o := range []string{"klog", "json"} {
		r := runQueryTest(t, "", "-o", o, plain)
		if r.code != 0 || r.stdout == "" {
			t.Fatalf("-o %s %s: exit %d %q", o, plain, r.code, r.stderr)
		}
		want[o] = r.stdout
	}
	for _, tc := range []struct {
		name, stdin string
		path        string
	}{
		{"stdin", string(raw), "-"},
		{"gzip file", "", gz},
		{"gzip stdin", string(gzipBytes(t, raw)), "-"},
		{"CRI file", "", cri},
		{"CRI stdin", string(criRaw), "-"},
		{"fifo", "", fifoOf(t, raw)},
	} {
		for _, o := range []string{"klog", "json"} {
			if tc.name == "fifo" && o == "json" {
				continue // a FIFO is read once
			}
			r := runQueryTest(t, tc.stdin, "-o", o, tc.path)
			if r.code != 0 || r.stdout != want[o] {
				t.Errorf("%s -o %s: exit %d, %d bytes, want %d (stderr %q)", tc.name, o, r.code, len(r.stdout), len(want[o]), r.stderr)
			}
		}
	}
}

// fifoOf makes a named pipe that a goroutine fills with b once.
func fifoOf(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		f.Write(b)
		f.Close()
	}()
	return p
}

// criRecords splits text into CRI records of at most n bytes.
func criRecords(at time.Time, stream, text string, n int) []string {
	var out []string
	for len(text) > n {
		out = append(out, fmt.Sprintf("%s %s P %s", at.Format(time.RFC3339Nano), stream, text[:n]))
		text = text[n:]
	}
	return append(out, fmt.Sprintf("%s %s F %s", at.Format(time.RFC3339Nano), stream, text))
}

// A stderr klog record between the P records of a long audit line (the
// runtime interleaves the two streams; the harness has seen it for real):
// -o klog prints that klog line, -o json the whole audit line.
func TestQueryCRIStderrRecordBetweenPartials(t *testing.T) {
	log, _ := fileRun(t)
	event := readLines(t, log)[0]
	klog := "I1126 03:58:50.564233   12364 flags.go:64] FLAG: --v=\"3\""
	at := time.Date(2026, 11, 26, 3, 58, 50, 0, time.UTC)
	parts := criRecords(at, "stdout", event, 200)
	if len(parts) < 3 {
		t.Fatal("event too short to split")
	}
	lines := slices.Concat(parts[:2], criRecords(at, "stderr", klog, 16384), parts[2:])
	path := writeTemp(t, "0.log", []byte(strings.Join(lines, "\n")+"\n"))
	if r := runQueryTest(t, "", "-o", "klog", path); r.stdout != klog+"\n" {
		t.Errorf("-o klog: %q, want %q", r.stdout, klog)
	}
	if r := runQueryTest(t, "", "-o", "json", path); r.stdout != event+"\n" {
		t.Errorf("-o json: %.120q, want the audit line", r.stdout)
	}
}

// Two apiservers' logs, interleaved in time: the table and -o json are in
// time order across both, and hold what the one log holds.
func TestQueryMergesLogsByTime(t *testing.T) {
	log := audittest.Rotated(t, "file", "audit-*.log") // a backup named alone is read alone
	var m [2]bytes.Buffer
	for _, l := range readLines(t, log) {
		id := gjson.Get(l, "auditID").String()
		if id == "" {
			continue
		}
		m[int(id[len(id)-1])%2].WriteString(l + "\n")
	}
	m1 := writeTemp(t, "m1.log", m[0].Bytes())
	m2 := writeTemp(t, "m2.log", m[1].Bytes())
	one := writeTemp(t, "one.log", append(m[0].Bytes(), m[1].Bytes()...))
	merged := runQueryTest(t, "", "-o", "wide", m1, m2)
	single := runQueryTest(t, "", "-o", "wide", log)
	got, want := rows(merged.stdout), rows(single.stdout)
	if len(got) != len(want) || len(got) < 10 {
		t.Fatalf("%d rows from two logs, %d from one", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i][:19] < got[i-1][:19] { // rows start with the time
			t.Fatalf("row %d of two logs is not in time order:\n%s\n%s", i+1, got[i-1], got[i])
		}
	}
	js := runQueryTest(t, "", "-o", "json", m1, m2)
	var last string
	for i, l := range strings.Split(strings.TrimSpace(js.stdout), "\n") {
		ts := gjson.Get(l, "stageTimestamp").String()
		if ts < last {
			t.Fatalf("-o json line %d at %s after %s", i+1, ts, last)
		}
		last = ts
	}
	joined := rows(runQueryTest(t, "", "-o", "wide", one).stdout)
	slices.Sort(joined)
	got = slices.Sorted(slices.Values(got))
	if !slices.Equal(joined, got) {
		t.Errorf("the two logs read together differ from the two joined into one file")
	}
}

// <(cat audit.log), a FIFO, /dev/stdin: read as streams. A FIFO named like
// a backup beside audit.log is not a backup: skipped, not opened (open()
// would hang).
func TestQueryPipesAndFIFOs(t *testing.T) {
	log, _ := fileRun(t)
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := runQueryTest(t, string(raw), "--count", "-").stdout
	if r := runQueryTest(t, "", "--count", fifoOf(t, raw)); r.code != 0 || r.stdout != want {
		t.Errorf("FIFO: exit %d, %q, want %q (%s)", r.code, r.stdout, want, r.stderr)
	}
	dir := t.TempDir()
	live := filepath.Join(dir, "audit.log")
	os.WriteFile(live, raw, 0o600)
	if err := syscall.Mkfifo(filepath.Join(dir, "audit-2026-11-26T03-00-00.000.log"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan queryResult, 1)
	go func() { done <- runQueryTest(t, "", "--count", live) }()
	select {
	case r := <-done:
		if r.stdout != want {
			t.Errorf("with a FIFO backup: %q, want %q (%s)", r.stdout, want, r.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a FIFO named like a backup hangs the query")
	}
	// a path that opens but reads nothing readable: exit 2, one line
	r := runQueryTest(t, "", "--count", filepath.Join(dir, "audit-2026-11-26T03-00-00.000.log.gz"))
	if r.code != 2 {
		t.Errorf("missing input: exit %d, want 2", r.code)
	}
}

// Inputs that hold no audit event line by line: read what is readable (a
// stream of JSON values, pretty or not; CR line ends), otherwise say in
// one line what the input looks like.
func TestQueryUnusualInputsReadOrExplained(t *testing.T) {
	log, _ := fileRun(t)
	raw, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(runQueryTest(t, string(raw), "--count", "-").stdout)
	var events []json.RawMessage
	var pretty bytes.Buffer
	for _, l := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		events = append(events, l)
		json.Indent(&pretty, l, "", "  ")
		pretty.WriteString("\n")
	}
	list, _ := json.MarshalIndent(map[string]any{"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": events}, "", "  ")
	array, _ := json.MarshalIndent(events, "", " ")
	for _, tc := range []struct {
		name, input string
		code        int
		out, err    string
	}{
		{"pretty events (jq .)", pretty.String(), 0, want, ""},
		{"pretty EventList", string(list), 0, want, ""},
		{"array of events (jq -s .)", string(array), 0, want, ""},
		{"CR line ends", strings.ReplaceAll(string(raw), "\n", "\r"), 0, want, ""},
		{"legacy format", `2026-11-26T04:00:00.123456789Z AUDIT: id="5d0f" stage="ResponseComplete" ip="127.0.0.1" method="get" user="admin" groups="\"system:masters\"" as="<self>" asgroups="<lookup>" user-agent="kubectl" namespace="default" uri="/api/v1/pods" response="200"` + "\n", 2, "", "legacy audit lines (--audit-log-format=legacy)"},
		{"/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", 2, "", `holds text that is neither audit JSON nor klog (first line: "root:x:0:0`},
		{"empty", "", 1, "", "it is empty"},
	} {
		r := runQueryTest(t, tc.input, "--count", "-")
		if r.code != tc.code || strings.TrimSpace(r.stdout) != tc.out || !strings.Contains(r.stderr, tc.err) {
			t.Errorf("%s: exit %d, out %q, err %q; want exit %d, out %q, err with %q", tc.name, r.code, r.stdout, r.stderr, tc.code, tc.out, tc.err)
		}
		if tc.err != "" && strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: want one line, got %q", tc.name, r.stderr)
		}
	}
}

// A line of ten million nested '[' (gjson's validator recursed on it until
// the stack overflowed) is an "other" line; the lines around it count.
func TestQueryDeepNestingIsNotFatal(t *testing.T) {
	log, _ := fileRun(t)
	lines := readLines(t, log)
	deep := `{"kind":"Event","x":` + strings.Repeat("[", 10_000_000)
	path := writeTemp(t, "audit.log", []byte(lines[0]+"\n"+deep+"\n"+lines[1]+"\n"))
	r := runQueryTest(t, "", "-o", "json", path)
	if r.code != 0 || r.stdout != lines[0]+"\n"+lines[1]+"\n" {
		t.Errorf("exit %d, %d bytes out, stderr %q", r.code, len(r.stdout), r.stderr)
	}
	stdin := runQueryTest(t, deep+"\n", "-")
	if stdin.code != 2 || !strings.Contains(stdin.stderr, "JSON that is not audit events") {
		t.Errorf("deep line alone on stdin: exit %d, %q", stdin.code, stdin.stderr)
	}
}

// --logging-format=json: the apiserver's own log lines are JSON on stdout,
// beside the audit events. They are its log, not "other" lines.
func TestQueryJSONComponentLogsAreApiserverLog(t *testing.T) {
	log, _ := fileRun(t)
	event := readLines(t, log)[0]
	info := `{"ts":1764129530564.233,"caller":"app/server.go:167","msg":"Version","v":0,"version":"v1.37.2"}`
	errLine := `{"ts":1764129531100.5,"caller":"x/y.go:9","msg":"Unhandled Error","err":"boom"}`
	path := writeTemp(t, "kube-apiserver.log", []byte(info+"\n"+event+"\n"+errLine+"\n"))
	if r := runQueryTest(t, "", "-o", "klog", path); r.stdout != info+"\n"+errLine+"\n" {
		t.Errorf("-o klog: %q", r.stdout)
	}
	if r := runQueryTest(t, "", "--count", path); strings.TrimSpace(r.stdout) != "1" {
		t.Errorf("--count: %q (%s)", r.stdout, r.stderr)
	}
}

// The real apiserver (hack/gen-trust.sh): clients sent the Audit-ID header,
// reusing IDs for requests one after another, in parallel and inside a
// watch. Every request they sent is a row of its own.
func TestQueryReusedAuditIDRealApiserver(t *testing.T) {
	truth := audittest.Expected(t, "trust/reused-id")
	log := audittest.Path("trust", "reused-id", "audit.log")
	sent := truth.Get("requests").Array()
	ids := map[string]int{}
	for _, s := range sent {
		ids[s.Get("auditID").String()]++
	}
	for id, n := range ids {
		r := runQueryTest(t, "", "-o", "wide", "-q", "id="+id, log)
		got := rows(r.stdout)
		if len(got) != n {
			t.Errorf("id %s: %d rows, the harness sent %d requests with it:\n%s", id, len(got), n, r.stdout)
			continue
		}
		for _, s := range sent {
			if s.Get("auditID").String() != id {
				continue
			}
			want := []string{s.Get("verb").String(), s.Get("resource").String(), strconv.Itoa(int(s.Get("code").Int()))}
			found := false
			for _, row := range got {
				f := strings.Fields(row)
				if slices.Contains(f, want[0]) && slices.Contains(f, want[1]) && slices.Contains(f, want[2]) &&
					(s.Get("name").String() == "" || strings.Contains(row, "/"+s.Get("name").String())) {
					found = true
				}
			}
			if !found {
				t.Errorf("id %s: no row for request %d (%v %s)", id, s.Get("order").Int(), want, s.Get("name"))
			}
		}
		if !strings.Contains(r.stderr, "carry an auditID that another request carries too") {
			t.Errorf("id %s: no warning on stderr", id)
		}
	}
	if r := runQueryTest(t, "", "-q", "verb=delete resource=secrets", log); len(rows(r.stdout)) != 1 {
		t.Errorf("the delete under a reused ID: %q", r.stdout)
	}
}

// The real apiserver with --logging-format=json: its 720 JSON log lines
// (stderr, interleaved with the audit events as kubectl logs shows them)
// are its log, each printed as logged by -o klog; none is an "other" line.
func TestQueryJSONLoggingRealApiserver(t *testing.T) {
	truth := audittest.Expected(t, "trust/json-logging")
	log := audittest.Path("trust", "json-logging", "kube-apiserver.log")
	var want []string
	for _, l := range readLines(t, log) {
		if gjson.Get(l, "ts").Exists() && gjson.Get(l, "kind").String() != "Event" {
			want = append(want, l)
		}
	}
	if n := truth.Get("linesMeasuredByJq.jsonLogLines").Int(); int(n) != len(want) || n == 0 {
		t.Fatalf("%d JSON log lines in the file, the harness counted %d", len(want), n)
	}
	r := runQueryTest(t, "", "-o", "klog", log)
	if r.stdout != strings.Join(want, "\n")+"\n" {
		t.Errorf("-o klog is not exactly the JSON log lines (%d bytes)", len(r.stdout))
	}
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("stderr: %q", r.stderr)
	}
}
