package source

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// How the store is read: the filter becomes a LogsQL query (filter/logsql.go),
// the store's client (vlogs.go) asks it in one query or in pages of time,
// and the event lines it answers are one input of the set, read as a stream
// like standard input, so stages merge as they do for files. Following, the
// answer goes on with the store's tail endpoint, reconnecting where it broke.

// StoreSpec is a store to read and the filter its answer is asked for.
type StoreSpec struct {
	StoreOptions
	// Filter is the filter expression; Now anchors its times.
	Filter string
	Now    time.Time
	// Later asks for the answer when the set's Load first reads it, not
	// when the set opens: the explorer reads a store a page at a time
	// (StorePages) and loads the answer whole only if it must. Not
	// followed only.
	Later bool
}

// Translate is the store's query for the filter, and the store.
func (sp *StoreSpec) Translate() (*filter.LogsQL, *Store, error) {
	st, err := OpenStore(sp.StoreOptions)
	if err != nil {
		return nil, nil, err
	}
	q, err := filter.TranslateLogsQL(sp.Filter, sp.Now)
	if err != nil {
		return nil, nil, err
	}
	return q, st, nil
}

// Explain is the store's query for the filter, then what kauditui checks
// itself (`--explain`).
func (sp *StoreSpec) Explain() ([]string, error) {
	q, st, err := sp.Translate()
	if err != nil {
		return nil, err
	}
	lines := []string{q.Query(st.Streams())}
	if len(q.Local) > 0 {
		lines = append(lines, "# checked by kauditui on the events read: "+strings.Join(q.Local, " "))
	}
	return append(lines, "# kauditui checks the whole filter again on the requests it merges from the events read"), nil
}

// StoreName is the store's address and the streams read, for people.
func StoreName(st *Store) string {
	if st.Streams() != "" {
		return st.Name() + " " + st.Streams()
	}
	return st.Name()
}

// storeKind is a store's answer as the set's one input: the history, then
// (following) its tail.
type storeKind struct {
	noKind
	spec   StoreSpec
	name   string
	lines  *StoreLines // the answer (the history, when following)
	tail   *storeTail  // read after lines when following
	cancel context.CancelFunc
	unhook func() bool // stops cancel from following Load's context
	mu     sync.Mutex  // lines, asked for Later
}

// laterAnswer is the answer asked for at its first read (StoreSpec.Later).
type laterAnswer struct {
	open func() (io.Reader, error)
	r    io.Reader
	err  error
}

func (l *laterAnswer) Read(p []byte) (int, error) {
	if l.r == nil && l.err == nil {
		if l.r, l.err = l.open(); l.err == nil && l.r == nil {
			l.err = io.EOF
		}
	}
	if l.err != nil {
		return 0, l.err
	}
	return l.r.Read(p)
}

func (k *storeKind) open(ctx context.Context, s *Set) ([]string, error) {
	q, st, err := k.spec.Translate()
	if err != nil {
		return nil, err
	}
	ctx, k.cancel = context.WithCancel(ctx)
	k.name = "VictoriaLogs " + StoreName(st)
	if k.spec.Later && !s.following {
		in := &input{Input: Input{Name: k.name}, family: "store"}
		in.openStream(&laterAnswer{open: func() (io.Reader, error) {
			lines, err := k.read(ctx, q, st, s.warn)
			if err != nil {
				return nil, err
			}
			k.mu.Lock()
			k.lines = lines
			k.mu.Unlock()
			return &endOfAnswer{r: lines, lines: lines, warn: s.warn}, nil
		}})
		s.inputs = append(s.inputs, in)
		return nil, nil
	}
	asked := time.Now()
	lines, err := k.read(ctx, q, st, s.warn)
	if err != nil {
		return nil, err
	}
	k.lines = lines
	var r io.Reader = lines
	if s.following {
		k.tail = &storeTail{ctx: ctx, st: st, cur: lines, asked: asked, warn: s.warn, live: s.live}
		r = k.tail
	}
	in := &input{Input: Input{Name: k.name}, family: "store"}
	in.openStream(&endOfAnswer{r: r, lines: lines, warn: s.warn})
	s.inputs = append(s.inputs, in)
	return nil, nil
}

