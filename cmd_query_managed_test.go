package main

import (
	"context"
	"github.com/kauditui/kauditui/audit/audittest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/source"
	"github.com/kauditui/kauditui/ui"
	"github.com/tidwall/gjson"
)

// Audit events exported by managed clusters (testdata/managed: the real
// events of the stdout run, wrapped by hack/managedlog into the shapes EKS,
// AKS, GKE and kubectl logs --timestamps give) answer as the plain log does:
// --count, the table and -o json, with filters that the prefilter turns into
// byte tests (which a record must not fail: its events are escaped or
// spelled otherwise), and the explorer's list. -o json prints the audit
// events, not the records around them. GKE's entries keep less (see
// testdata/managed/README.md): they are checked on the requests they hold.

var managedFilters = []string{"", "verb=delete", "user=erin-editor", "code=403", "resource=secrets name=kubyk-db-password", "ns=team-a verb=create,update"}

func managedExports(t *testing.T) (plain string, files []string) {
	plain, _ = stdoutRun(t)
	files, _ = filepath.Glob(filepath.Join(filepath.Dir(filepath.Dir(plain)), "managed", "*"))
	files = slices.DeleteFunc(files, func(p string) bool { return strings.HasSuffix(p, ".md") })
	if len(files) == 0 {
		t.Fatal("no testdata/managed: make it with `go run ./hack/managedlog`")
	}
	return plain, files
}

func isGKE(p string) bool { return strings.HasPrefix(filepath.Base(p), "gke-") }

// gkeHeld: the requests of the plain log a GKE entry is written for (a
// resource request that got past RequestReceived).
func gkeHeld(t *testing.T, plain string) map[string]bool {
	r := runQueryTest(t, "", "-o", "json", plain)
	held := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		e := gjson.Parse(l)
		if e.Get("objectRef.resource").Str != "" && e.Get("stage").Str != "RequestReceived" {
			held[e.Get("auditID").Str] = true
		}
	}
	return held
}

// tableIDs: the AUDIT-ID column of query -o wide.
func tableIDs(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 {
		return nil
	}
	col := strings.Index(lines[0], "AUDIT-ID")
	var ids []string
	for _, l := range lines[1:] {
		ids = append(ids, strings.TrimSpace(l[min(col, len(l)):]))
	}
	slices.Sort(ids)
	return ids
}

func TestQueryManagedExports(t *testing.T) {
	plain, files := managedExports(t)
	held := gkeHeld(t, plain)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, q := range managedFilters {
				if isGKE(f) && strings.HasPrefix(q, "user=") {
					continue // GKE's entry has no impersonated user: erin-editor's impersonated list is kubernetes-admin's
				}
				for _, args := range [][]string{{"--count"}, {}, {"-o", "wide"}, {"-o", "json"}} {
					args := append(args, "-q", q)
					want := runQueryTest(t, "", append(args, plain)...)
					got := runQueryTest(t, "", append(args, f)...)
					if got.code != want.code || got.stderr != "" {
						t.Fatalf("%v: exit %d (plain %d), stderr %q", args, got.code, want.code, got.stderr)
					}
					if !isGKE(f) {
						if got.stdout != want.stdout {
							g, w := strings.Split(got.stdout, "\n"), strings.Split(want.stdout, "\n")
							i := 0
							for i < min(len(g), len(w)) && g[i] == w[i] {
								i++
							}
							t.Errorf("%v: %d lines, the plain log %d; line %d differs:\n%.300s\nthe plain log:\n%.300s", args, len(g), len(w), i+1, g[min(i, len(g)-1)], w[min(i, len(w)-1)])
						}
						continue
					}
					checkGKE(t, args, held, want.stdout, got.stdout)
				}
			}
		})
	}
}

