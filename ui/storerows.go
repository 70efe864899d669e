package ui

import (
	"context"
	"sync"

	"github.com/kauditui/kauditui/audit"
)

// Wiring (storelazy.go): with --store and no --follow, main gives
// Options.Pager (source.StoreSpec.Pages for each filter); the root asks
// the answer's Total beside its first page and shows a StoreRows
// (Data.Raw reads its pages' lines); a page fetched makes the root publish
// a DataMsg with rows.Next(). pages.Exact runs in the background: a
// non-empty why means the pages are not kauditui's answer, and the
// explorer loads the answer whole (Options.Load), saying why. A new filter
// is a new answer and a new StoreRows. Pages that read every row (Summary,
// Answers, the timeline, sorting, exports) must not iterate a StoreRows
// (each row not fetched fetches its page): the Summary takes the store's
// Top counts and histogram (Span, Timeline without the latencies), the
// Timeline screen the store's Timeline; the others say they need the
// answer loaded (DataMsg.Store), which L does (its Cost said first).

// StoreSource is a store's answer to one filter read a page at a time
// (source.StorePages, handed in by main: ui does not open stores): its
// requests oldest received first, whole, and their lines through Raw.
type StoreSource interface {
	// Rows is n requests from offset on (fewer at the end).
	Rows(ctx context.Context, offset, n int) ([]*audit.Request, error)
	// Raw reads an event line of a request Rows gave (while its page is
	// kept: a screen's and a margin's worth).
	Raw(ref audit.Ref) ([]byte, error)
}

var _ Rows = (*StoreRows)(nil)

// storePage is how many rows one fetch asks for: a screen and a margin.
const storePage = 200

// storePagesKept is how many pages StoreRows keeps: the rows on screen,
// the pages around them, and the pages a scroll left recently.
const storePagesKept = 8

// StoreRows is a Rows over a store read lazily: Len is the store's count
// of the answer (known before a row is fetched), At a row of the pages
// fetched so far, nil for one not fetched yet, whose page it then asks
// for in the background; when the page arrives, fetched is called (from
// another goroutine: the root sends itself a message, and the next DataMsg
// brings the rows, in a StoreRows from Next). It keeps storePagesKept
// pages at most, so its memory is the screen's, not the answer's.
type StoreRows struct {
	c    *storeCache
	n    int
	view map[int][]*audit.Request // the pages of this moment, by number
}

// storeCache is the pages fetched for one answer, shared by its StoreRows.
type storeCache struct {
	ctx     context.Context
	src     StoreSource
	fetched func()

	mu       sync.Mutex
	pages    map[int][]*audit.Request
	used     map[int]uint64 // when a page was last read, for letting go
	clock    uint64
	inFlight map[int]bool
	err      error // the last fetch's failure, for the status bar
}

// NewStoreRows is the answer of src, total requests long; fetched is told
// when a page it asked for arrives (or fails: see Err).
func NewStoreRows(ctx context.Context, src StoreSource, total int, fetched func()) *StoreRows {
	c := &storeCache{ctx: ctx, src: src, fetched: fetched, pages: map[int][]*audit.Request{}, used: map[int]uint64{}, inFlight: map[int]bool{}}
	return &StoreRows{c: c, n: total, view: map[int][]*audit.Request{}}
}

// Next is the same answer with the pages fetched since: the list of the
// next DataMsg (this one does not change under its holder).
func (r *StoreRows) Next() *StoreRows {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	view := make(map[int][]*audit.Request, len(r.c.pages))
	for k, v := range r.c.pages {
		view[k] = v
	}
	return &StoreRows{c: r.c, n: r.n, view: view}
}

// Err is the failure of the latest fetch, or nil.
func (r *StoreRows) Err() error {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	return r.c.err
}

// Raw reads the lines of a request the rows hold (Data.Raw on a store).
func (r *StoreRows) Raw(ref audit.Ref) ([]byte, error) { return r.c.src.Raw(ref) }

// Len implements Rows: the store's count.
func (r *StoreRows) Len() int {
	if r == nil {
		return 0
	}
	return r.n
}

// Key implements Rows: the position in the store's answer, oldest first.
func (r *StoreRows) Key(i int) int { return i }

// At implements Rows: nil until the row's page is fetched (asked for now).
func (r *StoreRows) At(i int) *audit.Request {
	if i < 0 || i >= r.n {
		return nil
	}
	page := i / storePage
	if rows, ok := r.view[page]; ok {
		r.c.touch(page)
		if j := i - page*storePage; j < len(rows) {
			return rows[j]
		}
		return nil
	}
	r.c.fetch(page)
	return nil
}

// Open implements Rows: the request whole, fetched now if it must be.
func (r *StoreRows) Open(i int) (*audit.Request, error) {
	if i < 0 || i >= r.n {
		return nil, errNoStoreRow
	}
	page := i / storePage
	rows, ok := r.view[page]
	var err error
	if !ok {
		rows, err = r.c.load(page)
	}
	if err != nil {
		return nil, err
	}
	if j := i - page*storePage; j < len(rows) {
		return rows[j], nil
	}
	return nil, errNoStoreRow
}

// errNoStoreRow is a row past what the store sent (it holds less than it counted).
var errNoStoreRow = storeError("the store sent fewer requests than it counted: it changed since; apply the filter again")

type storeError string

func (e storeError) Error() string { return string(e) }

// fetch asks for a page in the background, once at a time.
func (c *storeCache) fetch(page int) {
	c.mu.Lock()
	if c.inFlight[page] || c.pages[page] != nil {
		c.mu.Unlock()
		return
	}
	c.inFlight[page] = true
	c.mu.Unlock()
	go func() {
		c.load(page)
		if c.fetched != nil {
			c.fetched()
		}
	}()
}

// load fetches a page and keeps it, letting the least recently read go.
func (c *storeCache) load(page int) ([]*audit.Request, error) {
	rows, err := c.src.Rows(c.ctx, page*storePage, storePage)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.inFlight, page)
	c.err = err
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []*audit.Request{}
	}
	c.pages[page] = rows
	c.clock++
	c.used[page] = c.clock
	for len(c.pages) > storePagesKept {
		oldest, at := -1, uint64(0)
		for p, u := range c.used {
			if p != page && (oldest < 0 || u < at) {
				oldest, at = p, u
			}
		}
		delete(c.pages, oldest)
		delete(c.used, oldest)
	}
	return rows, nil
}

// touch marks a page read now.
func (c *storeCache) touch(page int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.used[page]; ok {
		c.clock++
		c.used[page] = c.clock
	}
}

// seed keeps a page fetched before the rows were made (the first, asked
// for beside the count).
func (r *StoreRows) seed(page int, rows []*audit.Request) {
	r.c.mu.Lock()
	defer r.c.mu.Unlock()
	r.c.pages[page] = rows
	r.c.clock++
	r.c.used[page] = r.c.clock
	r.view[page] = rows
}
