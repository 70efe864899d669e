package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// "What happened when" on the real log: a row per minute whose counts are
// what the filter finds in that minute; + zooms to 10 s steps around the
// selected minute, - back out; enter shows exactly that step's requests;
// esc goes back to the questions.
func TestAnswerTimelineScreen(t *testing.T) {
	p, d, snap := newTestAnswersPage(t, "file/audit.log", 160, 40)
	for range answerIndex(t, "timeline") {
		pgPress(p, "j")
	}
	if msgs := pgPress(p, "enter"); len(msgs) != 0 || p.timeline() == nil {
		t.Fatalf("enter: messages %v, timeline open %v", msgs, p.timeline() != nil)
	}
	tl := p.timeline().tl
	if tl.Step != time.Minute || len(tl.Buckets) == 0 {
		t.Fatalf("the timeline opens at step %s with %d rows; want 1m and rows", tl.Step, len(tl.Buckets))
	}
	total := 0
	for _, b := range tl.Buckets {
		total += b.Requests
	}
	if total != len(snap.Requests) {
		t.Errorf("the rows add up to %d requests; the log has %d", total, len(snap.Requests))
	}
	v := ansi.Strip(p.View())
	for _, want := range []string{"What happened when: requests per 1m (UTC)", "TIME", "REQS", "P99", "USERS",
		"+/-: zoom (1m steps)", "esc: back to the answers"} {
		if !strings.Contains(v, want) {
			t.Errorf("the timeline screen lacks %q:\n%s", want, v)
		}
	}
	if n := strings.Count(v, "\n"); n >= 40 {
		t.Errorf("the screen is %d lines high, taller than 40", n+1)
	}

	// Every row's count is what its since/until filter matches.
	for i := range tl.Buckets {
		p.timeline().cursor = i
		b := tl.Buckets[i]
		msgs := pgPress(p, "enter")
		expr := pgFilterOf(t, msgs, stateRequests)
		if got := len(pgMatch(t, expr, d, snap.Requests)); got != b.Requests {
			t.Errorf("row %s shows %d requests; its filter %q finds %d", b.Start.Format(time.TimeOnly), b.Requests, expr, got)
		}
		if p.timeline() != nil {
			t.Fatal("the timeline is still in front after enter")
		}
		p.screens.push(newTimelineScreen(p.env, p.shown, p.expr, p.read))
	}

	// Zoom in on the busiest minute: 10 s steps, the cursor inside it.
	busiest := 0
	for i, b := range tl.Buckets {
		if b.Requests > tl.Buckets[busiest].Requests {
			busiest = i
		}
	}
	p.timeline().cursor = busiest
	minute := tl.Buckets[busiest]
	pgPress(p, "+")
	in := p.timeline().tl
	if in.Step != 10*time.Second {
		t.Fatalf("+ zooms to %s steps, want 10s", in.Step)
	}
	sel := in.Buckets[p.timeline().cursor]
	if sel.Start.Before(minute.Start) || !sel.Start.Before(minute.End(time.Minute)) {
		t.Errorf("after +, the cursor is on %s, outside the minute %s it was on", sel.Start, minute.Start)
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "requests per 10s") {
		t.Errorf("after +, the heading does not say 10s:\n%s", v)
	}
	pgPress(p, "-")
	if got := p.timeline().tl.Buckets[p.timeline().cursor].Start; p.timeline().tl.Step != time.Minute || !got.Equal(minute.Start) {
		t.Errorf("- goes back to %s steps on %s; want 1m on %s", p.timeline().tl.Step, got, minute.Start)
	}
	pgPress(p, "esc")
	if p.timeline() != nil {
		t.Error("esc does not close the timeline")
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "What happened when (per minute)") {
		t.Errorf("esc does not come back to the questions:\n%s", v)
	}
}

// Under a filter, the timeline is of the requests it shows, and enter
// narrows that filter to the step.
func TestAnswerTimelineOfTheFilter(t *testing.T) {
	p, d, snap := newTestAnswersPage(t, "file/audit.log", 160, 40)
	expr := "user=erin-editor"
	shown := pgMatch(t, expr, d, snap.Requests)
	p.Update(DataMsg{Snap: snap, All: testRows(snap.Requests), Filter: expr, Shown: testRows(shown), Reset: true})
	for range answerIndex(t, "timeline") {
		pgPress(p, "j")
	}
	pgPress(p, "enter")
	if p.timeline() == nil || p.timeline().tl.Requests != len(shown) {
		t.Fatalf("the timeline under %q is not of its %d requests", expr, len(shown))
	}
	if v := ansi.Strip(p.View()); !strings.Contains(v, "of the filter user=erin-editor") {
		t.Errorf("the heading does not name the filter:\n%s", v)
	}
	b := p.timeline().tl.Buckets[p.timeline().cursor]
	narrowed := pgFilterOf(t, pgPress(p, "enter"), stateRequests)
	if !strings.Contains(narrowed, expr) || !strings.Contains(narrowed, "since=") {
		t.Errorf("enter sets %q: want %q narrowed to the step", narrowed, expr)
	}
	if got := len(pgMatch(t, narrowed, d, snap.Requests)); got != b.Requests {
		t.Errorf("the row shows %d requests; %q finds %d", b.Requests, narrowed, got)
	}
}
