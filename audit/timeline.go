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
// (watches, exec, attach, port-forward, pods/log, proxy), so its latency
// says nothing about the apiserver's speed, and following shows it while
// it is open. The set is the apiserver's own (its long-running check:
// verbs watch and proxy; subresources attach, exec, proxy, log,
// portforward).
func LongRunning(r *Request) bool {
	if r.Verb == "watch" || r.Verb == "proxy" {
		return true
	}
	switch r.Subresource {
	case "exec", "attach", "portforward", "proxy", "log":
		return true
	}
	return false
}

// BuildTimeline buckets reqs by receive time at step. raw reads the last
// event of each slow request again for its latency breakdown; nil skips the
// breakdown. Read the requests under Store.Read while a loader runs.
func BuildTimeline(reqs []*Request, step time.Duration, raw func(Ref) ([]byte, error)) Timeline {
	b := NewTimelineBuilder(step, raw)
	for _, r := range reqs {
		b.Add(r)
	}
	return b.Timeline()
}

// TimelineBuilder makes a timeline one request at a time, so that a
// streaming store can hand requests over and forget them: it keeps a
// latency per request (8 bytes) and counts per bucket, not the requests.
type TimelineBuilder struct {
	step     time.Duration
	raw      func(Ref) ([]byte, error)
	byStart  map[int64]*bucketAcc
	last     *bucketAcc // the bucket of the request added last: the next is mostly in it
	requests int
}

// bucketAcc counts a bucket's requests by their shared Who and What (a
// pointer is quick to hash), folded into users, verbs and codes at the end.
type bucketAcc struct {
	b      Bucket
	whos   map[*Who]int64
	whats  map[*What]int64
	layers map[string]int64
	lat    []time.Duration
}

// NewTimelineBuilder starts an empty timeline; see BuildTimeline.
func NewTimelineBuilder(step time.Duration, raw func(Ref) ([]byte, error)) *TimelineBuilder {
	return &TimelineBuilder{step: step, raw: raw, byStart: map[int64]*bucketAcc{}}
}

// Add counts a request in its bucket.
func (t *TimelineBuilder) Add(r *Request) {
	if r.First().IsZero() || t.step <= 0 {
		return
	}
	a := t.bucket(r.first)
	t.count(a, r.Who, r.What, 1)
	if !Timed(r) {
		return
	}
	t.latency(a, r.Latency())
	t.whole(a, r)
}

// Timed reports whether a request's latency counts in a timeline: it ends
// when it is answered (not LongRunning) and has a code.
func Timed(r *Request) bool { return !LongRunning(r) && r.Code != 0 }

// The parts of Add, for requests counted elsewhere (a store's stats): a
// store counts the requests of a step by who made them and what they
// asked (AddCount), gives the latencies of the timed ones (AddLatency) and
// the slow ones whole (AddWhole), each exactly as Add takes them.

// AddCount counts n requests received at at, made by who, asking what.
func (t *TimelineBuilder) AddCount(at time.Time, who *Who, what *What, n int) {
	if at.IsZero() || t.step <= 0 {
		return
	}
	t.count(t.bucket(stamp(at)), who, what, n)
}

// AddLatency adds the latency of a request counted by AddCount that is
// Timed, received at at.
func (t *TimelineBuilder) AddLatency(at time.Time, d time.Duration) {
	if at.IsZero() || t.step <= 0 {
		return
	}
	t.latency(t.bucket(stamp(at)), d)
}

// AddWhole offers a request counted and timed already (AddCount,
// AddLatency), whole: its step's slowest if none was slower before it, and
// its latency breakdown if it is slow.
func (t *TimelineBuilder) AddWhole(r *Request) {
	if r.First().IsZero() || t.step <= 0 || !Timed(r) {
		return
	}
	t.whole(t.bucket(r.first), r)
}

// bucket is the bucket of the receive time first (a stamp).
func (t *TimelineBuilder) bucket(first int64) *bucketAcc {
	a := t.last
	if a == nil || first < stamp(a.b.Start) || first >= stamp(a.b.Start)+t.step.Microseconds() {
		start := fromStamp(first).UTC().Truncate(t.step)
		a = t.byStart[stamp(start)]
		if a == nil {
			a = &bucketAcc{b: Bucket{Start: start}, whos: map[*Who]int64{}, whats: map[*What]int64{}}
			t.byStart[stamp(start)] = a
		}
		t.last = a
	}
	return a
}

func (t *TimelineBuilder) count(a *bucketAcc, who *Who, what *What, n int) {
	t.requests += n
	a.b.Requests += n
	a.whos[who] += int64(n)
	a.whats[what] += int64(n)
	switch {
	case what.Code >= 400 && what.Code < 500:
		a.b.ClientErrors += n
	case what.Code >= 500:
		a.b.ServerErrors += n
	}
}

