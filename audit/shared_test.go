package audit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// Requests share their Who and What: a value one request gains from a
// later stage (its code, the authorizer's decision) must not show up in
// another. Every request of the real logs is checked against its own
// events, read again with gjson: the code and message of the latest stage
// that has one, the first non-empty verb, user and decision.
func TestSharedValuesStayTheirRequests(t *testing.T) {
	lines := realLines(t)
	st := NewStore()
	for i, l := range lines {
		st.AddEvent(l, Ref{Line: int64(i + 1), Len: int32(len(l))})
	}
	reqs := st.Snapshot().Requests
	whos, whats := map[*Who]bool{}, map[*What]bool{}
	for _, r := range reqs {
		whos[r.Who], whats[r.What] = true, true
		var code int64
		var verb, user, decision string
		for _, e := range r.Events {
			ev := gjson.ParseBytes(lines[e.Line-1])
			if c := ev.Get("responseStatus.code").Int(); c != 0 {
				code = c
			}
			if verb == "" {
				verb = ev.Get("verb").String()
			}
			if user == "" {
				user = ev.Get("user.username").String()
			}
			if decision == "" {
				decision = ev.Get(`annotations.authorization\.k8s\.io/decision`).String()
			}
			if s := ev.Get("stage").String(); e.Stage() != s {
				t.Errorf("request %s: an event of stage %q says %q", r.AuditID, s, e.Stage())
			}
		}
		got := fmt.Sprintf("%d %s %s %s", r.Code, r.Verb, r.User, r.Decision)
		want := fmt.Sprintf("%d %s %s %s", code, verb, user, decision)
		if got != want {
			t.Errorf("request %s (line %d): code, verb, user, decision %q; its events say %q", r.AuditID, r.Events[0].Line, got, want)
		}
	}
	if len(whats) >= len(reqs)/2 || len(whos) >= len(reqs)/2 {
		t.Errorf("%d requests share %d Whos and %d Whats: not shared", len(reqs), len(whos), len(whats))
	}
}

// Stage names beyond the four of audit.k8s.io/v1 keep their text, from
// many goroutines at once (stores of several tests). (The table is not
// filled here: other tests of the package share it.)
func TestStageNames(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				name := fmt.Sprintf("Stage-%d-%d", g, i)
				if got := NewEventRef(Ref{}, name, time.Time{}).Stage(); got != name {
					t.Errorf("stage %q reads back %q", name, got)
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range []string{"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic", ""} {
		if got := NewEventRef(Ref{}, s, time.Time{}).Stage(); got != s {
			t.Errorf("stage %q reads back %q", s, got)
		}
	}
}
