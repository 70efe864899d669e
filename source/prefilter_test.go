package source_test

// Options.Keep with filter.Prefilter: a query over a log loaded with the
// prefilter finds exactly the requests, fields and events it finds without.
// (An external test package: source does not import filter, only its tests.)

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// prefilterExprs are filters of every kind; want says whether a prefilter
// should come out of each (nil for negations, bare words, fields absent
// from some stages, values matching "").
var prefilterExprs = []struct {
	expr string
	want bool
}{
	{"verb=delete", true},
	{"verb=DELETE", true},
	{"verb=delete,deletecollection", true},
	{"verb=del*", true},
	{"verb=delete resource=deploy", true},
	{"verb=delete resource=deploy code=2xx", true},
	{"verb=delete,deletecollection resource=deploy,cm", true},
	{"verb=delete resource=deploy ns=default name=kubyk*", true},
	{"verb=get,list,watch resource=secrets", true},
	{"verb=delete kubyk", true},
	{"user=alice", true},
	{"user=carol", true},
	{"user=bob code!=403", true},
	{"user=bob decision=forbid", true},
	{"user=system:serviceaccount:*", true},
	{"user=*admin*", true},
	{"user=kubernetes-admin,alice", true},
	{"user=system:anonymous", true},
	{"ns=default", true},
	{"ns=kube-*", true},
	{"ns=team-0*", true},
	{"name=kubyk*", true},
	{"name=kubyk-web", true},
	{"resource=deploy", true},
	{"resource=deployments", true},
	{"resource=apps/deployments", true},
	{"resource=core/pods", true},
	{"resource=pods/exec,pods/attach", true},
	{"resource=pods/*", true},
	{"resource=*/status", true},
	{"resource=widget", true},
	{"resource=secrets,cm", true},
	{"agent=kubectl/*", true},
	{"uri=/api/v1/*", true},
	{"level=RequestResponse", true},
	{"level=metadata,request", true},
	{"id=*1*", true},
	// the real testdata's traffic (testdata/ground-truth.json)
	{"user=erin-editor", true}, // also impersonated: RequestReceived has no impersonatedUser
	{"user=erin-editor verb=list resource=deploy", true},
	{"user=lou-viewer code=403", true},
	{"user=system:serviceaccount:team-a:kubyk-bot", true},
	{"user=system:serviceaccount:team-a:*", true},
	{"ns=team-a", true},
	{"ns=team-a verb=create", true},
	{"name=team-a", true},      // a namespace created: RequestReceived has no name
	{"name=kubyk-debug", true}, // a pod created
	{"name=kubyk-web verb=delete", true},
	{"name=kubyk-bot resource=serviceaccounts/token", true},
	{"resource=pods/exec", true},
	{"resource=widgets.kubyk.example/*,customresourcedefinitions", true},
	{"resource=rolebindings verb=create,update,patch", true},
	{"verb=get resource=secrets name=kubyk-db-password", true},
	{"agent=kubyk-bot-poller/*", true},
	{"user=system:anonymous,\"\"", false},
	{"!verb=delete", false},
	{"verb!=get,list,watch", false},
	{"kubyk", false},
	{"!kubyk", false},
	{"code=403", false},
	{"decision=forbid", false},
	{"stage=complete", false},
	{"ns=\"\"", false},
	{"resource=\"\"", false},
	{"user=*", false},
	{"verb=\"\",get", false},
	{"group=system:masters", true},
	{"ip=127.0.0.1", true},
	{"latency>1s", false},
	{"since=30000d", true},
	{"group=system:masters,system:nodes", true},
	{"ip=10.0.0.0/8", false},
	{"ip=::1", false},
	{"until=2026-11-26T04:00:00Z", true},
	{"since=2026-11-26T03:58:00Z verb=get", true},
	{"", false},
}

// rowExprs are filters whose RowPrefilter checks more than Prefilter does:
// fields of the last stage, latency, impersonation; with rows compared.
var rowExprs = []string{
	"code=403", "code=4xx", "code>=400", "code=200,201", "code<300",
	"decision=forbid", "decision=allow verb=delete", "reason=*RBAC*", "msg=*forbidden*",
	"latency>1s", "latency>=100ms", "latency>10ms verb=create",
	"user=erin-editor", "user=erin-editor code=403", "user=*editor", "group=system:masters",
	"group=*authenticated", "name=team-a", "ns=team-a", "ip=127.0.0.1", "ip=198.51.100.10",
	"agent=kubectl/*", "uri=*fieldManager=kubectl-create*", "id=*0001*",
	"since=2026-11-26T03:58:00Z code=201", "user=lou-viewer code=403 decision=forbid",
}

