package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// A parallel load gives exactly the store a sequential one does: the same
// requests with the same fields, events, Refs and line numbers, in the same
// order, the same klog and other lines. The input mixes audit lines with
// klog lines, broken JSON, non-event JSON, blank and binary lines, and is
// long enough for many batches.
func TestParallelLoadEqualsSequential(t *testing.T) {
	var lines [][]byte
	for _, p := range []string{
		filepath.Join("..", "testdata", "sample.log"),
		audittest.Path("stdout", "kube-apiserver.log"),
		audittest.Path("file", "audit.log"),
	} {
		if b, err := os.ReadFile(p); err == nil {
			lines = append(lines, bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))...)
		}
	}
	lines = append(lines,
		[]byte(`I1126 03:00:09.123456       1 server.go:150] starting`),
		[]byte(`  continuation of the klog message`),
		[]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"broken`),
		[]byte(`{"kind":"Status","apiVersion":"v1"}`),
		[]byte(``),
		[]byte("\x00\x01\x02binary"),
		[]byte(`   {"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"indented","stage":"ResponseComplete","verb":"get"}`),
		// longer than the chunks a filtered load reads ahead (preadSize)
		[]byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"long","stage":"ResponseComplete","verb":"get","requestURI":"/`+strings.Repeat("x", 3*preadSize/2)+`"}`),
		bytes.Repeat([]byte("long text "), preadSize/4),
	)
	var buf bytes.Buffer
	for buf.Len() < 5<<20 {
		for _, l := range lines {
			buf.Write(l)
			buf.WriteByte('\n')
		}
	}
	buf.WriteString(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"unterminated"`)
	dir := t.TempDir()
	plain := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(plain, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(buf.Bytes())
	zw.Close()
	gzPath := filepath.Join(dir, "audit.log.gz")
	if err := os.WriteFile(gzPath, gz.Bytes()[:gz.Len()*2/3], 0o644); err != nil { // truncated
		t.Fatal(err)
	}
	// with a filter (Options.Keep), a plain file is also read ahead by
	// goroutines of its own (preadReader)
	keepAll := Options{Keep: func([]byte) bool { return true }}
	goroutines := runtime.NumGoroutine()
	for _, c := range []struct {
		paths []string
		opt   Options
	}{{[]string{plain}, Options{}}, {[]string{gzPath}, Options{}}, {[]string{gzPath, plain}, Options{}}, {[]string{plain}, keepAll}, {[]string{gzPath, plain}, keepAll}} {
		paths := c.paths
		seq := func() result { defer setWorkers(1)(); return load(t, Spec{Paths: paths}, c.opt) }()
		par := func() result { defer setWorkers(3)(); return load(t, Spec{Paths: paths}, c.opt) }()
		if len(seq.snap.Requests) < 10 || len(seq.snap.Other) == 0 || len(seq.snap.Klog) == 0 {
			t.Fatalf("%v: test input too small: %d requests, %d other, %d klog", paths, len(seq.snap.Requests), len(seq.snap.Other), len(seq.snap.Klog))
		}
		if len(seq.snap.Requests) != len(par.snap.Requests) {
			t.Fatalf("%v: %d requests in parallel, %d sequentially", paths, len(par.snap.Requests), len(seq.snap.Requests))
		}
		for i := range seq.snap.Requests {
			if !reflect.DeepEqual(*seq.snap.Requests[i], *par.snap.Requests[i]) {
				t.Fatalf("%v: request %d differs:\n%+v\n%+v", paths, i, *seq.snap.Requests[i], *par.snap.Requests[i])
			}
		}
		if !reflect.DeepEqual(seq.snap.Klog, par.snap.Klog) || !reflect.DeepEqual(seq.snap.Other, par.snap.Other) || seq.snap.Events != par.snap.Events {
			t.Errorf("%v: klog, other lines or event counts differ", paths)
		}
		if !reflect.DeepEqual(seq.warnings, par.warnings) {
			t.Errorf("%v: warnings differ: %q vs %q", paths, seq.warnings, par.warnings)
		}
		if !reflect.DeepEqual(seq.set.Inputs(), par.set.Inputs()) {
			t.Errorf("%v: inputs differ: %+v vs %+v", paths, seq.set.Inputs(), par.set.Inputs())
		}
		// Raw lines come back the same (gzip keeps them in memory).
		for _, r := range par.snap.Requests[:10] {
			for _, e := range r.Events {
				a, err1 := seq.set.Raw(e.Ref)
				b, err2 := par.set.Raw(e.Ref)
				if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
					t.Fatalf("%v: Raw(%+v) differs: %v %v", paths, e.Ref, err1, err2)
				}
			}
		}
	}
	// the goroutines reading ahead end with their input
	for i := 0; runtime.NumGoroutine() > goroutines && i < 100; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines left running after the loads (%d before)", n, goroutines)
	}
}

