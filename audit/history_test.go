package audit

import (
	"fmt"
	"strings"
	"testing"
)

// historyEvent is the ResponseComplete event of one write of configmap
// default/app at level RequestResponse (the real events of the answers
// log are checked in the main package; this covers what it has not:
// a failed write, and a create after a delete).
func historyEvent(id, verb string, code int, at, req, resp string) []byte {
	bodies := ""
	if req != "" {
		bodies += `,"requestObject":` + req
	}
	if resp != "" {
		bodies += `,"responseObject":` + resp
	}
	return fmt.Appendf(nil, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":%q,"stage":"ResponseComplete",`+
		`"requestURI":"/api/v1/namespaces/default/configmaps/app","verb":%q,"user":{"username":"alice"},`+
		`"objectRef":{"resource":"configmaps","namespace":"default","name":"app","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":%d}%s,`+
		`"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, id, verb, code, bodies, at, at)
}

func TestHistoryFailedWriteAndRecreate(t *testing.T) {
	cm := func(mode string) string {
		return `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"app","namespace":"default","resourceVersion":"` + mode + `1","managedFields":[{"manager":"kubectl"}]},"data":{"mode":"` + mode + `"}}`
	}
	lines := [][]byte{
		historyEvent("1", "create", 201, "2026-11-26T04:00:00.000000Z", cm("blue"), cm("blue")),
		historyEvent("2", "patch", 403, "2026-11-26T04:00:01.000000Z", `{"data":{"mode":"red"}}`, `{"kind":"Status","code":403}`),
		historyEvent("3", "update", 200, "2026-11-26T04:00:02.000000Z", cm("green"), cm("green")),
		historyEvent("4", "delete", 200, "2026-11-26T04:00:03.000000Z", "", `{"kind":"Status","status":"Success"}`),
	}
	st := NewStore()
	raw := map[int64][]byte{}
	for i, l := range lines {
		raw[int64(i+1)] = l
		if _, _, ok := st.AddEvent(l, Ref{Line: int64(i + 1)}); !ok {
			t.Fatalf("line %d", i+1)
		}
	}
	read := func(r Ref) ([]byte, error) { return raw[r.Line], nil }
	reqs := st.Snapshot().Requests
	h := BuildHistory(reqs, read)
	if len(h.Changes) != 4 || h.Deleted == nil || h.Deleted.AuditID != "4" {
		t.Fatalf("changes %d, deleted %v", len(h.Changes), h.Deleted)
	}
	if c := h.Changes[1]; c.NoDiff != "failed: nothing changed" || c.Patch != `{"data":{"mode":"red"}}` {
		t.Errorf("the denied patch: %+v", c)
	}
	if d := h.Changes[2].Diff; len(d) != 1 || d[0] != (fieldChange{Path: "data.mode", Old: `"blue"`, New: `"green"`}) {
		t.Errorf("the update's diff (the denied patch changed nothing; resourceVersion is noise): %+v", d)
	}
	if !strings.Contains(h.LastState, `"mode": "green"`) || strings.Contains(h.LastState, "managedFields") {
		t.Errorf("the last state before the delete: %s", h.LastState)
	}
	// created again: not deleted any more, and its create starts afresh
	again := historyEvent("5", "create", 201, "2026-11-26T04:00:04.000000Z", cm("blue"), cm("blue"))
	raw[5] = again
	st.AddEvent(again, Ref{Line: 5})
	h = BuildHistory(st.Snapshot().Requests, read)
	if h.Deleted != nil {
		t.Errorf("deleted by %s, but it was created again", h.Deleted.AuditID)
	}
	if d := h.Changes[4].Diff; len(d) == 0 || d[0].Old != "" {
		t.Errorf("the create after the delete is diffed against the deleted version: %+v", d)
	}
}
