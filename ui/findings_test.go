package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestAnswerFindings: the Findings answer on the real log of
// hack/gen-findings.sh lists what the rules found, with the selected
// finding's technique and why; enter on a finding of one request opens
// that request, on a burst it sets the filter to the burst's requests and
// shows the Requests page.
func TestAnswerFindings(t *testing.T) {
	p, _, _ := newTestAnswersPage(t, "findings/audit.log", 200, 60)
	for range answerIndex(t, "findings") {
		pgPress(p, "j")
	}
	pgPress(p, "enter")
	s, ok := p.screens.top().(*findingsScreen)
	if !ok {
		t.Fatal("enter on Findings opens no findings screen")
	}
	if len(s.res.Findings) < 21 { // one at least per attack step of the harness
		t.Errorf("%d findings", len(s.res.Findings))
	}
	v := ansi.Strip(p.View())
	for _, want := range []string{"Findings: " + thousands(len(s.res.Findings)) + " of 17 rules", "privileged-pod", "create pods prod/priv: container app privileged",
		"rbac-bind-admin", "mallory", "T1528 Steal Application Access Token", "why: a token of another identity"} {
		if !strings.Contains(v, want) {
			t.Errorf("the findings screen lacks %q:\n%s", want, v)
		}
	}
	// the first finding is the admin's token request of the benign traffic: one request
	msgs := pgPress(p, "enter")
	var opened bool
	for _, m := range msgs {
		if o, ok := m.(openRequestMsg); ok && o.Req == s.res.Findings[0].Requests[0] {
			opened = true
		}
	}
	if !opened {
		t.Errorf("enter on a finding of one request does not open it: %v", msgs)
	}
	// the burst: several requests, enter filters to them
	burst := -1
	for i, f := range s.res.Findings {
		if f.Rule.ID == "auth-failure-burst" {
			burst = i
		}
	}
	if burst < 0 {
		t.Fatal("no burst finding")
	}
	for range burst {
		pgPress(p, "j")
	}
	msgs = pgPress(p, "enter")
	var expr string
	var shown bool
	for _, m := range msgs {
		switch m := m.(type) {
		case setFilterMsg:
			expr = m.Expr
		case showPageMsg:
			shown = m.Page == stateRequests
		}
	}
	if !shown || !strings.HasPrefix(expr, "id=") || strings.Count(expr, ",") != len(s.res.Findings[burst].Requests)-1 {
		t.Errorf("enter on the burst: filter %q, requests page %v; want id= of its %d requests", expr, shown, len(s.res.Findings[burst].Requests))
	}
}
