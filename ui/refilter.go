package ui

import (
	"errors"
	"runtime"
	"slices"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// filtered is the model layer under the root: one filter's result over the
// index's rows (indexSource), kept up to date incrementally as the store
// grows. The result is the set of rows matching (a bit a row of the log;
// none kept when there is no filter: every row), never a *audit.Request
// per row.
//
// A request can still change after it was matched (its later stages bring
// the code, the latency, the final stage): filter.IndexResult matches the
// rows not yet done when matched, and those the index wrote again, once
// more on every update; each update publishes a copy of its bits (a
// rowSet: the lists handed out never change under their holders).
type filtered struct {
	expr string
	f    *filter.Filter // nil: everything
	raw  func(audit.Ref) ([]byte, error)
	// stop, when closed, cuts a run short (the result is then partial and
	// must not be used: see stopped). nil: never.
	stop <-chan struct{}

	src *indexSource
	res *filter.IndexResult // nil when f is nil
	set *rowSet             // the rows matching as last published (f nil: none kept)
	cnt int                 // how many
	n   int                 // rows of the index answered
}

func newFiltered(expr string, f *filter.Filter, raw func(audit.Ref) ([]byte, error)) *filtered {
	if f != nil && f.Empty() {
		f = nil
	}
	return &filtered{expr: expr, f: f, raw: raw}
}

// stopped reports whether stop was closed.
func (fs *filtered) stopped() bool {
	select {
	case <-fs.stop:
		return true
	default:
		return false
	}
}

// Rows matched under one hold of the store's read lock: tens of
// milliseconds of matching on both cores. A re-filter of a big store takes
// several holds, so a loader waiting for the write lock gets in between
// two of them, and readers (the screen) do not queue behind the loader for
// the whole re-filter. Reading the raw lines (bare words) is slower: fewer
// per hold. Variables: tests change them.
var (
	lockChunk    = 1 << 19
	lockChunkRaw = 1 << 11
)

func (fs *filtered) lockChunk() int {
	if fs.f.NeedsRaw() {
		return lockChunkRaw
	}
	return lockChunk
}

// readLocked runs fn under st's read lock (nil: no store, no lock).
func readLocked(st *audit.Store, fn func()) {
	if st == nil {
		fn()
		return
	}
	st.Read(func(audit.Snapshot) { fn() })
}

// list is the result as the pages read it (a value of this moment: rows
// appended later are not in it).
func (fs *filtered) list() *indexRows {
	if fs.f == nil {
		return &indexRows{src: fs.src, n: fs.n}
	}
	if fs.set == nil {
		return &indexRows{src: fs.src, rows: []int32{}}
	}
	return &indexRows{src: fs.src, set: fs.set, n: fs.cnt}
}

// count is the number of rows matching.
func (fs *filtered) count() int {
	if fs.f == nil {
		return fs.n
	}
	return fs.cnt
}

// run matches every row of src from scratch, on every core for a big
// index, and returns the store's snapshot (unless stopped). It holds the
// index still one part of the rows at a time, so do not call it under
// Store.Read.
func (fs *filtered) run(src *indexSource) audit.Snapshot {
	fs.src = src
	fs.res, fs.set, fs.cnt, fs.n = nil, nil, 0, 0
	return fs.extend(src)
}

// extend brings the result up to the store as it is now: the new rows,
// and again those whose answer may have changed. It returns the store's
// snapshot. Like run, do not call it under Store.Read.
func (fs *filtered) extend(src *indexSource) audit.Snapshot { return fs.extendTo(src, -1) }

// extendTo is extend up to row limit (limit < 0: every row): the Answers
// page matches the rows it was published, not more.
func (fs *filtered) extendTo(src *indexSource, limit int) audit.Snapshot {
	fs.src = src
	snap, n := src.update()
	if limit >= 0 {
		n = min(n, limit)
	}
	if fs.f == nil {
		fs.n = n
		return snap
	}
	if fs.res == nil {
		fs.res = fs.f.ForIndex(fs.rawStoppable).Result()
	}
	workers := runtime.GOMAXPROCS(0)
	chunk := fs.lockChunk()
	for first := true; first || fs.res.Scanned() < n; first = false {
		if fs.stopped() {
			return snap
		}
		// Let other goroutines run between parts: the UI's, and a reader
		// the loader let in.
		runtime.Gosched()
		src.read(func(ix *audit.Index) {
			fs.res.UpdateTo(ix, min(n, fs.res.Scanned()+chunk), workers)
		})
	}
	fs.res.TakeChanged()
	if fs.set == nil || fs.res.Scanned() != fs.n || fs.res.Count() != fs.cnt || !slices.Equal(fs.set.bits, fs.res.Bits()) {
		fs.set = newRowSet(fs.res.Bits())
	}
	fs.cnt, fs.n = fs.res.Count(), fs.res.Scanned()
	return snap
}

var errStopped = errors.New("the re-filter was stopped")

// rawStoppable is fs.raw, which fails at once once fs is stopped: a run
// of bare words reads a line for each row, and a stopped run must not
// read thousands more before it looks again.
func (fs *filtered) rawStoppable(ref audit.Ref) ([]byte, error) {
	if fs.stopped() {
		return nil, errStopped
	}
	if fs.raw == nil {
		return nil, errNoRaw
	}
	return fs.raw(ref)
}

var errNoRaw = errors.New("no raw lines")