// A rotated trail (real backups, one gzipped, beside the live log) read on
// both cores gives exactly a sequential load's store: the same requests in
// the same order (one timeline across the files) with the same events,
// Refs and raw lines, the same warnings and inputs. The same holds when a
// gzipped backup in the middle of the trail is cut short (crafted: its end
// removed).
func TestParallelLoadOfATrailEqualsSequential(t *testing.T) {
	live := filepath.Join("..", "testdata", "file", "audit.log")
	backups, _ := filepath.Glob(filepath.Join("..", "testdata", "file", "audit-*.log*"))
	if len(backups) < 2 {
		t.Fatalf("want the rotated backups of testdata/file beside audit.log, found %v", backups)
	}
	cut := t.TempDir()
	for _, p := range append(backups, live) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(p) == ".gz" {
			b = b[:len(b)*2/3]
		}
		os.WriteFile(filepath.Join(cut, filepath.Base(p)), b, 0o644)
	}
	for _, path := range []string{live, filepath.Join(cut, "audit.log")} {
		seq := func() result { defer setWorkers(1)(); return load(t, Spec{Paths: []string{path}}, Options{}) }()
		par := func() result { defer setWorkers(3)(); return load(t, Spec{Paths: []string{path}}, Options{}) }()
		if len(par.set.Inputs()) != len(backups)+1 || len(seq.snap.Requests) < 100 {
			t.Fatalf("%s: %d inputs, %d requests: not the trail", path, len(par.set.Inputs()), len(seq.snap.Requests))
		}
		if len(seq.snap.Requests) != len(par.snap.Requests) {
			t.Fatalf("%s: %d requests read ahead, %d sequentially", path, len(par.snap.Requests), len(seq.snap.Requests))
		}
		for i := range seq.snap.Requests {
			a, b := seq.snap.Requests[i], par.snap.Requests[i]
			if !reflect.DeepEqual(*a, *b) {
				t.Fatalf("%s: request %d differs:\n%+v\n%+v", path, i, *a, *b)
			}
			for _, e := range a.Events {
				x, err1 := seq.set.Raw(e.Ref)
				y, err2 := par.set.Raw(e.Ref)
				if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
					t.Fatalf("%s: Raw(%+v) differs: %v %v", path, e.Ref, err1, err2)
				}
			}
		}
		if !reflect.DeepEqual(seq.snap.Klog, par.snap.Klog) || !reflect.DeepEqual(seq.snap.Other, par.snap.Other) || seq.snap.Events != par.snap.Events || seq.snap.Duplicates != par.snap.Duplicates {
			t.Errorf("%s: klog, other lines, event or duplicate counts differ", path)
		}
		if !reflect.DeepEqual(seq.warnings, par.warnings) {
			t.Errorf("%s: warnings differ: %q vs %q", path, seq.warnings, par.warnings)
		}
		if cutShort := path != live; cutShort != (len(par.warnings) == 1) {
			t.Errorf("%s: warnings %q", path, par.warnings)
		}
		if !reflect.DeepEqual(seq.set.Inputs(), par.set.Inputs()) {
			t.Errorf("%s: inputs differ: %+v vs %+v", path, seq.set.Inputs(), par.set.Inputs())
		}
	}
}

// A parallel load reads ahead of the merging goroutine by a few batches of
// batchRead bytes, not by megabytes: what is read ahead is resident (the
// lines and what the workers made of them), and `query` keeps to 100 MiB.
// The merge is slowed here so that the reading goroutine runs as far ahead
// as the pipeline lets it. Crafted from the real events of sample.log.
func TestParallelLoadReadsAheadLittle(t *testing.T) {
	defer setWorkers(2)()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := bytes.SplitN(b, []byte("\n"), 3)[1] // a ResponseComplete
	id := regexp.MustCompile(`"auditID":"[^"]*"`)
	var buf bytes.Buffer
	for i := 0; buf.Len() < 24<<20; i++ {
		buf.Write(id.ReplaceAll(tmpl, fmt.Appendf(nil, `"auditID":"5e1f0000-0000-4000-8000-%012d"`, i)))
		buf.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	set, err := Open(context.Background(), Spec{Paths: []string{path}}, Options{Progress: func(n, _ int64) { read.Store(n) }})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var ahead int64
	n := 0
	st := audit.NewStreamingStore(func(r *audit.Request) {
		if n++; n%64 == 0 {
			time.Sleep(time.Millisecond) // a slow merge: the reader runs ahead
		}
		ahead = max(ahead, read.Load()-r.Events[0].Off)
	})
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	st.Finish()
	// Progress is told every 4 MiB read, which only lowers what is seen
	// here. The pipeline holds eight batches of 256 KiB (2033-2048 KiB seen
	// here; 4093 with 512 KiB batches): with their prescans they fit in a
	// small master's L2 (lines.go, batchRead). One more is room to spare.
	if limit := int64(9 * 256 << 10); ahead > limit {
		t.Errorf("the load read %d KiB ahead of the merge; want at most %d KiB", ahead>>10, limit>>10)
	}
	if n == 0 {
		t.Fatal("no request was read")
	}
}
