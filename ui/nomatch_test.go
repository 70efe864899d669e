package ui

import (
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// A filter that matches nothing in the real log says which near values the
// log holds, with the requests each would match (as `kauditui query` does).
func TestNoMatchSuggestsNearValues(t *testing.T) {
	st, set := loadStore(t, audittest.Path("file", "audit.log"))
	m := newTestModel(t, st, set.Raw, 120, 40)
	press(m, "/")
	typeText(m, "user=erin verb=delete")
	press(m, "enter")
	if len(m.flt.shownReqs()) != 0 {
		t.Fatalf("user=erin verb=delete shows %d requests, want none", len(m.flt.shownReqs()))
	}
	s := screen(m)
	if !strings.Contains(s, "No requests match user=erin verb=delete") ||
		!strings.Contains(s, "0 requests; user=erin-editor has 1 (user=*erin* 1)") {
		t.Fatalf("no near values under the empty list:\n%s", s)
	}
	// A filter with nothing near says no more than before.
	press(m, "/", "ctrl+u")
	typeText(m, "user=nobody-at-all")
	press(m, "enter")
	if s := screen(m); !strings.Contains(s, "No requests match user=nobody-at-all") || strings.Contains(s, " has ") {
		t.Fatalf("user=nobody-at-all:\n%s", s)
	}
}

// The filter bar reads the other languages' spellings as the command line
// does (one parser), and shows the refusal of those it cannot read.
func TestFilterBarGuesses(t *testing.T) {
	m := sampleModel(t, 120, 30)
	total := len(m.flt.shownReqs())
	press(m, "/")
	typeText(m, "NOT verb=get")
	press(m, "enter")
	if n := len(m.flt.shownReqs()); n == 0 || n == total {
		t.Fatalf("NOT verb=get shows %d of %d", n, total)
	}
	for _, r := range m.flt.shownReqs() {
		if r.Verb == "get" {
			t.Fatalf("NOT verb=get shows a get (%s)", r.AuditID)
		}
	}
	press(m, "/", "ctrl+u")
	typeText(m, "user=alice OR verb=delete")
	press(m, "enter")
	if !m.filterBar.Focused() || m.flt.expr != "NOT verb=get" {
		t.Fatalf("a refused OR applied %q (bar open: %v)", m.flt.expr, m.filterBar.Focused())
	}
	if s := screen(m); !strings.Contains(s, `"user=alice OR verb=delete"`) || !strings.Contains(s, "no OR across fields") {
		t.Fatalf("the refusal is not shown:\n%s", s)
	}
}
