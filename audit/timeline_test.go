package audit

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit/audittest"
)

// storeOf loads lines into a store (line i at Ref.Line i+1) and returns its
// requests and a reader of their lines.
func storeOf(lines [][]byte) ([]*Request, func(Ref) ([]byte, error)) {
	st := NewStore()
	for i, l := range lines {
		st.AddEvent(l, Ref{Line: int64(i + 1), Len: int32(len(l))})
	}
	return st.Snapshot().Requests, func(r Ref) ([]byte, error) { return lines[r.Line-1], nil }
}

// The timeline of the real logs, checked against the requests themselves:
// each bucket holds the requests received in it, its counts are theirs, and
// each percentile is a latency of the bucket with at least p% of the timed
// requests at or under it and fewer than p% under it.
func TestTimelineOfRealLogs(t *testing.T) {
	reqs, raw := storeOf(realLines(t))
	for _, step := range []time.Duration{10 * time.Second, time.Minute, time.Hour} {
		tl := BuildTimeline(reqs, step, raw)
		if len(tl.Buckets) == 0 {
			t.Fatalf("step %s: no buckets", step)
		}
		total := 0
		for i, b := range tl.Buckets {
			if i > 0 && !b.Start.After(tl.Buckets[i-1].Start) {
				t.Fatalf("step %s: bucket %s after %s", step, b.Start, tl.Buckets[i-1].Start)
			}
			var in, lat []time.Duration
			users := 0
			c4, c5 := 0, 0
			for _, r := range reqs {
				if r.First().IsZero() || r.First().Before(b.Start) || !r.First().Before(b.End(step)) {
					continue
				}
				in = append(in, r.Latency())
				if r.Code >= 400 && r.Code < 500 {
					c4++
				}
				if r.Code >= 500 {
					c5++
				}
				if !LongRunning(r) && r.Code != 0 {
					lat = append(lat, r.Latency())
				}
			}
			for _, u := range b.Users {
				users += int(u.N)
			}
			total += b.Requests
			if b.Requests != len(in) || users != len(in) || b.ClientErrors != c4 || b.ServerErrors != c5 || b.Timed != len(lat) {
				t.Errorf("step %s, bucket %s: requests %d (users add to %d), 4xx %d, 5xx %d, timed %d; the requests received in it: %d, 4xx %d, 5xx %d, timed %d",
					step, b.Start, b.Requests, users, b.ClientErrors, b.ServerErrors, b.Timed, len(in), c4, c5, len(lat))
			}
			for _, pc := range []struct {
				p int
				v time.Duration
			}{{50, b.P50}, {90, b.P90}, {99, b.P99}, {100, b.Max}} {
				atOrUnder, under, found := 0, 0, false
				for _, l := range lat {
					if l <= pc.v {
						atOrUnder++
					}
					if l < pc.v {
						under++
					}
					found = found || l == pc.v
				}
				if len(lat) > 0 && (!found || atOrUnder*100 < pc.p*len(lat) || under*100 >= pc.p*len(lat)) {
					t.Errorf("step %s, bucket %s: p%d = %s is not the nearest-rank percentile of its %d latencies", step, b.Start, pc.p, pc.v, len(lat))
				}
			}
		}
		withTime := 0
		for _, r := range reqs {
			if !r.First().IsZero() {
				withTime++
			}
		}
		if total != withTime || tl.Requests != withTime {
			t.Errorf("step %s: buckets hold %d requests (Requests %d); %d have a receive time", step, total, tl.Requests, withTime)
		}
	}
}

// The latency breakdown of testdata/answers (a real apiserver with etcd
// stalled and late webhooks): per bucket, each layer's time is the sum of
// that annotation over the bucket's slow requests, read here straight from
// the lines with gjson.
func TestTimelineLatencyLayersOfRealSlowRequests(t *testing.T) {
	var lines [][]byte
	for _, p := range audittest.Logs(t, "answers") {
		for l := range bytes.Lines(audittest.ReadLog(t, p)) {
			lines = append(lines, bytes.TrimRight(l, "\n"))
		}
	}
	reqs, raw := storeOf(lines)
	step := 10 * time.Second
	tl := BuildTimeline(reqs, step, raw)

	want := map[time.Time]map[string]time.Duration{}
	slow := map[time.Time]int{}
	for _, l := range lines {
		if gjson.GetBytes(l, "stage").String() != "ResponseComplete" {
			continue
		}
		at := gjson.GetBytes(l, "requestReceivedTimestamp").Time().UTC().Truncate(step)
		if gjson.GetBytes(l, "stageTimestamp").Time().Sub(gjson.GetBytes(l, "requestReceivedTimestamp").Time()) > SlowRequest {
			slow[at]++
		}
		gjson.GetBytes(l, "annotations").ForEach(func(k, v gjson.Result) bool {
			layer, ok := strings.CutPrefix(k.String(), LatencyAnnotation)
			if ok && layer != "total" {
				d, _ := time.ParseDuration(v.String())
				if want[at] == nil {
					want[at] = map[string]time.Duration{}
				}
				want[at][layer] += d
			}
			return true
		})
	}
	if len(want) == 0 {
		t.Fatal("no latency annotations in testdata/answers: the test checks nothing")
	}
	found := map[string]bool{}
	for _, b := range tl.Buckets {
		got := map[string]time.Duration{}
		for _, c := range b.Layers {
			got[c.Value] = time.Duration(c.N)
			found[c.Value] = true
		}
		if len(got) == 0 {
			got = nil
		}
		if !reflect.DeepEqual(got, want[b.Start]) || b.Slow != slow[b.Start] {
			t.Errorf("bucket %s: %d slow, layers %v; the lines say %d slow, %v", b.Start, b.Slow, got, slow[b.Start], want[b.Start])
		}
	}
	for _, layer := range []string{"etcd", "validating-webhook", "mutating-webhook"} {
		if !found[layer] {
			t.Errorf("no bucket shows time in %s", layer)
		}
	}
}

// BuildTimeline over a generated log (go run ./hack/genlog -size 1GB -o
// testdata/big/audit-1GB.log), as the explorer's Timeline opens on it:
//
//	go test ./audit -run '^$' -bench BuildTimeline -benchtime 5x
func BenchmarkBuildTimeline(b *testing.B) {
	data, err := os.ReadFile("../testdata/big/audit-1GB.log")
	if err != nil {
		b.Skipf("%v: make it with hack/genlog", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	reqs, raw := storeOf(lines)
	b.ResetTimer()
	for range b.N {
		BuildTimeline(reqs, time.Minute, raw)
	}
	b.ReportMetric(float64(len(reqs)), "requests")
}
