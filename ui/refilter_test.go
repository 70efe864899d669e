package ui

import (
	"math/rand"
	"os"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// Filtering as the store grows gives the same list as filtering the whole
// store at the end, also for requests whose match changes with a later
// stage (code=403 is known only at ResponseComplete), at any chunking.
func TestIncrementalFilterMatchesFull(t *testing.T) {
	b, err := os.ReadFile(sampleLog(t))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	rng := rand.New(rand.NewSource(1))
	for _, expr := range []string{"", "code>=400", "code=200 verb=delete", "stage=ResponseComplete",
		"user=kubernetes-admin", "latency>1s", "kubyk"} {
		f, err := filter.Parse(expr, testNow)
		if err != nil {
			t.Fatal(err)
		}
		for round := 0; round < 20; round++ {
			st := audit.NewStore()
			raw := func(r audit.Ref) ([]byte, error) { return []byte(lines[r.Line-1]), nil }
			inc := newFiltered(expr, f, raw)
			for i := 0; i < len(lines); {
				n := 1 + rng.Intn(6)
				for j := i; j < min(len(lines), i+n); j++ {
					st.AddEvent([]byte(lines[j]), audit.Ref{Line: int64(j + 1)})
				}
				i += n
				st.Read(func(s audit.Snapshot) { inc.extend(s.Requests) })
				full := newFiltered(expr, f, raw)
				st.Read(func(s audit.Snapshot) { full.run(s.Requests) })
				if !sameRequests(inc.shown, full.shown) {
					t.Fatalf("%q after %d lines: incremental shows %d, full %d", expr, i, len(inc.shown), len(full.shown))
				}
			}
		}
	}
}

func sameRequests(a, b []*audit.Request) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The parallel full run agrees with a plain loop on a big store (chunk
// boundaries, bit set words).
func TestParallelRunMatchesLoop(t *testing.T) {
	st := audit.NewStore()
	for i, l := range variedLines(t, 70_001) {
		st.AddEvent(l, audit.Ref{Line: int64(i + 1)})
	}
	f, _ := filter.Parse("code>=400", testNow)
	fs := newFiltered("code>=400", f, nil)
	st.Read(func(s audit.Snapshot) { fs.run(s.Requests) })
	var want []*audit.Request
	for _, r := range st.Snapshot().Requests {
		if f.Match(r) {
			want = append(want, r)
		}
	}
	if !sameRequests(fs.shown, want) {
		t.Fatalf("parallel run: %d, loop: %d", len(fs.shown), len(want))
	}
}