func (k *storeKind) describe() []string { return []string{k.name} }

// start ends the answer and its tail with Load's context: the answer is
// read as a stream, which only its end (or this) stops (Ctrl-C, SIGTERM
// in `query --follow`; quitting the explorer).
func (k *storeKind) start(ctx context.Context, _ *Set) error {
	k.unhook = context.AfterFunc(ctx, k.cancel)
	return nil
}

func (k *storeKind) incomplete() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lines == nil {
		return nil
	}
	return k.lines.Err()
}

func (k *storeKind) close() {
	if k.unhook != nil {
		k.unhook()
	}
	if k.cancel != nil {
		k.cancel()
	}
	if k.tail != nil {
		k.tail.close()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lines != nil {
		k.lines.Close()
	}
}

// pageEvents is about how many events one page of a big answer holds:
// kauditui reads them well within the store's 30 s for a query.
const pageEvents = 200_000

// read asks the store for the events of q: a filter that selects requests
// in one query, every event of the streams (and since=) in pages of time.
// Events kept without their line (KeepsLines) are asked for with every
// field and rebuilt; bare words, which the store can search only in lines,
// are then left to kauditui.
func (k *storeKind) read(ctx context.Context, q *filter.LogsQL, st *Store, warn func(string)) (*StoreLines, error) {
	one := len(k.spec.Cluster) > 0
	kept, err := prepare(ctx, st, q, one, warn)
	if err != nil {
		return nil, err
	}
	pipes := filter.EventPipes
	if !kept {
		fieldsOnly := *q
		fieldsOnly.Words = nil
		pipes = FieldPipes
		q = &fieldsOnly
	}
	if q.Narrow() {
		return st.Lines(ctx, q.Filter(st.Streams())+pipes)
	}
	sl, err := st.Paged(ctx, q.Filter(st.Streams()), pipes, pageEvents)
	if err == nil && !one {
		warnMixedClusters(sl.Clusters(), warn) // counted with the pages
	}
	return sl, err
}

// prepare asks the store what must be known before its answer is read or
// counted: that the streams hold audit events (an error when they hold
// only other logs, which would answer nothing, as if nothing happened),
// whether the events q selects keep their lines (kept), what the store
// lost (a warning), and, for a narrow filter and no --cluster (one false),
// whether the answer mixes clusters (a warning; a filter of everything
// counts them with its pages).
func prepare(ctx context.Context, st *Store, q *filter.LogsQL, one bool, warn func(string)) (kept bool, err error) {
	if fields, err := st.NotEvents(ctx, st.Streams()); err != nil {
		return false, err
	} else if fields != "" {
		return false, fmt.Errorf("the store at %s holds logs but no audit event kauditui can read (no top-level field kind=Event; the fields of one: %s): ship the event's fields at the top level, with its line as _msg (the collector config of `kauditui setup --ship-to` does)", StoreName(st), render.Sanitize(fields))
	}
	fieldsOnly := *q
	fieldsOnly.Words = nil
	if kept, err = st.KeepsLines(ctx, fieldsOnly.Filter(st.Streams())); err != nil {
		return false, err
	}
	if lost, err := st.Lost(ctx); err == nil && lost.String() != "" {
		advice := lost.Advice()
		if advice == "" {
			advice = "see its log"
		}
		warn(fmt.Sprintf("the answer may miss requests: the store %s since it started, for every tenant and stream (VictoriaLogs does so without a word to the sender); on the store, %s", lost, advice))
	}
	if q.Narrow() && !one {
		if counts, err := st.Clusters(ctx, q.Filter(st.Streams())); err == nil {
			warnMixedClusters(counts, warn)
		}
	}
	return kept, nil
}

// warnMixedClusters says when the events asked for (counts by cluster)
// come from more than one cluster: the rows do not say which cluster a
// request was made in, and "who deleted web?" may have two answers in two
// clusters.
func warnMixedClusters(counts map[string]int64, warn func(string)) {
	if len(counts) < 2 {
		return
	}
	names := make([]string, 0, len(counts))
	for c := range counts {
		names = append(names, c)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), strings.Compare(a, b)) })
	parts := make([]string, 0, len(names))
	for _, c := range names[:min(len(names), 5)] {
		name := strconv.Quote(c)
		if c == "" {
			name = "(no cluster field)"
		}
		parts = append(parts, fmt.Sprintf("%s %d events", render.Sanitize(name), counts[c]))
	}
	if len(names) > 5 {
		parts = append(parts, fmt.Sprintf("%d more", len(names)-5))
	}
	warn(fmt.Sprintf("the answer mixes %d clusters (%s) and its rows do not say which a request was made in: add --cluster NAME for one", len(names), strings.Join(parts, ", ")))
}

