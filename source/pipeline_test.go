package source

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
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
		filepath.Join("..", "testdata", "stdout", "kube-apiserver.log"),
		filepath.Join("..", "testdata", "file", "audit.log"),
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
	for _, paths := range [][]string{{plain}, {gzPath}, {gzPath, plain}} {
		seq := func() result { defer setWorkers(1)(); return load(t, Spec{Paths: paths}, Options{}) }()
		par := func() result { defer setWorkers(3)(); return load(t, Spec{Paths: paths}, Options{}) }()
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
}
