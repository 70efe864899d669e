package audit

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// A timeline answers "what happened at 3 a.m.?": the requests of each
// minute (or any step), who made them, with which verbs and codes, how long
// they took, and where the apiserver says the slow ones spent their time.

// LatencyAnnotation is the prefix of the annotations in which the apiserver
// breaks down the latency of a request that took over SlowRequest (etcd,
// validating-webhook, apf-queue-wait, ...; and total).
const LatencyAnnotation = "apiserver.latency.k8s.io/"

// SlowRequest is the latency above which the apiserver writes the latency
// breakdown (k8s.io/apiserver endpoints/filters/audit.go: 500 ms).
const SlowRequest = 500 * time.Millisecond

// Timeline is the requests bucketed by their receive time. Only buckets
// with requests are kept: a log of a month at one-minute steps is not a
// slice of 43,200 mostly empty buckets.
type Timeline struct {
	Step     time.Duration
	Buckets  []Bucket // oldest first
	Requests int      // in buckets (requests with a receive time)
}

// Bucket is one step of a timeline.
type Bucket struct {
	Start        time.Time
	Requests     int
	ClientErrors int     // 4xx
	ServerErrors int     // 5xx
	Users        []Count // most first, then by value
	Verbs        []Count
	Codes        []Count // "-" for requests with no code yet

	// Latency of the requests that end when they are answered: watches and
	// connections (exec, attach, port-forward, proxy) last as long as the
	// client wants and would drown the rest.
	Timed              int
	P50, P90, P99, Max time.Duration
	Slowest            *Request

	// Slow is how many requests took over SlowRequest; Layers adds up the
	// apiserver's breakdown of their latency by layer, largest first
	// (without "total").
	Slow   int
	Layers []Count
}

// Count is a value and how many requests (or, for Layers, the time in
// nanoseconds) it has.
type Count struct {
	Value string
	N     int64
}

// End is when the bucket ends.
func (b *Bucket) End(step time.Duration) time.Time { return b.Start.Add(step) }

// LongRunning reports whether a request lasts as long as its client wants
// (watches, exec, attach, port-forward, proxy), so its latency says nothing
// about the apiserver's speed.
func LongRunning(r *Request) bool {
	if r.Verb == "watch" {
		return true
	}
	switch r.Subresource {
	case "exec", "attach", "portforward", "proxy":
		return true
	}
	return false
}

// BuildTimeline buckets reqs by receive time at step. raw reads the last
// event of each slow request again for its latency breakdown; nil skips the
// breakdown. Read the requests under Store.Read while a loader runs.
func BuildTimeline(reqs []*Request, step time.Duration, raw func(Ref) ([]byte, error)) Timeline {
	t := Timeline{Step: step}
	if step <= 0 {
		return t
	}
	type acc struct {
		b                   Bucket
		users, verbs, codes map[string]int64
		layers              map[string]int64
		lat                 []time.Duration
	}
	byStart := map[int64]*acc{}
	for _, r := range reqs {
		if r.First.IsZero() {
			continue
		}
		start := r.First.UTC().Truncate(step)
		a := byStart[start.UnixNano()]
		if a == nil {
			a = &acc{b: Bucket{Start: start}, users: map[string]int64{}, verbs: map[string]int64{}, codes: map[string]int64{}}
			byStart[start.UnixNano()] = a
		}
		t.Requests++
		a.b.Requests++
		a.users[r.Actor()]++
		a.verbs[r.Verb]++
		code := "-"
		if r.Code != 0 {
			code = strconv.Itoa(r.Code)
		}
		a.codes[code]++
		switch {
		case r.Code >= 400 && r.Code < 500:
			a.b.ClientErrors++
		case r.Code >= 500:
			a.b.ServerErrors++
		}
		if LongRunning(r) || r.Code == 0 {
			continue
		}
		l := r.Latency()
		a.lat = append(a.lat, l)
		if a.b.Slowest == nil || l > a.b.Slowest.Latency() {
			a.b.Slowest = r
		}
		if l > SlowRequest {
			a.b.Slow++
			if raw != nil {
				for layer, d := range latencyLayers(r, raw) {
					if a.layers == nil {
						a.layers = map[string]int64{}
					}
					a.layers[layer] += int64(d)
				}
			}
		}
	}
	for _, a := range byStart {
		b := a.b
		b.Users, b.Verbs, b.Codes, b.Layers = counted(a.users), counted(a.verbs), counted(a.codes), counted(a.layers)
		if len(a.lat) > 0 {
			slices.Sort(a.lat)
			b.Timed = len(a.lat)
			b.P50, b.P90, b.P99 = percentile(a.lat, 50), percentile(a.lat, 90), percentile(a.lat, 99)
			b.Max = a.lat[len(a.lat)-1]
		}
		t.Buckets = append(t.Buckets, b)
	}
	slices.SortFunc(t.Buckets, func(x, y Bucket) int { return x.Start.Compare(y.Start) })
	return t
}

// percentile is the nearest-rank percentile of sorted latencies: the
// smallest value with at least p% of them at or under it.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(0, rank-1)]
}

func counted(m map[string]int64) []Count {
	out := make([]Count, 0, len(m))
	for v, n := range m {
		out = append(out, Count{v, n})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Value, b.Value)) })
	return out
}

// LatencyLayers is the apiserver's breakdown of a slow request's latency,
// from the annotations of its last event that has them: layer (etcd,
// validating-webhook, ...) to time, without "total". Values that do not
// parse as durations are left out.
func LatencyLayers(r *Request, raw func(Ref) ([]byte, error)) map[string]time.Duration {
	return latencyLayers(r, raw)
}

func latencyLayers(r *Request, raw func(Ref) ([]byte, error)) map[string]time.Duration {
	for i := len(r.Events) - 1; i >= 0; i-- {
		b, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		var out map[string]time.Duration
		gjson.GetBytes(b, "annotations").ForEach(func(k, v gjson.Result) bool {
			layer, ok := strings.CutPrefix(k.String(), LatencyAnnotation)
			if !ok || layer == "total" || layer == "" {
				return true
			}
			d, err := time.ParseDuration(v.String())
			if err != nil || d < 0 {
				return true
			}
			if out == nil {
				out = map[string]time.Duration{}
			}
			out[layer] += d
			return true
		})
		if out != nil {
			return out
		}
	}
	return nil
}
