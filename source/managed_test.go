package source

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/tidwall/gjson"
)

// The exports of testdata/managed wrap the real events of the stdout run
// (hack/managedlog): read through the explorer's load (Open, then Load into
// a full store, as runExplore does), each gives the requests of the plain
// log, and every event reads back (Raw, which -o json prints) as the line
// the apiserver wrote, not as the record around it. GKE's entries are a
// translation that keeps less: see TestManagedGKE.

// managedView is what the tests compare of a request.
type managedView struct {
	ID, User, Verb, Group, Resource, Sub, NS, Name string
	Code                                           int
	First, Last                                    time.Time
}

func viewOf(r *audit.Request) managedView {
	return managedView{r.AuditID, r.User, r.Verb, r.APIGroup, r.Resource, r.Subresource, r.Namespace, r.Name, r.Code, r.First(), r.Last()}
}

func managedFiles(t *testing.T, pattern string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "managed", pattern))
	if len(files) == 0 {
		t.Skipf("no testdata/managed/%s: make them with `go run ./hack/managedlog`", pattern)
	}
	return files
}

func plainStdout(t *testing.T) result {
	p := filepath.Join("..", "testdata", "stdout", "kube-apiserver.log")
	if _, err := os.Stat(p); err != nil {
		t.Skip(p + " missing")
	}
	return load(t, Spec{Paths: []string{p}}, Options{})
}

// views are the requests by auditID with the raw text of their events.
func views(t *testing.T, r result) (map[string]managedView, map[string][]string) {
	t.Helper()
	v, raws := map[string]managedView{}, map[string][]string{}
	for _, q := range r.snap.Requests {
		if _, dup := v[q.AuditID]; dup {
			t.Fatalf("auditID %s twice", q.AuditID)
		}
		v[q.AuditID] = viewOf(q)
		for _, e := range q.Events {
			b, err := r.set.Raw(e.Ref)
			if err != nil {
				t.Fatalf("%s: Raw: %v", q.AuditID, err)
			}
			raws[q.AuditID] = append(raws[q.AuditID], string(b))
		}
		slices.Sort(raws[q.AuditID])
	}
	return v, raws
}

func TestManagedExportsGiveThePlainRequests(t *testing.T) {
	plain := plainStdout(t)
	want, wantRaw := views(t, plain)
	formats := map[string]string{"eks": exportCloudWatch, "aks": exportAKS, "kubectl": exportTimestamps}
	for _, path := range managedFiles(t, "*") {
		name := filepath.Base(path)
		if strings.HasPrefix(name, "gke-") || strings.HasSuffix(name, ".md") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, how := range []string{"file, 1 worker", "file, 4 workers", "stdin"} {
				restore := setWorkers(map[bool]int{true: 4, false: 1}[strings.HasSuffix(how, "4 workers")])
				var got result
				if how == "stdin" { // the events are kept in the spool
					got = load(t, Spec{Paths: []string{"-"}, Stdin: bytes.NewReader(data)}, Options{})
				} else {
					got = load(t, Spec{Paths: []string{path}}, Options{})
				}
				restore()
				if len(got.warnings) > 0 {
					t.Errorf("%s: warnings: %q", how, got.warnings)
				}
				v, raw := views(t, got)
				if !reflect.DeepEqual(v, want) {
					for id, w := range want {
						if v[id] != w {
							t.Errorf("%s: got %+v, want %+v", id, v[id], w)
						}
					}
					t.Fatalf("%s: %d requests, the plain log %d", how, len(v), len(want))
				}
				if !reflect.DeepEqual(raw, wantRaw) {
					t.Errorf("%s: the events read back are not the lines the apiserver wrote", how)
				}
				if got.snap.Events != plain.snap.Events || len(got.snap.Other) != 0 {
					t.Errorf("%d events and %d other lines, the plain log %d events", got.snap.Events, len(got.snap.Other), plain.snap.Events)
				}
				in := got.set.Inputs()[0]
				if f := formats[strings.SplitN(name, "-", 2)[0]]; !strings.HasPrefix(in.Format, f+"+") || in.Events != plain.snap.Events {
					t.Errorf("input %+v, want format %s+… and %d events", in, f, plain.snap.Events)
				}
			}
		})
	}
}

// kubectl logs --timestamps of the apiserver pod: the whole stdout-mode log,
// audit and klog, each line after its time; the klog lines are those of the
// plain log (their year from the timestamp), and the raw lines lose the prefix.
func TestManagedKubectlTimestampsKlog(t *testing.T) {
	plain := plainStdout(t)
	got := load(t, Spec{Paths: managedFiles(t, "kubectl-timestamps.log*")}, Options{})
	if len(got.snap.Klog) != len(plain.snap.Klog) || len(got.snap.Klog) == 0 {
		t.Fatalf("%d klog lines, the plain log %d", len(got.snap.Klog), len(plain.snap.Klog))
	}
	for i, k := range got.snap.Klog {
		p := plain.snap.Klog[i]
		raw, err := got.set.Raw(k.Ref)
		praw, _ := plain.set.Raw(p.Ref)
		if k.Msg != p.Msg || !k.Time.Equal(p.Time) || err != nil || !bytes.Equal(raw, praw) {
			t.Fatalf("klog line %d: %+v %q, want %+v %q", i, k, raw, p, praw)
		}
	}
}

// CloudWatch Logs messages of the kube-apiserver stream are klog lines: read
// as such, beside the audit stream's events.
func TestManagedCloudWatchKlogStream(t *testing.T) {
	got := load(t, Spec{Paths: managedFiles(t, "eks-events.jsonl")}, Options{})
	if len(got.snap.Klog) != 20 {
		t.Fatalf("%d klog lines, want the 20 the generator put in the kube-apiserver stream", len(got.snap.Klog))
	}
	if !strings.HasPrefix(got.snap.Klog[0].Msg, "FLAG: ") {
		t.Errorf("first klog message %q", got.snap.Klog[0].Msg)
	}
}

