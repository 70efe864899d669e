package audit

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// goneSet answers for every hash added, newest entry first, through the
// pending table, the runs and their merges, and for none it was not given.
func TestGoneSetFindsWhatWasAdded(t *testing.T) {
	defer smallGonePend()()
	gonePend := 1 << (gonePendLog - 1)
	var g goneSet
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[uint64]uint32{}
	var order []uint64
	for i := 0; i < 5*gonePend+77; i++ {
		h := rng.Uint64() | 1
		if i%10 == 9 { // an ID forgotten again, with another time
			h = order[rng.IntN(len(order))]
		}
		at := int64(i) * 1000
		g.add(h, at)
		if _, ok := want[h]; !ok {
			order = append(order, h)
		}
		want[h] = timeHash(at)
	}
	for _, h := range order {
		if ts, ok := g.find(h); !ok || ts != want[h] {
			t.Fatalf("find(%x) = %d, %v; want %d (the newest)", h, ts, ok, want[h])
		}
	}
	for i := 0; i < 100000; i++ {
		h := rng.Uint64() | 1
		if _, ok := want[h]; ok {
			continue
		}
		if _, ok := g.find(h); ok {
			t.Fatalf("find(%x) found a hash never added", h)
		}
	}
}

// A streaming store knows a request it forgot long ago (in goneSet's runs,
// or still in its pending table) when one of its lines comes again: a
// repeat is dropped and counted, another request with its auditID is
// flagged, as a full store does; for the lines merged on a loader's
// workers (AddPrescanned) as for those merged whole (AddEvent). Crafted
// from the real events of testdata/sample.log.
func TestStreamingStoreKnowsRequestsForgottenLongAgo(t *testing.T) {
	b, err := os.ReadFile("../testdata/sample.log")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := string(bytes.SplitN(b, []byte("\n"), 3)[1]) // the ResponseComplete of a create
	re := regexp.MustCompile(`"(auditID|requestReceivedTimestamp|stageTimestamp)":"[^"]*"`)
	at := func(ms int) string {
		return time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC).Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z")
	}
	line := func(n, received int) []byte {
		return []byte(re.ReplaceAllStringFunc(tmpl, func(m string) string {
			switch {
			case strings.HasPrefix(m, `"auditID"`):
				return fmt.Sprintf(`"auditID":"5e1f0000-0000-4000-8000-%012d"`, n)
			case strings.HasPrefix(m, `"requestReceivedTimestamp"`):
				return `"requestReceivedTimestamp":"` + at(received) + `"`
			}
			return `"stageTimestamp":"` + at(received+1) + `"`
		}))
	}
	defer smallGonePend()()
	gonePend := 1 << (gonePendLog - 1)
	n := 4*gonePend + recentDone + 100
	var lines [][]byte
	for i := 0; i < n; i++ {
		lines = append(lines, line(i, 10*i))
	}
	lines = append(lines,
		line(5, 50),     // a repeat of a request in a run
		line(6, 10*n+7), // its ID, another request: shared
		line(n-recentDone-9, 10*(n-recentDone-9)), // a repeat of one still pending
		line(n-recentDone-8, 10*n+9),              // shared with one still pending
		line(n-3, 10*(n-3)),                       // a repeat of one not yet forgotten
	)
	full := NewStore()
	for i, l := range lines {
		full.AddEvent(l, Ref{Off: int64(i)})
	}
	want := full.Snapshot()
	if want.Duplicates != 2+1 || want.SharedIDs != 4 {
		t.Fatalf("the crafted log is not what the test is about: %d repeats, %d shared", want.Duplicates, want.SharedIDs)
	}
	for _, prescanned := range []bool{false, true} {
		handed := 0
		st := NewStreamingStore(func(*Request) { handed++ })
		for i, l := range lines {
			if prescanned {
				var p Prescan
				p.Scan(l)
				st.AddPrescanned(&p, Ref{Off: int64(i)})
			} else {
				st.AddEvent(l, Ref{Off: int64(i)})
			}
		}
		st.Finish()
		got := st.Snapshot()
		if handed != len(want.Requests) || got.Duplicates != want.Duplicates || got.SharedIDs != want.SharedIDs {
			t.Errorf("prescanned %v: %d requests, %d repeats, %d shared; a full store has %d, %d, %d",
				prescanned, handed, got.Duplicates, got.SharedIDs, len(want.Requests), want.Duplicates, want.SharedIDs)
		}
	}
}

// smallGonePend makes goneSet's pending table small, so that a test makes
// runs and merges them with a few thousand requests; it returns the undo.
func smallGonePend() func() {
	old := gonePendLog
	gonePendLog = 12
	return func() { gonePendLog = old }
}
