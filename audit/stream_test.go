package audit

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit/audittest"
)

// realLines reads the JSON lines of the real apiserver logs in testdata.
func realLines(t testing.TB) [][]byte {
	t.Helper()
	var lines [][]byte
	for _, p := range []string{audittest.Rotated(t, "file", "audit-*.log"), audittest.Path("file", "audit.log"),
		audittest.Path("trust", "reused-id", "audit.log"), audittest.Path("hostile", "audit.log"), audittest.Path("sample.log")} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v (the real testdata is committed)", err)
		}
		for l := range bytes.Lines(b) {
			if l = bytes.TrimRight(l, "\n"); len(l) > 0 && l[0] == '{' {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// summary is what a query prints of a request.
func summary(r *Request) string {
	return fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%d|%s|%s|%v|%v|%d stages", r.AuditID, r.User, r.ImpersonatedUser, r.Verb,
		r.ResourcePath(), r.Namespace, r.Name, r.Code, r.Stage, r.RequestURI(), r.First(), r.Last(), len(r.Events))
}

// A streaming store hands on every request a full store holds, once, with
// the same fields and stages, and its Seq order is the full store's order.
func TestStreamingStoreHandsOnEveryRequestOnce(t *testing.T) {
	lines := realLines(t)
	full := NewStore()
	var got []string
	var seqs []uint64
	st := NewStreamingStore(func(r *Request) {
		if r.Seq() < uint64(len(seqs)) && slices.Contains(seqs, r.Seq()) {
			t.Errorf("request %d handed on twice", r.Seq())
		}
		seqs = append(seqs, r.Seq())
		got = append(got, fmt.Sprintf("%08d %s", r.Seq(), summary(r)))
	})
	for i, l := range lines {
		ref := Ref{Line: int64(i + 1), Len: int32(len(l))}
		full.AddEvent(l, ref)
		st.AddEvent(l, ref)
	}
	st.Finish()
	var want []string
	for i, r := range full.Snapshot().Requests {
		want = append(want, fmt.Sprintf("%08d %s", i, summary(r)))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("streaming store handed on %d requests, full store holds %d (or they differ)", len(got), len(want))
	}
	fs, ss := full.Snapshot(), st.Snapshot()
	if fs.Events != ss.Events || fs.Duplicates != ss.Duplicates || fs.SharedIDs != ss.SharedIDs {
		t.Errorf("counts: streaming %d events %d dups %d shared, full %d %d %d", ss.Events, ss.Duplicates, ss.SharedIDs, fs.Events, fs.Duplicates, fs.SharedIDs)
	}
	if len(ss.Requests) != 0 {
		t.Errorf("a streaming snapshot lists %d requests, want none", len(ss.Requests))
	}
}

// OldestOpen holds back what a watch still open holds back, and no more.
func TestStreamingStoreOldestOpen(t *testing.T) {
	st := NewStreamingStore(func(*Request) {})
	add := func(id, stage string) {
		t.Helper()
		if _, _, ok := st.AddEvent(sharedEvent(id, stage, "watch", "pods", "p", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.000000Z"), Ref{}); !ok {
			t.Fatal("line does not parse")
		}
	}
	add("w", "RequestReceived") // seq 0, a watch
	add("a", "RequestReceived") // seq 1
	add("a", "ResponseComplete")
	if got := st.OldestOpen(); got != 0 {
		t.Errorf("OldestOpen = %d while the watch is open, want 0", got)
	}
	add("w", "ResponseComplete")
	if got := st.OldestOpen(); got != 2 {
		t.Errorf("OldestOpen = %d once both completed, want 2", got)
	}
}

// Memory follows the requests in flight, not the log: a log four times as
// long leaves the same heap.
func TestStreamingStoreMemoryIsFlat(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("reads a million requests (and the race detector's memory is not the program's)")
	}
	lines := realLines(t)
	heapAfter := func(requests int) uint64 {
		n := 0
		st := NewStreamingStore(func(*Request) { n++ })
		var buf []byte
		for i := 0; n < requests; i++ {
			l := lines[i%len(lines)]
			// a new auditID each time round, so every request is new
			buf = bytes.Replace(append(buf[:0], l...), []byte(`"auditID":"`), fmt.Appendf(nil, `"auditID":"%d-`, i/len(lines)), 1)
			st.AddEvent(buf, Ref{})
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		runtime.KeepAlive(st)
		return ms.HeapAlloc
	}
	small, large := heapAfter(200_000), heapAfter(800_000)
	perRequest := float64(int64(large)-int64(small)) / 600_000
	t.Logf("heap after 200k requests: %d KiB; after 800k: %d KiB (%.1f bytes a request more)", small>>10, large>>10, perRequest)
	// What may grow is the set that recognises repeats however far apart
	// (a hash of each request's auditID and received time): 12 bytes
	// a request, where a request itself takes 300.
	if perRequest > 24 {
		t.Errorf("heap grew from %d KiB to %d KiB with four times the requests: %.0f bytes a request", small>>10, large>>10, perRequest)
	}
}

// A watch open while thousands of requests complete holds OldestOpen at its
// Seq; when it completes, OldestOpen moves past all of them at once.
func TestStreamingStoreLongOpenRequest(t *testing.T) {
	var order []uint64
	st := NewStreamingStore(func(r *Request) { order = append(order, r.Seq()) })
	add := func(id, stage string) {
		t.Helper()
		if _, _, ok := st.AddEvent(sharedEvent(id, stage, "get", "pods", "p", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.000000Z"), Ref{}); !ok {
			t.Fatal("line does not parse")
		}
	}
	add("watch", "RequestReceived")
	const n = 5000
	for i := range n {
		id := fmt.Sprint("r", i)
		add(id, "RequestReceived")
		add(id, "ResponseComplete")
		if got := st.OldestOpen(); got != 0 {
			t.Fatalf("after %d requests OldestOpen = %d, want 0 (the watch)", i+1, got)
		}
	}
	add("watch", "ResponseComplete")
	if got := st.OldestOpen(); got != n+1 {
		t.Fatalf("OldestOpen = %d once the watch completed, want %d", got, n+1)
	}
	add("last", "RequestReceived")
	if got := st.OldestOpen(); got != n+1 {
		t.Fatalf("OldestOpen = %d with a new request open, want %d", got, n+1)
	}
	st.Finish()
	if len(order) != n+2 || order[len(order)-1] != n+1 {
		t.Fatalf("%d requests handed on, the last %d; want %d, the last %d", len(order), order[len(order)-1], n+2, n+1)
	}
}

// BenchmarkStreamMerge is the merging goroutine's share of a streaming
// load (`query --count`): events already scanned, merged into a streaming
// store. It reads the first 100 MB of $KAUDITUI_BENCH_LOG (a log of
// hack/genlog; skipped when unset; KAUDITUI_BENCH_MB reads another size) and reports, besides the time, the CPU
// process's CPU time per event (cpu-ns/event: the merge and its garbage
// collection), which a busy machine disturbs less than the time.
func BenchmarkStreamMerge(b *testing.B) {
	path := os.Getenv("KAUDITUI_BENCH_LOG")
	if path == "" {
		b.Skip("KAUDITUI_BENCH_LOG is not set (make a log with `go run ./hack/genlog -size 100MB`)")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	mb := 100
	if v := os.Getenv("KAUDITUI_BENCH_MB"); v != "" {
		fmt.Sscan(v, &mb)
	}
	buf := make([]byte, mb<<20)
	n, _ := io.ReadFull(f, buf)
	f.Close()
	var pre []Prescan
	for l := range bytes.Lines(buf[:n]) {
		if l = bytes.TrimRight(l, "\n"); len(l) > 0 && l[0] == '{' {
			pre = append(pre, Prescan{})
			pre[len(pre)-1].Scan(l)
		}
	}
	var cpu time.Duration
	events := 0
	for b.Loop() {
		s := NewStreamingStore(func(*Request) {})
		before := processCPU()
		hints := make([]uint64, 0, 1024)
		for i := 0; i < len(pre); i += 1024 { // as a loader's batches are
			batch := pre[i:min(i+1024, len(pre))]
			hints = hints[:0]
			for j := range batch {
				if h := batch[j].Hint(); h != 0 {
					hints = append(hints, h)
				}
			}
			s.Prefetch(hints)
			for k := 0; k < len(batch); {
				n, _ := s.AddPrescannedRun(len(batch)-k, func(j int) (*Prescan, Ref) {
					return &batch[k+j], Ref{Off: int64(i + k + j)}
				})
				if k += n; k < len(batch) {
					s.AddPrescanned(&batch[k], Ref{Off: int64(i + k)}) // not an event: as a loader does
					k++
				}
			}
		}
		cpu += processCPU() - before
		events += len(pre)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
