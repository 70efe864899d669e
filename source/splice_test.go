package source

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kauditui/kauditui/audit"
)

// criRec is one record of a CRI container log.
type criRec struct {
	at     string
	stderr bool
	full   bool
	text   string
}

func readCRI(t testing.TB, path string) []criRec {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []criRec
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		p := strings.SplitN(l, " ", 4)
		if len(p) < 3 {
			t.Fatalf("not a CRI record: %.60q", l)
		}
		rec := criRec{at: p[0], stderr: p[1] == "stderr", full: strings.HasPrefix(p[2], "F")}
		if len(p) == 4 {
			rec.text = p[3]
		}
		recs = append(recs, rec)
	}
	return recs
}

// kubeletView is what the kubelet serves for a container's CRI log (the
// pods' log API, kubectl logs), as its log reader (kuberuntime/logs
// ReadLogs) writes it: the records in file order, not joined across
// streams, a newline after each F record, and with timestamps the record's
// time (RFC3339Nano) and a space before a record that follows a full one.
// No kubelet can run where the tests run, so the view is made here from the
// real CRI records.
func kubeletView(recs []criRec, timestamps bool) string {
	var b strings.Builder
	newLine := true
	for _, r := range recs {
		if timestamps && newLine {
			at, _ := time.Parse(time.RFC3339Nano, r.at)
			b.WriteString(at.Format(time.RFC3339Nano) + " ")
		}
		b.WriteString(r.text)
		if newLine = r.full; newLine {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (r criRec) String() string {
	s, tag := "stdout", "P"
	if r.stderr {
		s = "stderr"
	}
	if r.full {
		tag = "F"
	}
	return r.at + " " + s + " " + tag + " " + r.text + "\n"
}

// spliceView is what a test compares: the requests (auditID, stage: the
// event as read back) and the klog lines, in order.
type spliceView struct {
	events map[string]string
	klog   []string
	other  int
}

func viewOfLoad(t *testing.T, r result) spliceView {
	t.Helper()
	v := spliceView{events: map[string]string{}, other: len(r.snap.Other)}
	for _, q := range r.snap.Requests {
		for _, e := range q.Events {
			b, err := r.set.Raw(e.Ref)
			if err != nil {
				t.Fatalf("%s: Raw: %v", q.AuditID, err)
			}
			if !audit.ValidJSON(b) {
				t.Fatalf("%s: an event read back is not valid JSON: %.80q", q.AuditID, b)
			}
			v.events[q.AuditID+"/"+e.Stage()] = string(b)
		}
	}
	for _, k := range r.snap.Klog {
		v.klog = append(v.klog, fmt.Sprintf("%c %s %d %s %s", k.Severity, k.Time.Format(time.StampMicro), k.PID, k.File, k.Msg))
	}
	return v
}

// loadPodView reads a pod's log as the pods' API serves it, through the
// pods' reader (StreamPods' parsing and the set's pod input).
func loadPodView(t *testing.T, served string) result {
	t.Helper()
	set, err := Open(context.Background(), Spec{Paths: []string{"-"}, Stdin: strings.NewReader("")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	st := audit.NewStore()
	r := set.podReader("kube-apiserver-cp1", "cp1", st)
	open := func(ctx context.Context, pod string, lo *corev1.PodLogOptions) (io.ReadCloser, error) {
		if !lo.Timestamps {
			t.Error("the pods' log is asked for without timestamps")
		}
		return io.NopCloser(strings.NewReader(served)), nil
	}
	s := newPodStreamer(PodOptions{}, open, r.podLine)
	if err := s.history(context.Background(), []*podStream{s.newStream("kube-apiserver-cp1", "cp1", "uid", nil)}); err != nil {
		t.Fatal(err)
	}
	r.finish()
	return result{set: set, st: st, snap: st.Snapshot()}
}

// splicedViews loads one run's CRI records every way a user reads them:
// the CRI log, kubectl logs (a file: one worker and four; stdin), kubectl
// logs --timestamps, and the pods' API.
func splicedViews(t *testing.T, recs []criRec) map[string]spliceView {
	t.Helper()
	dir := t.TempDir()
	var cri strings.Builder
	for _, r := range recs {
		cri.WriteString(r.String())
	}
	text, stamped := kubeletView(recs, false), kubeletView(recs, true)
	criPath := writeFile(t, filepath.Join(dir, "0.log"), cri.String())
	textPath := writeFile(t, filepath.Join(dir, "kube-apiserver.log"), text)
	stampedPath := writeFile(t, filepath.Join(dir, "timestamps.log"), stamped)
	views := map[string]spliceView{}
	views["cri"] = viewOfLoad(t, load(t, Spec{Paths: []string{criPath}}, Options{}))
	for _, w := range []int{1, 4} {
		restore := setWorkers(w)
		views[fmt.Sprintf("text, %d workers", w)] = viewOfLoad(t, load(t, Spec{Paths: []string{textPath}}, Options{}))
		views[fmt.Sprintf("timestamps, %d workers", w)] = viewOfLoad(t, load(t, Spec{Paths: []string{stampedPath}}, Options{}))
		restore()
	}
	views["text, stdin"] = viewOfLoad(t, load(t, Spec{Paths: []string{"-"}, Stdin: strings.NewReader(text)}, Options{}))
	views["pods API"] = viewOfLoad(t, loadPodView(t, stamped))
	return views
}

func sameViews(t *testing.T, views map[string]spliceView, wantEvents, wantKlog int) {
	t.Helper()
	want := views["cri"]
	if len(want.events) != wantEvents || len(want.klog) != wantKlog || want.other != 0 {
		t.Fatalf("the CRI log gives %d events, %d klog lines, %d other lines; want %d, %d, 0", len(want.events), len(want.klog), want.other, wantEvents, wantKlog)
	}
	for name, v := range views {
		if !reflect.DeepEqual(v.events, want.events) {
			for id := range want.events {
				if v.events[id] != want.events[id] {
					t.Errorf("%s: event %s missing or different", name, id)
				}
			}
			t.Errorf("%s: %d events, the CRI log %d", name, len(v.events), len(want.events))
		}
		if !reflect.DeepEqual(v.klog, want.klog) {
			t.Errorf("%s: klog lines differ from the CRI log's:\n%q\nwant\n%q", name, v.klog, want.klog)
		}
		if v.other != 0 {
			t.Errorf("%s: %d other lines", name, v.other)
		}
	}
}

// The real capture (testdata/spliced, see its README): a 49,642-byte event
// cut into 16 KiB P records by the runtime, a stderr klog line between the
// third and the fourth. Every view gives the CRI log's requests and klog
// lines, none broken.
func TestSplicedRealCapture(t *testing.T) {
	recs := readCRI(t, filepath.Join("..", "testdata", "spliced", "cri.log"))
	views := splicedViews(t, recs)
	sameViews(t, views, 10, 13)
	if _, ok := views["cri"].events["a7a24f42-5a70-49a3-b582-302e8015efe9/ResponseComplete"]; !ok {
		t.Fatal("the spliced event is not in the CRI log's requests")
	}
	// the saved kubectl logs view of the run is the one made here
	saved, err := os.ReadFile(filepath.Join("..", "testdata", "spliced", "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	if string(saved) != kubeletView(recs, false) {
		t.Fatal("testdata/spliced/kube-apiserver.log is not the kubelet's view of cri.log")
	}
}

// crafted: a run's records, its events cut into P records of size bytes,
// with stderr records put between them.
type craft struct {
	recs []criRec
	ms   int
}

func (c *craft) rec(stderr, full bool, text string) {
	c.ms++
	at := time.Date(2026, 12, 6, 10, 15, 0, 0, time.UTC).Add(time.Duration(c.ms) * time.Millisecond)
	c.recs = append(c.recs, criRec{at: at.Format(time.RFC3339Nano), stderr: stderr, full: full, text: text})
}

func (c *craft) klog(msg string) {
	at := time.Date(2026, 12, 6, 10, 15, 0, 0, time.UTC).Add(time.Duration(c.ms) * time.Millisecond)
	c.rec(true, true, fmt.Sprintf("I%s   29865 httplog.go:135] %s", at.Format("0102 15:04:05.000000"), msg))
}

// event writes an event cut into size-byte P records; between[i] are the
// stderr lines written after the i-th record.
func (c *craft) event(ev string, size int, between map[int][]string) {
	for i := 0; ; i++ {
		if len(ev) <= size {
			c.rec(false, true, ev)
			return
		}
		c.rec(false, false, ev[:size])
		ev = ev[size:]
		for _, l := range between[i] {
			if strings.HasPrefix(l, "I") || strings.HasPrefix(l, "E") {
				c.klog(l[1:])
			} else {
				c.rec(true, true, l) // a klog continuation line
			}
		}
	}
}

// bigEvent is a RequestResponse-sized event: a CRD create with a long
// schema (as the real run's), its description repeated.
func bigEvent(id string, size int, desc string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"%s","stage":"ResponseComplete","requestURI":"/apis/apiextensions.k8s.io/v1/customresourcedefinitions","verb":"create","user":{"username":"kubernetes-admin","groups":["system:masters"]},"sourceIPs":["127.0.0.1"],"userAgent":"kubectl/v1.37.2","objectRef":{"resource":"customresourcedefinitions","name":"widgets.kubyk.example","apiGroup":"apiextensions.k8s.io","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":201},"requestObject":{"spec":{"properties":{`, id)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"setting%d":{"description":%q,"type":"string"}`, i, desc)
	}
	fmt.Fprintf(&b, `}}},"requestReceivedTimestamp":"2026-12-06T10:15:00.000000Z","stageTimestamp":"2026-12-06T10:15:00.010000Z","annotations":{"authorization.k8s.io/decision":"allow"}}`)
	return b.String()
}

func smallEvent(id string) string {
	return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/team-a/pods","verb":"list","user":{"username":"erin-editor"},"sourceIPs":["127.0.0.1"],"objectRef":{"resource":"pods","namespace":"team-a","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-12-06T10:15:00.000000Z","stageTimestamp":"2026-12-06T10:15:00.001000Z"}`
}

const desc = "Setting of the widget. Operators ship schemas with long descriptions like this one."

// Crafted: several splices in one event (containerd's 16 KiB and CRI-O's
// 8 KiB records), several stderr records between two parts (a multi-line
// klog message among them), two spliced events in a row, and hostile text:
// klog headers inside the event's strings and inside the klog line.
func TestSplicedCrafted(t *testing.T) {
	fake := `I1206 10:15:00.000001   1 fake.go:1] not a klog line`
	for _, tc := range []struct {
		name        string
		build       func(c *craft)
		events, klg int
	}{
		{"containerd, three splices", func(c *craft) {
			c.rec(false, true, smallEvent("a"))
			c.event(bigEvent("big", 70000, desc), 16384, map[int][]string{0: {`I"HTTP" verb="GET"`}, 1: {`I"HTTP" verb="PUT"`, `I"HTTP" verb="POST"`}, 3: {`I"HTTP" verb="LIST"`}})
			c.rec(false, true, smallEvent("b"))
		}, 3, 4},
		{"CRI-O, 8 KiB records", func(c *craft) {
			c.event(bigEvent("big", 40000, desc), 8192, map[int][]string{0: {`I"HTTP" verb="GET"`}, 2: {`I"HTTP" verb="PUT"`}, 3: {`I"HTTP" verb="POST"`}})
			c.rec(false, true, smallEvent("b"))
		}, 2, 3},
		{"a multi-line klog message between", func(c *craft) {
			c.event(bigEvent("big", 40000, desc), 16384, map[int][]string{1: {`EStartup failed:`, `  goroutine 1 [running]:`, `  main.main()`}})
			c.klog(`"HTTP" verb="GET"`)
		}, 1, 2},
		{"two spliced events in a row", func(c *craft) {
			c.event(bigEvent("big1", 40000, desc), 16384, map[int][]string{0: {`I"HTTP" verb="GET"`}})
			c.event(bigEvent("big2", 40000, desc), 16384, map[int][]string{1: {`I"HTTP" verb="PUT"`}})
		}, 2, 2},
		{"klog headers in the event's strings", func(c *craft) {
			c.rec(false, true, bigEvent("valid", 2000, fake)) // valid: never touched
			c.event(bigEvent("big", 40000, fake+" "+desc), 16384, map[int][]string{0: {`I"HTTP" userAgent="` + fake + `"`}, 1: {`Imsg ` + fake}})
		}, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &craft{}
			tc.build(c)
			sameViews(t, splicedViews(t, c.recs), tc.events, tc.klg)
		})
	}
}

// A spliced line whose rest never comes (the apiserver died, or the rest is
// not JSON) stays what it was: an invalid JSON line, counted, and the lines
// after it are read as before.
func TestSplicedNotRepaired(t *testing.T) {
	big := bigEvent("big", 40000, desc)
	klog := `I1206 10:15:00.000001   29865 httplog.go:135] "HTTP" verb="GET"`
	for _, tc := range []struct {
		name, text  string
		events, klg int
		other       int
	}{
		{"the rest never comes", big[:16384] + klog + "\n" + smallEvent("b") + "\n", 1, 0, 1},
		{"at the end of the input", big[:16384] + klog + "\n" + klog + "\n", 0, 1, 1},
		{"a rest that does not make JSON", big[:16384] + klog + "\n" + "the rest is not here\n", 0, 0, 2},
		{"no klog header where the JSON breaks", `{"kind":"Event",xx ` + klog + "\n" + `"rest":1}` + "\n", 0, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range []int{1, 4} {
				restore := setWorkers(w)
				got := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(t.TempDir(), "log"), tc.text)}}, Options{})
				restore()
				if got.snap.Events != tc.events || len(got.snap.Klog) != tc.klg || len(got.snap.Other) != tc.other {
					t.Errorf("%d workers: %d events, %d klog, %d other; want %d, %d, %d", w, got.snap.Events, len(got.snap.Klog), len(got.snap.Other), tc.events, tc.klg, tc.other)
				}
				for _, o := range got.snap.Other[:min(1, len(got.snap.Other))] {
					if o.Why != "invalid JSON" {
						t.Errorf("first other line: %q", o.Why)
					}
				}
			}
		})
	}
}

// A query's prefilter (Options.Keep) sees a spliced line without its rest:
// it must not refuse it unparsed, or the event (whose rest Keep may have
// matched) would be lost and its rest counted as a broken line. Here Keep
// keeps only lines holding the decision annotation, which is in the rest.
func TestSplicedPrefiltered(t *testing.T) {
	text := filepath.Join("..", "testdata", "spliced", "kube-apiserver.log")
	keep := func(l []byte) bool { return bytes.Contains(l, []byte(`"authorization.k8s.io/decision"`)) }
	for _, w := range []int{1, 4} {
		restore := setWorkers(w)
		got := load(t, Spec{Paths: []string{text}}, Options{Keep: keep})
		restore()
		if !got.ids()["a7a24f42-5a70-49a3-b582-302e8015efe9"] || len(got.snap.Other) != 0 || len(got.snap.Klog) != 13 {
			t.Errorf("%d workers: spliced event read %v, %d other lines, %d klog lines (want 13)", w, got.ids()["a7a24f42-5a70-49a3-b582-302e8015efe9"], len(got.snap.Other), len(got.snap.Klog))
		}
	}
}

// Following a log whose last line is a spliced event's first part: it is
// held, neither dropped nor read twice, and read whole once its rest comes.
func TestSplicedFollowed(t *testing.T) {
	big := bigEvent("big", 40000, desc)
	klog := `I1206 10:15:00.000001   29865 httplog.go:135] "HTTP" verb="GET"`
	path := writeFile(t, filepath.Join(t.TempDir(), "kube-apiserver.log"), smallEvent("a")+"\n"+big[:16384]+klog+"\n")
	st, _, stop := following(t, path)
	waitEvents(t, st, 1)
	time.Sleep(50 * time.Millisecond) // a few polls with the spliced line last
	if s := st.Snapshot(); len(s.Other) != 0 || len(s.Klog) != 0 {
		t.Fatalf("while its rest has not come: %d other lines, %d klog lines", len(s.Other), len(s.Klog))
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(klog + "\n" + big[16384:30000])
	f.Sync()
	time.Sleep(50 * time.Millisecond)
	f.WriteString(big[30000:] + "\n" + smallEvent("b") + "\n")
	f.Close()
	waitEvents(t, st, 3)
	s := stop()
	if s.Events != 3 || len(s.Requests) != 3 || len(s.Other) != 0 || len(s.Klog) != 2 {
		t.Fatalf("%d events in %d requests, %d other lines, %d klog lines; want 3, 3, 0, 2", s.Events, len(s.Requests), len(s.Other), len(s.Klog))
	}
}

// FuzzSplice: whatever the text, an event read from it is valid JSON, and
// the text gives the same requests, klog and other lines read from a file
// (one worker, four) and from stdin.
func FuzzSplice(f *testing.F) {
	big := bigEvent("big", 20000, desc)
	klog := `I1206 10:15:00.000001   29865 httplog.go:135] "HTTP" verb="GET"`
	f.Add([]byte(big[:16384]+klog+"\n"+big[16384:]+"\n"), 0)
	f.Add([]byte(big[:8192]+klog+"\n"+klog+"\n"+big[8192:16384]+klog+"\n"+big[16384:]+"\n"), 3)
	f.Add([]byte(`{"a":"`+klog+"\n"+`x"}`+"\n"), 0)
	f.Add([]byte(`{"kind":"Event","auditID":"I1206 10:15:00.000001 1 a.go:1] x`+"\n"+`"}`+"\n"), 0)
	f.Add([]byte(smallEvent("a")+klog+"\n"+smallEvent("b")+"\n"), 1)
	f.Fuzz(func(t *testing.T, text []byte, cut int) {
		if len(text) > 1<<16 {
			return
		}
		if cut > 0 && cut < len(text) {
			// a stderr line spliced in at cut
			text = append(append(append([]byte{}, text[:cut]...), klog+"\n"...), text[cut:]...)
		}
		var views []spliceView
		for _, w := range []int{1, 4} {
			restore := setWorkers(w)
			views = append(views, viewOfLoad(t, load(t, Spec{Paths: []string{writeFile(t, filepath.Join(t.TempDir(), "log"), string(text))}}, Options{})))
			restore()
		}
		views = append(views, viewOfLoad(t, load(t, Spec{Paths: []string{"-"}, Stdin: bytes.NewReader(text)}, Options{})))
		for _, v := range views[1:] {
			if !reflect.DeepEqual(v, views[0]) {
				t.Fatalf("reads differ: %+v and %+v", v, views[0])
			}
		}
	})
}

// Hostile: a long broken line full of klog header starts (none complete)
// is looked at in one pass, not once per start.
func TestSplicedHostileHeaders(t *testing.T) {
	line := `{"a":"` + strings.Repeat("I1206 10:15:36.933377 1 x", 400000) // 10 MB
	start := time.Now()
	got := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(t.TempDir(), "log"), line+"\n"+smallEvent("b")+"\n")}}, Options{})
	if got.snap.Events != 1 || len(got.snap.Other) != 1 {
		t.Errorf("%d events, %d other lines; want 1 and the broken line", got.snap.Events, len(got.snap.Other))
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}