// GKE's LogEntry is not the apiserver's event but a translation: one entry
// per request (no RequestReceived), no non-resource requests, one time (the
// last stage's), the HTTP code from a gRPC code. What it keeps maps back to
// the plain log's values.
func TestManagedGKE(t *testing.T) {
	plain := plainStdout(t)
	all, _ := views(t, plain)
	want := map[string]managedView{}
	for _, r := range plain.snap.Requests {
		if r.Resource == "" || r.Stage == "RequestReceived" {
			continue
		}
		w := all[r.AuditID]
		w.First = w.Last // the entry's timestamp: latency unknown
		if w.Resource == "namespaces" {
			w.NS = "" // resourceName core/v1/namespaces/NAME: the apiserver sets it on some verbs only
		}
		want[r.AuditID] = w
	}
	for _, path := range managedFiles(t, "gke-*") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			got := load(t, Spec{Paths: []string{path}}, Options{})
			v, raw := views(t, got)
			if !reflect.DeepEqual(v, want) {
				for id, w := range want {
					if v[id] != w {
						t.Errorf("%s: got %+v, want %+v", id, v[id], w)
					}
				}
				t.Fatalf("%d requests, want %d", len(v), len(want))
			}
			for id, lines := range raw {
				for _, l := range lines {
					e := gjson.Parse(l)
					if e.Get("kind").Str != "Event" || e.Get("apiVersion").Str != "audit.k8s.io/v1" || e.Get("auditID").Str != id || e.Get("protoPayload").Exists() {
						t.Fatalf("%s reads back as %.200s, want the audit event it maps to", id, l)
					}
				}
			}
			// oldest first, as a log: gcloud's array (newest first) is read backwards
			reqs := got.snap.Requests
			for i := 1; i < len(reqs); i++ {
				if reqs[i].Last().Before(reqs[i-1].Last()) {
					t.Fatalf("request %d (%s) is older than the one before it", i, reqs[i].AuditID)
				}
			}
			if f := got.set.Inputs()[0].Format; !strings.HasPrefix(f, exportGKE+"+") {
				t.Errorf("format %q", f)
			}
		})
	}
}

// Inputs of several families are merged line by line by time: a record a
// line has the time of the event it holds (escaped in a CloudWatch message
// or an AKS string, as an object, GKE's timestamp), so two exports read
// together make one timeline.
func TestManagedLineTime(t *testing.T) {
	for _, path := range managedFiles(t, "*.json*") {
		b, _ := os.ReadFile(path)
		if bytes.HasPrefix(b, []byte("{\n")) || b[0] == '[' {
			continue // indented: a value spans lines
		}
		n := 0
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			v := gjson.ParseBytes(l)
			var want string
			switch {
			case v.Get("protoPayload").Exists():
				want = v.Get("timestamp").Str
			case v.Get("records").Exists():
				want = gjson.Get(v.Get("records|@reverse|0.properties.log").String(), "stageTimestamp").Str
			case v.Get("properties.log").Exists():
				want = v.Get("properties.log.stageTimestamp").Str
			default:
				want = gjson.Get(v.Get("message").Str, "stageTimestamp").Str
			}
			if want == "" {
				continue // a klog message
			}
			n++
			if got := eventTime(l); !got.Equal(audit.ParseTime(want)) {
				t.Fatalf("%s: line time %v, want %s: %.200s", path, got, want, l)
			}
		}
		if n == 0 {
			t.Errorf("%s: no line with a time", path)
		}
	}
}

// aws logs tail (its default format, "detailed": time, log stream, message,
// as the AWS CLI reference describes it) of an EKS log group: crafted from
// the plain log's lines, the audit stream's events and the kube-apiserver
// stream's klog lines read as the plain ones; another component's stream
// (here, the authenticator's text) is not read as the apiserver's.
func TestManagedAWSLogsTail(t *testing.T) {
	plain := plainStdout(t)
	b, err := os.ReadFile(filepath.Join("..", "testdata", "stdout", "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	var tail bytes.Buffer
	other := false
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		stream := "kube-apiserver-0123456789abcdef"
		if l[0] == '{' {
			stream = "kube-apiserver-audit-0123456789abcdef"
		}
		tail.WriteString("2026-11-26T03:59:00.123000+00:00 " + stream + " ")
		tail.Write(l)
		tail.WriteByte('\n')
		if l[0] == '{' && !other { // after an event: not a klog message's continuation
			other = true
			tail.WriteString(`2026-11-26T03:59:00.123000+00:00 authenticator-0123 time="2026-11-26T03:59:00Z" level=info msg="access granted"` + "\n")
		}
	}
	got := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(t.TempDir(), "tail.log"), tail.String())}}, Options{})
	want, wantRaw := views(t, plain)
	v, raw := views(t, got)
	if !reflect.DeepEqual(v, want) || !reflect.DeepEqual(raw, wantRaw) {
		t.Fatalf("%d requests (or their events differ), the plain log %d", len(v), len(want))
	}
	if len(got.snap.Klog) != len(plain.snap.Klog) || len(got.snap.Other) != len(plain.snap.Other)+1 {
		t.Errorf("%d klog and %d other lines, the plain log %d and %d (+1: the authenticator's)", len(got.snap.Klog), len(got.snap.Other), len(plain.snap.Klog), len(plain.snap.Other))
	}
}
