package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// sampleLines is a small handmade audit log (the real testdata, when
// present, is used by realdata_test.go).
func sampleLines(t testing.TB) []string {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(b), "\n"), "\n")
}

// auditIDs reads the IDs with encoding/json, independently of the code under test.
func auditIDs(t testing.TB, lines []string) map[string]bool {
	ids := map[string]bool{}
	for _, l := range lines {
		var ev struct{ AuditID string }
		if json.Unmarshal([]byte(l), &ev) == nil && ev.AuditID != "" {
			ids[ev.AuditID] = true
		}
	}
	return ids
}

type result struct {
	set      *Set
	st       *audit.Store
	snap     audit.Snapshot
	warnings []string
}

func load(t testing.TB, spec Spec, opt Options) result {
	t.Helper()
	var mu sync.Mutex
	var r result
	opt.Warn = func(m string) { mu.Lock(); r.warnings = append(r.warnings, m); mu.Unlock() }
	set, err := Open(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	r.set, r.st = set, audit.NewStore()
	if err := set.Load(context.Background(), r.st); err != nil {
		t.Fatal(err)
	}
	r.snap = r.st.Snapshot()
	return r
}

func (r result) ids() map[string]bool {
	ids := map[string]bool{}
	for _, q := range r.snap.Requests {
		ids[q.AuditID] = true
	}
	return ids
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gz(t testing.TB, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestPlainFileEveryEventRawAgain(t *testing.T) {
	lines := sampleLines(t)
	p := writeFile(t, filepath.Join(t.TempDir(), "audit.log"), strings.Join(lines, "\n")+"\n")
	r := load(t, Spec{Paths: []string{p}}, Options{})
	if r.snap.Events != len(lines) || len(r.snap.Other) != 0 || len(r.snap.Klog) != 0 {
		t.Fatalf("events %d (want %d), other %d, klog %d", r.snap.Events, len(lines), len(r.snap.Other), len(r.snap.Klog))
	}
	if want := auditIDs(t, lines); len(r.ids()) != len(want) {
		t.Fatalf("%d requests, want %d auditIDs", len(r.ids()), len(want))
	}
	for _, q := range r.snap.Requests {
		for _, e := range q.Events {
			raw, err := r.set.Raw(e.Ref)
			if err != nil || string(raw) != lines[e.Line-1] {
				t.Fatalf("Raw(%+v) = %.60q, %v; want line %d", e.Ref, raw, err, e.Line)
			}
		}
	}
	if in := r.set.Inputs(); len(in) != 1 || in[0].Format != "audit" {
		t.Fatalf("inputs %+v", in)
	}
}

func TestBackupsOldestFirstGzipTransparent(t *testing.T) {
	lines := sampleLines(t)
	dir := t.TempDir()
	third := len(lines) / 3
	// the newest backup is gzipped but named without .gz: detected by magic bytes
	os.WriteFile(filepath.Join(dir, "audit-2026-11-26T03-04-26.736.log.gz"), gz(t, strings.Join(lines[:third], "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "audit-2026-11-26T04-00-00.000.log"), gz(t, strings.Join(lines[third:2*third], "\n")+"\n"), 0o644)
	writeFile(t, filepath.Join(dir, "audit.log"), strings.Join(lines[2*third:], "\n")+"\n")
	writeFile(t, filepath.Join(dir, "other-2026-11-26T03-04-26.736.log"), "not ours\n")
	r := load(t, Spec{Paths: []string{filepath.Join(dir, "audit.log")}}, Options{})
	in := r.set.Inputs()
	var names []string
	for _, i := range in {
		names = append(names, filepath.Base(i.Name)+"="+i.Format)
	}
	want := "audit-2026-11-26T03-04-26.736.log.gz=gzip+audit audit-2026-11-26T04-00-00.000.log=gzip+audit audit.log=audit"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("inputs %s\nwant   %s", got, want)
	}
	if r.snap.Events != len(lines) || len(r.ids()) != len(auditIDs(t, lines)) {
		t.Fatalf("events %d, requests %d", r.snap.Events, len(r.ids()))
	}
	// raw lines of gzip inputs come from memory
	for _, q := range r.snap.Requests {
		for _, e := range q.Events {
			raw, err := r.set.Raw(e.Ref)
			if err != nil || !bytes.Contains(raw, []byte(q.AuditID)) {
				t.Fatalf("Raw(%+v) = %.60q, %v", e.Ref, raw, err)
			}
		}
	}
}

// klog entries as kube-apiserver writes them (one write each), one with
// continuation lines.
var klogSample = []string{
	`I1126 03:00:09.123456       1 server.go:150] Version: v1.37.2`,
	"W1126 03:00:09.223456      12 authentication.go:80] something odd:\n\tdetail one\n\tdetail two",
	`I1126 03:00:10.000001       1 httplog.go:134] "HTTP" verb="GET" URI="/api" audit-ID="x"`,
}

func mixed(lines []string) (string, int) {
	var b strings.Builder
	k := 0
	for i, l := range lines {
		b.WriteString(l + "\n")
		if i%5 == 0 {
			b.WriteString(klogSample[k%len(klogSample)] + "\n")
			k++
		}
	}
	return b.String(), k
}

func TestMixedStdoutModeDemixes(t *testing.T) {
	lines := sampleLines(t)
	text, _ := mixed(lines)
	p := writeFile(t, filepath.Join(t.TempDir(), "kube-apiserver.log"), text)
	r := load(t, Spec{Paths: []string{p}}, Options{})
	plain := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(t.TempDir(), "audit.log"), strings.Join(lines, "\n")+"\n")}}, Options{})
	if fmt.Sprint(r.ids()) != fmt.Sprint(plain.ids()) || r.snap.Events != plain.snap.Events {
		t.Fatalf("mixed: %d requests %d events; plain: %d, %d", len(r.ids()), r.snap.Events, len(plain.ids()), plain.snap.Events)
	}
	if len(r.snap.Other) != 0 {
		t.Fatalf("other lines: %+v", r.snap.Other)
	}
	// every klog header line is a Klog entry; continuation lines fold in; no audit line is klog
	headers := 0
	for _, l := range strings.Split(text, "\n") {
		if isKlogHeader([]byte(l)) {
			headers++
		}
	}
	if len(r.snap.Klog) != headers {
		t.Fatalf("%d klog lines, want %d", len(r.snap.Klog), headers)
	}
	folded := 0
	for _, k := range r.snap.Klog {
		if strings.Contains(k.Msg, "kind") {
			t.Fatalf("audit text in klog: %q", k.Msg)
		}
		if k.Msg == "something odd:\n\tdetail one\n\tdetail two" {
			folded++
			raw, _ := r.set.Raw(k.Ref)
			if !strings.HasSuffix(string(raw), "\tdetail two") || k.Severity != 'W' || k.PID != 12 || k.File != "authentication.go:80" {
				t.Fatalf("multi-line klog %+v raw %q", k, raw)
			}
		}
		if k.Time.Year() != 2026 || k.Time.Month() != 11 {
			t.Fatalf("klog time %v: year should come from the events around it", k.Time)
		}
	}
	if folded == 0 {
		t.Fatal("the multi-line klog message was not folded")
	}
	if f := r.set.Inputs()[0].Format; f != "mixed" {
		t.Fatalf("format %q", f)
	}
}

// toCRI writes text as a CRI log: audit lines on stdout, klog on stderr,
// lines longer than max split into P records.
func toCRI(text string, max int) string {
	var b strings.Builder
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		stream := "stdout"
		if !strings.HasPrefix(l, "{") {
			stream = "stderr"
		}
		for {
			at = at.Add(time.Millisecond)
			if len(l) > max {
				fmt.Fprintf(&b, "%s %s P %s\n", at.Format(time.RFC3339Nano), stream, l[:max])
				l = l[max:]
				continue
			}
			fmt.Fprintf(&b, "%s %s F %s\n", at.Format(time.RFC3339Nano), stream, l)
			break
		}
	}
	return b.String()
}

