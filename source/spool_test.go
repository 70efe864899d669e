package source

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// A gzip input whose decompressed lines are far bigger than the spool's
// memory: the rest goes to a temporary file (0600, already unlinked), every
// line can be read again, and the heap does not hold the decompressed size.
func TestGzipSpillsToAnUnlinkedTempFile(t *testing.T) {
	lines := sampleLines(t)
	var b strings.Builder
	n := 0
	for b.Len() < 24<<20 { // 24 MiB of distinct events
		for _, l := range lines {
			b.WriteString(strings.Replace(l, `"auditID":"`, fmt.Sprintf(`"auditID":"%d-`, n), 1))
			b.WriteByte('\n')
		}
		n++
	}
	plain := b.String()
	path := filepath.Join(t.TempDir(), "audit-2026-11-26T03-04-26.736.log.gz")
	os.WriteFile(path, gz(t, plain), 0o600)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	r := load(t, Spec{Paths: []string{path}}, Options{SpoolMemory: 1 << 20})
	runtime.GC()
	runtime.ReadMemStats(&after)
	// the store's requests take heap; the lines must not
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > int64(len(plain))*3/4 {
		t.Errorf("heap grew %d MiB for %d MiB of decompressed lines", grew>>20, len(plain)>>20)
	}
	if sp := &r.set.spool; sp.memBytes > 1<<20 || sp.fileSize+int64(len(sp.wbuf)) < int64(len(plain))-(2<<20) {
		t.Errorf("spool: %d bytes in memory, %d in its file, for %d", sp.memBytes, sp.fileSize, len(plain))
	}
	if r.snap.Events != strings.Count(plain, "\n") {
		t.Fatalf("%d events, want %d", r.snap.Events, strings.Count(plain, "\n"))
	}
	want := strings.Split(strings.TrimSuffix(plain, "\n"), "\n")
	for _, i := range []int{0, len(r.snap.Requests) / 2, len(r.snap.Requests) - 1} {
		for _, e := range r.snap.Requests[i].Events {
			got, err := r.set.Raw(e.Ref)
			if err != nil || string(got) != want[e.Line-1] {
				t.Fatalf("request %d, line %d: %v %.80q", i, e.Line, err, got)
			}
		}
	}
	spools := 0
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if !strings.Contains(target, "kauditui-spool") {
			continue
		}
		spools++
		if !strings.HasSuffix(target, "(deleted)") {
			t.Errorf("spool file %s is still in its folder", target)
		}
		if fi, err := os.Stat(filepath.Join("/proc/self/fd", fd.Name())); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("spool file mode %v (%v), want 0600", fi.Mode().Perm(), err)
		}
	}
	if spools != 1 {
		t.Errorf("%d spool files open, want 1", spools)
	}
	r.set.Close()
	fds, _ = os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); strings.Contains(target, "kauditui-spool") {
			t.Errorf("spool file still open after Close")
		}
	}
}

// A gzip bomb of one event repeated: the repeats are dropped and not kept.
func TestGzipBombOfRepeatsKeepsOneLine(t *testing.T) {
	line := sampleLines(t)[0]
	plain := bytes.Repeat([]byte(line+"\n"), 100000)
	path := filepath.Join(t.TempDir(), "bomb.gz")
	os.WriteFile(path, gz(t, string(plain)), 0o600)
	r := load(t, Spec{Paths: []string{path}}, Options{})
	if len(r.snap.Requests) != 1 || r.snap.Duplicates != 99999 {
		t.Fatalf("%d requests, %d duplicates", len(r.snap.Requests), r.snap.Duplicates)
	}
	if r.set.spool.size != int64(len(line)) {
		t.Errorf("spool holds %d bytes, want the one line (%d)", r.set.spool.size, len(line))
	}
}

