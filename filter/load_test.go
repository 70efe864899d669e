package filter

import (
	"bytes"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// corpus is audit logs read line by line into an audit.Store, with the raw
// bytes kept in memory so bare words can be searched. It is a small local
// loader: the source package does the real reading.
type corpus struct {
	store *audit.Store
	reqs  []*audit.Request
	data  [][]byte // by Ref.Input
}

func (c *corpus) raw(ref audit.Ref) ([]byte, error) {
	return c.data[ref.Input][ref.Off : ref.Off+int64(ref.Len)], nil
}

// loadFiles reads the given audit logs (plain or .gz) in order.
func loadFiles(tb testing.TB, paths ...string) *corpus {
	tb.Helper()
	c := &corpus{store: audit.NewStore()}
	for i, p := range paths {
		b := audittest.ReadLog(tb, p)
		c.data = append(c.data, b)
		off, line := 0, int64(0)
		for off < len(b) {
			end := bytes.IndexByte(b[off:], '\n')
			if end < 0 {
				end = len(b) - off
			}
			line++
			c.store.AddEvent(b[off:off+end], audit.Ref{Input: int32(i), Len: int32(end), Off: int64(off), Line: line})
			off += end + 1
		}
	}
	c.reqs = c.store.Snapshot().Requests
	return c
}

// query returns the requests a filter expression selects, with MatchRaw.
func (c *corpus) query(tb testing.TB, expr string) []*audit.Request {
	tb.Helper()
	f, err := Parse(expr, c.now())
	if err != nil {
		tb.Fatalf("Parse(%q): %v", expr, err)
	}
	var out []*audit.Request
	for _, r := range c.reqs {
		if f.MatchRaw(r, c.raw) {
			out = append(out, r)
		}
	}
	return out
}

// now is the time of the last request, so relative times mean "before the
// end of the log" and tests do not depend on the clock.
func (c *corpus) now() (t time.Time) {
	for _, r := range c.reqs {
		if r.First().After(t) {
			t = r.First()
		}
	}
	return t
}
