package audit

import "testing"

// Two stages stamped in the same microsecond: the request's stage is the one
// that comes later in a request's life, whatever order they were read in.
func TestSameTimeStagesKeepTheLaterStage(t *testing.T) {
	ev := func(stage string) []byte {
		return []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"` + stage +
			`","requestURI":"/api/v1/pods","verb":"watch","user":{"username":"u"},"responseStatus":{"metadata":{},"code":200},` +
			`"requestReceivedTimestamp":"2026-11-26T03:00:00.000000Z","stageTimestamp":"2026-11-26T03:00:01.000000Z"}`)
	}
	for _, order := range [][]string{{"ResponseStarted", "ResponseComplete"}, {"ResponseComplete", "ResponseStarted"}} {
		st := NewStore()
		for i, stage := range order {
			if _, _, ok := st.AddEvent(ev(stage), Ref{Line: int64(i + 1)}); !ok {
				t.Fatal("event does not parse")
			}
		}
		if got := st.Snapshot().Requests[0].Stage; got != "ResponseComplete" {
			t.Errorf("read %v: stage %s, want ResponseComplete", order, got)
		}
	}
}