// endOfAnswer says, once the answer's history ends, what it could not give
// as it was logged: events rebuilt from their fields, answer lines too long
// to be events, events with neither line nor fields. Why it ended early, if
// it did, is the set's Incomplete.
type endOfAnswer struct {
	r     io.Reader
	lines *StoreLines
	warn  func(string)
	said  bool
}

func (e *endOfAnswer) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if !e.said && (err != nil || e.lines.ended()) {
		e.said = true
		if n := e.lines.Rebuilt(); n > 0 {
			e.warn(fmt.Sprintf("the store keeps %d of these events without their original line (only their fields, flattened): kauditui rebuilt them, without their request and response bodies, which flattening leaves ambiguous (bare words do not search them); ship with the config of `kauditui setup --ship-to` to keep the line", n))
		}
		if n := e.lines.TooLong(); n > 0 {
			e.warn(fmt.Sprintf("%d lines of the store's answer were longer than any event the store keeps and were skipped unread: the answer may miss requests", n))
		}
		if _, _, noMsg, _ := e.lines.Stats(); noMsg > 0 {
			e.warn(fmt.Sprintf("%d events in the store have no _msg (the original line), so kauditui cannot read them: ship them with the config of `kauditui setup --ship-to`", noMsg))
		}
	}
	return n, err
}

// storeTail is the store's answer, then the events that arrive after it,
// through the store's tail endpoint: every event of the streams (the filter
// is checked in kauditui: the auditIDs a narrowed tail would need are not
// known yet). The tail starts a little before the answer was asked for, and
// again where it broke, so nothing falls in between; a stage read twice is
// dropped by the loader.
type storeTail struct {
	ctx     context.Context
	st      *Store
	mu      sync.Mutex  // cur, for close from another goroutine
	cur     *StoreLines // read by Read only, swapped under mu
	asked   time.Time   // when cur was asked for
	tailing bool
	warn    func(string)
	live    func() // told when the answer is read and the tail begins (Options.Live)
}

// tailOverlap is how far before an answer was asked for its tail starts.
const tailOverlap = 5 * time.Second

func (f *storeTail) Read(p []byte) (int, error) {
	for {
		n, err := f.cur.Read(p)
		if n > 0 || err == nil {
			return n, nil
		}
		if f.ctx.Err() != nil {
			return 0, io.EOF // following ends
		}
		failed := f.cur.Err()
		if failed != nil && !f.tailing {
			// The history is incomplete: stop, and the caller says so
			// (Set.Incomplete), as without following.
			return 0, io.EOF
		}
		if !f.tailing && f.live != nil {
			f.live() // the answer is read: following (the tail's headers may wait for its first event)
		}
		wait := time.Duration(0)
		if failed != nil {
			f.warn(failed.Error() + "; following again from where it broke")
			wait = time.Second
		}
		for {
			select {
			case <-f.ctx.Done():
				return 0, io.EOF
			case <-time.After(wait):
			}
			next, err := f.st.Tail(f.ctx, strings.TrimSpace(f.st.Streams()+" "+filter.AuditEvents), time.Since(f.asked)+tailOverlap)
			if err == nil {
				f.mu.Lock()
				f.cur.Close()
				f.cur, f.asked, f.tailing = next, time.Now(), true
				f.mu.Unlock()
				break
			}
			if f.ctx.Err() != nil {
				return 0, io.EOF
			}
			f.warn(err.Error() + "; trying again")
			wait = min(max(2*wait, time.Second), 30*time.Second)
		}
	}
}

func (f *storeTail) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur.Close()
}
