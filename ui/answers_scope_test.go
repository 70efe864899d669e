package ui

import (
	"fmt"
	"strings"
	"testing"
)

// The Answers page says what its counts are over: every request, and,
// with a filter in force, that they do not follow it.
func TestAnswersCountsSayWhatTheyAreOver(t *testing.T) {
	m := sampleModel(t, 120, 40)
	press(m, "5")
	if v := screen(m); !strings.Contains(v, "counts: every request (an answer sets the filter and the view)") {
		t.Errorf("the Answers page does not say what its counts are over:\n%s", v)
	}
	all := answersOf(m).counts
	m = sampleModel(t, 120, 40, withFilter("verb=delete"))
	press(m, "5")
	if v := screen(m); !strings.Contains(v, "counts: every request, not the filter in force (an answer replaces it)") {
		t.Errorf("with a filter, the Answers page does not say its counts ignore it:\n%s", v)
	}
	if got := answersOf(m).counts; fmt.Sprint(got) != fmt.Sprint(all) || len(got) == 0 {
		t.Errorf("the counts with a filter %v differ from those without %v", got, all)
	}
}

// The timeline in front of the Answers page is drawn again when the
// filter changes: its heading names the new filter, its rows add up to
// what the filter shows.
func TestTimelineRedrawsWhenTheFilterChanges(t *testing.T) {
	m := sampleModel(t, 160, 40)
	press(m, "5")
	for range answerIndex(t, "timeline") {
		press(m, "j")
	}
	press(m, "enter")
	p := answersOf(m)
	if p.timeline() == nil {
		t.Fatalf("the timeline did not open:\n%s", screen(m))
	}
	all := p.timeline().tl.Requests
	press(m, "/")
	typeText(m, "verb=delete")
	press(m, "enter")
	tl := p.timeline()
	if tl == nil {
		t.Fatalf("the timeline left the screen when the filter changed:\n%s", screen(m))
	}
	deletes := len(m.flt.shownReqs())
	if deletes == 0 || deletes == all || tl.tl.Requests != deletes {
		t.Fatalf("after the filter verb=delete the timeline counts %d requests; the filter shows %d (of %d)", tl.tl.Requests, deletes, all)
	}
	if v := screen(m); !strings.Contains(v, fmt.Sprintf("%s in ", thousands(deletes))) || !strings.Contains(v, "of the filter verb=delete") {
		t.Errorf("the timeline's heading does not follow the filter:\n%s", v)
	}
}
