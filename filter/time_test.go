package filter

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// timedCorpus is crafted: one request (a RequestReceived and a
// ResponseComplete line) received at each time, named by its index.
func timedCorpus(t *testing.T, received ...string) ([]*audit.Request, [][]byte) {
	t.Helper()
	st := audit.NewStore()
	var lines [][]byte
	for i, at := range received {
		for _, stage := range []string{"RequestReceived", "ResponseComplete"} {
			l := fmt.Appendf(nil, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"r%d","stage":%q,"requestURI":"/api/v1/pods","verb":"list","user":{"username":"alice"},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, i, stage, at, at)
			if _, _, ok := st.AddEvent(l, audit.Ref{Line: int64(len(lines) + 1)}); !ok {
				t.Fatalf("not an event: %s", l)
			}
			lines = append(lines, l)
		}
	}
	return st.Snapshot().Requests, lines
}

// A time names the whole span of its last digit, so a time copied from a
// table that shows seconds (or minutes, or a day) finds its rows; a time
// without a zone is read in now's location (the --tz zone); and the
// prefilter keeps every line of a request Match keeps.
func TestTimePrecisionAndZone(t *testing.T) {
	reqs, lines := timedCorpus(t,
		"2026-11-26T09:59:59.999999Z", // 0
		"2026-11-26T10:00:00.5Z",      // 1
		"2026-11-26T10:00:01Z",        // 2
		"2026-11-26T10:00:01.999999Z", // 3
		"2026-11-26T10:00:02Z",        // 4
		"2026-11-26T10:00:59.999999Z", // 5
		"2026-11-26T10:01:00Z",        // 6
		"2026-11-26T23:59:59.999999Z", // 7
		"2026-11-27T00:00:00Z",        // 8
	)
	utc := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	tokyo := utc.In(time.FixedZone("JST", 9*3600))
	for _, c := range []struct {
		expr string
		now  time.Time
		want string
	}{
		{"until=2026-11-26T10:00:01Z", utc, "0 1 2 3"},
		{"since=2026-11-26T10:00:01Z", utc, "2 3 4 5 6 7 8"},
		{`until="2026-11-26 10:00:01Z"`, utc, "0 1 2 3"},
		{`since="2026-11-26 10:00:01Z" until="2026-11-26 10:00:01Z"`, utc, "2 3"},
		{"since=2026-11-26T10:00:01 until=2026-11-26T10:00:01", utc, "2 3"},
		{"since=2026-11-26T19:00:01+09:00 until=2026-11-26T19:00:01+09:00", utc, "2 3"},
		{"since=2026-11-26T19:00:01 until=2026-11-26T19:00:01", tokyo, "2 3"},
		{`since="2026-11-26 19:00:01" until="2026-11-26 19:00:01+09:00"`, tokyo, "2 3"},
		{"since=2026-11-26T10:00:01Z until=2026-11-26T10:00:01Z", tokyo, "2 3"},
		{"until=2026-11-26T10:00:01.0Z", utc, "0 1 2"},
		{"until=2026-11-26T10:00:01.999Z", utc, "0 1 2 3"},
		{"until=2026-11-26T10:00:01.999998Z", utc, "0 1 2"},
		{"until=2026-11-26T10:00:01.9999989Z", utc, "0 1 2"},
		{"until=2026-11-26T10:00:01.999999000Z", utc, "0 1 2 3"},
		{"since=2026-11-26T10:00:01.9999995Z", utc, "3 4 5 6 7 8"},
		{"since=2026-11-26T10:00Z until=2026-11-26T10:00Z", utc, "1 2 3 4 5"},
		{"since=2026-11-26T10:00 until=2026-11-26T10:00", utc, "1 2 3 4 5"},
		{"since=2026-11-26 until=2026-11-26", utc, "0 1 2 3 4 5 6 7"},
		{"since=2026-11-26 until=2026-11-26", tokyo, "0 1 2 3 4 5 6"}, // a Tokyo day: 15:00Z to 15:00Z
		{"since=2026-11-27 until=2026-11-27", tokyo, "7 8"},
		{"until=2026-11-26T09:59:59Z", utc, "0"},
	} {
		f, err := Parse(c.expr, c.now)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var got []string
		for i, r := range reqs {
			if f.Match(r) {
				got = append(got, fmt.Sprint(i))
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%s (now in %s): %q, want %q", c.expr, c.now.Location(), g, c.want)
		}
		for _, pre := range []func(line []byte) bool{f.Prefilter(), f.RowPrefilter()} {
			for i, r := range reqs {
				if !f.Match(r) {
					continue
				}
				for _, l := range lines[2*i : 2*i+2] {
					if pre != nil && !pre(l) {
						t.Errorf("%s: the prefilter drops a line of matching request %d: %s", c.expr, i, l)
					}
				}
			}
		}
	}
}
