package audit

import (
	"slices"
	"time"
)

// Follower decides, while a log is followed, when each request is shown
// (`query --follow`): once it is done (Request.Done); one that may be done
// (MayBeDone: it failed at ResponseStarted) once it had no new stage for
// Grace; anything else when following ends. A long-running request
// (LongRunning: a watch, exec, a proxy; it ends when its client leaves) is
// also shown while it is open, then again when it ends: a session shows
// when it starts, not only when it closes. The store's Requests only grow,
// so a look at the store sees the requests added since the last one and
// those still waited on, never the rest.
type Follower struct {
	// Grace is how long a request that may be done waits for a later
	// stage, by the caller's clock.
	Grace time.Duration
	// MaxPending bounds the requests waited on (in-flight watches,
	// requests whose last stage the policy omits); past it the oldest are
	// shown as they are.
	MaxPending int

	next    int       // index in the store's Requests of the first request not seen yet
	pending []pending // seen, not shown yet, in index order
	version uint64    // the store's version at the last look
	wake    time.Time // the earliest grace period to end among pending (zero: none)
}

// pending is a request the follower waits on.
type pending struct {
	idx    int       // in the store's Requests
	stages int       // how many stage events it had when last looked at
	since  time.Time // when it was seen with that many (caller's clock)
	// shown is how many of its events were shown while it was open (a
	// long-running request shown open); 0 when none was.
	shown int
}

// Show is one request to show now.
type Show struct {
	Req *Request
	// From is how many of its events were shown already (while it was
	// open): show Events[From:].
	From int
	// Ended: it is done (or may be done, its grace period over); false
	// when it is shown as it is (following ends, past MaxPending) or open.
	Ended bool
}

// Waiting is how many requests the follower waits on, and the index in the
// store's Requests of the first it has not seen.
func (f *Follower) Waiting() (pending, next int) { return len(f.pending), f.next }

// Idle reports whether a look now would show nothing: the store did not
// change since the last look and no grace period is over.
func (f *Follower) Idle(version uint64, now time.Time) bool {
	return version == f.version && (f.wake.IsZero() || now.Before(f.wake))
}

// opens says whether r is shown while it is open: a long-running request
// that is not done, nor may be done (a failure at ResponseStarted waits
// out its grace period as any request does).
func opens(r *Request) bool {
	return LongRunning(r) && !r.MayBeDone()
}

// ready says whether a request can be shown now, and updates p.
func (p *pending) ready(r *Request, now time.Time, grace time.Duration) bool {
	if r.Done() {
		return true
	}
	if len(r.Events) != p.stages {
		p.stages, p.since = len(r.Events), now
		return false
	}
	return r.MayBeDone() && now.Sub(p.since) >= grace
}

// Look hands show the requests of s to show now, in the store's order;
// final shows everything left. Call it inside Store.Read with its
// snapshot. match says which requests are wanted; a request shown open is
// shown when it ends whatever match says of its last stage: its open row
// needs its end.
func (f *Follower) Look(s Snapshot, now time.Time, final bool, match func(*Request) bool, show func(Show)) {
	f.version = s.Version
	f.wake = time.Time{}
	// print holds the requests to show now: those that ended, those shown
	// as they are (following ends; past MaxPending), and long-running ones
	// shown while open
	type toShow struct {
		p           *pending
		ended, open bool
	}
	var print []toShow
	keep := f.pending[:0]
	var opened []int // in keep: long-running requests to show as open
	add := func(p pending, ready bool) {
		if ready || final {
			print = append(print, toShow{p: &p, ended: ready})
			return
		}
		r := s.Requests[p.idx]
		if p.shown == 0 && opens(r) {
			opened = append(opened, len(keep))
		}
		keep = append(keep, p)
		if r.MayBeDone() {
			if end := p.since.Add(f.Grace); f.wake.IsZero() || end.Before(f.wake) {
				f.wake = end
			}
		}
	}
	for _, p := range f.pending {
		add(p, p.ready(s.Requests[p.idx], now, f.Grace))
	}
	for i := f.next; i < len(s.Requests); i++ {
		p := pending{idx: i, stages: -1}
		add(p, p.ready(s.Requests[i], now, f.Grace))
	}
	f.next = len(s.Requests)
	over := max(0, len(keep)-f.MaxPending)
	for i := range keep[:over] {
		print = append(print, toShow{p: &keep[i]})
	}
	for _, k := range opened {
		if k >= over {
			print = append(print, toShow{p: &keep[k], open: true})
		}
	}
	slices.SortFunc(print, func(a, b toShow) int { return a.p.idx - b.p.idx })

	for _, tp := range print {
		r, p := s.Requests[tp.p.idx], tp.p
		if p.shown == 0 && !match(r) {
			continue
		}
		if p.shown > 0 && !tp.ended && len(r.Events) == p.shown {
			continue // still open, nothing new since its open row
		}
		show(Show{Req: r, From: p.shown, Ended: tp.ended})
		if tp.open {
			p.shown = len(r.Events)
		}
	}
	f.pending = keep[over:]
}