func TestCRIGivesSameAsPlain(t *testing.T) {
	text, _ := mixed(sampleLines(t))
	dir := t.TempDir()
	plain := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(dir, "plain.log"), text)}}, Options{})
	cri := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(dir, "0.log"), toCRI(text, 300))}}, Options{})
	if f := cri.set.Inputs()[0].Format; f != "cri" {
		t.Fatalf("format %q", f)
	}
	if fmt.Sprint(plain.ids()) != fmt.Sprint(cri.ids()) || plain.snap.Events != cri.snap.Events || len(cri.snap.Other) != 0 {
		t.Fatalf("plain %d/%d, cri %d/%d other %d", len(plain.ids()), plain.snap.Events, len(cri.ids()), cri.snap.Events, len(cri.snap.Other))
	}
	if len(plain.snap.Klog) != len(cri.snap.Klog) {
		t.Fatalf("klog: plain %d, cri %d", len(plain.snap.Klog), len(cri.snap.Klog))
	}
	for i := range plain.snap.Klog {
		if plain.snap.Klog[i].Msg != cri.snap.Klog[i].Msg {
			t.Fatalf("klog %d: %q vs %q", i, plain.snap.Klog[i].Msg, cri.snap.Klog[i].Msg)
		}
	}
	// the joined audit lines come back whole from memory
	for i, q := range cri.snap.Requests {
		for j, e := range q.Events {
			a, err1 := cri.set.Raw(e.Ref)
			b, err2 := plain.set.Raw(plain.snap.Requests[i].Events[j].Ref)
			if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
				t.Fatalf("raw differs: %v %v\n%.80q\n%.80q", err1, err2, a, b)
			}
		}
	}
}

