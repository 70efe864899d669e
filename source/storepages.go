package source

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// StorePages is the store's answer to a filter read lazily, for the
// explorer: its total, its Summary counts and its histogram come from the
// store's stats (StoreStats), and its rows a page at a time, oldest
// received first, each page's requests merged from every event of theirs
// as the files' are. Its memory is the pages asked for, not the answer.
//
// The order is the requests' receive time, then auditID; a page is found
// by its offset in that order (the store sorts the last stages of the
// matching requests and skips to it).
type StorePages struct {
	spec  *StoreSpec
	stats *StoreStats // Why not yet asked: see Exact

	once  sync.Once
	total int64
	err   error

	mu      sync.Mutex
	counted bool         // total is known
	seq     int32        // the pages asked for so far: a page's Refs' Input
	kept    []*StorePage // the latest pages Rows gave, for Raw

	tlChecked bool   // the timeline's checks were asked
	tlWhy     string // their answer
}

// keptPages is how many pages' lines Raw can read: the screen's and its
// margin's, a few times over (Detail opens a request on screen).
const keptPages = 16

// Rows is Page's requests, their lines kept for Raw while they are among
// the latest keptPages pages (the explorer's pager, ui.StoreSource).
func (p *StorePages) Rows(ctx context.Context, offset, n int) ([]*audit.Request, error) {
	pg, err := p.Page(ctx, offset, n)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.kept) == keptPages {
		p.kept = append(p.kept[:0], p.kept[1:]...)
	}
	p.kept = append(p.kept, pg)
	return pg.Requests, nil
}

// Raw reads an event line of a request Rows gave, while its page is kept.
func (p *StorePages) Raw(ref audit.Ref) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pg := range p.kept {
		if pg.id == ref.Input {
			return pg.Raw(ref)
		}
	}
	return nil, fmt.Errorf("the page of the store's answer holding this request was let go: scroll to it again")
}

// Pages opens the store's answer to the filter as pages, at once: it
// translates the filter and asks the store what reading it needs (audit
// events in the streams, lines kept, what the store lost). Whether the
// store can count it exactly is Exact, which takes a few seconds on a big
// store: ask for the first page beside it. Why is non-empty when the
// filter cannot be paged at all (a term only kauditui checks; events kept
// without their lines and bare words): read it whole (Open).
func (sp *StoreSpec) Pages(ctx context.Context, warn func(string)) (p *StorePages, why string, err error) {
	c, err := sp.counter(ctx, warn)
	if err != nil || c.Why != "" {
		return nil, c.why(), err
	}
	return &StorePages{spec: sp, stats: c}, "", nil
}

// Exact asks the store whether its counts of the filter's requests are
// kauditui's (StoreSpec.Stats): "" when they are, else why not, and the
// pages are not the answer (read it whole).
func (p *StorePages) Exact(ctx context.Context) (why string, err error) {
	return p.stats.exact(ctx, true, nil)
}

