package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// history is the text screen (history, RBAC, coverage) in front of the
// Answers menu, or nil.
func (p *answersPage) history() *historyScreen {
	h, _ := p.screens.top().(*historyScreen)
	return h
}

// timeline is the timeline screen in front of the Answers menu, or nil.
func (p *answersPage) timeline() *timelineScreen {
	s, _ := p.screens.top().(*timelineScreen)
	return s
}

// answersOf is the Answers page of the explorer m.
func answersOf(m *model) *answersPage { return m.pages[stateAnswers].(*answersPage) }

// frontScreen is the history or RBAC screen in front (H and R push it on
// the root's stack, from any page), or nil.
func frontScreen(m *model) *historyScreen {
	h, _ := m.screens.top().(*historyScreen)
	return h
}

// answersModel is the explorer on a log of ui's testdata with the Answers
// page in front, sized w×h.
func answersModel(t *testing.T, rel string, w, h int) (*model, *answersPage) {
	t.Helper()
	st, set := loadStore(t, audittest.Path(rel))
	m := newTestModel(t, st, set.Raw, w, h)
	press(m, "5")
	return m, answersOf(m)
}

// openAnswerResults goes to the Answers page of m, on the answer id, into
// its results, down to row; it returns the request on that row.
func openAnswerResults(t *testing.T, m *model, id string, row int) *audit.Request {
	t.Helper()
	press(m, "5")
	for range answerIndex(t, id) {
		press(m, "j")
	}
	press(m, "l")
	for range row {
		press(m, "j")
	}
	a := answersOf(m)
	if m.State() != stateAnswers || !a.inResults || a.resultAt != row || len(reqsOf(a.result.matches)) <= row {
		t.Fatalf("%s: not on result row %d (state %v, in results %v, row %d of %d)",
			id, row, m.State(), a.inResults, a.resultAt, len(reqsOf(a.result.matches)))
	}
	return reqsOf(a.result.matches)[row]
}

// Answers → results → enter opens the detail of the selected request; esc
// lands back in the results, on the same row (it went to the Requests page).
func TestEscFromDetailBackToAnswerResults(t *testing.T) {
	m := sampleModel(t, 120, 40)
	want := openAnswerResults(t, m, "slow", 2)
	press(m, "enter")
	if m.State() != stateDetail || m.detail.Request() != want {
		t.Fatalf("enter on result row 2: state %v, want the detail of that request", m.State())
	}
	if s := screen(m); !strings.Contains(strings.SplitN(s, "\n", 2)[0], "2 Detail") {
		t.Fatalf("the detail's screen:\n%s", s)
	}
	press(m, "esc")
	a := answersOf(m)
	if m.State() != stateAnswers || !a.inResults || a.resultAt != 2 || reqsOf(a.result.matches)[2] != want {
		t.Fatalf("esc from the detail went to %v (in results %v, row %d); want the Answers results on row 2",
			m.State(), a.inResults, a.resultAt)
	}
	if s := screen(m); !strings.Contains(s, "matching requests, slowest first") {
		t.Errorf("esc does not show the answer's results:\n%s", s)
	}
}

// The help opened over the detail closes back to it, and esc then goes back
// to the page the detail was opened from: Requests, on the same row.
func TestEscFromDetailUnderHelpBackToRequestsRow(t *testing.T) {
	m := sampleModel(t, 80, 24)
	i := rowOf(t, m, isDeploymentDelete)
	m.requests.table.SetCursor(i)
	press(m, "enter", "?")
	if m.State() != stateHelp {
		t.Fatalf("? on the detail gave %v", m.State())
	}
	press(m, "esc")
	if m.State() != stateDetail || m.detail.Request() != m.flt.shownReqs()[i] {
		t.Fatalf("esc on the help went to %v, want the detail under it", m.State())
	}
	press(m, "esc")
	if m.State() != stateRequests || cursor(m) != i {
		t.Fatalf("esc went to %v, row %d; want the list on row %d", m.State(), cursor(m), i)
	}
}

