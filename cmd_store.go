package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// storeFlags are the flags of the commands that read a VictoriaLogs store
// instead of files (see README: Central store). --node, shared with
// nodeFlags, names the node stream field when --store is given.
type storeFlags struct {
	URL     string
	Account string
	Project string
	Cluster []string
	Explain bool
	CAFile  string
	Timeout time.Duration

	lines  *source.StoreLines // the answer being read
	name   string             // the store and its streams, for the explorer
	follow *followLines       // the explorer's tail, when following
	cancel context.CancelFunc // ends follow
	live   func()             // told when the answer is read and the tail begins (the explorer's Progress.Live)
}

func (s *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.URL, "store", "", "read the audit events kept in the VictoriaLogs store at `URL` (http://[user:password@]host:9428; a front node in cluster mode) instead of files")
	fs.StringVar(&s.Account, "account", "", "with --store: the tenant's AccountID")
	fs.StringVar(&s.Project, "project", "", "with --store: the tenant's ProjectID")
	fs.StringArrayVar(&s.Cluster, "cluster", nil, "with --store: only events of cluster `NAME` (repeatable; with --node NAME: only that node's)")
	fs.StringVar(&s.CAFile, "store-ca", "", "with --store https://...: also trust the certificate authorities in this PEM `FILE` (the user's password is read from KAUDITUI_STORE_PASSWORD, a bearer token from KAUDITUI_STORE_TOKEN)")
	fs.DurationVar(&s.Timeout, "store-timeout", source.DefaultStoreTimeout, "with --store: give up on an answer (each page of a big one) the store has not finished within `DURATION`")
	fs.BoolVar(&s.Explain, "explain", false, "with --store: print the LogsQL query the filter becomes, and the terms kauditui checks itself, without running it")
}

func (s *storeFlags) given() bool { return s.URL != "" }

// check refuses flags that read something else than the store.
func (s *storeFlags) check(sources []string, pf *podFlags, nf *nodeFlags, follow bool, output string) error {
	if !s.given() {
		if s.Account != "" || s.Project != "" || len(s.Cluster) > 0 || s.Explain || s.CAFile != "" {
			return fmt.Errorf("--account, --project, --cluster, --store-ca and --explain go with --store URL")
		}
		return nil
	}
	switch {
	case len(sources) > 0:
		return fmt.Errorf("--store reads the store, not SOURCE files: give one or the other")
	case pf.Pods || nf.All:
		return fmt.Errorf("--store reads the store; --pods and --nodes read the cluster: give one or the other")
	case output == "klog":
		return fmt.Errorf("-o klog: the store holds audit events only, not the apiserver's own log")
	}
	return nil
}

// translate is the store's query for the filter expression; nodes are
// --node's values, the node stream field; getenv gives the store's
// password or token.
func (s *storeFlags) translate(expr string, now time.Time, nodes []string, getenv func(string) string) (*filter.LogsQL, *source.Store, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	st, err := source.OpenStore(source.StoreOptions{URL: s.URL, AccountID: s.Account, ProjectID: s.Project, Cluster: s.Cluster, Node: nodes,
		CAFile: s.CAFile, Password: getenv("KAUDITUI_STORE_PASSWORD"), Token: getenv("KAUDITUI_STORE_TOKEN"), Timeout: s.Timeout})
	if err != nil {
		return nil, nil, err
	}
	q, err := filter.TranslateLogsQL(expr, now)
	if err != nil {
		return nil, nil, err
	}
	return q, st, nil
}

// explainTo prints the translation: the query, then what kauditui checks.
func (s *storeFlags) explainTo(ios *IO, q *filter.LogsQL, st *source.Store) {
	fmt.Fprintln(ios.Out, q.Query(st.Streams()))
	if len(q.Local) > 0 {
		fmt.Fprintf(ios.Out, "# checked by kauditui on the events read: %s\n", strings.Join(q.Local, " "))
	}
	fmt.Fprintln(ios.Out, "# kauditui checks the whole filter again on the requests it merges from the events read")
}

// followLines is the store's answer, then the events that arrive after it,
// through the store's tail endpoint: every event of the streams (the filter
// is checked in kauditui: the auditIDs a narrowed tail would need are not
// known yet). The tail starts a little before the answer was asked for, and
// again where it broke, so nothing falls in between; a stage read twice is
// dropped by the loader.
type followLines struct {
	ctx     context.Context
	st      *source.Store
	mu      sync.Mutex         // cur, for close from another goroutine
	cur     *source.StoreLines // read by Read only, swapped under mu
	asked   time.Time          // when cur was asked for
	tailing bool
	warn    func(string)
	live    func() // called when the answer is read and the tail begins (may be nil)
}

// tailOverlap is how far before an answer was asked for its tail starts.
const tailOverlap = 5 * time.Second

