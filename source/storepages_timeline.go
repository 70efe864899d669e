package source

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// The timeline (`query --timeline`, the explorer's Timeline) of a store's
// answer, computed by the store where its figure is kauditui's:
//
//   - requests, 4xx, 5xx, users, verbs and codes a step: the store's stats
//     over the last stage of each request, grouped by the step of the
//     receive time (filter.HistogramStep), the user, the impersonated user,
//     the verb and the code;
//   - the latency percentiles, the maximum and the slow count: VictoriaLogs'
//     quantile samples (past 10,000 values) and ranks otherwise than the
//     nearest rank, so the store computes each request's latency
//     (filter.LatencyPipes) and sends it with the few fields that say
//     whether it counts (audit.Timed), one short row a request, no event;
//   - where the slow requests spent their time, and a step's slowest: the
//     apiserver's latency annotations, read from the slow requests' lines
//     (audit.LatencyLayers), so those requests are read whole, and they
//     only.
//
// Every figure goes through audit.TimelineBuilder, the files' one home.

// timelineFields are the store's fields the timeline reads beside the
// request's identity: who (user and impersonated user), the code, and the
// subresource that makes a request long-running; StatsChecks checks that
// each request's last stage holds its value.
func timelineFields() []string {
	return append(append(filter.TopStoreFields("user"), filter.TopStoreFields("code")...), "objectRef.subresource")
}

// latencyExact asks the store whether its latencies are kauditui's
// (filter.LogsQL.LatencyChecks): "" when they are, else why not.
func (c *StoreStats) latencyExact(ctx context.Context) (string, error) {
	var rows []gjson.Result
	for _, check := range c.q.LatencyChecks(c.st.Streams()) {
		row, err := c.st.row(ctx, check)
		if err != nil {
			return "", err
		}
		if !row.IsObject() {
			return noChecks, nil
		}
		rows = append(rows, row)
	}
	return filter.LatencyExact(func(name string) int64 {
		for _, r := range rows {
			if v := r.Get(name); v.Exists() {
				return v.Int()
			}
		}
		return 0
	}), nil
}

// wholeBatch is how many requests one read of whole requests names.
const wholeBatch = 500

