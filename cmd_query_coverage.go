package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

// What the log cannot see (`query --coverage`): the time each input covers,
// the gaps in the trail (between rotated files or inside one) longer than
// --gap, events the apiserver truncated, auditIDs that several requests
// carry, and the resources written without a logged body, whose changes
// cannot be shown.

// truncatedMark is the annotation the apiserver sets on an event it cut.
var truncatedMark = []byte(`"audit.k8s.io/truncated":"true"`)

// truncatedCounter counts event lines that carry truncatedMark, as a
// source.Options.Keep that keeps every line.
type truncatedCounter struct{ n atomic.Int64 }

func (c *truncatedCounter) keep(line []byte) bool {
	if bytes.Contains(line, truncatedMark) {
		c.n.Add(1)
	}
	return true
}

// stamp is one event's time and the input it was read from.
type stamp struct {
	at    int64
	input int32
}

func printCoverage(w io.Writer, set *source.Set, snap audit.Snapshot, reqs []*audit.Request, gap time.Duration, truncated int64) {
	inputs := set.Inputs()
	type span struct {
		first, last int64
		events      int
	}
	spans := make([]span, len(inputs))
	var stamps []stamp
	noBody := map[string]int{}
	for _, r := range reqs {
		for _, e := range r.Events {
			if e.At.IsZero() || int(e.Input) >= len(spans) || e.Input < 0 {
				continue
			}
			at := e.At.UnixNano()
			s := &spans[e.Input]
			if s.events == 0 || at < s.first {
				s.first = at
			}
			if s.events == 0 || at > s.last {
				s.last = at
			}
			s.events++
			stamps = append(stamps, stamp{at, e.Input})
		}
		if isWrite(r.Verb) && r.Resource != "" && (r.Level == "Metadata" || r.Level == "None") {
			noBody[r.ResourcePath()]++
		}
	}
	if len(stamps) == 0 {
		fmt.Fprintln(w, "No audit events with a time: nothing is covered.")
		return
	}
	slices.SortFunc(stamps, func(a, b stamp) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.input, b.input)) })
	first, last := time.Unix(0, stamps[0].at).UTC(), time.Unix(0, stamps[len(stamps)-1].at).UTC()
	fmt.Fprintf(w, "Covered: %s to %s (%s), %d requests, %d events\n\n", render.FormatTime(first, render.TimeFull),
		render.FormatTime(last, render.TimeFull), last.Sub(first).Round(time.Second), len(reqs), len(stamps))

	fmt.Fprintln(w, "INPUT\tFIRST\tLAST\tEVENTS")
	for i, in := range inputs {
		s := spans[i]
		if s.events == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t0\n", render.Sanitize(in.Name))
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", render.Sanitize(in.Name), render.FormatTime(time.Unix(0, s.first), render.TimeFull),
			render.FormatTime(time.Unix(0, s.last), render.TimeFull), s.events)
	}

	fmt.Fprintf(w, "\nGaps longer than %s with no event:", gap)
	n := 0
	for i := 1; i < len(stamps); i++ {
		a, b := stamps[i-1], stamps[i]
		if d := time.Duration(b.at - a.at); d > gap {
			n++
			where := "inside " + render.Sanitize(inputs[a.input].Name)
			if a.input != b.input {
				where = "between " + render.Sanitize(inputs[a.input].Name) + " and " + render.Sanitize(inputs[b.input].Name)
			}
			fmt.Fprintf(w, "\n  %s  %s to %s, %s", d.Round(time.Second), render.FormatTime(time.Unix(0, a.at), render.TimeFull),
				render.FormatTime(time.Unix(0, b.at), render.TimeFull), where)
		}
	}
	if n == 0 {
		fmt.Fprint(w, " none")
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "\nTruncated events (audit.k8s.io/truncated, a body or the event cut by the apiserver): %d\n", truncated)
	fmt.Fprintf(w, "Requests sharing an auditID with another (the client chose it): %d\n", snap.SharedIDs)
	fmt.Fprintf(w, "Event lines read twice and counted once: %d\n", snap.Duplicates)
	if len(noBody) == 0 {
		fmt.Fprintln(w, "Writes without a logged body: none")
		return
	}
	var res []string
	for k := range noBody {
		res = append(res, k)
	}
	slices.SortFunc(res, func(a, b string) int { return cmp.Or(cmp.Compare(noBody[b], noBody[a]), strings.Compare(a, b)) })
	fmt.Fprintln(w, "Writes without a logged body (level Metadata: no diff is possible; a policy rule with level Request or RequestResponse for these resources would give one):")
	for _, k := range res {
		fmt.Fprintf(w, "  %d\t%s\n", noBody[k], render.Sanitize(k))
	}
}

func isWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}