func (f *followLines) Read(p []byte) (int, error) {
	for {
		n, err := f.cur.Read(p)
		if n > 0 || err == nil {
			return n, nil
		}
		failed := f.cur.Err()
		if failed != nil && !f.tailing {
			// The history is incomplete: stop, and the caller says so
			// (the answer's Err), as without --follow.
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

func (f *followLines) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur.Close()
}

// pageEvents is about how many events one page of a big answer holds:
// kauditui reads them well within the store's 30 s for a query.
const pageEvents = 200_000

// read asks the store for the events of q: a filter that selects requests
// in one query, every event of the streams (and since=) in pages of time.
// Events kept without their line (KeepsLines) are asked for with every
// field and rebuilt; bare words, which the store can search only in lines,
// are then left to kauditui.
func (s *storeFlags) read(ctx context.Context, q *filter.LogsQL, st *source.Store, warn func(string)) (*source.StoreLines, error) {
	// Streams that hold logs but no audit event would answer nothing, as if
	// nothing happened: say so.
	if fields, err := st.NotEvents(ctx, st.Streams()); err != nil {
		return nil, err
	} else if fields != "" {
		return nil, fmt.Errorf("the store at %s holds logs but no audit event kauditui can read (no top-level field kind=Event; the fields of one: %s): ship the event's fields at the top level, with its line as _msg (the collector config of `kauditui setup --ship-to` does)", storeName(st), sanitize(fields))
	}
	fieldsOnly := *q
	fieldsOnly.Words = nil
	kept, err := st.KeepsLines(ctx, fieldsOnly.Filter(st.Streams()))
	if err != nil {
		return nil, err
	}
	pipes := filter.EventPipes
	if !kept {
		pipes = source.FieldPipes
		q = &fieldsOnly
	}
	if lost, err := st.Lost(ctx); err == nil && lost.String() != "" {
		advice := lost.Advice()
		if advice == "" {
			advice = "see its log"
		}
		warn(fmt.Sprintf("the answer may miss requests: the store %s since it started, for every tenant and stream (VictoriaLogs does so without a word to the sender); on the store, %s", lost, advice))
	}
	if q.Narrow() {
		if len(s.Cluster) == 0 {
			if counts, err := st.Clusters(ctx, q.Filter(st.Streams())); err == nil {
				warnMixedClusters(counts, warn)
			}
		}
		return st.Lines(ctx, q.Filter(st.Streams())+pipes)
	}
	sl, err := st.Paged(ctx, q.Filter(st.Streams()), pipes, pageEvents)
	if err == nil && len(s.Cluster) == 0 {
		warnMixedClusters(sl.Clusters(), warn) // counted with the pages
	}
	return sl, err
}

// warnRead says what the answer could not give as it was logged: events
// rebuilt from their fields, answer lines too long to be events, events
// with neither line nor fields.
func warnRead(lines *source.StoreLines, warn func(string)) {
	if n := lines.Rebuilt(); n > 0 {
		warn(fmt.Sprintf("the store keeps %d of these events without their original line (only their fields, flattened): kauditui rebuilt them, without their request and response bodies, which flattening leaves ambiguous (bare words do not search them); ship with the config of `kauditui setup --ship-to` to keep the line", n))
	}
	if n := lines.TooLong(); n > 0 {
		warn(fmt.Sprintf("%d lines of the store's answer were longer than any event the store keeps and were skipped unread: the answer may miss requests", n))
	}
	if _, _, noMsg, _ := lines.Stats(); noMsg > 0 {
		warn(fmt.Sprintf("%d events in the store have no _msg (the original line), so kauditui cannot read them: ship them with the config of `kauditui setup --ship-to`", noMsg))
	}
}

// warnMixedClusters says when the events asked for (counts by cluster)
// come from more than one cluster: the rows do not say which cluster a request was made in, and
// "who deleted web?" may have two answers in two clusters.
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
		parts = append(parts, fmt.Sprintf("%s %d events", sanitize(name), counts[c]))
	}
	if len(names) > 5 {
		parts = append(parts, fmt.Sprintf("%d more", len(names)-5))
	}
	warn(fmt.Sprintf("the answer mixes %d clusters (%s) and its rows do not say which a request was made in: add --cluster NAME for one", len(names), strings.Join(parts, ", ")))
}

// pending reports whether the query must go to the store first: --store
// (or a flag of its own) is given and its answer is not read yet.
func (s *storeFlags) pending() bool {
	return s.lines == nil && (s.given() || s.Account != "" || s.Project != "" || len(s.Cluster) > 0 || s.Explain || s.CAFile != "")
}

