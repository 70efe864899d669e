package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// CoverageFacts are the counts a coverage report adds to audit.Coverage:
// they come from the store and the reader, not from the requests.
type CoverageFacts struct {
	Gap       time.Duration // the threshold the gaps were found with
	Truncated int64         // events marked audit.k8s.io/truncated; -1: not counted
	SharedIDs int
	Repeated  int
}

// CoverageText is the coverage report, one line per item, sanitised;
// inputName names an input by its index.
func CoverageText(c audit.Coverage, facts CoverageFacts, inputName func(int32) string) []string {
	if c.Events == 0 {
		return []string{"No audit events with a time: nothing is covered."}
	}
	name := func(i int32) string { return Sanitize(inputName(i)) }
	lines := []string{fmt.Sprintf("Covered: %s to %s (%s), %d requests, %d events", FormatTime(c.First, TimeFull),
		FormatTime(c.Last, TimeFull), c.Last.Sub(c.First).Round(time.Second), c.Requests, c.Events), ""}
	w := len("INPUT")
	for _, s := range c.Inputs {
		w = max(w, len(name(s.Input)))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", max(0, w-len(s))) }
	tw := TimeWidth(TimeFull)
	col := func(s string) string { return s + strings.Repeat(" ", max(0, tw-len(s))) }
	lines = append(lines, pad("INPUT")+"  "+col("FIRST")+"  "+col("LAST")+"  EVENTS")
	for _, s := range c.Inputs {
		lines = append(lines, pad(name(s.Input))+"  "+col(FormatTime(s.First, TimeFull))+"  "+col(FormatTime(s.Last, TimeFull))+"  "+strconv.Itoa(s.Events))
	}
	lines = append(lines, "", fmt.Sprintf("Gaps longer than %s with no event: %d", facts.Gap, len(c.Gaps)))
	for _, g := range c.Gaps {
		where := "inside " + name(g.FromInput)
		if g.FromInput != g.ToInput {
			where = "between " + name(g.FromInput) + " and " + name(g.ToInput)
		}
		lines = append(lines, fmt.Sprintf("  %s  %s to %s, %s", g.To.Sub(g.From).Round(time.Second), FormatTime(g.From, TimeFull), FormatTime(g.To, TimeFull), where))
	}
	lines = append(lines, "")
	if facts.Truncated >= 0 {
		lines = append(lines, fmt.Sprintf("Truncated events (audit.k8s.io/truncated, a body or the event cut by the apiserver): %d", facts.Truncated))
	}
	lines = append(lines, fmt.Sprintf("Requests sharing an auditID with another (the client chose it): %d", facts.SharedIDs),
		fmt.Sprintf("Event lines read twice and counted once: %d", facts.Repeated))
	if len(c.NoBody) == 0 {
		return append(lines, "Writes without a logged body: none")
	}
	lines = append(lines, "Writes without a logged body (level Metadata: no diff is possible; a policy rule with level Request or RequestResponse for these resources would give one):")
	for _, n := range c.NoBody {
		lines = append(lines, fmt.Sprintf("  %d  %s", n.N, Sanitize(n.Resource)))
	}
	return lines
}
