package filter

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
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
	logs := [][]string{audittest.Logs(t, "file"), {audittest.Path("answers", "audit.log")}, {audittest.Path("hostile", "audit.log")},
		{audittest.Path("trust", "reused-id", "audit.log")}, {"../testdata/sample.log"}}
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

// The result kept up to date as the index grows (the explorer's
// incremental re-filter) is, at every step, what a full scan of the index
// says, and at the end what MatchRaw picks from a full store: the log fed a
// few lines at a time into an indexing store and, apart, into a full store
// synced into an index, every corpus filter's result updated in between.
func TestIndexResultIncremental(t *testing.T) {
	logs := [][]string{audittest.Logs(t, "file"), audittest.Logs(t, "answers"), {audittest.Path("trust", "reused-id", "audit.log")},
		{"../testdata/sample.log"}, {"../testdata/diff/genlog.log"}, {"../testdata/diff/reversed-stages.log"},
		{"../testdata/diff/contradicting-stages.log"}, {"../testdata/diff/kubelet-401.log"}, {"../testdata/diff/missing-stages.log"}}
	// and a word only a first stage read after the last holds (a row
	// written again: Index.Rewritten)
	filters := append(corpusFilters(t), "RequestReceived")
	for _, paths := range logs {
		c := loadFiles(t, paths...) // the reference, and the lines
		step := 7                   // lines between two updates
		switch {
		case len(c.reqs) < 500:
			step = 1
		case raceEnabled || testing.Short():
			continue // the small logs are enough there: minutes otherwise
		}
		now := c.now()
		var fs []*Filter
		for _, expr := range filters {
			f, err := Parse(expr, now)
			if err != nil {
				t.Fatal(err)
			}
			fs = append(fs, f)
		}
		for _, feed := range []string{"indexing", "sync"} {
			ix := audit.NewIndex()
			st := audit.NewStore()
			if feed == "indexing" {
				st = audit.NewIndexingStore(ix)
			}
			results := make([]*IndexResult, len(fs))
			for i, f := range fs {
				results[i] = f.ForIndex(c.raw).Result()
			}
			update := func(check bool) {
				st.Read(func(s audit.Snapshot) {
					if feed == "sync" {
						ix.Sync(s)
					}
					for i, r := range results {
						r.Update(ix)
						if !check {
							continue
						}
						var p audit.Probe
						m := fs[i].ForIndex(c.raw)
						m.Prepare(ix)
						if want := m.Scan(ix, 0, ix.Len(), &p, nil); !slices.Equal(r.Rows(), want) {
							t.Fatalf("%s, %s feed, %q after an update: rows %v, a full scan %v", paths[0], feed, filters[i], short(r.Rows()), short(want))
						}
					}
				})
			}
			lines := 0
			for in, b := range c.data {
				off, line := 0, int64(0)
				for off < len(b) {
					end := bytes.IndexByte(b[off:], '\n')
					if end < 0 {
						end = len(b) - off
					}
					line++
					st.AddEvent(b[off:off+end], audit.Ref{Input: int32(in), Len: int32(end), Off: int64(off), Line: line})
					off += end + 1
					if lines++; lines%step == 0 {
						update(lines%(step*11) == 0)
					}
				}
			}
			st.Finish()
			if feed == "sync" {
				st.Read(func(s audit.Snapshot) { ix.Sync(s) })
				ix.Seal(true)
			}
			update(true)
			for i, f := range fs {
				var want []int32
				for row, r := range c.reqs {
					if f.MatchRaw(r, c.raw) {
						want = append(want, int32(row))
					}
				}
				if got := results[i].Rows(); !slices.Equal(got, want) || results[i].Count() != len(want) {
					t.Errorf("%s, %s feed: %q kept rows %v (%d), want %v", paths[0], feed, filters[i], short(got), results[i].Count(), short(want))
				}
			}
		}
	}
}

// A result scanned on several goroutines (each a range of whole chunks)
// lists what one scan of the same rows lists, for every corpus filter, on
// the real logs and the generated one, updated at once and a part at a
// time.
func TestIndexResultOnEveryCore(t *testing.T) {
	defer func(n int) { scanPerWorker = n }(scanPerWorker)
	scanPerWorker = 64
	for _, paths := range [][]string{audittest.Logs(t, "file"), {"../testdata/diff/genlog.log"}} {
		c := loadFiles(t, paths...)
		ix := audit.NewIndex()
		ix.Sync(c.store.Snapshot())
		ix.Seal(true)
		now := c.now()
		for _, expr := range corpusFilters(t) {
			f, err := Parse(expr, now)
			if err != nil {
				t.Fatal(err)
			}
			one := f.ForIndex(c.raw).Result()
			one.Update(ix)
			four := f.ForIndex(c.raw).Result()
			for hi := 0; hi < ix.Len(); {
				hi = min(ix.Len(), hi+5000)
				four.UpdateTo(ix, hi, 4)
			}
			if a, b := one.Rows(), four.Rows(); !slices.Equal(a, b) || one.Count() != four.Count() {
				t.Fatalf("%s, %q: on four goroutines %v (%d), on one %v (%d)", paths[0], expr, short(b), four.Count(), short(a), one.Count())
			}
		}
	}
}