// Going to a page with its key leaves the detail: esc does not bring it back.
func TestGotoPageLeavesTheDetail(t *testing.T) {
	m := sampleModel(t, 120, 40)
	openAnswerResults(t, m, "serviceaccounts", 1)
	press(m, "enter", "3")
	if m.State() != stateKlog {
		t.Fatalf("3 on the detail gave %v", m.State())
	}
	press(m, "5")
	if m.State() != stateAnswers {
		t.Fatalf("5 after leaving the detail gave %v, want the Answers page", m.State())
	}
	// tab from the detail goes to the page after the Detail tab
	press(m, "enter", "tab")
	if m.State() != stateKlog {
		t.Fatalf("tab on the detail gave %v, want the apiserver log", m.State())
	}
}

// Answers → results → H opens the object's history; esc lands back in the
// results on the same row, and esc again (←) goes back to the questions.
func TestEscFromHistoryBackToAnswerResults(t *testing.T) {
	m := sampleModel(t, 120, 40)
	want := openAnswerResults(t, m, "deleted", 0)
	press(m, "H")
	a := answersOf(m)
	if frontScreen(m) == nil || !strings.Contains(screen(m), "History of ") {
		t.Fatalf("H on a delete: want its object's history:\n%s", screen(m))
	}
	press(m, "esc")
	if m.State() != stateAnswers || frontScreen(m) != nil || !a.inResults || reqsOf(a.result.matches)[a.resultAt] != want {
		t.Fatalf("esc from the history: state %v, history open %v, in results %v", m.State(), frontScreen(m) != nil, a.inResults)
	}
	press(m, "esc")
	if m.State() != stateAnswers || a.inResults {
		t.Fatalf("esc in the results: state %v, in results %v; want the questions", m.State(), a.inResults)
	}
}

// While the log grows, the selected answer result stays on its request,
// though newer matches come in above it (the list is newest first).
func TestAnswerResultStaysOnItsRequest(t *testing.T) {
	p, _, snap := newTestAnswersPage(t, "file/audit.log", 120, 40)
	half := snap
	half.Requests = snap.Requests[:len(snap.Requests)/2]
	p.Update(DataMsg{Snap: half, All: testRows(half.Requests)})
	for range answerIndex(t, "serviceaccounts") {
		pgPress(p, "j")
	}
	pgPress(p, "l", "j")
	if !p.inResults || p.resultAt != 1 {
		t.Fatalf("not on result row 1 of the first half")
	}
	sel, before := reqsOf(p.result.matches)[1], p.result.total
	p.Update(DataMsg{Snap: snap, All: testRows(snap.Requests)})
	p.View()
	if p.result.total == before {
		t.Fatal("no newer matches in the second half: the test proves nothing")
	}
	if got := reqsOf(p.result.matches)[p.resultAt]; got != sel {
		t.Errorf("after %d newer matches the selected row is row %d, another request", p.result.total-before, p.resultAt)
	}
}

// H and R work from any request: a row of the Requests page and the
// Detail, not only an answer's results; esc comes back to where they were
// pressed. The Detail of an exec shows its command.
func TestHistoryAndRBACFromAnyRequest(t *testing.T) {
	m, _ := answersModel(t, "answers/audit.log", 120, 45)
	press(m, "1")
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool {
		return r.Verb == "delete" && r.Resource == "deployments" && r.Name == "web"
	}))
	row := m.requests.table.Cursor()
	press(m, "H")
	if frontScreen(m) == nil || !strings.Contains(screen(m), "History of apps/deployments shop/web") {
		t.Fatalf("H on a Requests row: want the object's history:\n%s", screen(m))
	}
	press(m, "esc")
	if m.State() != stateRequests || frontScreen(m) != nil || m.requests.table.Cursor() != row {
		t.Fatalf("esc from the history: state %v, cursor %d (was %d)", m.State(), m.requests.table.Cursor(), row)
	}
	press(m, "enter", "R")
	if frontScreen(m) == nil || !strings.Contains(screen(m), "kind: ") {
		t.Fatalf("R on the Detail: want the user's RBAC:\n%s", screen(m))
	}
	press(m, "esc")
	if m.State() != stateDetail {
		t.Fatalf("esc from the RBAC screen opened from the Detail: state %v, want the Detail", m.State())
	}
	press(m, "esc", "1")
	m.requests.table.SetCursor(rowOf(t, m, func(r *audit.Request) bool {
		return r.Resource == "pods" && r.Subresource == "exec"
	}))
	press(m, "enter")
	if s := screen(m); !regexp.MustCompile(`Command +\$ sh -c`).MatchString(s) {
		t.Errorf("the Detail of an exec does not show its command:\n%s", s)
	}
}