func TestTruncatedGzipWarnsAndKeepsWhatCameBefore(t *testing.T) {
	lines := sampleLines(t)
	var all strings.Builder
	for range 40 { // big enough that the cut falls well inside
		all.WriteString(strings.Join(lines, "\n") + "\n")
	}
	z := gz(t, all.String())
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "audit-2026-11-26T03-04-26.736.log.gz"), z[:len(z)/2], 0o644)
	writeFile(t, filepath.Join(dir, "audit.log"), lines[0]+"\n")
	r := load(t, Spec{Paths: []string{filepath.Join(dir, "audit.log")}}, Options{})
	if len(r.warnings) != 1 || !strings.Contains(r.warnings[0], "truncated gzip") || !strings.Contains(r.warnings[0], ".log.gz") {
		t.Fatalf("warnings %q", r.warnings)
	}
	// the sample repeated: each line after the first copy is a duplicate
	read := r.snap.Events + r.snap.Duplicates
	if read < 40*len(lines)/4 || read >= 40*len(lines) {
		t.Fatalf("%d events of %d", read, 40*len(lines))
	}
	// the line cut in the middle is counted, not dropped
	if len(r.snap.Other) != 1 || !strings.Contains(r.snap.Other[0].Why, "cut short") || r.snap.Other[0].Line != int64(read) {
		t.Fatalf("other %+v (events %d)", r.snap.Other, r.snap.Events)
	}
}

func TestHugeLines(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 70 MiB")
	}
	lines := sampleLines(t)
	big := strings.Replace(lines[0], `"auditID":"`, `"requestObject":{"data":"`+strings.Repeat("x", 70<<20)+`"},"auditID":"`, 1)
	p := writeFile(t, filepath.Join(t.TempDir(), "audit.log"), lines[1]+"\n"+big+"\n"+lines[2]+"\n")
	r := load(t, Spec{Paths: []string{p}}, Options{})
	if r.snap.Events != 3 || len(r.snap.Other) != 0 {
		t.Fatalf("events %d other %+v", r.snap.Events, r.snap.Other)
	}
	var e audit.EventRef
	for _, q := range r.snap.Requests {
		for _, ev := range q.Events {
			if ev.Line == 2 {
				e = ev
			}
		}
	}
	if raw, err := r.set.Raw(e.Ref); err != nil || len(raw) != len(big) {
		t.Fatalf("raw of the 70 MiB line: %d bytes, %v", len(raw), err)
	}
	// over the limit: counted with its size, the lines after it still read
	r = load(t, Spec{Paths: []string{p}}, Options{MaxLine: 1 << 20})
	if r.snap.Events != 2 || len(r.snap.Other) != 1 || r.snap.Other[0].Line != 2 || !strings.Contains(r.snap.Other[0].Why, "over the 1 MiB limit") {
		t.Fatalf("events %d other %+v", r.snap.Events, r.snap.Other)
	}
}

