package main

import (
	"bufio"
	"bytes"
	"sync/atomic"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

// What the log cannot see (`query --coverage`): audit.CoverageOf, drawn by
// render.CoverageText (as in the explorer's Answers), with the truncated
// events counted while the lines were read.

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

func (a *answerFlags) printCoverage(w *bufio.Writer, set *source.Set, snap audit.Snapshot, reqs []*audit.Request) {
	inputs := set.Inputs()
	name := func(i int32) string {
		if i >= 0 && int(i) < len(inputs) {
			return inputs[i].Name
		}
		return "?"
	}
	facts := render.CoverageFacts{Gap: a.Gap, Truncated: a.truncated.n.Load(), SharedIDs: snap.SharedIDs, Repeated: snap.Duplicates}
	for _, l := range render.CoverageText(audit.CoverageOf(reqs, a.Gap), facts, name) {
		w.WriteString(l)
		w.WriteByte('\n')
	}
}