// checkGKE: the requests of the plain log's answer that GKE holds, no other.
func checkGKE(t *testing.T, args []string, held map[string]bool, want, got string) {
	t.Helper()
	var wantIDs, gotIDs []string
	switch args[0] {
	case "--count":
		return // the rows below say which
	case "-o":
		if args[1] == "wide" {
			wantIDs, gotIDs = tableIDs(want), tableIDs(got)
			break
		}
		for _, l := range strings.Split(strings.TrimSpace(want), "\n") {
			wantIDs = append(wantIDs, gjson.Get(l, "auditID").Str)
		}
		for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
			e := gjson.Parse(l)
			if e.Get("kind").Str != "Event" || e.Get("protoPayload").Exists() {
				t.Fatalf("%v prints %.200s, want the audit event", args, l)
			}
			gotIDs = append(gotIDs, e.Get("auditID").Str)
		}
		slices.Sort(gotIDs)
		gotIDs = slices.Compact(gotIDs)
	default:
		return
	}
	wantIDs = slices.DeleteFunc(wantIDs, func(id string) bool { return !held[id] })
	slices.Sort(wantIDs)
	wantIDs = slices.Compact(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("%v: requests %v, the plain log's that GKE holds %v", args, gotIDs, wantIDs)
	}
}

// The explorer reads the exports as runExplore loads a file: its list shows
// the requests of the plain log (time and ID; GKE: the IDs it holds).
func TestExplorerManagedExports(t *testing.T) {
	plain, files := managedExports(t)
	held := gkeHeld(t, plain)
	_, done := explorerMessages(t)
	shown := func(path string) ([]string, int) {
		set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}}, source.Options{Warn: func(w string) { t.Errorf("%s: %s", path, w) }})
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		st := audit.NewStore()
		if err := set.Load(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		m := ui.New(ui.Options{Data: ui.Data{Store: st, Raw: set.Raw}, Load: func(context.Context) error { return nil }, NoColor: true})
		defer m.Close()
		m.Update(done)
		keys, n, err := explorerShown(m, 100)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return keys, n
	}
	wantKeys, wantN := shown(plain)
	if wantN == 0 {
		t.Fatal("the plain log shows no request")
	}
	for _, f := range files {
		keys, n := shown(f)
		if !isGKE(f) {
			if n != wantN || !slices.Equal(keys, wantKeys) {
				t.Errorf("%s: the explorer shows %d requests %v, the plain log %d %v", f, n, keys, wantN, wantKeys)
			}
			continue
		}
		var ids []string
		for _, k := range keys {
			ids = append(ids, k[strings.LastIndexByte(k, ' ')+1:])
		}
		var want []string
		for _, k := range wantKeys {
			id := k[strings.LastIndexByte(k, ' ')+1:]
			for h := range held {
				if strings.HasPrefix(h, id) {
					want = append(want, id)
				}
			}
		}
		slices.Sort(ids)
		slices.Sort(want)
		if n != len(held) || !slices.Equal(ids, want) {
			t.Errorf("%s: the explorer shows %d requests %v, want the %d GKE holds %v", f, n, ids, len(held), want)
		}
	}
}