// Near the memory budget the lines a gzip input keeps in memory go to the
// spool's file (ShedMemory); every line still reads back byte for byte,
// those kept before and those read after, and the memory is given up.
func TestShedMemoryMovesTheSpoolToDisk(t *testing.T) {
	lines := sampleLines(t)
	var b strings.Builder
	for n := 0; b.Len() < 6<<20; n++ {
		for _, l := range lines {
			b.WriteString(strings.Replace(l, `"auditID":"`, fmt.Sprintf(`"auditID":"%d-`, n), 1))
			b.WriteByte('\n')
		}
	}
	plain := b.String()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit-2026-11-26T03-04-26.736.log.gz")
	os.WriteFile(path, gz(t, plain), 0o600)
	r := load(t, Spec{Paths: []string{path}}, Options{SpoolMemory: 4 << 20}) // 4 MiB in memory, the rest in the file
	sp := &r.set.spool
	if sp.memBytes == 0 || sp.file == nil {
		t.Fatalf("spool: %d bytes in memory, file %v: want both parts", sp.memBytes, sp.file)
	}
	msg := r.set.ShedMemory()
	if !strings.Contains(msg, "MiB of lines kept for reading back") || sp.chunks != nil {
		t.Fatalf("ShedMemory said %q; %d chunks still in memory", msg, len(sp.chunks))
	}
	if again := r.set.ShedMemory(); again != "" {
		t.Errorf("a second ShedMemory said %q, want nothing", again)
	}
	// a line kept after the shed lands after the moved part
	extra := []byte(`{"extra":"line"}`)
	off, err := sp.add(extra)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Split(strings.TrimSuffix(plain, "\n"), "\n")
	for i, req := range r.snap.Requests {
		for _, e := range req.Events {
			got, err := r.set.Raw(e.Ref)
			if err != nil || string(got) != want[e.Line-1] {
				t.Fatalf("request %d, line %d after the shed: %v %.80q", i, e.Line, err, got)
			}
		}
	}
	if got, err := sp.get(off, len(extra)); err != nil || !bytes.Equal(got, extra) {
		t.Errorf("line added after the shed: %q %v", got, err)
	}
	sp.flush()
	if got, err := sp.get(off, len(extra)); err != nil || !bytes.Equal(got, extra) {
		t.Errorf("line added after the shed, flushed: %q %v", got, err)
	}
}

// A count, top or table of fields never reads a line back (Options.NoRaw):
// the lines of a gzipped backup are then not kept, in memory or in a
// temporary file, and the store is otherwise the same.
func TestNoRawKeepsNoLines(t *testing.T) {
	live := filepath.Join("..", "testdata", "file", "audit.log")
	if gzs, _ := filepath.Glob(filepath.Join("..", "testdata", "file", "audit-*.log.gz")); len(gzs) == 0 {
		t.Fatal("want a gzipped backup beside testdata/file/audit.log")
	}
	full := load(t, Spec{Paths: []string{live}}, Options{})
	none := load(t, Spec{Paths: []string{live}}, Options{NoRaw: true})
	if full.set.spool.size == 0 {
		t.Fatal("the full load kept nothing of the gzipped backup: not the test's input")
	}
	if none.set.spool.size != 0 || none.set.spool.file != nil {
		t.Errorf("NoRaw kept %d bytes (file %v)", none.set.spool.size, none.set.spool.file)
	}
	if len(full.snap.Requests) != len(none.snap.Requests) || full.snap.Events != none.snap.Events {
		t.Fatalf("NoRaw: %d requests, %d events; want %d, %d", len(none.snap.Requests), none.snap.Events, len(full.snap.Requests), full.snap.Events)
	}
	for i, r := range full.snap.Requests {
		o := none.snap.Requests[i]
		if r.AuditID != o.AuditID || r.Verb != o.Verb || r.User != o.User || r.Code != o.Code || len(r.Events) != len(o.Events) || r.First() != o.First() || r.Last() != o.Last() {
			t.Fatalf("request %d differs with NoRaw: %+v / %+v", i, *r, *o)
		}
	}
}
