package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

var (
	// followTick is how often follow mode prints what became ready.
	followTick = 200 * time.Millisecond
	// followGrace is how long a request that failed at ResponseStarted (a
	// failed authentication ends there) waits for a later stage before it
	// is printed as it is, by the options' clock.
	followGrace = 2 * time.Second
	// followMaxPending bounds the requests follow mode waits on (in-flight
	// watches, requests whose last stage the policy omits); past it the
	// oldest are printed as they are.
	followMaxPending = 1 << 14
)

// follow prints requests as they complete while the sources grow, until ctx
// ends or the user interrupts (Ctrl-C, SIGTERM, SIGHUP: what is pending is
// printed then). A request is printed once it is done (audit.Request.Done);
// one that may be done (MayBeDone: it failed at ResponseStarted) once it
// had no new stage for followGrace; anything else when following ends. A
// long-running request (opens) is also printed while it is open, its
// LATENCY "open" (-o json: its events so far), then again when it ends
// (-o json: the rest of its events): a session shows when it starts, not
// only when it closes.
func (o *queryOptions) follow(ctx context.Context, set *source.Set, store *audit.Store, f *filter.Filter) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	loadErr := make(chan error, 1)
	go func() { loadErr <- set.Load(ctx, store) }()

	fl := o.newFollower(set, store, f)
	tick := time.NewTicker(followTick)
	defer tick.Stop()
	for {
		select {
		case err := <-loadErr:
			ferr := fl.flush(true)
			if err != nil && !errors.Is(err, context.Canceled) {
				return usageError("query: %v", err)
			}
			return ferr
		case <-tick.C:
			if err := fl.flush(false); err != nil {
				stop()
				<-loadErr // the loader is done with set before it is closed
				return err
			}
		}
	}
}

// follower is follow mode's state between ticks. The store's Requests only
// grow, so a tick looks at the requests added since the last one (from
// next) and at those still pending, never at the rest.
type follower struct {
	o     *queryOptions
	set   *source.Set
	store *audit.Store
	f     *filter.Filter
	t     *tablePrinter // nil for -o json and -o klog
	out   *bufio.Writer

	next     int       // index in the store's Requests of the first request not seen yet
	pending  []pending // seen, not printed yet, in index order
	version  uint64    // the store's version at the last look
	wake     time.Time // the earliest grace period to end among pending (zero: none)
	klogSeen int
}

func (o *queryOptions) newFollower(set *source.Set, store *audit.Store, f *filter.Filter) *follower {
	fl := &follower{o: o, set: set, store: store, f: f, out: bufio.NewWriter(o.IO.Out)}
	if o.Output != "json" && o.Output != "klog" {
		fl.t = newTablePrinter(o.IO, o.Output == "wide", o.color())
		fl.t.fixed = true
	}
	return fl
}

// pending is a request follow mode waits on.
type pending struct {
	idx    int       // in the store's Requests
	stages int       // how many stage events it had when last looked at
	since  time.Time // when it was seen with that many (options' clock)
	// shown is how many of its events were printed while it was open (a
	// long-running request's row marked open); 0 when none was.
	shown int
}

// opens says whether r is shown while it is open: a long-running request
// (a watch, exec, attach, port-forward, pods/log, a proxy: it ends when
// its client leaves, minutes or hours later) that is not done, nor may be
// done (a failure at ResponseStarted waits out its grace period as any
// request does).
func opens(r *audit.Request) bool {
	return audit.LongRunning(r) && !r.MayBeDone()
}

// openLatency is what the LATENCY column says of a request still open.
const openLatency = "open"

// ready says whether a request can be printed now, and updates p.
func (p *pending) ready(r *audit.Request, now time.Time) bool {
	if r.Done() {
		return true
	}
	if len(r.Events) != p.stages {
		p.stages, p.since = len(r.Events), now
		return false
	}
	return r.MayBeDone() && now.Sub(p.since) >= followGrace
}

