package source

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/tidwall/gjson"
)

// seedLines adds lines of the sample and, when present, the real testdata.
func seedLines(f *testing.F) {
	add := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for i, l := range bytes.Split(b, []byte("\n")) {
			if i > 200 {
				break
			}
			f.Add(l)
		}
	}
	add(filepath.Join("..", "testdata", "sample.log"))
	add(audittest.Path("stdout", "kube-apiserver.log"))
	add(audittest.Path("stdout", "cri", "0.log"))
	for _, k := range klogSample {
		f.Add([]byte(k))
	}
	f.Add([]byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a","stage":"ResponseComplete"}]}`))
	f.Add([]byte("2026-11-26T03:00:00.000000001Z stderr F I1126 03:00:09.123456       1 server.go:150] x"))
}

// FuzzClassify: Classify never fails, and agrees with the store on what an
// audit event is.
func FuzzClassify(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		k := Classify(line)
		_, ok := audit.ParseEvent(bytes.TrimSpace(line))
		if (k == KindAudit) != ok {
			t.Fatalf("Classify(%q) = %v but ParseEvent ok=%v", line, k, ok)
		}
		if k == kindKlog {
			if _, ok := parseKlog(line, time.Time{}); !ok {
				t.Fatalf("Classify says klog, ParseKlog refuses %q", line)
			}
		}
		if _, _, ok := tsPrefix(bytes.TrimSpace(line), false); (k == kindStamped) != ok && k != kindKlog && k != kindBinary {
			t.Fatalf("Classify(%q) = %v, tsPrefix ok=%v", line, k, ok)
		}
	})
}

