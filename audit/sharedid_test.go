package audit

import (
	"fmt"
	"testing"
)

// sharedEvent is one stage of a request whose auditID the client chose.
func sharedEvent(id, stage, verb, resource, name, received, at string) []byte {
	code := ""
	if stage == "ResponseComplete" {
		code = `,"responseStatus":{"metadata":{},"code":200}`
	}
	return fmt.Appendf(nil, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,`+
		`"requestURI":"/api/v1/namespaces/default/%s/%s","verb":%q,"user":{"username":"mallory"},`+
		`"objectRef":{"resource":%q,"namespace":"default","name":%q,"apiVersion":"v1"}%s,`+
		`"requestReceivedTimestamp":%q,"stageTimestamp":%q}`,
		id, stage, resource, name, verb, resource, name, code, received, at)
}

// The case: mallory reads a configmap, then deletes a secret an hour
// later with the same client-chosen auditID. Both requests must be there.
func TestReusedAuditIDKeepsBothRequests(t *testing.T) {
	const id = "11111111-2222-3333-4444-555555555555"
	lines := [][]byte{
		sharedEvent(id, "RequestReceived", "get", "configmaps", "cm", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.000000Z"),
		sharedEvent(id, "ResponseComplete", "get", "configmaps", "cm", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.002000Z"),
		sharedEvent(id, "RequestReceived", "delete", "secrets", "prod-db", "2026-11-26T05:00:00.000000Z", "2026-11-26T05:00:00.000000Z"),
		sharedEvent(id, "ResponseComplete", "delete", "secrets", "prod-db", "2026-11-26T05:00:00.000000Z", "2026-11-26T05:00:00.003000Z"),
	}
	st := NewStore()
	for i, l := range lines {
		if _, _, ok := st.AddEvent(l, Ref{Line: int64(i + 1)}); !ok {
			t.Fatalf("line %d does not parse", i+1)
		}
	}
	snap := st.Snapshot()
	if len(snap.Requests) != 2 {
		t.Fatalf("%d requests, want 2 (get configmaps and delete secrets)", len(snap.Requests))
	}
	get, del := snap.Requests[0], snap.Requests[1]
	if get.Verb != "get" || del.Verb != "delete" || del.Name != "prod-db" {
		t.Errorf("requests %s %s and %s %s, want get cm and delete prod-db", get.Verb, get.Name, del.Verb, del.Name)
	}
	if got := del.Latency(); got.Milliseconds() != 3 {
		t.Errorf("delete latency %v, want 3ms (not an hour across two requests)", got)
	}
	if !get.SharedID || !del.SharedID || snap.SharedIDs != 2 {
		t.Errorf("shared flags %v %v, SharedIDs %d: want both flagged, 2", get.SharedID, del.SharedID, snap.SharedIDs)
	}
	if got := st.WithID(id); len(got) != 2 || got[0] != get || got[1] != del {
		t.Errorf("WithID: %d requests, want the get then the delete", len(got))
	}
}

// Same verb, URI and user, different received time: two requests. A second
// RequestReceived: two. A line read twice (every byte equal, so nothing can
// tell it from a repeat): one.
func TestReusedAuditIDIdentityRules(t *testing.T) {
	const id = "x"
	rr := func(recv string) []byte {
		return sharedEvent(id, "RequestReceived", "get", "secrets", "s", recv, recv)
	}
	rc := func(recv, at string) []byte {
		return sharedEvent(id, "ResponseComplete", "get", "secrets", "s", recv, at)
	}
	cases := []struct {
		name  string
		lines [][]byte
		want  int
		dups  int
	}{
		{"other received time", [][]byte{rr("2026-11-26T04:00:00Z"), rr("2026-11-26T04:00:01Z")}, 2, 0},
		{"second RequestReceived", [][]byte{rr("2026-11-26T04:00:00Z"), rc("2026-11-26T04:00:00Z", "2026-11-26T04:00:00.1Z"),
			sharedEvent(id, "RequestReceived", "get", "secrets", "s", "2026-11-26T04:00:00Z", "2026-11-26T04:00:00.000001Z")}, 2, 0},
		{"second ResponseComplete", [][]byte{rc("2026-11-26T04:00:00Z", "2026-11-26T04:00:00.1Z"), rc("2026-11-26T04:00:00Z", "2026-11-26T04:00:00.2Z")}, 2, 0},
		{"interleaved", [][]byte{rr("2026-11-26T04:00:00Z"), rr("2026-11-26T04:00:01Z"), rc("2026-11-26T04:00:00Z", "2026-11-26T04:00:02Z"), rc("2026-11-26T04:00:01Z", "2026-11-26T04:00:03Z")}, 2, 0},
		{"same line twice", [][]byte{rr("2026-11-26T04:00:00Z"), rr("2026-11-26T04:00:00Z"), rc("2026-11-26T04:00:00Z", "2026-11-26T04:00:00.1Z")}, 1, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := NewStore()
			for i, l := range c.lines {
				st.AddEvent(l, Ref{Line: int64(i + 1)})
			}
			snap := st.Snapshot()
			if len(snap.Requests) != c.want || snap.Duplicates != c.dups {
				t.Fatalf("%d requests, %d duplicates; want %d, %d", len(snap.Requests), snap.Duplicates, c.want, c.dups)
			}
			for _, r := range snap.Requests {
				seen := map[string]bool{}
				for _, e := range r.Events {
					if seen[e.Stage()] {
						t.Errorf("a request holds stage %s twice", e.Stage())
					}
					seen[e.Stage()] = true
				}
				if c.want == 2 && !r.SharedID {
					t.Error("request not flagged as sharing its auditID")
				}
			}
		})
	}
}

// A client reusing one auditID for every request must not make loading
// quadratic: each stage is compared with a bounded number of requests.
func TestReusedAuditIDManyTimesStaysLinear(t *testing.T) {
	st := NewStore()
	const n = 20000
	for i := 0; i < n; i++ {
		recv := fmt.Sprintf("2026-11-26T04:%02d:%02d.%06dZ", i/60000%60, i/1000%60, i%1000)
		st.AddEvent(sharedEvent("same", "ResponseComplete", "get", "secrets", "s", recv, recv), Ref{Line: int64(i + 1)})
	}
	if got := len(st.Snapshot().Requests); got != n {
		t.Fatalf("%d requests, want %d", got, n)
	}
}
