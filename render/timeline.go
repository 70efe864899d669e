package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// The timeline ("what happened at 3 a.m."): one row per step with requests,
// drawn the same way by `query --timeline` and the explorer's Timeline
// screen.

// TimelineColumns are the titles of a timeline row's cells.
var TimelineColumns = []string{"TIME", "REQS", "4XX", "5XX", "P50", "P90", "P99", "MAX", "SLOW", "USERS", "VERBS", "CODES", "SLOW TIME IN"}

// timelineTopN is how many values of users, verbs and codes a row names.
const timelineTopN = 2

// TimelineTime prints a bucket's start as precisely as its step needs (a
// day's bucket starts at a time of day in a zone other than UTC's), with
// the zone: a value since= and until= read back as that bucket's start
// (to the minute or second).
func TimelineTime(t time.Time, step time.Duration) string {
	if step >= time.Minute {
		return FormatTime(t, "2006-01-02T15:04Z07:00")
	}
	return FormatTime(t, TimeFull)
}

// FormatStep says a step the short way: "1m", "10s", "1h", "1d".
func FormatStep(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d >= time.Hour && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d >= time.Minute && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}

// TimelineCells are a bucket's cells under TimelineColumns, sanitised.
func TimelineCells(b audit.Bucket, step time.Duration) []string {
	lat := func(d time.Duration) string {
		if b.Timed == 0 {
			return "-"
		}
		return FormatLatency(d)
	}
	slow := "-"
	if b.Slow > 0 {
		slow = strconv.Itoa(b.Slow)
	}
	return []string{
		TimelineTime(b.Start, step),
		strconv.Itoa(b.Requests), strconv.Itoa(b.ClientErrors), strconv.Itoa(b.ServerErrors),
		lat(b.P50), lat(b.P90), lat(b.P99), lat(b.Max),
		slow,
		topText(b.Users, timelineTopN, true), topText(b.Verbs, timelineTopN, false), topText(b.Codes, 3, false),
		layersText(b.Layers, 2),
	}
}

// topText is "a 150, b 3 (+2)": the first n values with their counts, and
// how many more there are. Names (users) are written as the table writes
// them: "(none)" for no user.
func topText(cs []audit.Count, n int, names bool) string {
	var parts []string
	for _, c := range cs[:min(n, len(cs))] {
		v := Sanitize(c.Value)
		if v == "" {
			v = "(none)"
		}
		parts = append(parts, v+" "+strconv.FormatInt(c.N, 10))
	}
	s := strings.Join(parts, ", ")
	if len(cs) > n {
		s += fmt.Sprintf(" (+%d)", len(cs)-n)
	}
	return s
}

// layersText is "etcd 1.2s, validating-webhook 801ms": the apiserver's
// breakdown of the slow requests' time, n largest layers.

func layersText(cs []audit.Count, n int) string {
	var parts []string
	for _, c := range cs[:min(n, len(cs))] {
		parts = append(parts, Sanitize(c.Value)+" "+FormatLatency(time.Duration(c.N)))
	}
	if len(cs) > n {
		parts = append(parts, "…")
	}
	return strings.Join(parts, ", ")
}

// TimelineQuiet is the line between two buckets that are not neighbours:
// how long no request came.
func TimelineQuiet(prev, next audit.Bucket, step time.Duration) string {
	d := next.Start.Sub(prev.Start.Add(step))
	return "  (" + d.String() + " with no request)"
}

// timelineFirstText is the index of the first text column (after the
// numbers, which are aligned to the right).
const timelineFirstText = 9

// TimelineText is the whole timeline as lines: a heading, the column titles
// and a row per bucket, with a line where steps without requests were left
// out. Cells are padded to their column's widest value; width > 0 cuts
// each line to that many cells.
func TimelineText(t audit.Timeline, width int) []string {
	if len(t.Buckets) == 0 {
		return []string{"No requests with a receive time: no timeline."}
	}
	rows, widths := TimelineTable(t, 0)
	slow := 0
	for _, b := range t.Buckets {
		slow += b.Slow
	}
	out := []string{fmt.Sprintf("Requests per %s (%s): %d requests in %d steps from %s to %s; %d slower than %s",
		FormatStep(t.Step), ZoneName(), t.Requests, len(t.Buckets), TimelineTime(t.Buckets[0].Start, t.Step),
		TimelineTime(t.Buckets[len(t.Buckets)-1].End(t.Step), t.Step), slow, FormatLatency(audit.SlowRequest)),
		"(latency percentiles leave out watches, exec, attach, port-forward and proxy, which last as long as the client wants;",
		" SLOW TIME IN adds up the apiserver's latency breakdown of the slow ones: " + audit.LatencyAnnotation + "*)",
		""}
	out = append(out, cut(TimelineRow(TimelineColumns, widths, 0), width))
	for i, r := range rows {
		if i > 0 && !t.Buckets[i].Start.Equal(t.Buckets[i-1].End(t.Step)) {
			out = append(out, cut(TimelineQuiet(t.Buckets[i-1], t.Buckets[i], t.Step), width))
		}
		out = append(out, cut(TimelineRow(r, widths, 0), width))
	}
	return out
}