// The events of one line (an EventList batch, an export record) read from a
// stream print in their order: their spool offsets were compared as stored
// (negative), which printed them backwards. Crafted: two stages of one
// request in one batch.
func TestQueryJSONKeepsTheOrderOfOneLine(t *testing.T) {
	rr := `{"auditID":"a1","stage":"RequestReceived","verb":"get","requestURI":"/api/v1/pods","user":{"username":"u"},"requestReceivedTimestamp":"2026-11-26T03:00:00.000001Z","stageTimestamp":"2026-11-26T03:00:00.000001Z"}`
	rc := `{"auditID":"a1","stage":"ResponseComplete","verb":"get","requestURI":"/api/v1/pods","user":{"username":"u"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-26T03:00:00.000001Z","stageTimestamp":"2026-11-26T03:00:00.000002Z"}`
	list := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[` + rr + `,` + rc + `]}` + "\n"
	r := runQueryTest(t, list, "-o", "json", "-")
	if r.code != exitOK || r.stdout != rr+"\n"+rc+"\n" {
		t.Errorf("exit %d, stdout\n%s", r.code, r.stdout)
	}
}

// An export that holds no audit event says so, and where the events are
// (crafted records of other kinds: a GKE cluster operation, an AKS
// kube-apiserver... guard record, a CloudWatch event of another service).
func TestQueryManagedExportWithoutEvents(t *testing.T) {
	dir := t.TempDir()
	for name, tt := range map[string]struct{ text, looks string }{
		"gke.json": {`{"insertId":"x","protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","serviceName":"container.googleapis.com","methodName":"google.container.v1.ClusterManager.CreateCluster"},"timestamp":"2026-11-26T03:00:00Z"}`,
			`Cloud Audit Logs entries of no Kubernetes API request (GKE writes those with serviceName "k8s.io", resource.type "k8s_cluster")`},
		"aks.json": {`{"records":[{"time":"2026-11-26T03:00:00Z","category":"guard","properties":{"log":"guard: not an audit event"}}]}`,
			"AKS resource logs without audit events (they are in the categories kube-audit and kube-audit-admin)"},
		"eks.json": {`{"events":[{"timestamp":1,"message":"START RequestId: 1","ingestionTime":2}]}`,
			"CloudWatch Logs events without audit events (EKS writes them to the log streams kube-apiserver-audit-*)"},
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tt.text+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := runQueryTest(t, "", "--count", p)
		if !strings.Contains(r.stderr, p+" holds "+tt.looks) {
			t.Errorf("%s: exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
}

// The ground truth of the stdout run holds for its events as the exports
// carry them: what query -o json prints of each export, read with gjson as
// TestGroundTruthStdoutRun reads the plain log, has the run's counts (as on
// its CRI log) (lines,
// requests, 401s, 403s, per user, impersonation) and facts. GKE's entries:
// the deployment's deleter (they hold no impersonation, see README).
func TestGroundTruthManagedExports(t *testing.T) {
	_, files := managedExports(t)
	truth := audittest.Truth(t)
	run := truth.Get("runs.stdout")
	for _, f := range files {
		r := runQueryTest(t, "", "-o", "json", f)
		if r.code != exitOK {
			t.Fatalf("%s: exit %d, %s", f, r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if isGKE(f) { // one event a request, with no requestReceivedTimestamp
			del := truth.Get("facts.deploymentDeletedBy")
			n := 0
			for _, l := range lines {
				e := gjson.GetMany(l, "verb", "objectRef.resource", "objectRef.namespace", "objectRef.name", "responseStatus.code", "user.username")
				if e[0].Str == "delete" && e[1].Str == "deployments" && e[2].Str == del.Get("namespace").Str && e[3].Str == del.Get("name").Str && e[4].Int() == 200 {
					n++
					if e[5].Str != del.Get("user").Str {
						t.Errorf("%s: deployment deleted by %q, ground truth %q", f, e[5].Str, del.Get("user"))
					}
				}
			}
			if n != 1 {
				t.Errorf("%s: %d successful deletes of the deployment", f, n)
			}
			continue
		}
		set := mergeEvents(t, lines)
		// the exports carry every event, a spliced one joined again
		// (managedlog reads the log as kauditui does): the CRI log's counts
		checkCounts(t, run.Get("cri"), len(lines), set)
		checkFacts(t, truth, "stdout", set)
	}
}

// An object's history is told oldest first from every export: gcloud's
// array, newest first, included.
func TestQueryManagedHistory(t *testing.T) {
	plain, files := managedExports(t)
	want := runQueryTest(t, "", "--history", "deploy/team-a/kubyk-web", plain)
	var gke string
	for _, f := range files {
		got := runQueryTest(t, "", "--history", "deploy/team-a/kubyk-web", f)
		if got.code != exitOK {
			t.Fatalf("%s: exit %d, %s", f, got.code, got.stderr)
		}
		switch {
		case !isGKE(f):
			if got.stdout != want.stdout {
				t.Errorf("%s: history\n%s\nthe plain log's\n%s", f, got.stdout, want.stdout)
			}
		case gke == "":
			gke = got.stdout
		case got.stdout != gke:
			t.Errorf("%s: history\n%s\nthe other GKE file's\n%s", f, got.stdout, gke)
		}
	}
	if i, j := strings.Index(gke, "create"), strings.LastIndex(gke, "delete"); i < 0 || j < i {
		t.Errorf("GKE history is not oldest first:\n%s", gke)
	}
}
