package ui

import (
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// A request whose ending stage is read first is done at once; when an
// earlier stage read later fills in what the filter asks for (here the
// authorization reason), the re-filter matches it again. The lines are
// crafted: the apiserver writes stages in order, a concatenation may not.
func TestRefilterSeesAStageReadAfterTheEnd(t *testing.T) {
	const rc = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"late-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/secrets","verb":"list","user":{"username":"eve"},"objectRef":{"resource":"secrets","namespace":"a","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-26T04:00:00.000000Z","stageTimestamp":"2026-11-26T04:00:00.002000Z"}`
	const rr = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"late-1","stage":"RequestReceived","requestURI":"/api/v1/namespaces/a/secrets","verb":"list","user":{"username":"eve"},"objectRef":{"resource":"secrets","namespace":"a","apiVersion":"v1"},"annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by RoleBinding"},"requestReceivedTimestamp":"2026-11-26T04:00:00.000000Z","stageTimestamp":"2026-11-26T04:00:00.000000Z"}`
	st := audit.NewStore()
	f, err := filter.Parse("reason=*RBAC*", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	fs := newFiltered("reason=*RBAC*", f, nil)
	if _, _, ok := st.AddEvent([]byte(rc), audit.Ref{Line: 1}); !ok {
		t.Fatal("line does not parse")
	}
	fs.run(testSrc(st))
	if len(fs.shownReqs()) != 0 {
		t.Fatalf("matched before the reason was read: %d", len(fs.shownReqs()))
	}
	if _, _, ok := st.AddEvent([]byte(rr), audit.Ref{Line: 2}); !ok {
		t.Fatal("line does not parse")
	}
	fs.extend(testSrc(st))
	if len(fs.shownReqs()) != 1 {
		t.Errorf("after the RequestReceived with the reason: %d shown, want 1", len(fs.shownReqs()))
	}
}