// row is what --count, --top and the table show of a request.
type row struct {
	ID, User, Imp, Verb, Res, NS, Name, Stage, URI, UA, Level, Decision, Reason, Message string
	Code                                                                                 int
	First, Last                                                                          time.Time
	Groups, IPs                                                                          string
}

func rowOf(r *audit.Request) row {
	return row{r.AuditID, r.User, r.ImpersonatedUser, r.Verb, r.ResourcePath(), r.Namespace, r.Name, r.Stage,
		r.RequestURI(), r.UserAgent, r.Level, r.Decision, r.Reason, r.Message, r.Code, r.First(), r.Last(),
		fmt.Sprint(r.Groups, r.ImpersonatedGroups), fmt.Sprint(r.SourceIPs)}
}

// streamRows loads paths into a streaming store (as query does) and lists
// the rows of the matching requests, in the order they are handed on.
func streamRows(t *testing.T, paths []string, f *filter.Filter, keep func([]byte) bool) []row {
	t.Helper()
	set, err := source.Open(context.Background(), source.Spec{Paths: paths}, source.Options{Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var rows []row
	st := audit.NewStreamingStore(func(r *audit.Request) {
		if f.MatchRaw(r, set.Raw) {
			rows = append(rows, rowOf(r))
		}
	})
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	st.Finish()
	return rows
}

// TestRowPrefilterKeepsEveryRow: the rows that --count, --top and the
// table print are the same with RowPrefilter as from a full load, on the
// real logs (the order may differ: requests complete out of order).
func TestRowPrefilterKeepsEveryRow(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	exprs := slices.Clone(rowExprs)
	for _, tt := range prefilterExprs {
		exprs = append(exprs, tt.expr)
	}
	sortRows := func(rs []row) {
		slices.SortFunc(rs, func(a, b row) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	}
	for name, paths := range logSets(t) {
		t.Run(name, func(t *testing.T) {
			full := loadWith(t, paths, nil)
			skippedAny := false
			for _, expr := range exprs {
				f, err := filter.Parse(expr, now)
				if err != nil {
					t.Fatalf("Parse(%q): %v", expr, err)
				}
				var want []row
				for _, r := range full.snap.Requests {
					if f.MatchRaw(r, full.set.Raw) {
						want = append(want, rowOf(r))
					}
				}
				got := streamRows(t, paths, f, f.RowPrefilter())
				sortRows(want)
				sortRows(got)
				if !reflect.DeepEqual(want, got) {
					t.Errorf("%q: %d rows with RowPrefilter, %d from a full load (or they differ)", expr, len(got), len(want))
					for i := range min(len(want), len(got)) {
						if want[i] != got[i] {
							t.Logf("first difference:\n want %+v\n  got %+v", want[i], got[i])
							break
						}
					}
				}
				if f.RowPrefilter() != nil {
					skippedAny = true
				}
			}
			if !skippedAny {
				t.Errorf("no filter gave a RowPrefilter on %s", name)
			}
		})
	}
}

// logSets are the logs the equivalence is checked on: the handmade samples
// and, when present, the real testdata and the head of a generated big log.
func logSets(t *testing.T) map[string][]string {
	sets := map[string][]string{
		"sample": {filepath.Join("..", "testdata", "sample.log")},
	}
	for name, p := range map[string]string{
		"file":       audittest.Path("file", "audit.log"),
		"stdout":     audittest.Path("stdout", "kube-apiserver.log"),
		"stdout-cri": audittest.Path("stdout", "cri", "0.log"),
		"hostile":    audittest.Path("hostile", "audit.log"),
		"reused-id":  audittest.Path("trust", "reused-id", "audit.log"),
	} {
		if _, err := os.Stat(p); err == nil {
			sets[name] = []string{p}
		}
	}
	// exports of managed clusters (testdata/managed): their events are
	// escaped in a record, or spelled otherwise (GKE), so the record is
	// kept and the prefilter asked about each event inside it
	managed, _ := filepath.Glob(filepath.Join("..", "testdata", "managed", "*"))
	for _, p := range managed {
		if !strings.HasSuffix(p, ".md") {
			sets["managed "+filepath.Base(p)] = []string{p}
		}
	}
	if f, err := os.Open(filepath.Join("..", "testdata", "big", "audit-100MB.log")); err == nil {
		defer f.Close()
		head := filepath.Join(t.TempDir(), "big-head.log")
		b, _ := io.ReadAll(io.LimitReader(f, 8<<20))
		b = b[:bytes.LastIndexByte(b, '\n')+1]
		if err := os.WriteFile(head, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sets["genlog head"] = []string{head}
	}
	return sets
}

type loaded struct {
	set  *source.Set
	snap audit.Snapshot
}

func loadWith(t *testing.T, paths []string, keep func([]byte) bool) loaded {
	t.Helper()
	set, err := source.Open(context.Background(), source.Spec{Paths: paths}, source.Options{Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return loaded{set, st.Snapshot()}
}

// match lists the matching requests, each event's Ref replaced by its raw
// bytes: where a stream's lines sit in the spool depends on what was kept.
func (l loaded) match(f *filter.Filter) []matched {
	var out []matched
	for _, r := range l.snap.Requests {
		if f.MatchRaw(r, l.set.Raw) {
			m := matched{Request: *r}
			m.Events = nil
			for _, e := range r.Events {
				m.raw = append(m.raw, l.raw(e.Ref))
				e.Off = 0
				m.Events = append(m.Events, e)
			}
			out = append(out, m)
		}
	}
	return out
}

type matched struct {
	audit.Request
	raw []string
}

func (l loaded) raw(ref audit.Ref) string {
	b, err := l.set.Raw(ref)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

// klog lists the klog lines with their raw text in place of the offset.
func (l loaded) klog() []audit.KlogLine {
	var out []audit.KlogLine
	for _, k := range l.snap.Klog {
		k.Msg += "\x00" + l.raw(k.Ref)
		k.Off = 0
		out = append(out, k)
	}
	return out
}

func TestPrefilterKeepsEveryMatch(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for name, paths := range logSets(t) {
		if name == "reused-id" {
			continue // which requests share an ID depends on the lines read: rows are compared below
		}
		t.Run(name, func(t *testing.T) {
			full := loadWith(t, paths, nil)
			skippedAny := false
			for _, tt := range prefilterExprs {
				f, err := filter.Parse(tt.expr, now)
				if err != nil {
					t.Fatalf("Parse(%q): %v", tt.expr, err)
				}
				keep := f.Prefilter()
				if (keep != nil) != tt.want {
					t.Errorf("%q: prefilter given = %v, want %v", tt.expr, keep != nil, tt.want)
				}
				if keep == nil {
					continue
				}
				pre := loadWith(t, paths, keep)
				want, got := full.match(f), pre.match(f)
				if !reflect.DeepEqual(want, got) {
					t.Errorf("%q: %d requests match with the prefilter, %d without (or their fields or events differ)", tt.expr, len(got), len(want))
				}
				if !reflect.DeepEqual(full.klog(), pre.klog()) {
					t.Errorf("%q: klog lines differ with the prefilter", tt.expr)
				}
				if n := pre.set.Skipped(); n > 0 {
					skippedAny = true
					if pre.snap.Events+int(n) < full.snap.Events {
						t.Errorf("%q: %d events + %d skipped lines < %d events without the prefilter", tt.expr, pre.snap.Events, n, full.snap.Events)
					}
				}
			}
			if !skippedAny {
				t.Errorf("no filter skipped a line of %s", name)
			}
		})
	}
}

// FuzzPrefilter: a line that the prefilter of a filter refuses is never one
// whose request, read from that line alone, the filter matches.
func FuzzPrefilter(f *testing.F) {
	var lines [][]byte
	for _, p := range []string{
		filepath.Join("..", "testdata", "sample.log"),
		audittest.Path("file", "audit.log"),
		audittest.Path("stdout", "kube-apiserver.log"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for i, l := range bytes.Split(b, []byte("\n")) {
			if i >= 300 {
				break
			}
			if len(l) > 0 && l[0] == '{' {
				lines = append(lines, l)
			}
		}
	}
	for i, expr := range rowExprs {
		f.Add(expr, lines[(i*5+1)%len(lines)])
	}
	f.Add("code=403", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","responseStatus":{"code":4.03e2}}`))
	f.Add("user=al-ice", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","user":{"username":"al\u002dice"}}`))
	f.Add("msg=*déjà*", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","responseStatus":{"code":403,"message":"d\u00e9j\u00e0"}}`))
	for i, tt := range prefilterExprs {
		if tt.want {
			f.Add(tt.expr, lines[i%len(lines)])
			f.Add(tt.expr, lines[(i*7+3)%len(lines)])
		}
	}
	f.Add("user=alice", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete","verb":"get","user":{"username":"bob"},"impersonatedUser":{"username":"alice"}}`))
	f.Add("verb=delete", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","verb" : "delete","requestObject":{"verb":"get"}}`))
	f.Add("verb=delete", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","\u0076erb":"delete","requestObject":{"verb":"get"}}`))
	f.Add("verb=delete", []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","verb":"d\u0065lete"}`))
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string, line []byte) {
		flt, err := filter.Parse(expr, now)
		if err != nil {
			return
		}
		for _, keep := range []func([]byte) bool{flt.Prefilter(), flt.RowPrefilter()} {
			if keep == nil || keep(line) {
				continue
			}
			st := audit.NewStore()
			req, _, ok := st.AddEvent(line, audit.Ref{Len: int32(len(line)), Line: 1})
			if !ok {
				return
			}
			raw := func(audit.Ref) ([]byte, error) { return line, nil }
			if flt.MatchRaw(req, raw) {
				t.Errorf("prefilter of %q refuses a line whose request matches:\n%s", expr, line)
			}
		}
	})
}

// BenchmarkLoadPrefiltered is a `query --count -q verb=delete` load of the
// generated log: every line is searched, only deletions are parsed.
func BenchmarkLoadPrefiltered(b *testing.B) {
	path := filepath.Join("..", "testdata", "big", "audit-100MB.log")
	if p := os.Getenv("KAUDITUI_BENCH_LOG"); p != "" {
		path = p
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Skipf("%s missing: make it with `go run ./hack/genlog -size 100MB` from the repository root", path)
	}
	f, err := filter.Parse("verb=delete", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	for b.Loop() {
		set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}}, source.Options{Keep: f.Prefilter()})
		if err != nil {
			b.Fatal(err)
		}
		if err := set.Load(context.Background(), audit.NewStore()); err != nil {
			b.Fatal(err)
		}
		set.Close()
	}
}

// A generateName create: objectRef.name is filled in by the server after
// RequestReceived, so that stage has no such key, or (a crafted line; the
// apiserver logs no body at RequestReceived, an aggregated server may) only a
// nested "name" of the body. Both stages of the matching request stay.
func TestPrefilterKeepsGenerateNameCreate(t *testing.T) {
	const rest = `"requestURI":"/api/v1/namespaces/shop/pods","verb":"create","user":{"username":"system:serviceaccount:kube-system:replicaset-controller"},` +
		`"requestReceivedTimestamp":"2026-11-26T04:00:00.000000Z",`
	for _, body := range []string{"", `"requestObject":{"metadata":{"generateName":"web-"},"spec":{"containers":[{"name":"nginx"}]}},`} {
		log := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"gn-1","stage":"RequestReceived",` + rest + body +
			`"objectRef":{"resource":"pods","namespace":"shop","apiVersion":"v1"},"stageTimestamp":"2026-11-26T04:00:00.000000Z"}` + "\n" +
			`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"gn-1","stage":"ResponseComplete",` + rest + body +
			`"objectRef":{"resource":"pods","namespace":"shop","name":"web-abc12","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"stageTimestamp":"2026-11-26T04:00:00.004000Z"}` + "\n"
		path := filepath.Join(t.TempDir(), "audit.log")
		if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, expr := range []string{"name=web-abc12", "name=web-* ns=shop", "ns=shop"} {
			f, err := filter.Parse(expr, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			got := loadWith(t, []string{path}, f.Prefilter()).match(f)
			if len(got) != 1 || len(got[0].Events) != 2 {
				t.Errorf("body %q, %q: %d requests (want 1 with 2 stages)", body, expr, len(got))
			}
		}
	}
}