// Timeline is the matching requests' timeline at step, as
// audit.BuildTimeline makes it of the same requests (raw reading their
// lines); slowest asks for each step's slowest request too (the explorer
// shows it; `query --timeline` does not), which reads one request a step
// whole. An errInexact says why the store cannot give kauditui's figure.
// Ask Stats (with timelineFields) and latencyExact first.
func (c *StoreStats) Timeline(ctx context.Context, step time.Duration, slowest bool) (audit.Timeline, error) {
	var batch *StorePage // the whole requests being added: the builder reads their lines
	b := audit.NewTimelineBuilder(step, func(ref audit.Ref) ([]byte, error) {
		if batch == nil {
			return nil, fmt.Errorf("no line read")
		}
		return batch.Raw(ref)
	})
	bad := func(r gjson.Result, what string) error {
		return fmt.Errorf("store %s: %s came back as %q", c.st.display, what, clean([]byte(r.Raw), 80))
	}
	received := func(r gjson.Result) (time.Time, error) {
		t := audit.ParseTime(r.Get(filter.ReceivedField).String())
		if t.IsZero() {
			return t, bad(r, "a receive time")
		}
		return t, nil
	}
	by := append([]string{filter.HistogramStep(step)}, filter.TopStoreFields("user")...)
	by = append(append(by, "verb"), filter.TopStoreFields("code")...)
	err := c.st.rows(ctx, c.one+" | stats by ("+strings.Join(by, ", ")+") count() as n", math.MaxInt, func(r gjson.Result) error {
		at, err := received(r)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(r.Get("n").String())
		if err != nil {
			return bad(r, "a count")
		}
		req, err := topRequest(r, "")
		if err != nil {
			return err
		}
		b.AddCount(at, req.Who, req.What, n)
		return nil
	})
	if err != nil {
		return audit.Timeline{}, err
	}

	// one row a request: its latency, and what says whether it counts
	type timed struct {
		at  time.Time
		id  string
		lat time.Duration
	}
	var whole []timed           // the slow requests, and each step's slowest
	best := map[time.Time]int{} // per step, its slowest so far in whole
	// short names, and the auditID only where it is read (a slow request;
	// with slowest, any): 70 bytes a request
	ids := ""
	if !slowest {
		ids = ` | format if (lat:<=` + strconv.FormatInt(audit.SlowRequest.Microseconds(), 10) + `) "" as auditID`
	}
	code := filter.TopStoreFields("code")[0]
	pipes := filter.LatencyPipes + ids + " | fields auditID, " + filter.ReceivedField + ", verb, objectRef.subresource, " + code + ", lat" +
		" | rename auditID as i, " + filter.ReceivedField + " as t, verb as v, objectRef.subresource as s, " + code + " as c"
	err = c.st.rows(ctx, c.one+pipes, math.MaxInt, func(r gjson.Result) error {
		code, err := storeCode(r.Get("c").String())
		if err != nil {
			return err
		}
		req := audit.NewRequest(audit.Who{}, audit.What{Verb: r.Get("v").String(), Subresource: r.Get("s").String(), Code: code}, "", "", "")
		if !audit.Timed(req) {
			return nil
		}
		at := audit.ParseTime(r.Get("t").String())
		if at.IsZero() {
			return bad(r, "a receive time")
		}
		us, err := strconv.ParseInt(r.Get("lat").String(), 10, 64)
		if err != nil || us > math.MaxInt64/int64(time.Microsecond) || us < math.MinInt64/int64(time.Microsecond) {
			return errInexact{"the store cannot compute the latency of some requests (" + clean([]byte(r.Get("lat").String()), 20) + ")"}
		}
		t := timed{at: at, id: r.Get("i").String(), lat: time.Duration(us) * time.Microsecond}
		b.AddLatency(at, t.lat)
		switch start := at.UTC().Truncate(step); {
		case t.lat > audit.SlowRequest:
			whole = append(whole, t)
		case slowest:
			// the first of the highest latency in the answer's order
			// (receive time, auditID): the order the explorer's rows of a
			// store are in
			i, ok := best[start]
			if !ok {
				best[start] = len(whole)
				whole = append(whole, t)
				break
			}
			o := whole[i]
			if t.lat > o.lat || t.lat == o.lat && cmp.Or(t.at.Compare(o.at), strings.Compare(t.id, o.id)) < 0 {
				whole[i] = t
			}
		}
		return nil
	})
	if err != nil {
		return audit.Timeline{}, err
	}
	// added in the answer's order: a step's slowest is the first of the
	// highest latency
	slices.SortFunc(whole, func(x, y timed) int { return cmp.Or(x.at.Compare(y.at), strings.Compare(x.id, y.id)) })
	for len(whole) > 0 {
		n := min(len(whole), wholeBatch)
		ids := make([]string, n)
		for i, t := range whole[:n] {
			ids[i] = t.id
		}
		pg, err := c.whole(ctx, ids, 1)
		if err != nil {
			return audit.Timeline{}, err
		}
		if len(pg.Requests) != n {
			return audit.Timeline{}, errInexact{"the store gave " + strconv.Itoa(len(pg.Requests)) + " requests for " + strconv.Itoa(n) + " auditIDs of slow requests"}
		}
		batch = pg
		for i, r := range pg.Requests {
			if r.Latency() != whole[i].lat || !r.First().Equal(whole[i].at) {
				return audit.Timeline{}, errInexact{"a slow request read whole is not the one the store counted"}
			}
			b.AddWhole(r)
		}
		batch = nil
		whole = whole[n:]
	}
	return b.Timeline(), nil
}

// storeTimeline is StoreCounts' `--timeline`.
func storeTimeline(ctx context.Context, sp *StoreSpec, step time.Duration, w io.Writer, warn func(string)) (n int, ok bool, err error) {
	var said []string
	c, err := sp.counter(ctx, func(s string) { said = append(said, s) })
	tell := func() {
		for _, s := range said {
			warn(s)
		}
	}
	var tl audit.Timeline
	if err == nil && c.Why == "" {
		more := timelineFields()
		tl, c.Why, err = c.checkedTimeline(ctx, step, false, func(ctx context.Context) (string, error) {
			return c.exact(ctx, true, more)
		}, c.latencyExact)
	}
	if err != nil {
		tell()
		return 0, false, err
	}
	if c.Why != "" {
		if c.Why != noChecks && c.Why != noLines { // the reading says why itself
			warn("counting from the store's whole answer, downloaded: " + render.Sanitize(c.Why))
		}
		return 0, false, nil
	}
	tell()
	if err != nil {
		return 0, false, err
	}
	var b strings.Builder
	for _, l := range render.TimelineText(tl, 0) {
		b.WriteString(l + "\n")
	}
	_, err = io.WriteString(w, b.String())
	return tl.Requests, err == nil, err
}