func TestBrokenLinesAreCountedWithLineNumbers(t *testing.T) {
	lines := sampleLines(t)
	content := strings.Join([]string{
		lines[0],
		lines[1][:len(lines[1])/2], // cut
		"\x00\x01\x02binary",
		`{"kind":"Pod","apiVersion":"v1"}`,
		"",
		"plain text",
		lines[2] + "\r", // CRLF is fine
		lines[3],        // no newline at the end
	}, "\n")
	r := load(t, Spec{Paths: []string{writeFile(t, filepath.Join(t.TempDir(), "audit.log"), content)}}, Options{})
	var got []string
	for _, o := range r.snap.Other {
		got = append(got, fmt.Sprintf("%d:%s", o.Line, o.Why))
	}
	want := "2:invalid JSON 3:binary data 4:JSON but not an audit event 6:neither audit JSON nor klog"
	if strings.Join(got, " ") != want || r.snap.Events != 3 {
		t.Fatalf("other %q, events %d", got, r.snap.Events)
	}
}

func TestStdinAndEventList(t *testing.T) {
	lines := sampleLines(t)
	list := `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[` + strings.Join(lines[:4], ",") + `]}`
	in := strings.NewReader(list + "\n" + strings.Join(lines[4:], "\n") + "\n")
	r := load(t, Spec{Paths: []string{"-"}, Stdin: in}, Options{})
	if r.snap.Events != len(lines) || len(r.ids()) != len(auditIDs(t, lines)) || len(r.snap.Other) != 0 {
		t.Fatalf("events %d requests %d other %v", r.snap.Events, len(r.ids()), r.snap.Other)
	}
	// an item's raw bytes are the item itself
	raw, err := r.set.Raw(r.snap.Requests[0].Events[0].Ref)
	if err != nil || string(raw) != lines[0] {
		t.Fatalf("raw item %.80q %v", raw, err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(context.Background(), Spec{Paths: []string{filepath.Join(dir, "nope.log")}}, Options{})
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "nope.log") {
		t.Fatalf("err %v", err)
	}
	p := writeFile(t, filepath.Join(dir, "a.log"), sampleLines(t)[0]+"\n")
	var warns []string
	s, err := Open(context.Background(), Spec{Paths: []string{filepath.Join(dir, "nope.log"), p, dir}}, Options{Warn: func(m string) { warns = append(warns, m) }})
	if err != nil || len(s.Inputs()) != 1 || len(warns) != 2 {
		t.Fatalf("err %v inputs %v warns %q", err, s.Inputs(), warns)
	}
}

func TestFollowReadsGrowth(t *testing.T) {
	lines := sampleLines(t)
	p := writeFile(t, filepath.Join(t.TempDir(), "audit.log"), lines[0]+"\n")
	set, err := Open(context.Background(), Spec{Paths: []string{p}, Follow: true}, Options{PollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- set.Load(ctx, st) }()
	waitFor := func(n int) {
		for deadline := time.Now().Add(5 * time.Second); st.Snapshot().Events < n; {
			if time.Now().After(deadline) {
				t.Fatalf("%d events, want %d", st.Snapshot().Events, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1)
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(lines[1] + "\n" + lines[2][:100]) // the last line half written
	waitFor(2)
	time.Sleep(50 * time.Millisecond)
	if s := st.Snapshot(); s.Events != 2 || len(s.Other) != 0 {
		t.Fatalf("a half-written line must wait: events %d other %v", s.Events, s.Other)
	}
	f.WriteString(lines[2][100:] + "\n")
	f.Close()
	waitFor(3)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
