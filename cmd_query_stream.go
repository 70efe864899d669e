package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/budget"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

// stream runs a count, top, timeline or table query on a streaming store
// (audit/stream.go): the store hands over each request when it is complete
// and forgets it, so memory follows the requests in flight and the rows
// waiting to be printed (render.OrderedTable), not the size of the log.
func (o *queryOptions) stream(ctx context.Context, set *source.Set, f *filter.Filter, out *bufio.Writer) error {
	q := &streamQuery{f: f, raw: set.Raw}
	switch {
	case o.Timeline.On:
		q.timeline = audit.NewTimelineBuilder(o.Timeline.Step, set.Raw)
	case o.Count:
	case o.Top != "":
		q.topField, q.top = o.Top, map[string]int{}
	default:
		q.table = render.NewOrderedTable(o.tablePrinter(), out)
	}
	// The live heap is the requests in flight and the read-ahead; without
	// a limit the collector lets garbage double it (package budget: one home).
	q.limit = o.heapLimit(set, queryMemoryLimit)
	defer q.limit.Restore()
	q.store = audit.NewStreamingStore(q.done)
	err := set.Load(ctx, q.store)
	q.store.Finish()
	if err != nil {
		return usageError("query: %v", err)
	}
	snap := q.store.Snapshot()
	if err := o.explainEmpty(set, snap); err != nil {
		return err
	}
	o.warnTrust(snap)
	switch {
	case o.Count:
		fmt.Fprintln(out, q.count)
	case q.timeline != nil:
		writeLines(out, render.TimelineText(q.timeline.Timeline(), 0))
	case q.top != nil:
		writeLines(out, render.TopText(q.top, q.count))
	default:
		q.table.Finish()
	}
	return noneMatched(q.count)
}

// noneMatched is exit 1 when n requests matched and n is 0.
func noneMatched(n int) error {
	if n == 0 {
		return &exitError{code: exitNoMatch}
	}
	return nil
}

// streamQuery answers --count, --top, --timeline and the table while the
// log is read.
type streamQuery struct {
	f   *filter.Filter
	raw func(audit.Ref) ([]byte, error)

	count    int
	topField string
	top      map[string]int
	timeline *audit.TimelineBuilder
	table    *render.OrderedTable // nil unless a table is printed
	store    *audit.Store
	limit    *budget.HeapLimit
	seen     int // requests handed on
}

// queryMemoryLimit is the heap a streaming query asks the collector to
// stay under: a 1 GB and a 5 GB log both fit in about 95 MiB resident (a
// tighter limit costs a tenth more time in the collector).
const queryMemoryLimit = 72 << 20

func (q *streamQuery) done(r *audit.Request) {
	if q.seen++; q.seen&(1<<15-1) == 0 {
		q.limit.Check()
	}
	if q.f.MatchRaw(r, q.raw) {
		q.count++
		if q.timeline != nil {
			q.timeline.Add(r)
		}
		if q.top != nil {
			k := filter.TopValue(r, q.topField)
			if n, ok := q.top[k]; ok {
				q.top[k] = n + 1
			} else {
				q.top[strings.Clone(k)] = 1 // k may point into memory the store reuses
			}
		}
		if q.table != nil {
			q.table.Add(r)
		}
	}
	if q.table != nil {
		q.table.Flush(q.store.OldestOpen())
	}
}