// flush prints what became ready since the last call; final prints
// everything left.
func (fl *follower) flush(final bool) error {
	if fl.o.Output == "klog" {
		return fl.flushKlog()
	}
	now := fl.o.Now()
	idle := fl.store.Version() == fl.version && (fl.wake.IsZero() || now.Before(fl.wake))
	if idle && !final && (fl.t == nil || fl.t.headerDone) {
		return nil // nothing new, no grace period over
	}
	var (
		rows []tableRow
		refs []audit.EventRef
	)
	// Rows are rendered, and refs collected, while the loader cannot merge
	// a stage into the requests; they are written after.
	fl.store.Read(func(s audit.Snapshot) {
		fl.version = s.Version
		fl.wake = time.Time{}
		// print holds the requests to print now: those that ended, those
		// printed as they are (following ends; past followMaxPending), and
		// long-running ones shown while open
		type toPrint struct {
			p           *pending
			ended, open bool
		}
		var print []toPrint
		keep := fl.pending[:0]
		var opened []int // in keep: long-running requests to show as open
		add := func(p pending, ready bool) {
			if ready || final {
				print = append(print, toPrint{p: &p, ended: ready})
				return
			}
			r := s.Requests[p.idx]
			if p.shown == 0 && opens(r) {
				opened = append(opened, len(keep))
			}
			keep = append(keep, p)
			if r.MayBeDone() {
				if end := p.since.Add(followGrace); fl.wake.IsZero() || end.Before(fl.wake) {
					fl.wake = end
				}
			}
		}
		for _, p := range fl.pending {
			add(p, p.ready(s.Requests[p.idx], now))
		}
		for i := fl.next; i < len(s.Requests); i++ {
			p := pending{idx: i, stages: -1}
			add(p, p.ready(s.Requests[i], now))
		}
		fl.next = len(s.Requests)
		over := max(0, len(keep)-followMaxPending)
		for i := range keep[:over] {
			print = append(print, toPrint{p: &keep[i]})
		}
		for _, k := range opened {
			if k >= over {
				print = append(print, toPrint{p: &keep[k], open: true})
			}
		}
		slices.SortFunc(print, func(a, b toPrint) int { return a.p.idx - b.p.idx })

		needsRaw := fl.f.NeedsRaw()
		for _, tp := range print {
			r, p := s.Requests[tp.p.idx], tp.p
			// A request shown open is printed when it ends whatever the
			// filter says of its last stage: its open row needs its end.
			if p.shown == 0 && (needsRaw && !fl.f.MatchRaw(r, fl.set.Raw) || !needsRaw && !fl.f.Match(r)) {
				continue
			}
			if p.shown > 0 && !tp.ended && len(r.Events) == p.shown {
				continue // still open, nothing new since its open row
			}
			if fl.t == nil {
				refs = append(refs, r.Events[p.shown:]...)
			} else {
				row := fl.t.row(r)
				if !tp.ended && audit.LongRunning(r) {
					fl.t.markOpen(row) // not ended: printed as it is
				}
				rows = append(rows, row)
			}
			if tp.open {
				p.shown = len(r.Events)
			}
		}
		fl.pending = keep[over:]
	})
	if fl.t != nil {
		fl.t.writeRows(fl.out, rows) // the header, the first time
	} else if err := writeEvents(fl.out, fl.set, refs); err != nil {
		return err
	}
	return fl.out.Flush()
}

// flushKlog prints the apiserver log lines read since the last call.
func (fl *follower) flushKlog() error {
	snap := fl.store.Snapshot()
	for _, l := range snap.Klog[fl.klogSeen:] {
		if b, err := fl.set.Raw(l.Ref); err == nil {
			fl.out.Write(b)
			fl.out.WriteByte('\n')
		}
	}
	fl.klogSeen = len(snap.Klog)
	return fl.out.Flush()
}

// markOpen says in row's LATENCY that its request is still open (a
// long-running request shown before it ends).
func (t *tablePrinter) markOpen(row tableRow) {
	for i, c := range t.cols {
		if c.ID == render.ColLatency {
			row.cells[i] = openLatency
		}
	}
}
