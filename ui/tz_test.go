package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/render"
)

// Under --tz (render's zone, and Now in it) the explorer shows every time
// in that zone with its offset, and a zone-less time typed into the filter
// is read in it: the deployment delete of the sample log (03:02:10Z) is
// found by the time its list row and Detail header show.
func TestExplorerShowsAndReadsTheZone(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	render.SetZone(tokyo)
	t.Cleanup(func() { render.SetZone(nil) })
	m := sampleModel(t, 120, 40, func(o *Options) { o.Now = func() time.Time { return testNow.In(tokyo) } })
	m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
	if v := screen(m); !strings.Contains(v, "11-26 12:02:10.000+09:00") {
		t.Fatalf("the list does not show the delete's time in +09:00:\n%s", v)
	}
	press(m, "enter")
	v := screen(m)
	for _, want := range []string{"Time      2026-11-26T12:02:10.000000+09:00", "12:02:10.005000+09:00  +5ms"} {
		if !strings.Contains(v, want) {
			t.Errorf("the Detail page lacks %q:\n%s", want, v)
		}
	}
	send(m, setFilterMsg{Expr: "since=2026-11-26T12:02:10 until=2026-11-26T12:02:10 verb=delete"})
	if n := len(reqsOf(m.requests.shown)); n != 1 || !isDeploymentDelete(reqsOf(m.requests.shown)[0]) {
		t.Errorf("a zone-less time read in +09:00 finds %d requests, want the delete", n)
	}
}
