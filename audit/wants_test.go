package audit

import (
	"bytes"
	"testing"
)

// Wants finds the event's own auditID however the line is written: in the
// apiserver's key order (read from the line's head), in another order with
// a body that holds an "auditID" of its own before it, and spelled with
// escapes.
func TestWantsFindsTheRequestsOwnID(t *testing.T) {
	st := NewStreamingStore(func(*Request) {})
	open := sharedEvent("open-1", "RequestReceived", "watch", "pods", "", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.000000Z")
	if _, _, ok := st.AddEvent(open, Ref{}); !ok {
		t.Fatal("line does not parse")
	}
	done := sharedEvent("open-1", "ResponseComplete", "watch", "pods", "", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:30:00.000000Z")
	other := sharedEvent("other", "ResponseComplete", "get", "pods", "", "2026-11-26T04:00:00.000000Z", "2026-11-26T04:00:00.000000Z")
	reordered := append([]byte(`{"requestObject":{"auditID":"other"},`), bytes.TrimPrefix(done, []byte("{"))...)
	escaped := bytes.Replace(done, []byte(`"auditID":"open-1"`), []byte(`"audit\u0049D":"open\u002d1"`), 1)
	for name, c := range map[string]struct {
		line []byte
		want bool
	}{
		"the apiserver's order":  {done, true},
		"another request":        {other, false},
		"a body's auditID first": {reordered, true},
		"escaped key and value":  {escaped, true},
	} {
		if got := st.Wants(c.line); got != c.want {
			t.Errorf("%s: Wants = %v, want %v", name, got, c.want)
		}
	}
	st.AddEvent(done, Ref{})
	if st.Wants(done) {
		t.Error("Wants a line of a request that is done")
	}
}
