package main

// `kauditui query --store` against a real VictoriaLogs (the binary that
// hack/vlogs-e2e.sh builds into ~/.cache/kauditui), holding the real
// testdata in the form the shipped collector config gives it. Every answer
// is compared with `kauditui query` on the same files: the translation to
// LogsQL may only narrow what is downloaded, never change what is shown.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

const vlogsVersion = "v1.52.1"

// vlogsBinary is the cached VictoriaLogs binary, or a skip.
func vlogsBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("KAUDITUI_VLOGS"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "kauditui", "vlogs-"+vlogsVersion, "victoria-logs")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no VictoriaLogs binary at %s: build it with hack/vlogs-e2e.sh --build (or set KAUDITUI_VLOGS)", p)
	}
	return p
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type vlogsProc struct {
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	log  *bytes.Buffer
}

// startVLogs starts one VictoriaLogs process and waits until it answers.
func startVLogs(t *testing.T, args ...string) *vlogsProc {
	t.Helper()
	bin := vlogsBinary(t)
	addr := freePort(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, append([]string{"-httpListenAddr=" + addr, "-storageDataPath=" + t.TempDir(),
		"-retentionPeriod=100y", "-loggerLevel=ERROR"}, args...)...)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &vlogsProc{addr: addr, cmd: cmd, done: make(chan struct{}), log: &log}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)
	scheme, client := "http://", http.DefaultClient
	if slices.Contains(args, "-tls") {
		// only to see that it is up: the tests check the certificate
		scheme, client = "https://", &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := client.Get(scheme + addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("victoria-logs exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs did not answer on %s within 20s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *vlogsProc) url() string { return "http://" + p.addr }

func (p *vlogsProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.done
}

// loadVLogs sends the lines of files (gzipped or not) to the store as the
// collector would, and waits until they are searchable.
func loadVLogs(t *testing.T, base, cluster, node string, files ...string) int {
	t.Helper()
	var body []byte
	n := 0
	for _, f := range files {
		for _, line := range readLines(t, f) {
			var ok bool
			if body, ok = source.AppendStoreLine(body, []byte(line), cluster, node); ok {
				n++
			}
		}
	}
	resp, err := http.Post(base+"/insert/jsonline?_time_field=stageTimestamp&_stream_fields=cluster,node", "application/stream+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("insert: %s: %s", resp.Status, b)
	}
	// Inserted rows become searchable after a flush (at most a second).
	if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	return n
}

// storeTestdata is the real testdata (file run, its backups) as cluster c1
// node m1 and the hostile log as cluster c2 node h1, in a VictoriaLogs
// started with args.
func storeTestdata(t *testing.T, args ...string) (*vlogsProc, []string, string) {
	t.Helper()
	vl := startVLogs(t, args...)
	files := audittest.Logs(t, "file")
	loadVLogs(t, vl.url(), "c1", "m1", files...)
	hostile := audittest.Path("hostile", "audit.log")
	loadVLogs(t, vl.url(), "c2", "h1", hostile)
	return vl, files, hostile
}

// storeTerms covers every field of the language, negations, globs, lists,
// bare words and times, on values the testdata holds.
var storeTerms = []string{
	"",
	"user=erin-editor", "user=ERIN-*", "user=*viewer", "!user=kubernetes-admin", "user=system:serviceaccount:team-a:kubyk-bot",
	"user=lou-viewer,erin-editor", `user=""`,
	"group=system:masters", "group=system:serviceaccounts:*", "!group=system:authenticated",
	"verb=delete", "verb=get,list", "!verb=watch", "verb=DELETE",
	"resource=deploy", "resource=apps/deployments", "resource=pods/exec", "resource=pods/*", "resource=secrets", "resource=*", `resource=""`, "!resource=pods", "resource=core/configmaps",
	"ns=team-a", "ns=kube-*", `ns=""`, "!ns=kube-system",
	"name=kubyk-web", "name=kubyk-*",
	"code=403", "code=4xx", "code>=400", "code<300", "!code=200", "code=200,201",
	"stage=complete", "stage=received", "!stage=ResponseComplete",
	"level=RequestResponse", "level=metadata",
	"ip=127.0.0.1", "ip=127.*", "ip=10.0.0.0/8",
	`agent="kubectl/*"`, "agent=kubyk-bot-poller*",
	"uri=/api/v1/namespaces/team-a/*", "uri=*watch=true*",
	"decision=forbid", "decision=allow", "!decision=allow",
	"reason=*ClusterRole*", "reason=*RBAC*",
	"msg=*forbidden*",
	"id=8263f6a1-9594-44b3-a5d4-bf4590465d0e", "id=8263*",
	"since=2026-11-26T03:58:30Z", "until=2026-11-26T03:58:30Z", "!since=2026-11-26T03:58:30Z",
	"latency>100ms",
	"kubyk", "KUBYK-web", "!kubyk", "requestObject", `"exec"`, "team-*:deployer",
	"verb=delete resource=deploy code<300",
	"user=lou-viewer code=403 verb=delete",
	"resource=secrets verb=get,list !user=system:*",
	"verb=create resource=pods/exec",
}

func TestStoreAnswersAsFilesTermByTerm(t *testing.T) {
	vl, files, hostile := storeTestdata(t)
	live := liveLog(files)
	for _, c := range []struct {
		cluster, file string
	}{{"c1", live}, {"c2", hostile}} {
		for _, term := range storeTerms {
			want := runQueryTest(t, "", "-o", "wide", "--no-color", "-q", term, c.file)
			got := runQueryTest(t, "", "-o", "wide", "--no-color", "-q", term, "--store", vl.url(), "--cluster", c.cluster)
			if got.code != want.code || got.stdout != want.stdout {
				t.Errorf("%s -q %q: the store gives exit %d, %d rows (stderr %q); files give exit %d, %d rows\nstore:\n%s\nfiles:\n%s",
					c.cluster, term, got.code, len(rows(got.stdout)), got.stderr, want.code, len(rows(want.stdout)), head(got.stdout), head(want.stdout))
			}
		}
	}
}

// liveLog is audit.log among files; kauditui reads its backups with it.
func liveLog(files []string) string {
	for _, f := range files {
		if filepath.Base(f) == "audit.log" {
			return f
		}
	}
	return files[len(files)-1]
}

func head(s string) string {
	lines := strings.SplitN(s, "\n", 8)
	if len(lines) == 8 {
		lines[7] = "..."
	}
	return strings.Join(lines, "\n")
}

// The store does the scan: a narrow filter downloads only its requests'
// events, and terms LogsQL cannot say are named by --explain.
func TestStoreNarrowsInTheStore(t *testing.T) {
	vl, _, _ := storeTestdata(t)
	st, err := source.OpenStore(source.StoreOptions{URL: vl.url(), Cluster: []string{"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter string
		max    int64
	}{
		// code<300 takes in a request still without a response: the
		// stages without a code of the other deletes come too.
		{"verb=delete resource=deploy code<300", 4},
		{"user=lou-viewer decision=forbid", 40},
		{"kubyk-web verb=delete", 10},
	} {
		r := runQueryTest(t, "", "--store", vl.url(), "--cluster", "c1", "--explain", "-q", c.filter)
		if r.code != 0 {
			t.Fatalf("--explain %q: exit %d: %s", c.filter, r.code, r.stderr)
		}
		query := strings.SplitN(r.stdout, "\n", 2)[0]
		lines, err := st.Lines(context.Background(), query)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, lines)
		lines.Close()
		events, bytes, _, _ := lines.Stats()
		if events == 0 || events > c.max {
			t.Errorf("%q: the store sent %d events (%d bytes), want 1 to %d", c.filter, events, bytes, c.max)
		}
	}
	// Other logs in the same streams are not sent.
	resp, err := http.Post(vl.url()+"/insert/jsonline?_stream_fields=cluster,node", "application/stream+json",
		strings.NewReader(`{"_msg":"GET / 200","cluster":"c1","node":"m1","auditID":"x"}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err := http.Get(vl.url() + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	all, err := st.Lines(context.Background(), "{cluster=\"c1\"} | fields _msg")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, all)
	lines, err := st.Lines(context.Background(), strings.SplitN(runQueryTest(t, "", "--store", vl.url(), "--cluster", "c1", "--explain").stdout, "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, lines)
	nAll, _, notLines, _ := all.Stats() // the one other log line has no event as _msg
	nAll += notLines
	nAudit, _, _, _ := lines.Stats()
	if nAll != nAudit+1 {
		t.Errorf("the store holds %d lines of c1, of which %d audit events; kauditui asked for %d", nAll, nAll-1, nAudit)
	}
	r := runQueryTest(t, "", "--store", vl.url(), "--explain", "-q", "verb=get latency>1s !foo ip=10.0.0.0/8")
	if !strings.Contains(r.stdout, "# checked by kauditui on the events read: latency>1s !foo ip=10.0.0.0/8") {
		t.Errorf("--explain does not name the terms kauditui checks itself:\n%s", r.stdout)
	}
}

func TestStoreWhoDeletedTheDeployment(t *testing.T) {
	vl, _, _ := storeTestdata(t)
	truth := audittest.Truth(t)
	fact := truth.Get("facts.deploymentDeletedBy")
	r := runQueryTest(t, "", "--store", vl.url(), "--node", "m1", "-q", "verb=delete resource=deploy code<300 name="+fact.Get("name").String())
	got := rows(r.stdout)
	if r.code != 0 || len(got) != 1 || !strings.Contains(got[0], fact.Get("user").String()) {
		t.Fatalf("want one delete by %s, got exit %d:\n%s%s", fact.Get("user").String(), r.code, r.stdout, r.stderr)
	}
	// Another node of the store holds none of it.
	r = runQueryTest(t, "", "--store", vl.url(), "--node", "h1", "-q", "verb=delete resource=deploy code<300 name="+fact.Get("name").String())
	if r.code != 1 || len(rows(r.stdout)) != 0 {
		t.Errorf("--node h1: want nothing (exit 1), got exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// oneLine checks that a failure is one line saying what to do, and that
// nothing went to stdout.
func oneLine(t *testing.T, r queryResult, code int, want ...string) {
	t.Helper()
	if r.code != code || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("want exit %d and one line on stderr, got exit %d, stdout %q, stderr %q", code, r.code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr %q lacks %q", r.stderr, w)
		}
	}
}

func TestStoreErrorsAreOneLine(t *testing.T) {
	// Nothing listens on a port just closed.
	oneLine(t, runQueryTest(t, "", "--store", "http://"+freePort(t), "-q", "verb=delete"), 2, "cannot reach the store", "check --store")
	oneLine(t, runQueryTest(t, "", "--store", "ftp://x", "-q", "verb=delete"), 2, "is not a URL")
	oneLine(t, runQueryTest(t, "", "--store", "http://x:9428", audittest.Path("file", "audit.log")), 2, "give one or the other")
	oneLine(t, runQueryTest(t, "", "--store", "http://x:9428", "--account", "team-a"), 2, "not a tenant number")
	oneLine(t, runQueryTest(t, "", "--cluster", "c1", audittest.Path("file", "audit.log")), 2, "go with --store")

	auth := startVLogs(t, "-httpAuth.username=kauditui", "-httpAuth.password=s3cret")
	oneLine(t, runQueryTest(t, "", "--store", auth.url(), "-q", "verb=delete"), 2, "refused the query (401", "KAUDITUI_STORE_PASSWORD")
	r := runQueryTest(t, "", "--store", "http://kauditui:wrong@"+auth.addr, "-q", "verb=delete")
	oneLine(t, r, 2, "refused the query (401")
	if strings.Contains(r.stderr, "wrong") {
		t.Errorf("the password is shown: %q", r.stderr)
	}
	r = runQueryTest(t, "", "--store", "http://kauditui:s3cret@"+auth.addr, "-q", "verb=delete")
	if r.code != 1 || r.stderr != "" {
		t.Errorf("with the password: want an empty answer (exit 1), got exit %d: %s", r.code, r.stderr)
	}

	limited := startVLogs(t, "-search.maxQueryLen=200")
	oneLine(t, runQueryTest(t, "", "--store", limited.url(), "-q", "verb=delete resource=deploy name=kubyk-web code<300 user=erin-editor"), 2, "refused the query", "narrow it")
}

// A tenant is chosen with --account/--project or in the URL.
func TestStoreTenants(t *testing.T) {
	vl := startVLogs(t)
	files := audittest.Logs(t, "file")
	var body []byte
	for _, f := range files {
		for _, line := range readLines(t, f) {
			body, _ = source.AppendStoreLine(body, []byte(line), "c1", "m1")
		}
	}
	req, _ := http.NewRequest(http.MethodPost, vl.url()+"/insert/jsonline?_time_field=stageTimestamp&_stream_fields=cluster,node", bytes.NewReader(body))
	req.Header.Set("AccountID", "7")
	req.Header.Set("ProjectID", "3")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err := http.Get(vl.url() + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	want := runQueryTest(t, "", "--count", liveLog(files))
	for _, args := range [][]string{
		{"--store", vl.url(), "--account", "7", "--project", "3"},
		{"--store", vl.url() + "/?AccountID=7&ProjectID=3"},
	} {
		r := runQueryTest(t, "", append(args, "--count")...)
		if r.stdout != want.stdout {
			t.Errorf("%v: count %q, files %q (%s)", args, r.stdout, want.stdout, r.stderr)
		}
	}
	r := runQueryTest(t, "", "--store", vl.url(), "--count")
	if r.stdout != "0\n" {
		t.Errorf("tenant 0: want nothing, got %q %s", r.stdout, r.stderr)
	}
}

// A VictoriaLogs cluster: two storage nodes and a front node. With a storage
// node gone the store answers nothing rather than a part, and kauditui says so.
func TestStoreClusterNodeDown(t *testing.T) {
	s1 := startVLogs(t)
	s2 := startVLogs(t)
	front := startVLogs(t, "-storageNode="+s1.addr+","+s2.addr)
	files := audittest.Logs(t, "file")
	loadVLogs(t, front.url(), "c1", "m1", files...)
	for _, s := range []*vlogsProc{s1, s2} {
		if resp, err := http.Get(s.url() + "/internal/force_flush"); err == nil {
			resp.Body.Close()
		}
	}
	want := runQueryTest(t, "", "--top", "user", liveLog(files))
	got := runQueryTest(t, "", "--top", "user", "--store", front.url())
	if got.stdout != want.stdout || got.code != 0 {
		t.Fatalf("cluster store: --top user differs (exit %d, %s):\n%s\nfiles:\n%s", got.code, got.stderr, got.stdout, want.stdout)
	}
	s2.stop()
	r := runQueryTest(t, "", "--top", "user", "--store", front.url())
	oneLine(t, r, 2, "could not read all of its storage nodes", "try again")
}

// storeDeletes are the delete events of files.
func storeDeletes(t *testing.T, files []string) []string {
	var deletes []string
	for _, f := range files {
		for _, l := range readLines(t, f) {
			if gjson.Get(l, "verb").String() == "delete" {
				deletes = append(deletes, l)
			}
		}
	}
	return deletes
}

// freshDeletes are newly logged requests: the deletes again, with new
// auditIDs (ending in tag), now.
func freshDeletes(deletes []string, tag string) []string {
	var out []string
	base := audit.ParseTime(gjson.Get(deletes[0], "requestReceivedTimestamp").String())
	now := time.Now().UTC()
	for _, l := range deletes {
		id := gjson.Get(l, "auditID").String()
		l = strings.ReplaceAll(l, id, id[:len(id)-len(tag)]+tag)
		for _, k := range []string{"requestReceivedTimestamp", "stageTimestamp"} {
			v := gjson.Get(l, k).String()
			l = strings.Replace(l, `"`+k+`":"`+v+`"`, `"`+k+`":"`+now.Add(audit.ParseTime(v).Sub(base)).Format("2006-01-02T15:04:05.000000Z")+`"`, 1)
		}
		out = append(out, l)
	}
	return out
}

// sendStore ships lines to the store at url as cluster c1 node m1, as the
// collector does, and makes them searchable.
func sendStore(t *testing.T, url string, lines []string) {
	var body []byte
	for _, l := range lines {
		body, _ = source.AppendStoreLine(body, []byte(l), "c1", "m1")
	}
	resp, err := http.Post(url+"/insert/jsonline?_time_field=stageTimestamp&_stream_fields=cluster,node", "application/stream+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp, err := http.Get(url + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
}

// --follow prints the store's answer, then the requests that reach the
// store while it runs, each once (the tail starts before the answer ends).
func TestStoreFollow(t *testing.T) {
	vl, files, _ := storeTestdata(t)
	deletes := storeDeletes(t, files)
	fresh := func(tag string) []string { return freshDeletes(deletes, tag) }
	send := func(lines []string) { sendStore(t, vl.url(), lines) }
	out, errb := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := &queryOptions{IO: &IO{In: strings.NewReader(""), Out: out, Err: errb, Getenv: func(string) string { return "" }},
		Now: time.Now, Filter: "verb=delete", Output: "wide", Follow: true, Store: source.StoreFlags{URL: vl.url(), Cluster: []string{"c1"}}}
	done := make(chan error, 1)
	go func() { done <- runQuery(ctx, opts) }()
	want := func(n int, what string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); strings.Count(out.String(), " delete ") < n; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: want %d deletes, got:\n%s%s", what, n, out.String(), errb.String())
			}
		}
	}
	history := len(deletes) / 2 // each delete is two stages
	want(history, "the store's answer")
	send(fresh("f1"))
	want(2*history, "after the new requests")
	time.Sleep(1500 * time.Millisecond) // a tail that would repeat a request
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v: %s", err, errb.String())
	}
	ids := map[string]int{}
	for _, row := range rows(out.String()) {
		f := strings.Fields(row)
		ids[f[len(f)-1]]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("request %s printed %d times:\n%s", id, n, out.String())
		}
	}
	if len(ids) != 2*history {
		t.Errorf("want %d requests, got %d:\n%s", 2*history, len(ids), out.String())
	}
}

func TestSetupShipToPrintsTheCollectorConfig(t *testing.T) {
	var out, errb bytes.Buffer
	io := &IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
	code := run([]string{"setup", "--ship-to", "http://vlogs:9428", "--cluster", "prod", "--node-name", "master-2", "--log-path", "/var/log/audit/k.log"}, io)
	if code != 0 || errb.Len() != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{`include: ["/var/log/audit/k.log", "/var/log/audit/k-*.log"]`, `node: "master-2"`, `cluster: "prod"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("lacks %s:\n%s", want, out.String())
		}
	}
	out.Reset()
	code = run([]string{"setup", "--ship-to", "http://admin:pw@vlogs:9428", "--node-name", "m"}, io)
	if code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), "keep the password out of the URL") || strings.Contains(errb.String(), "pw") {
		t.Errorf("a password in --ship-to: exit %d, stderr %q", code, errb.String())
	}
}

// superset reports whether the store's selection for term may hold more
// than the matching requests: a negation or a code range with 0 (a stage
// without the field passes), the last stage (every stage has a stage).
func superset(term string) bool {
	return strings.HasPrefix(term, "!") || strings.Contains(term, " !") || strings.Contains(term, "code<") ||
		strings.Contains(term, "stage=received") || strings.Contains(term, "stage=started")
}

// Term by term, the store selects the requests kauditui's own matcher
// selects on the same events: the scan happens in the store. For most terms
// exactly those; for the rest (a code range that takes in requests without a
// response, negations, which a stage without the field passes) a superset,
// which kauditui narrows.
func TestStoreSelectsWhatTheMatcherSelects(t *testing.T) {
	vl, files, _ := storeTestdata(t)
	load := func(paths []string, stdin io.Reader) (*source.Set, audit.Snapshot) {
		set, err := source.Open(context.Background(), source.Spec{Paths: paths, Stdin: stdin}, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st := audit.NewStore()
		if err := set.Load(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		return set, st.Snapshot()
	}
	set, snap := load([]string{liveLog(files)}, nil)
	defer set.Close()
	store, err := source.OpenStore(source.StoreOptions{URL: vl.url(), Cluster: []string{"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	key := func(r *audit.Request) string { return r.AuditID + " " + r.First().String() }
	now := time.Now()
	exact := 0
	for _, term := range storeTerms {
		f, err := filter.Parse(term, now)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, r := range snap.Requests {
			if f.MatchRaw(r, set.Raw) {
				want[key(r)] = true
			}
		}
		q, err := filter.TranslateLogsQL(term, now)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := store.Lines(context.Background(), q.Query(store.Streams()))
		if err != nil {
			t.Fatal(err)
		}
		sset, ssnap := load([]string{"-"}, lines)
		got := map[string]bool{}
		for _, r := range ssnap.Requests {
			got[key(r)] = true
		}
		sset.Close()
		lines.Close()
		for k := range want {
			if !got[k] {
				t.Errorf("-q %q: the store leaves out request %s, which matches", term, k)
			}
		}
		if len(got) == len(want) {
			exact++
		} else if len(q.Local) == 0 && !superset(term) {
			t.Errorf("-q %q: the store sends %d requests, %d match", term, len(got), len(want))
		}
	}
	t.Logf("%d of %d terms: the store sends exactly the matching requests", exact, len(storeTerms))
}

// A big answer comes in pages of time, each a query of its own: together
// they are the whole answer, each event once.
func TestStorePagesABigAnswer(t *testing.T) {
	vl, _, _ := storeTestdata(t)
	st, err := source.OpenStore(source.StoreOptions{URL: vl.url(), Cluster: []string{"c1"}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := filter.TranslateLogsQL("", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	read := func(l *source.StoreLines) []string {
		t.Helper()
		b, err := io.ReadAll(l)
		if err != nil || l.Err() != nil {
			t.Fatalf("%v %v", err, l.Err())
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		slices.Sort(lines)
		return lines
	}
	whole, err := st.Lines(context.Background(), q.Query(st.Streams()))
	if err != nil {
		t.Fatal(err)
	}
	want := read(whole)
	paged, err := st.Paged(context.Background(), q.Filter(st.Streams()), filter.EventPipes, 500)
	if err != nil {
		t.Fatal(err)
	}
	got := read(paged)
	if paged.Queries() < 5 {
		t.Errorf("%d events in %d pages, want at least 5 of at most about 500", len(got), paged.Queries())
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages hold %d lines, the whole answer %d", len(got), len(want))
	}
}

// A store behind TLS with a private authority, and a password kept out of
// the command line: --store-ca trusts the authority, KAUDITUI_STORE_PASSWORD
// gives the URL's user its password. Without them, one line says which to
// give. (The certificates are made here; VictoriaLogs serves them itself,
// -tls.)
func TestStoreTLSAndPasswordFromTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := testCertificates(t)
	for name, b := range map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vl := startVLogs(t, "-tls", "-tlsCertFile="+filepath.Join(dir, "cert.pem"), "-tlsKeyFile="+filepath.Join(dir, "key.pem"),
		"-httpAuth.username=auditor", "-httpAuth.password=s3cret")
	_, port, _ := net.SplitHostPort(vl.addr)
	query := func(env map[string]string, args ...string) queryResult {
		var out, errOut bytes.Buffer
		ios := &IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(k string) string { return env[k] }}
		code := run(append([]string{"query"}, args...), ios)
		return queryResult{code: code, stdout: out.String(), stderr: errOut.String()}
	}
	url := "https://auditor@127.0.0.1:" + port
	ca := filepath.Join(dir, "ca.pem")
	pw := map[string]string{"KAUDITUI_STORE_PASSWORD": "s3cret"}

	r := query(pw, "--store", url, "--store-ca", ca, "-q", "verb=delete")
	if r.code != exitNoMatch || r.stderr != "" {
		t.Errorf("with --store-ca and the password: want an empty answer (exit 1), got exit %d: %s", r.code, r.stderr)
	}
	oneLine(t, query(pw, "--store", url, "-q", "verb=delete"), 2, "authority this machine does not trust", "--store-ca FILE")
	oneLine(t, query(pw, "--store", "https://auditor@localhost:"+port, "--store-ca", ca, "-q", "verb=delete"), 2, "certificate is not for localhost")
	r = query(map[string]string{"KAUDITUI_STORE_PASSWORD": "wrong"}, "--store", url, "--store-ca", ca, "-q", "verb=delete")
	oneLine(t, r, 2, "refused the query (401", "KAUDITUI_STORE_PASSWORD")
	if strings.Contains(r.stderr, "wrong") {
		t.Errorf("the password is shown: %q", r.stderr)
	}
	oneLine(t, query(pw, "--store", "https://127.0.0.1:"+port, "--store-ca", ca, "-q", "verb=delete"), 2, "names no user")
	oneLine(t, query(nil, "--store", url, "--store-ca", filepath.Join(dir, "key.pem"), "-q", "verb=delete"), 2, "no PEM certificate")
	oneLine(t, query(nil, "--store-ca", ca, audittest.Path("file", "audit.log")), 2, "go with --store")
}

// testCertificates makes a throwaway authority and a certificate it signed
// for 127.0.0.1, as PEM.
func testCertificates(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kauditui test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "vlogs"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// The rows of a store's answer do not say which cluster a request was made
// in: when the answer mixes clusters, a warning names them and --cluster;
// an answer from one cluster (by --cluster, or because only one matches)
// has none.
func TestStoreSaysWhenClustersMix(t *testing.T) {
	vl, _, _ := storeTestdata(t)
	r := runQueryTest(t, "", "--store", vl.url(), "--count", "-q", "verb=get")
	if !strings.Contains(r.stderr, "mixes 2 clusters") || !strings.Contains(r.stderr, `"c1"`) || !strings.Contains(r.stderr, `"c2"`) ||
		!strings.Contains(r.stderr, "--cluster NAME") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("gets in both clusters: stderr %q", r.stderr)
	}
	// every event (counted by cluster with the pages' count, not in a query of its own)
	r = runQueryTest(t, "", "--store", vl.url(), "--count")
	if !strings.Contains(r.stderr, "mixes 2 clusters") {
		t.Errorf("every event of both clusters: stderr %q", r.stderr)
	}
	for _, args := range [][]string{
		{"--cluster", "c1", "-q", "verb=get"},
		{"--cluster", "c1"},
		{"-q", "user=erin-editor"}, // only in c1
	} {
		r := runQueryTest(t, "", append([]string{"--store", vl.url(), "--count"}, args...)...)
		if r.code != exitOK || strings.Contains(r.stderr, "mixes") {
			t.Errorf("%v: exit %d, stderr %q; want no warning", args, r.code, r.stderr)
		}
	}
}

// insertRaw sends the lines of files to the store's /insert/jsonline as they
// are, with the query arguments args: the way Vector, Fluent Bit or a script
// fill a store, the event's fields flattened and no line kept as _msg unless
// args name a _msg_field.
func insertRaw(t *testing.T, base, args string, files ...string) {
	t.Helper()
	var body []byte
	for _, f := range files {
		for _, line := range readLines(t, f) {
			body = append(append(body, line...), '\n')
		}
	}
	resp, err := http.Post(base+"/insert/jsonline?"+args, "application/stream+json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("insert: %s: %s", resp.Status, b)
	}
	if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
}

// bodyTerms are the terms of storeTerms whose answer depends on the request
// and response bodies, which an event kept as fields comes back without.
var bodyTerms = map[string]bool{"requestObject": true}

// A store that kept the events' fields but not their lines (the usual way
// of other collectors) answers as the files do: kauditui rebuilds each event
// from its fields, and says so. Before, it gave nothing, exit 1.
func TestStoreRebuildsEventsKeptAsFields(t *testing.T) {
	vl := startVLogs(t)
	files := audittest.Logs(t, "file")
	hostile := audittest.Path("hostile", "audit.log")
	insertRaw(t, vl.url(), "_time_field=stageTimestamp&_stream_fields=cluster,node&extra_fields=cluster=c1,node=m1", files...)
	insertRaw(t, vl.url(), "_time_field=stageTimestamp&_stream_fields=cluster,node&extra_fields=cluster=c2,node=h1", hostile)
	for _, c := range []struct {
		cluster, file string
	}{{"c1", liveLog(files)}, {"c2", hostile}} {
		for _, term := range storeTerms {
			if bodyTerms[term] {
				continue
			}
			want := runQueryTest(t, "", "-o", "wide", "--no-color", "-q", term, c.file)
			got := runQueryTest(t, "", "-o", "wide", "--no-color", "-q", term, "--store", vl.url(), "--cluster", c.cluster)
			if got.code != want.code || got.stdout != want.stdout {
				t.Errorf("%s -q %q: the store gives exit %d, %d rows (stderr %q); files give exit %d, %d rows\nstore:\n%s\nfiles:\n%s",
					c.cluster, term, got.code, len(rows(got.stdout)), got.stderr, want.code, len(rows(want.stdout)), head(got.stdout), head(want.stdout))
			}
		}
	}
	want := runQueryTest(t, "", "--count", liveLog(files))
	got := runQueryTest(t, "", "--count", "--store", vl.url(), "--cluster", "c1")
	if got.stdout != want.stdout || !strings.Contains(got.stderr, "rebuilt them, without their request and response bodies") || strings.Count(got.stderr, "\n") != 1 {
		t.Errorf("--count: %q, files %q; stderr %q", got.stdout, want.stdout, got.stderr)
	}
	// The rebuilt events carry what the files say of who and what.
	truth := audittest.Truth(t)
	fact := truth.Get("facts.deploymentDeletedBy")
	r := runQueryTest(t, "", "-o", "json", "--store", vl.url(), "--cluster", "c1", "-q", "verb=delete resource=deploy code<300 name="+fact.Get("name").String())
	evs := strings.Split(strings.TrimSpace(r.stdout), "\n")
	ev := evs[len(evs)-1] // ResponseComplete
	if gjson.Get(ev, "user.username").String() != fact.Get("user").String() || gjson.Get(ev, "responseStatus.code").Type != gjson.Number ||
		!strings.HasPrefix(gjson.Get(ev, `user.extra.authentication\.kubernetes\.io/credential-id.0`).String(), "X509SHA256=") ||
		gjson.Get(ev, `annotations.authorization\.k8s\.io/decision`).String() != "allow" {
		t.Errorf("a rebuilt event: %s", ev)
	}
}

// A store given an event field as its message (_msg_field=requestURI) has no
// requestURI to rebuild the events with: one line says what is missing.
func TestStoreRefusesEventsItCannotRebuild(t *testing.T) {
	vl := startVLogs(t)
	insertRaw(t, vl.url(), "_time_field=stageTimestamp&_msg_field=requestURI", audittest.Path("file", "audit.log"))
	r := runQueryTest(t, "", "--store", vl.url(), "--count")
	oneLine(t, r, 2, "without the field requestURI", "ship the line as _msg")
	if strings.Contains(r.stderr, "no count is given") {
		t.Errorf("nothing was counted: %s", r.stderr)
	}
	// Events nested under another field (a collector that kept the line as
	// "log" and parsed it there): no audit event to select, and one line
	// says so rather than an empty answer.
	nested := filepath.Join(t.TempDir(), "nested.log")
	var b []byte
	for _, l := range readLines(t, audittest.Path("file", "audit.log")) {
		b = append(append(append(b, `{"log":`...), l...), "}\n"...)
	}
	if err := os.WriteFile(nested, b, 0o644); err != nil {
		t.Fatal(err)
	}
	other := startVLogs(t)
	insertRaw(t, other.url(), "_stream_fields=cluster&extra_fields=cluster=n1", nested)
	for _, args := range [][]string{{"--count"}, {"-q", "verb=delete"}} {
		oneLine(t, runQueryTest(t, "", append([]string{"--store", other.url(), "--cluster", "n1"}, args...)...), 2,
			"holds logs but no audit event kauditui can read", "log.auditID, log.kind")
	}
	// A store that holds audit events answers an empty question with exit 1.
	r = runQueryTest(t, "", "--store", vl.url(), "-q", "user=nobody-at-all")
	if r.code != 1 || r.stderr != "" {
		t.Errorf("an empty answer: exit %d, %q", r.code, r.stderr)
	}
}

// fakeStore answers the queries kauditui asks before the events as a store
// holding lines would (every event keeps its line, one cluster, no
// /metrics), and the events' query with answer.
func fakeStore(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.FormValue("query")
		switch {
		case r.URL.Path == "/metrics":
			http.NotFound(w, r)
		case strings.Contains(q, "| limit 1"), strings.Contains(q, "| stats"):
			// KeepsLines and the count by cluster: nothing
		default:
			answer(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// An answer cut off part-way prints no count (nor a top): a count of part of
// the answer is a wrong number. One line says why, exit 2.
func TestStoreCutOffAnswerPrintsNoCount(t *testing.T) {
	file, _ := fileRun(t)
	lines := readLines(t, file)
	url := fakeStore(t, func(w http.ResponseWriter, r *http.Request) {
		for _, l := range lines[:20] {
			b, _ := source.AppendStoreLine(nil, []byte(l), "c1", "m1")
			w.Write(b)
		}
		w.(http.Flusher).Flush()
		conn, buf, _ := w.(http.Hijacker).Hijack()
		buf.Flush()
		conn.Close()
	})
	for _, args := range [][]string{{"--count"}, {"--count", "-q", "verb=get"}, {"--top", "user"}, {"--coverage"}} {
		r := runQueryTest(t, "", append([]string{"--store", url}, args...)...)
		oneLine(t, r, 2, "partial result", "broke off after 20 events", "no count is given")
	}
}

// A store that sends its headers and then trickles is given up on at
// --store-timeout, with one line that names it.
func TestStoreTrickleTimesOut(t *testing.T) {
	url := fakeStore(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for range 200 {
			if _, err := io.WriteString(w, `{"_msg":`); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	start := time.Now()
	r := runQueryTest(t, "", "--store", url, "--store-timeout", "1s", "--count")
	oneLine(t, r, 2, "did not finish its answer within 1s", "--store-timeout")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %v", took)
	}
}

// VictoriaLogs skips a line over -insert.maxLineSizeBytes (256 KiB by
// default) without a word to the sender: testdata/answers holds a 900 KiB
// event, and through /insert/jsonline the rest of its batch goes with it.
// kauditui reads the store's counters and says the answer may miss
// requests; with the limit raised as `setup --ship-to` says, the store
// answers as the files.
func TestStoreWarnsOfLinesItSkipped(t *testing.T) {
	files := audittest.Logs(t, "answers")
	live := files[len(files)-1]
	want := runQueryTest(t, "", "--count", live)
	for _, c := range []struct {
		args []string
		warn bool
	}{{nil, true}, {[]string{"-insert.maxLineSizeBytes=2MiB"}, false}} {
		vl := startVLogs(t, c.args...)
		loadVLogs(t, vl.url(), "c1", "m1", files...)
		r := runQueryTest(t, "", "--count", "--store", vl.url())
		warned := strings.Contains(r.stderr, "the answer may miss requests: the store skipped 1 lines over its -insert.maxLineSizeBytes") &&
			strings.Contains(r.stderr, "on the store, raise -insert.maxLineSizeBytes")
		if warned != c.warn || c.warn && strings.Count(r.stderr, "\n") != 1 || !c.warn && (r.stdout != want.stdout || r.stderr != "") {
			t.Errorf("%v: count %q (files %q), stderr %q; want a warning: %v", c.args, r.stdout, want.stdout, r.stderr, c.warn)
		}
		// The explorer says it in its status.
		var status []string
		set, err := source.Open(context.Background(), source.Spec{Store: &source.StoreSpec{StoreOptions: source.StoreOptions{URL: vl.url()}, Now: time.Now()}},
			source.Options{Warn: func(m string) { status = append(status, m) }})
		if err != nil {
			t.Fatal(err)
		}
		set.Close()
		if got := len(status) == 1 && strings.Contains(status[0], "the answer may miss requests"); got != c.warn {
			t.Errorf("%v: the explorer's status says %q; want a warning: %v", c.args, status, c.warn)
		}
	}
}

// --coverage reads a store as it reads files: the same requests, events,
// time covered and writes without a body; the store is the one input.
func TestStoreCoverage(t *testing.T) {
	vl, files, _ := storeTestdata(t)
	want := runQueryTest(t, "", "--coverage", liveLog(files))
	got := runQueryTest(t, "", "--coverage", "--store", vl.url(), "--cluster", "c1")
	if got.code != want.code || got.stderr != "" {
		t.Fatalf("exit %d (files %d): %s", got.code, want.code, got.stderr)
	}
	first := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }
	tail := func(s string) string { // from the gaps on, but the policy's line
		s = s[strings.Index(s, "Gaps"):]
		return s[:strings.LastIndex(strings.TrimSuffix(s, "\n"), "\n")]
	}
	if first(got.stdout) != first(want.stdout) || tail(got.stdout) != tail(want.stdout) ||
		!strings.Contains(got.stdout, "VictoriaLogs "+vl.url()+` {cluster="c1"}`) || !strings.Contains(got.stdout, "--policy FILE adds what the audit policy of the store's cluster") {
		t.Errorf("store:\n%s\nfiles:\n%s", got.stdout, want.stdout)
	}
}

// The explorer on --store --follow says "following", not "loading", once
// the store's answer is read and its tail begins: the store's reader tells
// Options.Live (the explorer's Progress.Live) then; without --follow it is
// never told (a snapshot).
func TestStoreFollowInExplorerGoesLive(t *testing.T) {
	vl, _, _ := storeTestdata(t)
	for _, follow := range []bool{true, false} {
		o := &exploreOptions{IO: &IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard, Getenv: func(string) string { return "" }},
			Now: time.Now, Follow: follow, Store: source.StoreFlags{URL: vl.url(), Cluster: []string{"c1"}}}
		spec, _, err := reading{o.IO, nil, follow, &o.Pods, &o.Nodes, &o.Store, "", ""}.spec("", time.Now(), "")
		if err != nil {
			t.Fatal(err)
		}
		live := make(chan struct{}, 1)
		set, err := source.Open(context.Background(), spec, source.Options{Warn: func(m string) { t.Logf("warning: %s", m) },
			Live: func() { live <- struct{}{} }})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- set.Load(ctx, audit.NewStore()) }()
		select {
		case <-live:
			if !follow {
				t.Error("without --follow the store's answer was said to be live")
			}
		case err := <-done:
			if follow {
				t.Fatalf("--follow: the load ended (%v) without saying the answer is read and the tail began", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("follow=%v: never told the answer is read", follow)
		}
		cancel()
		set.Close()
	}
}

// Ctrl-C, SIGTERM and SIGHUP end `query --store --follow` as they end
// following files: the store's tail, a request waiting for the store's next
// event, is cancelled with it. Before, it went on (the e2e script waited on it
// for ever).
func TestStoreFollowEndsOnSIGTERM(t *testing.T) {
	vl, _, _ := storeTestdata(t)
	out, errb := &syncBuffer{}, &syncBuffer{}
	opts := &queryOptions{IO: &IO{In: strings.NewReader(""), Out: out, Err: errb, Getenv: func(string) string { return "" }},
		Now: time.Now, Filter: "verb=delete", Output: "wide", Follow: true, Store: source.StoreFlags{URL: vl.url(), Cluster: []string{"c1"}}}
	done := make(chan error, 1)
	go func() { done <- runQuery(context.Background(), opts) }()
	for deadline := time.Now().Add(30 * time.Second); strings.Count(out.String(), " delete ") == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no delete from the store: %s%s", out.String(), errb.String())
		}
	}
	time.Sleep(time.Second) // the tail is asked for
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("follow after SIGTERM: %v (%s)", err, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("query --store --follow did not end on SIGTERM: %s", errb.String())
	}
}

// storeRecorder stands between kauditui and the store and remembers each
// query asked and the bytes answered, so a test can tell a count from a
// download.
type storeRecorder struct {
	URL     string
	mu      sync.Mutex
	queries []string
	bytes   int64
}

func recordStore(t *testing.T, base string) *storeRecorder {
	t.Helper()
	rec := &storeRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.queries = append(rec.queries, r.URL.Path+" "+form.Get("query"))
		rec.mu.Unlock()
		req, err := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(countingWriter{w, rec}, resp.Body)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// countingWriter counts what is written before the client can read it.
type countingWriter struct {
	w   io.Writer
	rec *storeRecorder
}

func (c countingWriter) Write(p []byte) (int, error) {
	c.rec.mu.Lock()
	c.rec.bytes += int64(len(p))
	c.rec.mu.Unlock()
	return c.w.Write(p)
}

// take returns the queries and bytes since the last take.
func (r *storeRecorder) take() (queries []string, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	queries, bytes = r.queries, r.bytes
	r.queries, r.bytes = nil, 0
	return queries, bytes
}

// downloads reports whether one of queries asks for events (their lines or
// their fields), not for stats.
func downloads(queries []string) bool {
	for _, q := range queries {
		if strings.HasSuffix(q, filter.EventPipes) || strings.HasSuffix(q, source.FieldPipes) || strings.HasPrefix(q, "/select/logsql/tail") {
			return true
		}
	}
	return false
}

// `query --store --count` and `--top` are counted by the store's stats, not
// downloaded, and equal the same command on the files the store was loaded
// from: the real testdata (every term of storeTerms), the hostile run, and
// the crafted logs of testdata/diff and the real run of clients reusing an
// auditID (testdata/trust), whose stages disagree, repeat, or share an ID.
// Where the store cannot count exactly (a term only kauditui checks, a
// reused auditID, stages that disagree on a field the filter reads) it
// says so on stderr and reads the answer whole; it never prints another
// number. (Where it reads the answer whole, that answer is the one the
// download path gives, which TestStoreAnswersAsFilesTermByTerm compares
// for the real testdata; on reversed-stages.log it is not the files'
// today, so the crafted logs compare only what the store counted.)
func TestStoreCountsInTheStore(t *testing.T) {
	vl, files, hostile := storeTestdata(t)
	crafted := map[string]string{"reused": audittest.Path("trust", "reused-id", "audit.log")}
	logs, _ := filepath.Glob(filepath.Join("testdata", "diff", "*.log*"))
	for _, f := range logs {
		crafted[strings.SplitN(filepath.Base(f), ".", 2)[0]] = f
	}
	for c, f := range crafted {
		loadVLogs(t, vl.url(), c, "x", f)
	}
	rec := recordStore(t, vl.url())
	counted := 0
	ask := func(cluster, file string, real bool, args ...string) {
		t.Helper()
		want := runQueryTest(t, "", append(args, file)...)
		rec.take()
		got := runQueryTest(t, "", append(args, "--store", rec.URL, "--cluster", cluster)...)
		queries, sent := rec.take()
		whole := strings.Contains(got.stderr, "counting from the store's whole answer")
		if whole != downloads(queries) {
			t.Errorf("%s %q: the store's answer downloaded %v, stderr %q", cluster, args, downloads(queries), got.stderr)
		}
		if whole && !real {
			return
		}
		if got.code != want.code || got.stdout != want.stdout {
			t.Errorf("%s %q: the store gives exit %d %q (stderr %q); the files exit %d %q", cluster, args, got.code, head(got.stdout), got.stderr, want.code, head(want.stdout))
		}
		if !whole {
			counted++
			if sent > 64<<10 {
				t.Errorf("%s %q: the store sent %d bytes for a count", cluster, args, sent)
			}
		}
	}
	for _, term := range storeTerms {
		q, err := filter.TranslateLogsQL(term, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		before := counted
		ask("c1", liveLog(files), true, "--count", "-q", term)
		if len(q.Local) == 0 && counted == before {
			t.Errorf("c1 -q %q: the store did not count it", term)
		}
		ask("c2", hostile, true, "--count", "-q", term)
	}
	for _, field := range topFields {
		for _, term := range []string{"", "verb=delete", "code>=400", "kubyk", "ns=team-a", "!user=system:*"} {
			ask("c1", liveLog(files), true, "--top", field, "-q", term)
		}
		ask("c2", hostile, true, "--top", field)
	}
	for c, f := range crafted {
		for _, term := range diffFilters(t) {
			ask(c, f, false, "--count", "-q", term)
		}
		for _, field := range topFields {
			ask(c, f, false, "--top", field)
		}
	}
	if counted < len(storeTerms) {
		t.Errorf("the store counted %d answers", counted)
	}
	t.Logf("the store counted %d answers", counted)

	// A user named with KELVIN SIGN (crafted): the store's case-blind match
	// takes it for user=kelvin, kauditui's (ASCII) does not; the store says
	// it cannot count it, and the answer read whole is the file's.
	fold := filepath.Join(t.TempDir(), "audit.log")
	ev := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"f0000000-0000-0000-0000-000000000001","stage":"ResponseComplete","requestURI":"/api/v1/namespaces","verb":"list","user":{"username":"\u212aelvin"},"sourceIPs":["10.0.0.1"],"userAgent":"x","responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-26T03:58:00.000000Z","stageTimestamp":"2026-11-26T03:58:00.001000Z"}` + "\n"
	if err := os.WriteFile(fold, []byte(ev), 0o600); err != nil {
		t.Fatal(err)
	}
	loadVLogs(t, vl.url(), "fold", "x", fold)
	before := counted
	ask("fold", fold, true, "--count", "-q", "user=kelvin")
	if counted != before {
		t.Error("the store counted user=kelvin over a KELVIN SIGN")
	}

	// A request whose ResponseComplete was logged at a time before its
	// RequestReceived (crafted): its stage is the RequestReceived, the
	// stage logged last, not the store's last by kind; the store says it
	// cannot count stage= there. (The answer read whole says 1 where the
	// file says 0: the download path sorts the stages by time, which
	// TestStoreAnswersAsFilesTermByTerm does not cover; reported.)
	late := filepath.Join(t.TempDir(), "audit.log")
	rr := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"f0000000-0000-0000-0000-000000000002","stage":"RequestReceived","requestURI":"/api/v1/namespaces","verb":"list","user":{"username":"alice"},"sourceIPs":["10.0.0.1"],"userAgent":"x","requestReceivedTimestamp":"2026-11-26T03:58:00.000000Z","stageTimestamp":"2026-11-26T03:58:00.002000Z"}`
	rc := strings.Replace(strings.Replace(rr, `"RequestReceived"`, `"ResponseComplete"`, 1), `03:58:00.002000Z"}`, `03:58:00.001000Z","responseStatus":{"code":200}}`, 1)
	if err := os.WriteFile(late, []byte(rr+"\n"+rc+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	loadVLogs(t, vl.url(), "late", "x", late)
	before = counted
	ask("late", late, false, "--count", "-q", "stage=complete")
	if counted != before {
		t.Error("the store counted stage=complete of a request whose last stage logged is its RequestReceived")
	}

	// Counted or read whole, the clusters mixing are said once.
	for _, term := range []string{"verb=delete", "latency>100ms"} {
		r := runQueryTest(t, "", "--count", "-q", term, "--store", vl.url())
		if n := strings.Count(r.stderr, "the answer mixes"); n != 1 {
			t.Errorf("-q %q on every cluster: the mix said %d times: %s", term, n, r.stderr)
		}
	}

}
