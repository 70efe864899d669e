package audit

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Coverage is what a set of requests says about the log they came from:
// the time each input covers, the stretches with no event, and the writes
// the policy logged without a body (whose changes cannot be shown).
type Coverage struct {
	First, Last time.Time
	Requests    int
	Events      int
	Inputs      []InputSpan // by input index
	Gaps        []Gap       // longer than the threshold, oldest first
	NoBody      []Writes    // most writes first
}

// InputSpan is the first and last event time of one input.
type InputSpan struct {
	Input       int32
	First, Last time.Time
	Events      int
}

// Gap is a stretch with no event: between the events at From and To, read
// from the inputs FromInput and ToInput (different ones: between two files).
type Gap struct {
	From, To           time.Time
	FromInput, ToInput int32
}

// Writes counts the writes of one resource (group/resource[/sub]).
type Writes struct {
	Resource string
	N        int
}

// CoverageOf computes the coverage of reqs, with gaps longer than gap.
// Read the requests under Store.Read while a loader runs.
func CoverageOf(reqs []*Request, gap time.Duration) Coverage {
	type eventStamp struct {
		at    int64 // a stamp
		input int32
	}
	var c Coverage
	c.Requests = len(reqs)
	spans := map[int32]*InputSpan{}
	var stamps []eventStamp
	noBody := map[string]int{}
	for _, r := range reqs {
		for _, e := range r.Events {
			if e.At().IsZero() {
				continue
			}
			s := spans[e.Input]
			if s == nil {
				s = &InputSpan{Input: e.Input, First: e.At(), Last: e.At()}
				spans[e.Input] = s
			}
			if e.At().Before(s.First) {
				s.First = e.At()
			}
			if e.At().After(s.Last) {
				s.Last = e.At()
			}
			s.Events++
			stamps = append(stamps, eventStamp{e.at, e.Input})
		}
		if isWriteVerb(r.Verb) && r.Resource != "" && (r.Level == "Metadata" || r.Level == "None") {
			noBody[r.ResourcePath()]++
		}
	}
	c.Events = len(stamps)
	for _, s := range spans {
		c.Inputs = append(c.Inputs, *s)
	}
	slices.SortFunc(c.Inputs, func(a, b InputSpan) int { return cmp.Compare(a.Input, b.Input) })
	slices.SortFunc(stamps, func(a, b eventStamp) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.input, b.input)) })
	if len(stamps) > 0 {
		c.First, c.Last = fromStamp(stamps[0].at), fromStamp(stamps[len(stamps)-1].at)
	}
	for i := 1; i < len(stamps); i++ {
		a, b := stamps[i-1], stamps[i]
		if b.at-a.at > gap.Microseconds() {
			c.Gaps = append(c.Gaps, Gap{From: fromStamp(a.at), To: fromStamp(b.at), FromInput: a.input, ToInput: b.input})
		}
	}
	for res, n := range noBody {
		c.NoBody = append(c.NoBody, Writes{res, n})
	}
	slices.SortFunc(c.NoBody, func(a, b Writes) int { return cmp.Or(cmp.Compare(b.N, a.N), strings.Compare(a.Resource, b.Resource)) })
	return c
}

func isWriteVerb(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

// truncatedMark is the annotation the apiserver sets on an event it cut.
var truncatedMark = []byte(`"audit.k8s.io/truncated":"true"`)

// TruncatedCounter counts the event lines the apiserver cut (marked
// audit.k8s.io/truncated), as a line filter (source.Options.Keep) that
// keeps every line. It is safe for concurrent use.
type TruncatedCounter struct{ n atomic.Int64 }

// Keep counts line if it is marked, and keeps it.
func (c *TruncatedCounter) Keep(line []byte) bool {
	if bytes.Contains(line, truncatedMark) {
		c.n.Add(1)
	}
	return true
}

// N is how many lines were marked.
func (c *TruncatedCounter) N() int64 { return c.n.Load() }
