package source

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/kauditui/kauditui/audit"
)

// WriteEvents writes events (copies: the store may be merging) raw, one a
// line, as -o json prints them: unchanged (a JSON value that spanned lines
// is compacted to one), each input's in log order and several inputs
// merged by time, as Load merged them.
func (s *Set) WriteEvents(w *bufio.Writer, events []audit.EventRef) error {
	for _, e := range mergeByTime(events) {
		b, err := s.Raw(e.Ref)
		if err != nil {
			return fmt.Errorf("query: reading event at line %d again: %w", e.Line, err)
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			var c bytes.Buffer
			if json.Compact(&c, b) == nil {
				b = c.Bytes()
			}
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	return nil
}

// mergeByTime orders events by input and line (Line, not Off: a stream's
// lines sit in the spool), then merges the inputs by stage time, so each
// input keeps its own order.
func mergeByTime(events []audit.EventRef) []audit.EventRef {
	slices.SortFunc(events, func(a, b audit.EventRef) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), RefOrder(a.Ref, b.Ref))
	})
	var runs [][]audit.EventRef
	for i := 0; i < len(events); {
		j := i
		for j < len(events) && events[j].Input == events[i].Input {
			j++
		}
		runs = append(runs, events[i:j])
		i = j
	}
	if len(runs) <= 1 {
		return events
	}
	out := make([]audit.EventRef, 0, len(events))
	for len(runs) > 0 {
		best := 0
		for i := 1; i < len(runs); i++ {
			if runs[i][0].At().Before(runs[best][0].At()) {
				best = i
			}
		}
		out = append(out, runs[best][0])
		if runs[best] = runs[best][1:]; len(runs[best]) == 0 {
			runs = append(runs[:best], runs[best+1:]...)
		}
	}
	return out
}

// WriteKlog writes the apiserver log lines raw, one a line (-o klog).
func (s *Set) WriteKlog(w *bufio.Writer, lines []audit.KlogLine) error {
	for _, l := range lines {
		b, err := s.Raw(l.Ref)
		if err != nil {
			return fmt.Errorf("query: reading klog line %d again: %w", l.Line, err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	return nil
}

// WriteRequests writes the raw events of reqs as -o json prints them
// (WriteEvents).
func (s *Set) WriteRequests(w *bufio.Writer, reqs []*audit.Request) error {
	var events []audit.EventRef
	for _, r := range reqs {
		events = append(events, r.Events...)
	}
	return s.WriteEvents(w, events)
}
