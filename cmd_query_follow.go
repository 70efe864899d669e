package main

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/signal"
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

// follower is follow mode's state between ticks: which requests to print
// is audit.Follower's to say, how is the table's or -o json's.
type follower struct {
	o      *queryOptions
	set    *source.Set
	store  *audit.Store
	f      *filter.Filter
	t      *render.TablePrinter // nil for -o json and -o klog
	out    *bufio.Writer
	follow audit.Follower

	klogSeen int
}

func (o *queryOptions) newFollower(set *source.Set, store *audit.Store, f *filter.Filter) *follower {
	fl := &follower{o: o, set: set, store: store, f: f, out: bufio.NewWriter(o.IO.Out),
		follow: audit.Follower{Grace: followGrace, MaxPending: followMaxPending}}
	if o.Output != "json" && o.Output != "klog" {
		fl.t = o.tablePrinter()
		fl.t.Follow()
	}
	return fl
}

// flush prints what became ready since the last call; final prints
// everything left.
func (fl *follower) flush(final bool) error {
	if fl.o.Output == "klog" {
		return fl.flushKlog()
	}
	now := fl.o.Now()
	if fl.follow.Idle(fl.store.Version(), now) && !final && (fl.t == nil || fl.t.HeaderDone()) {
		return nil // nothing new, no grace period over
	}
	var (
		rows []render.TableRow
		refs []audit.EventRef
	)
	// Rows are rendered, and refs collected, while the loader cannot merge
	// a stage into the requests; they are written after.
	fl.store.Read(func(s audit.Snapshot) {
		fl.follow.Look(s, now, final, func(r *audit.Request) bool { return fl.f.MatchRaw(r, fl.set.Raw) }, func(sh audit.Show) {
			if fl.t == nil {
				refs = append(refs, sh.Req.Events[sh.From:]...)
				return
			}
			row := fl.t.Row(sh.Req)
			if !sh.Ended && audit.LongRunning(sh.Req) {
				fl.t.MarkOpen(row) // not ended: printed as it is
			}
			rows = append(rows, row)
		})
	})
	if fl.t != nil {
		fl.t.WriteRows(fl.out, rows) // the header, the first time
	} else if err := fl.set.WriteEvents(fl.out, refs); err != nil {
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
