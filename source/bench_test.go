package source

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// benchLog is the log BenchmarkLoad reads; KAUDITUI_BENCH_LOG overrides it.
func benchLog(b *testing.B) string {
	if p := os.Getenv("KAUDITUI_BENCH_LOG"); p != "" {
		return p
	}
	p := filepath.Join("..", "testdata", "big", "audit-100MB.log")
	if _, err := os.Stat(p); err != nil {
		b.Skipf("%s missing: make it with `go run ./hack/genlog -size 100MB` from the repository root", p)
	}
	return p
}

// BenchmarkLoad reads, classifies and merges a generated log (file mode).
// It reports MB/s and allocations per audit event.
func BenchmarkLoad(b *testing.B) { benchmarkLoad(b) }

// BenchmarkLoadSequential is BenchmarkLoad on one goroutine.
func BenchmarkLoadSequential(b *testing.B) {
	defer setWorkers(1)()
	benchmarkLoad(b)
}

func setWorkers(n int) (restore func()) {
	old := loadWorkers
	loadWorkers = func() int { return n }
	return func() { loadWorkers = old }
}

func benchmarkLoad(b *testing.B) {
	path := benchLog(b)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	var events int
	var allocs uint64
	for b.Loop() {
		set, err := Open(context.Background(), Spec{Paths: []string{path}}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		st := audit.NewStore()
		before := mallocs()
		if err := set.Load(context.Background(), st); err != nil {
			b.Fatal(err)
		}
		allocs += mallocs() - before
		events += st.Snapshot().Events
		set.Close()
	}
	b.ReportMetric(float64(allocs)/float64(events), "allocs/event")
}

// BenchmarkLoadIndexed is the explorer's load: a trail (a folder holding
// audit.log and its rotated backups, $KAUDITUI_BENCH_TRAIL; skipped when
// unset) read into an indexing store (audit.NewIndexingStore), as
// `kauditui explore` reads it. It reports the process's CPU time per
// request besides the time.
func BenchmarkLoadIndexed(b *testing.B) {
	dir := os.Getenv("KAUDITUI_BENCH_TRAIL")
	if dir == "" {
		b.Skip("KAUDITUI_BENCH_TRAIL is not set (make a trail with `go run ./hack/genlog -trail DIR -size 1GB`)")
	}
	var cpu time.Duration
	requests := 0
	for b.Loop() {
		set, err := Open(context.Background(), Spec{Paths: []string{filepath.Join(dir, "audit.log")}}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		ix := audit.NewIndex()
		st := audit.NewIndexingStore(ix)
		before := processCPU()
		if err := set.Load(context.Background(), st); err != nil {
			b.Fatal(err)
		}
		st.Finish()
		cpu += processCPU() - before
		st.Read(func(audit.Snapshot) { requests += ix.Len() })
		set.Close()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(requests), "cpu-ns/request")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