// queryStore runs the translated query and hands the event lines the store
// returns to the same loader as files (as standard input), so stages merge
// as they do for files; then it runs the query on them. An answer that
// broke off keeps what was printed and ends in one line, exit 2.
func (o *queryOptions) queryStore(ctx context.Context) error {
	s := &o.Store
	if err := s.check(o.Sources, &o.Pods, &o.Nodes, o.Follow, o.Output); err != nil {
		return usageError("query: %v", err)
	}
	q, st, err := s.translate(o.Filter, o.Now(), o.Nodes.Names, o.IO.Getenv)
	if err != nil {
		return usageError("query: %v", err)
	}
	if s.Explain {
		s.explainTo(o.IO, q, st)
		return nil
	}
	asked := time.Now()
	lines, err := s.read(ctx, q, st, func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui: warning:", msg) })
	if err != nil {
		return &exitError{code: 2, msg: "query: " + err.Error()}
	}
	defer lines.Close()
	s.lines = lines
	ios := *o.IO
	ios.In = lines
	out := ios.Out
	if o.Follow {
		fl := &followLines{ctx: ctx, st: st, cur: lines, asked: asked, warn: func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui: warning:", msg) }}
		defer fl.close()
		ios.In = fl
	}
	o.IO = &ios
	o.Sources = []string{"-"}
	o.Nodes = nodeFlags{} // --node named the node stream field
	// A count, a top or an answer of part of the store's answer is a wrong
	// number, not a partial one: they are held until the answer is whole.
	var held *bytes.Buffer
	if (o.Count || o.Top != "" || o.Answers.given()) && !o.Follow {
		held = &bytes.Buffer{}
		ios.Out = held
	}
	if o.Answers.Coverage {
		o.Answers.storeName = "VictoriaLogs " + storeName(st)
	}
	err = runQuery(ctx, o)
	warnRead(lines, func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui: warning:", msg) })
	if failed := lines.Err(); failed != nil {
		var refused *source.RebuildError
		if held != nil && !errors.As(failed, &refused) {
			return &exitError{code: 2, msg: "query: " + failed.Error() + "; no count is given"}
		}
		return &exitError{code: 2, msg: "query: " + failed.Error()}
	}
	if held != nil {
		if _, werr := held.WriteTo(out); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// storeName is the store's address and the streams read, for people.
func storeName(st *source.Store) string {
	if st.Streams() != "" {
		return st.Name() + " " + st.Streams()
	}
	return st.Name()
}

// useStoreInExplorer makes the store's answer to the starting filter the
// explorer's only input, read while the explorer runs (the filters typed in
// it then narrow what was read). It does nothing without --store.
func (o *exploreOptions) useStoreInExplorer(ctx context.Context, warn func(string)) error {
	s := &o.Store
	if s.given() && o.Demo {
		return usageError("--demo reads the built-in sample data: drop --store, or drop --demo")
	}
	if err := s.check(o.Sources, &o.Pods, &o.Nodes, o.Follow, ""); err != nil {
		return usageError("%v", err)
	}
	if !s.given() {
		return nil
	}
	getenv := o.IO.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	q, st, err := s.translate(o.Filter, o.Now(), o.Nodes.Names, getenv)
	if err != nil {
		return usageError("%v", err)
	}
	if s.Explain {
		s.explainTo(o.IO, q, st)
		return &exitError{code: 0}
	}
	asked := time.Now()
	lines, err := s.read(ctx, q, st, warn)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	s.lines = lines
	s.name = storeName(st)
	ios := *o.IO
	ios.In = &warnAtEnd{lines: lines, warn: warn}
	if o.Follow {
		var fctx context.Context
		fctx, s.cancel = context.WithCancel(ctx)
		s.follow = &followLines{ctx: fctx, st: st, cur: lines, asked: asked, warn: warn, live: s.live}
		ios.In = &warnAtEnd{lines: lines, follow: s.follow, warn: warn}
	}
	o.IO = &ios
	o.Sources = []string{"-"}
	o.Nodes = nodeFlags{}
	return nil
}

// close ends the store's answer, if one is being read, and its tail.
func (s *storeFlags) close() {
	if s.cancel != nil {
		s.cancel()
	}
	if s.follow != nil {
		s.follow.close()
	}
	if s.lines != nil {
		s.lines.Close()
	}
}

// sourceNames names the store instead of standard input in the explorer's
// list of sources.
func (s *storeFlags) sourceNames(names []string) []string {
	if s.lines == nil {
		return names
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n
		if n == "-" {
			out[i] = "VictoriaLogs " + s.name
		}
	}
	return out
}

// warnAtEnd says, once the answer ends, why it ended early.
type warnAtEnd struct {
	lines  *source.StoreLines // the answer (the history, when following)
	follow *followLines       // read instead of lines when following
	warn   func(string)
	done   bool
}

func (w *warnAtEnd) Read(p []byte) (int, error) {
	var n int
	var err error
	if w.follow != nil {
		n, err = w.follow.Read(p)
	} else {
		n, err = w.lines.Read(p)
	}
	if err != nil && !w.done {
		w.done = true
		warnRead(w.lines, w.warn)
		if f := w.lines.Err(); f != nil {
			w.warn(f.Error())
		}
	}
	return n, err
}