// Total is the number of requests the filter matches (asked once).
func (p *StorePages) Total(ctx context.Context) (int64, error) {
	p.once.Do(func() {
		total, err := p.stats.Count(ctx)
		p.mu.Lock()
		p.total, p.err, p.counted = total, err, err == nil
		p.mu.Unlock()
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total, p.err
}

// Top is the Summary's count of the matching requests by the value --top
// field counts (one of filter.TopFields the store groups by), after
// checking that the last stage of each request holds the value it counts
// (why says why not, and nothing is counted). Ask Exact first.
func (p *StorePages) Top(ctx context.Context, field string) (counts map[string]int, total int, why string, err error) {
	more := filter.TopStoreFields(field)
	if more == nil {
		return nil, 0, "the store cannot group requests by " + field, nil
	}
	why, err = p.stats.check(ctx, p.stats.q.FieldChecks(p.stats.st.Streams(), more), false, more)
	if err != nil || why != "" {
		return nil, 0, why, err
	}
	counts, total, err = p.stats.Top(ctx, field)
	if inexact, is := err.(errInexact); is {
		return nil, 0, inexact.why, nil
	}
	return counts, total, "", err
}

// Histogram is the matching requests by receive time in steps of step.
func (p *StorePages) Histogram(ctx context.Context, step time.Duration) ([]HistBucket, error) {
	return p.stats.Histogram(ctx, step)
}

// StorePage is n requests of the answer from an offset, whole (every event
// read and merged as the files' are), and their lines.
type StorePage struct {
	id       int32 // the Input of its Refs
	Offset   int
	Requests []*audit.Request // in the answer's order
	lines    []byte           // the events' lines; a Ref's Off is in it
}

// Raw is an event line of the page's requests by its Ref.
func (pg *StorePage) Raw(ref audit.Ref) ([]byte, error) {
	end := ref.Off + int64(ref.Len)
	if ref.Input != pg.id || ref.Off < 0 || end > int64(len(pg.lines)) {
		return nil, fmt.Errorf("no line at %d in this page of the store's answer", ref.Off)
	}
	return pg.lines[ref.Off:end], nil
}

// Page is the n requests from offset on (fewer at the end).
func (p *StorePages) Page(ctx context.Context, offset, n int) (*StorePage, error) {
	st := p.stats.st
	// The store sorts what comes before the offset too: a page past the
	// middle is asked for from the end, in the reverse order, so the last
	// page costs what the first does.
	order, skip, reverse := "sort by (requestReceivedTimestamp, auditID)", offset, false
	p.mu.Lock()
	total, counted := p.total, p.counted // not waited for: the first page is asked for beside the count
	p.mu.Unlock()
	if counted && offset > int(total)/2 {
		end := min(offset+n, int(total))
		order, skip, n, reverse = "sort by (requestReceivedTimestamp desc, auditID desc)", int(total)-end, max(0, end-offset), true
	}
	var ids []string
	err := error(nil)
	if n > 0 {
		err = st.rows(ctx, p.stats.one+" | "+order+" offset "+strconv.Itoa(skip)+" limit "+strconv.Itoa(n)+" | fields auditID", n, func(r gjson.Result) error {
			ids = append(ids, r.Get("auditID").String())
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	if reverse {
		slices.Reverse(ids)
	}
	p.mu.Lock()
	p.seq++
	id := p.seq
	p.mu.Unlock()
	pg, err := p.stats.whole(ctx, ids, id)
	if err != nil {
		return nil, err
	}
	pg.Offset = offset
	return pg, nil
}

// whole reads the requests of the auditIDs ids whole: every event of
// theirs the filter's streams and times hold, merged as the files' are, in
// the order of ids, their Refs' Input id.
func (c *StoreStats) whole(ctx context.Context, ids []string, id int32) (*StorePage, error) {
	pg := &StorePage{id: id}
	if len(ids) == 0 {
		return pg, nil
	}
	st := c.st
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = strconv.Quote(id)
	}
	q := *c.q
	q.Stage, q.Words = nil, nil // every event of these requests
	lines, err := st.Lines(ctx, q.Filter(st.Streams())+" auditID:in("+strings.Join(quoted, ",")+")"+filter.EventPipes)
	if err != nil {
		return nil, err
	}
	defer lines.Close()
	store := audit.NewStore()
	br := bufio.NewReaderSize(lines, 64<<10)
	for n := int64(1); ; n++ {
		line, err := br.ReadBytes('\n')
		if line = bytes.TrimSuffix(line, []byte("\n")); len(line) > 0 {
			off := int64(len(pg.lines))
			pg.lines = append(append(pg.lines, line...), '\n')
			store.AddEvent(pg.lines[off:off+int64(len(line))], audit.Ref{Input: pg.id, Off: off, Len: int32(len(line)), Line: n})
		}
		if err != nil {
			break
		}
	}
	if err := lines.Err(); err != nil {
		return nil, err
	}
	byID := map[string][]*audit.Request{}
	snap := store.Snapshot()
	for _, r := range snap.Requests {
		byID[r.AuditID] = append(byID[r.AuditID], r)
	}
	for _, id := range ids {
		pg.Requests = append(pg.Requests, byID[id]...)
	}
	return pg, nil
}
