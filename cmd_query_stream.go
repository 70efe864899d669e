package main

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// stream runs a count, top, timeline or table query on a streaming store.
func (o *queryOptions) stream(ctx context.Context, set *source.Set, f *filter.Filter, out *bufio.Writer) error {
	q := &streamQuery{f: f, raw: set.Raw, out: out}
	switch {
	case o.Timeline.On:
		q.timeline = audit.NewTimelineBuilder(o.Timeline.Step, set.Raw)
	case o.Count:
	case o.Top != "":
		q.topField, q.top = o.Top, map[string]int{}
	default:
		q.t = newTablePrinter(o.IO, o.Output == "wide", o.color())
	}
	// The live heap is the requests in flight and the read-ahead; without
	// a limit the collector lets garbage double it.
	q.limit = o.heapLimit(set, queryMemoryLimit)
	defer q.limit.restore()
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
	if o.Count {
		fmt.Fprintln(out, q.count)
	}
	q.finish()
	if q.count == 0 {
		return &exitError{code: exitNoMatch}
	}
	return nil
}

// streamQuery answers --count, --top and the table while the log is read:
// the store hands over each request when it is complete and forgets it, so
// memory follows the requests in flight and the rows waiting to be printed,
// not the size of the log. Rows come out in the order requests were first
// read, as from a full store: a completed row waits until every older
// request has completed too.
type streamQuery struct {
	f   *filter.Filter
	raw func(audit.Ref) ([]byte, error)

	count    int
	topField string
	top      map[string]int
	timeline *audit.TimelineBuilder

	t        *tablePrinter // nil unless a table is printed
	out      *bufio.Writer
	pending  []seqRow   // matched, completed, waiting for older requests; by seq
	buffered []tableRow // rows held until the columns are sized
	frozen   bool       // columns sized: rows are written as they come
	store    *audit.Store
	limit    *heapLimit
	seen     int // requests handed on
}

type seqRow struct {
	seq uint64
	row tableRow
}

// maxPending bounds the rows held back by a request that stays open (a
// watch open for hours, a request whose last stage is not in the log):
// past it, rows are printed, and that request's row comes when it
// completes, out of order.
const maxPending = 8192

// queryMemoryLimit is the heap a streaming query asks the collector to
// stay under: a 1 GB and a 5 GB log both fit in about 95 MiB resident (a
// tighter limit costs a tenth more time in the collector).
const queryMemoryLimit = 72 << 20

// tableBuffer is how many rows size the table's columns: a longer result
// keeps the widths of its first rows (a wider cell later pushes the rest of
// its row only, or is cut on a terminal), so memory stays bounded.
const tableBuffer = 4096

func (q *streamQuery) done(r *audit.Request) {
	if q.seen++; q.seen&(1<<15-1) == 0 {
		q.limit.check()
	}
	if q.f.NeedsRaw() {
		if !q.f.MatchRaw(r, q.raw) {
			q.flush(q.store.OldestOpen())
			return
		}
	} else if !q.f.Match(r) {
		q.flush(q.store.OldestOpen())
		return
	}
	q.count++
	if q.timeline != nil {
		q.timeline.Add(r)
	}
	if q.top != nil {
		k := topValue(r, q.topField)
		if n, ok := q.top[k]; ok {
			q.top[k] = n + 1
		} else {
			q.top[strings.Clone(k)] = 1 // k may point into memory the store reuses
		}
	}
	if q.t != nil {
		row := q.t.row(r)
		for i, c := range row.cells {
			row.cells[i] = strings.Clone(c)
		}
		at, _ := slices.BinarySearchFunc(q.pending, r.Seq(), func(p seqRow, s uint64) int { return cmp.Compare(p.seq, s) })
		q.pending = slices.Insert(q.pending, at, seqRow{r.Seq(), row})
	}
	q.flush(q.store.OldestOpen())
}

// flush moves the rows of requests older than every open one to the table.
func (q *streamQuery) flush(oldestOpen uint64) {
	if q.t == nil {
		return
	}
	if len(q.pending) > maxPending {
		oldestOpen = max(oldestOpen, q.pending[len(q.pending)-maxPending/2].seq)
	}
	i := 0
	for i < len(q.pending) && q.pending[i].seq < oldestOpen {
		q.emit(q.pending[i].row)
		i++
	}
	if i > 0 {
		n := copy(q.pending, q.pending[i:])
		clear(q.pending[n:])
		q.pending = q.pending[:n]
	}
}

func (q *streamQuery) emit(row tableRow) {
	if q.frozen {
		q.t.writeRow(q.out, q.t.fixedW, row.cells, row.color)
		return
	}
	q.buffered = append(q.buffered, row)
	if len(q.buffered) >= tableBuffer {
		q.t.freeze(q.buffered)
		q.t.writeRows(q.out, q.buffered)
		q.buffered = nil
		q.frozen = true
	}
}

// finish prints what is left once the store has been finished.
func (q *streamQuery) finish() {
	q.flush(^uint64(0))
	switch {
	case q.timeline != nil:
		printTimeline(q.out, q.timeline.Timeline())
	case q.top != nil:
		printTopCounts(q.out, q.top, q.count)
	case q.t != nil && !q.frozen:
		q.t.writeRows(q.out, q.buffered)
	}
}