// Span is the first and the last receive time of the matching requests
// (zero when none matches), for the explorer's histogram to choose its
// step. Ask Exact first: the times are then written as kube-apiserver
// writes them, so the store's order of the text is the times'.
func (p *StorePages) Span(ctx context.Context) (lo, hi time.Time, err error) {
	row, err := p.stats.st.row(ctx, p.stats.one+" | stats min("+filter.ReceivedField+") as lo, max("+filter.ReceivedField+") as hi")
	if err != nil {
		return lo, hi, err
	}
	if l, h := row.Get("lo").String(), row.Get("hi").String(); l != "" && h != "" {
		lo, hi = audit.ParseTime(l), audit.ParseTime(h)
		if lo.IsZero() || hi.IsZero() {
			return time.Time{}, time.Time{}, fmt.Errorf("store %s: the first and last receive times came back as %q", p.stats.st.display, clean([]byte(row.Raw), 80))
		}
	}
	return lo, hi, nil
}

// Timeline is the matching requests' timeline at step, computed by the
// store (StoreStats.Timeline, each step's slowest too); full false asks
// only for the requests a step (Histogram: the Summary's). why says why
// the store cannot give kauditui's figures (nothing is computed then).
// Ask Exact first.
func (p *StorePages) Timeline(ctx context.Context, step time.Duration, full bool) (tl audit.Timeline, why string, err error) {
	if !full {
		h, err := p.Histogram(ctx, step)
		tl.Step = step
		for _, b := range h {
			tl.Buckets = append(tl.Buckets, audit.Bucket{Start: b.Start, Requests: int(b.Requests)})
			tl.Requests += int(b.Requests)
		}
		return tl, "", err
	}
	p.mu.Lock()
	checked, why := p.tlChecked, p.tlWhy
	p.mu.Unlock()
	if checked {
		if why != "" {
			return tl, why, nil
		}
		return p.stats.checkedTimeline(ctx, step, true)
	}
	more := timelineFields()
	tl, why, err = p.stats.checkedTimeline(ctx, step, true, func(ctx context.Context) (string, error) {
		return p.stats.check(ctx, p.stats.q.FieldChecks(p.stats.st.Streams(), more), false, more)
	}, p.stats.latencyExact)
	if err == nil {
		p.mu.Lock()
		p.tlChecked, p.tlWhy = true, why
		p.mu.Unlock()
	}
	return tl, why, err
}

// checkedTimeline is Timeline after the checks that say whether its
// figures are kauditui's: why is the first check's reason not to trust it,
// or Timeline's (an errInexact), and nothing is computed then. (The checks
// are not asked beside the timeline: a store on few cores then runs each
// query past its -search.maxQueryDuration.)
func (c *StoreStats) checkedTimeline(ctx context.Context, step time.Duration, slowest bool, checks ...func(context.Context) (string, error)) (audit.Timeline, string, error) {
	for _, check := range checks {
		if why, err := check(ctx); err != nil || why != "" {
			return audit.Timeline{}, why, err
		}
	}
	tl, err := c.Timeline(ctx, step, slowest)
	if inexact, is := err.(errInexact); is {
		return audit.Timeline{}, inexact.why, nil
	}
	return tl, "", err
}

// Cost is what reading the answer whole downloads: its events and their
// lines' bytes.
func (p *StorePages) Cost(ctx context.Context) (events, bytes int64, err error) {
	row, err := p.stats.st.row(ctx, p.stats.q.Filter(p.stats.st.Streams())+" | stats count() as events, sum_len(_msg) as bytes") // as the whole answer reads them
	if err != nil {
		return 0, 0, err
	}
	return row.Get("events").Int(), row.Get("bytes").Int(), nil
}