// TimelineTable is each bucket's cells and each column's width (its title
// or widest cell). textMax > 0 cuts the text columns (users, verbs, codes,
// where the time went) to that many cells.
func TimelineTable(t audit.Timeline, textMax int) (rows [][]string, widths []int) {
	rows = make([][]string, len(t.Buckets))
	widths = make([]int, len(TimelineColumns))
	for i, c := range TimelineColumns {
		widths[i] = len(c)
	}
	for i, b := range t.Buckets {
		rows[i] = TimelineCells(b, t.Step)
		for j, c := range rows[i] {
			if textMax > 0 && j >= timelineFirstText {
				c = cut(c, textMax)
				rows[i][j] = c
			}
			widths[j] = max(widths[j], len([]rune(c)))
		}
	}
	return rows, widths
}

// TimelineRow joins cells padded to widths, numbers to the right; the last
// cell is not padded. cells[0] is the column first of TimelineColumns.
func TimelineRow(cells []string, widths []int, first int) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", max(0, widths[i]-len([]rune(c))))
		switch {
		case first+i > 0 && first+i < timelineFirstText:
			b.WriteString(pad + c)
		case i == len(cells)-1:
			b.WriteString(c)
		default:
			b.WriteString(c + pad)
		}
	}
	return b.String()
}

func cut(s string, width int) string {
	s = strings.TrimRight(s, " ")
	if width <= 0 {
		return s
	}
	r := []rune(s)
	if len(r) <= width {
		return s
	}
	return string(r[:max(0, width-1)]) + "…"
}

// TimelineBucketText says everything about one bucket: counts, the top
// users, verbs and codes, the latency, the slowest request, and where the
// slow requests spent their time. For the explorer's selected row.
func TimelineBucketText(b audit.Bucket, step time.Duration) []string {
	out := []string{fmt.Sprintf("%s to %s: %d requests, %d 4xx, %d 5xx", TimelineTime(b.Start, step),
		TimelineTime(b.End(step), step), b.Requests, b.ClientErrors, b.ServerErrors)}
	out = append(out, "  users: "+topText(b.Users, 5, true), "  verbs: "+topText(b.Verbs, 6, false), "  codes: "+topText(b.Codes, 6, false))
	if b.Timed > 0 {
		out = append(out, fmt.Sprintf("  latency of %d requests: p50 %s, p90 %s, p99 %s, max %s", b.Timed,
			FormatLatency(b.P50), FormatLatency(b.P90), FormatLatency(b.P99), FormatLatency(b.Max)))
	}
	if r := b.Slowest; r != nil {
		out = append(out, fmt.Sprintf("  slowest: %s %s %s %s, %s", Sanitize(r.Actor()), Sanitize(r.Verb),
			Sanitize(r.ResourcePath()), Sanitize(Target(r)), FormatLatency(r.Latency())))
	}
	if b.Slow > 0 {
		in := layersText(b.Layers, len(b.Layers))
		if in == "" {
			in = "no breakdown logged"
		}
		out = append(out, fmt.Sprintf("  %d slower than %s; their time in: %s", b.Slow, FormatLatency(audit.SlowRequest), in))
	}
	return out
}

// SlowIn is where the apiserver says one request spent its time: its
// latency annotations (audit.LatencyBreakdown), largest first, "total"
// last, in layersText's words; a value that cannot be trusted is shown as
// logged with why ("total -3.2ms (negative: not trusted)"), never as a
// time. "" when the request has none (the apiserver writes them for
// requests slower than 500 ms, and some layers always).
//
// The layers the apiserver names may not add up to a slow request's
// latency (a request stalled outside them): then it first says how much is
// in no layer ("1.2s of 1.2s in no layer the apiserver names").
func SlowIn(r *audit.Request, raw func(audit.Ref) ([]byte, error)) string {
	var parts []string
	var in time.Duration
	for _, l := range audit.LatencyBreakdown(r, raw) {
		if l.Bad != "" {
			parts = append(parts, Sanitize(l.Layer)+" "+Sanitize(l.Value)+" ("+l.Bad+": not trusted)")
			continue
		}
		if l.Layer != "total" {
			in += l.D
		}
		parts = append(parts, layersText([]audit.Count{{Value: l.Layer, N: int64(l.D)}}, 1))
	}
	if lat := r.Latency(); len(parts) > 0 && lat > audit.SlowRequest && !audit.LongRunning(r) && lat-in > lat/2 {
		parts = append([]string{FormatLatency(lat-in) + " of " + FormatLatency(lat) + " in no layer the apiserver names"}, parts...)
	}
	return strings.Join(parts, ", ")
}