func (t *TimelineBuilder) latency(a *bucketAcc, l time.Duration) {
	a.lat = append(a.lat, l)
	if l > SlowRequest {
		a.b.Slow++
	}
}

func (t *TimelineBuilder) whole(a *bucketAcc, r *Request) {
	l := r.Latency()
	if a.b.Slowest == nil || l > a.b.Slowest.Latency() {
		a.b.Slowest = r
	}
	if l > SlowRequest && t.raw != nil {
		for layer, d := range latencyLayers(r, t.raw) {
			if a.layers == nil {
				a.layers = map[string]int64{}
			}
			a.layers[layer] += int64(d) // layer is a copy (gjson.GetBytes)
		}
	}
}

// Timeline is what was added so far, oldest bucket first.
func (t *TimelineBuilder) Timeline() Timeline {
	tl := Timeline{Step: t.step, Requests: t.requests}
	for _, a := range t.byStart {
		b := a.b
		users, verbs, codes := map[string]int64{}, map[string]int64{}, map[string]int64{}
		for w, n := range a.whos {
			users[w.actor()] += n
		}
		for w, n := range a.whats {
			verbs[w.Verb] += n
			code := "-"
			if w.Code != 0 {
				code = strconv.Itoa(w.Code)
			}
			codes[code] += n
		}
		b.Users, b.Verbs, b.Codes, b.Layers = counted(users), counted(verbs), counted(codes), counted(a.layers)
		if len(a.lat) > 0 {
			lat := slices.Sorted(slices.Values(a.lat))
			b.Timed = len(lat)
			b.P50, b.P90, b.P99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
			b.Max = lat[len(lat)-1]
		}
		tl.Buckets = append(tl.Buckets, b)
	}
	slices.SortFunc(tl.Buckets, func(x, y Bucket) int { return x.Start.Compare(y.Start) })
	return tl
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
// parse as durations, are negative or are absurd (see LatencyBreakdown) are
// left out.
func LatencyLayers(r *Request, raw func(Ref) ([]byte, error)) map[string]time.Duration {
	return latencyLayers(r, raw)
}

func latencyLayers(r *Request, raw func(Ref) ([]byte, error)) map[string]time.Duration {
	var out map[string]time.Duration
	for _, l := range LatencyBreakdown(r, raw) {
		if l.Bad != "" || l.Layer == "total" {
			continue
		}
		if out == nil {
			out = map[string]time.Duration{}
		}
		out[l.Layer] += l.D
	}
	return out
}

// Layer is one apiserver.latency.k8s.io/LAYER annotation: its value as
// logged, the duration it says, and why it cannot be trusted ("" when it
// can): "not a duration", "negative", "longer than the request" (more than
// the time between its received and last stage timestamps, with 10% and
// 10 ms to spare: the apiserver measures from a slightly different start).
// A negative total was seen in real data: a value is shown as such, never
// added up.
type Layer struct {
	Layer, Value string
	D            time.Duration
	Bad          string
}

// LatencyBreakdown is the one home of the apiserver's latency annotations
// (authentication, authorization, impersonation, apf-queue-wait, etcd,
// mutating-webhook, validating-webhook, ..., total) of a request, from the
// last event that has them, largest first, "total" last; each checked (Layer.Bad).
// Strings are as logged: sanitise them to print.
func LatencyBreakdown(r *Request, raw func(Ref) ([]byte, error)) []Layer {
	if raw == nil {
		return nil
	}
	lat := r.Latency()
	for i := len(r.Events) - 1; i >= 0; i-- {
		b, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		var out []Layer
		gjson.GetBytes(b, "annotations").ForEach(func(k, v gjson.Result) bool {
			layer, ok := strings.CutPrefix(k.String(), LatencyAnnotation)
			if !ok || layer == "" {
				return true
			}
			l := Layer{Layer: layer, Value: v.String()}
			d, err := time.ParseDuration(strings.TrimSpace(v.String()))
			switch {
			case err != nil:
				l.Bad = "not a duration"
			case d < 0:
				l.Bad = "negative"
			case lat > 0 && d > lat+lat/10+10*time.Millisecond:
				l.Bad = "longer than the request"
			}
			l.D = d
			out = append(out, l)
			return true
		})
		if out != nil {
			slices.SortStableFunc(out, func(a, b Layer) int {
				if (a.Layer == "total") != (b.Layer == "total") {
					if a.Layer == "total" {
						return 1
					}
					return -1
				}
				return cmp.Or(cmp.Compare(b.D, a.D), strings.Compare(a.Layer, b.Layer))
			})
			return out
		}
	}
	return nil
}
