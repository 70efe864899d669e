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
	reqs, _ := storeOf(lines)
	whos, whats := map[*Who]bool{}, map[*What]bool{}
	tails := 0
	for _, r := range reqs {
		whos[r.Who], whats[r.What] = true, true
		if r.uriTail {
			tails++
		}
		var code int64
		var verb, user, decision, uri string
		for _, e := range r.Events {
			ev := gjson.ParseBytes(lines[e.Line-1])
			if c := ev.Get("responseStatus.code").Int(); c != 0 {
				code = c
			}
			if verb == "" {
				verb = ev.Get("verb").String()
			}
			if uri == "" {
				uri = ev.Get("requestURI").String()
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
		got := fmt.Sprintf("%d %s %s %s %s", r.Code, r.Verb, r.User, r.Decision, r.RequestURI())
		want := fmt.Sprintf("%d %s %s %s %s", code, verb, user, decision, uri)
		if got != want {
			t.Errorf("request %s (line %d): code, verb, user, decision %q; its events say %q", r.AuditID, r.Events[0].Line, got, want)
		}
	}
	if tails < len(reqs)/2 {
		t.Errorf("%d of %d requests keep their URI in part: the check above checks little", tails, len(reqs))
	}
	if len(whats) >= len(reqs)/2 || len(whos) >= len(reqs)/2 {
		t.Errorf("%d requests share %d Whos and %d Whats: not shared", len(reqs), len(whos), len(whats))
	}
}

// The requestURI is kept as what follows the path its object reference
// spells, and given back whole: also when a later stage names more of the
// object than the first (the path changes under the kept part), when the
// URI is not that path, and when it only looks like it.
func TestRequestURIGivenBackWhole(t *testing.T) {
	base := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"%s","requestURI":"%s","verb":"get","user":{"username":"u"},"objectRef":{%s},"requestReceivedTimestamp":"2026-11-26T03:57:47.000000Z","stageTimestamp":"2026-11-26T03:57:47.00%d000Z"}`
	for _, c := range []struct {
		name, uri, ref1, ref2 string
	}{
		{"canonical with a query", "/api/v1/namespaces/a/pods/p?timeout=5s", `"resource":"pods","namespace":"a","name":"p","apiVersion":"v1"`, ""},
		{"group, subresource", "/apis/apps/v1/namespaces/a/deployments/d/scale", `"resource":"deployments","namespace":"a","name":"d","apiGroup":"apps","apiVersion":"v1","subresource":"scale"`, ""},
		{"namespace object", "/api/v1/namespaces/a", `"resource":"namespaces","namespace":"a","name":"a","apiVersion":"v1"`, ""},
		{"a later stage names the object", "/api/v1/namespaces/a/pods/p", `"resource":"pods","apiVersion":"v1"`, `"resource":"pods","namespace":"a","name":"p","apiVersion":"v1"`},
		{"a prefix only", "/api/v1/namespaces/a/podsX", `"resource":"pods","namespace":"a","apiVersion":"v1"`, ""},
		{"escaped", "/api/v1/namespaces/a/pods/p\u0026x?y=\u003c", `"resource":"pods","namespace":"a","name":"p&x","apiVersion":"v1"`, ""},
		{"not the path", "/healthz?verbose", `"resource":"pods","apiVersion":"v1"`, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := NewStore()
			ref2 := c.ref2
			if ref2 == "" {
				ref2 = c.ref1
			}
			l1 := fmt.Sprintf(base, "id-1", "RequestReceived", c.uri, c.ref1, 1)
			l2 := fmt.Sprintf(base, "id-1", "ResponseComplete", c.uri, ref2, 2)
			st.AddEvent([]byte(l1), Ref{Line: 1})
			st.AddEvent([]byte(l2), Ref{Line: 2})
			reqs := st.Snapshot().Requests
			want := gjson.Get(l1, "requestURI").String()
			if len(reqs) != 1 || reqs[0].RequestURI() != want || len(reqs[0].Events) != 2 {
				t.Fatalf("%d requests; URI %q, want %q", len(reqs), reqs[0].RequestURI(), want)
			}
		})
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

// Whatever two events say, a request gives back the requestURI its first
// event with one logged, whole, and its verb and user.
func FuzzMergeKeepsURI(f *testing.F) {
	base := `{"kind":"Event","auditID":"i","stage":"%s","requestURI":"%s","verb":"get","user":{"username":"u"},"objectRef":{%s},"requestReceivedTimestamp":"2026-11-26T03:57:47Z","stageTimestamp":"2026-11-26T03:57:4%dZ"}`
	f.Add([]byte(fmt.Sprintf(base, "RequestReceived", "/api/v1/namespaces/a/pods/p?x", `"resource":"pods","apiVersion":"v1"`, 7)),
		[]byte(fmt.Sprintf(base, "ResponseComplete", "/api/v1/namespaces/a/pods/p?x", `"resource":"pods","namespace":"a","name":"p","apiVersion":"v1"`, 8)))
	f.Add([]byte(fmt.Sprintf(base, "ResponseComplete", "/apis/g/v/namespaces/n/r/x/s", `"resource":"r","namespace":"n","name":"x","apiGroup":"g","apiVersion":"v","subresource":"s"`, 8)), []byte(`{}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		st := NewStore()
		st.AddEvent(a, Ref{Line: 1})
		st.AddEvent(b, Ref{Line: 2})
		lines := [][]byte{a, b}
		for _, r := range st.Snapshot().Requests {
			want := ""
			for _, e := range r.Events {
				if u := gjson.GetBytes(lines[e.Line-1], "requestURI"); u.Type == gjson.String && u.Str != "" {
					want = u.Str
					break
				}
			}
			if got := r.RequestURI(); got != want {
				t.Fatalf("URI %q, want %q (events %q, %q)", got, want, a, b)
			}
		}
	})
}
