package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"

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