// FuzzKlog: the klog header parser and the JSON component log parser never
// fail, and what they return is part of the line.
func FuzzKlog(f *testing.F) {
	seedLines(f)
	f.Add([]byte(`{"ts":1764129530.564233,"caller":"app/server.go:167","msg":"Version","v":0,"version":"v1.37.2"}`))
	f.Add([]byte(`{"ts":"2026-11-26T03:00:00Z","msg":"x","err":"y"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if k, ok := parseKlog(line, time.Time{}); ok {
			if !strings.Contains(string(line), k.Msg) || !strings.Contains(string(line), k.File) || k.Time.IsZero() {
				t.Fatalf("ParseKlog(%q) = %+v", line, k)
			}
		}
		if k, ok := parseJSONLog(line); ok {
			if k.Time.IsZero() || !strings.Contains(k.Msg, gjsonString(line, "msg")) {
				t.Fatalf("parseJSONLog(%q) = %+v", line, k)
			}
		}
	})
}

// FuzzCRIReader: lines read as a CRI container log (records joined up to
// their F, per stream) load without failing; every record parsed keeps its
// text; every line the store keeps can be read again, and each event read
// again is the event of its request.
func FuzzCRIReader(f *testing.F) {
	seedLines(f)
	f.Add([]byte("2026-11-26T03:00:00Z stdout P {\"kind\":\"Ev\n2026-11-26T03:00:00Z stderr F I1126 03:00:09.123456       1 a.go:1] x\n2026-11-26T03:00:00Z stdout F ent\"}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, line := range bytes.Split(in, []byte("\n")) {
			if rec, ok := ParseCRI(line); ok {
				if !bytes.HasSuffix(line, rec.Text) || rec.Time.IsZero() {
					t.Fatalf("ParseCRI(%q) = %+v", line, rec)
				}
			}
		}
		for _, input := range [][]byte{in, append([]byte("2026-11-26T03:00:00Z stdout F "), in...)} {
			checkLoad(t, input)
		}
	})
}

// FuzzJSONStream: an input of JSON values spanning lines (jq . output, a
// pretty EventList, an array of events) loads without failing, hides no
// line, and every event kept reads again as its request's event.
func FuzzJSONStream(f *testing.F) {
	for _, l := range sampleLinesF(f) {
		var b bytes.Buffer
		json.Indent(&b, []byte(l), "", "  ")
		f.Add(b.Bytes())
	}
	f.Add([]byte("{\n\"kind\": \"EventList\", \"apiVersion\": \"audit.k8s.io/v1\",\n\"items\": [\n{\"auditID\":\"a\",\"stage\":\"ResponseComplete\"}\n]\n}\n"))
	f.Add([]byte("[\n {\"kind\":\"Event\",\n  \"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":\"a\",\"stage\":\"x\"}\n]\n"))
	f.Add([]byte("{\n  \"a\": \"\\\"}\"\n{\"kind\":\"Event\"}\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkLoad(t, append([]byte("{\n"), in...))
		checkLoad(t, in)
	})
}

func gjsonString(line []byte, key string) string { return gjson.GetBytes(line, key).String() }

func sampleLinesF(f *testing.F) []string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sample.log"))
	if err != nil {
		f.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// checkLoad loads in from stdin and checks that every line the store keeps
// can be read again: events as their request's, klog and other lines
// without error.
func checkLoad(t *testing.T, in []byte) {
	set, err := Open(context.Background(), Spec{Paths: []string{"-"}, Stdin: bytes.NewReader(in)}, Options{MaxLine: 4096})
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, set)
}

// checkLoadPaths is checkLoad on files.
func checkLoadPaths(t *testing.T, paths []string) {
	set, err := Open(context.Background(), Spec{Paths: paths}, Options{MaxLine: 4096})
	if err != nil {
		t.Fatal(err)
	}
	checkSet(t, set)
}

func checkSet(t *testing.T, set *Set) {
	defer set.Close()
	st := audit.NewStore()
	set.Load(context.Background(), st)
	s := st.Snapshot()
	for _, r := range s.Requests {
		for _, e := range r.Events {
			b, err := set.Raw(e.Ref)
			if err != nil {
				t.Fatalf("event of %q: %v", r.AuditID, err)
			}
			// (an auditID that is not a string is no auditID)
			if id := gjson.GetBytes(b, "auditID"); id.Type == gjson.String && id.Str != r.AuditID {
				t.Fatalf("event read again has auditID %q, its request %q: %q", id.Str, r.AuditID, b)
			}
		}
	}
	for _, k := range s.Klog {
		if _, err := set.Raw(k.Ref); err != nil {
			t.Fatalf("klog line %d: %v", k.Line, err)
		}
	}
	for _, o := range s.Other {
		if o.Line < 1 || o.Why == "" {
			t.Fatalf("other %+v", o)
		}
		if _, err := set.Raw(o.Ref); err != nil && o.Len > 0 {
			t.Fatalf("other line %d (%s): %v", o.Line, o.Why, err)
		}
	}
}

// FuzzExport: the export records of managed clusters (managed.go) and
// kubectl logs --timestamps lines load without failing, from a stream and
// from a file (in-place events inside a record), and every event kept reads
// again as its request's event; a GKE entry maps to a valid audit event of
// its operation ID (or insertId); a timestamp prefix leaves a suffix.
func FuzzExport(f *testing.F) {
	seedLines(f)
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "managed", "*.json*"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if b[0] == '{' && !bytes.HasPrefix(b, []byte("{\n")) { // a record a line: a few short ones
			n := 0
			for _, l := range bytes.Split(b, []byte("\n")) {
				if len(l) > 0 && len(l) < 8<<10 && n < 4 {
					f.Add(l)
					n++
				}
			}
		}
	}
	f.Add([]byte(`{"events":[{"timestamp":1,"message":"I1126 03:00:09.123456       1 a.go:1] x\n{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":\"a\",\"stage\":\"ResponseComplete\"}"}]}`))
	f.Add([]byte(`{"records":[{"category":"kube-audit","properties":{"log":{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a","stage":"ResponseComplete"}}}]}`))
	f.Add([]byte(`[{"insertId":"i","protoPayload":{"serviceName":"k8s.io","methodName":"io.k8s.core.v1.namespaces.finalize.update","resourceName":"core/v1/namespaces/x/finalize","status":{"code":7}},"timestamp":"2026-11-26T03:00:00Z"}]`))
	f.Add([]byte("2026-11-26T03:00:00.123456789Z {\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"auditID\":\"a\",\"stage\":\"ResponseComplete\"}\n2026-11-26T03:00:00.2Z I1126 03:00:09.123456       1 a.go:1] x\n2026-11-26T03:00:00.3Z  more"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, cont := range []bool{false, true} {
			if at, rest, ok := tsPrefix(in, cont); ok && (at.IsZero() || !bytes.HasSuffix(in, rest)) {
				t.Fatalf("tsPrefix(%q) = %v, %q", in, at, rest)
			}
		}
		if v := gjson.ParseBytes(in); audit.ValidJSON(in) && v.Get("protoPayload").Exists() {
			if ev, why := gkeEvent(v); why == "" {
				e, ok := audit.ParseEvent(ev)
				id := v.Get("operation.id").Str
				if id == "" {
					id = v.Get("insertId").Str
				}
				if !audit.ValidJSON(ev) || !ok || e.AuditID != id {
					t.Fatalf("gkeEvent(%q) = %q (%v)", in, ev, ok)
				}
			}
		}
		checkLoad(t, in)
		p := filepath.Join(dir, "export.log")
		if err := os.WriteFile(p, in, 0o600); err != nil {
			t.Fatal(err)
		}
		checkLoadPaths(t, []string{p})
	})
}
