package filter

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// corpusFilters are the filters of the differential test's corpus.
func corpusFilters(t *testing.T) []string {
	b, err := os.ReadFile("../testdata/diff/filters.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		switch l = strings.TrimSpace(l); {
		case l == "" || strings.HasPrefix(l, "#"):
		case l == `""`:
			out = append(out, "")
		default:
			out = append(out, l)
		}
	}
	return out
}

// Every filter of the corpus picks the same requests from an index as
// MatchRaw does from the store, on the real logs and the crafted ones of
// testdata/diff; with every row in the columns, and with the index synced
// while the store grows (rows read from their request until done).
func TestIndexMatcherAgrees(t *testing.T) {
	logs := [][]string{realLogs(), {"../testdata/answers/audit.log"}, {"../testdata/hostile/audit.log"},
		{"../testdata/trust/reused-id/audit.log"}, {"../testdata/sample.log"}}
	crafted, _ := filepath.Glob("../testdata/diff/*.log*")
	for _, p := range crafted {
		logs = append(logs, []string{p})
	}
	filters := corpusFilters(t)
	for _, paths := range logs {
		c := loadFiles(t, paths...)
		now := c.now()
		snap := c.store.Snapshot()
		sealed := audit.NewIndex()
		sealed.Sync(snap)
		sealed.Seal(true)
		partly := audit.NewIndex()
		partly.Sync(audit.Snapshot{Requests: snap.Requests[:len(snap.Requests)/2]})
		partly.Seal(true)
		partly.Sync(snap) // the second half stays in the tail: few are done... or sealed when done
		for _, expr := range filters {
			f, err := Parse(expr, now)
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			var want []int32
			for i, r := range c.reqs {
				if f.MatchRaw(r, c.raw) {
					want = append(want, int32(i))
				}
			}
			for name, ix := range map[string]*audit.Index{"sealed": sealed, "synced": partly} {
				m := f.ForIndex(c.raw)
				var p audit.Probe
				half := ix.Len() / 2
				got := m.Scan(ix, 0, half, &p, nil) // decided on the row
				m.Prepare(ix)
				got = m.Scan(ix, half, ix.Len(), &p, got) // decided before
				if !slices.Equal(got, want) {
					t.Errorf("%s (%s index): %q matches rows %v, want %v", filepath.Base(paths[len(paths)-1]), name, expr, short(got), short(want))
				}
			}
		}
	}
}

func short(rows []int32) []int32 {
	if len(rows) > 12 {
		return rows[:12]
	}
	return rows
}

// How long a re-filter of the index takes, per row, on a big log
// (KAUDITUI_INDEX_LOG, e.g. testdata/big/audit-1GB.log from hack/genlog):
// a measurement for the table, not a timed test (2 shared cores).
func TestIndexScanTime(t *testing.T) {
	path := os.Getenv("KAUDITUI_INDEX_LOG")
	if path == "" {
		t.Skip("KAUDITUI_INDEX_LOG names a big log")
	}
	c := loadFiles(t, path)
	ix := audit.NewIndex()
	ix.Sync(c.store.Snapshot())
	ix.Seal(true)
	now := c.now()
	for _, expr := range []string{"verb=delete", "user=needle*", "ns=kube-system verb=get,list code>=400", "resource=pods name=web-*", "latency>1s", "uri=*watch=true*", "id=3f2a*"} {
		f, err := Parse(expr, now)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m := f.ForIndex(c.raw)
		m.Prepare(ix)
		var p audit.Probe
		rows := m.Scan(ix, 0, ix.Len(), &p, nil)
		d := time.Since(start)
		t.Logf("%-40q %7d of %d rows in %v (%.1f ns a row; %v for 6 M rows)", expr, len(rows), ix.Len(), d.Round(time.Millisecond),
			float64(d.Nanoseconds())/float64(ix.Len()), (d * time.Duration(6_000_000) / time.Duration(ix.Len())).Round(time.Millisecond))
	}
}
