package audit

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
)

// loadLines loads event lines into a new store.
func loadLines(t *testing.T, lines ...string) Snapshot {
	t.Helper()
	st := NewStore()
	for i, l := range lines {
		if _, _, ok := st.AddEvent([]byte(l), Ref{Line: int64(i + 1)}); !ok {
			t.Fatalf("line %d not an event: %s", i+1, l)
		}
	}
	return st.Snapshot()
}

// event is a crafted audit.k8s.io/v1 event line with these times.
func event(id, stage, received, stageAt string) string {
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":%q,"requestURI":"/api/v1/pods","verb":"list","user":{"username":"alice"},"requestReceivedTimestamp":%q,"stageTimestamp":%q}`,
		id, stage, received, stageAt)
}

// Times outside 1678-2262 are kept as they were logged (Unix nanoseconds
// in an int64 wrapped: 2300 came back as 1715), and the Unix epoch is a
// time, not "none". The lines are crafted: no apiserver logs such years.
func TestTimesOutsideNanosecondRange(t *testing.T) {
	for _, c := range []struct{ received, stageAt string }{
		{"2300-01-02T03:04:05.123456Z", "2300-01-02T03:04:06.5Z"},
		{"1600-05-06T07:08:09.000001Z", "1600-05-06T07:08:09.000002Z"},
		{"9999-12-31T23:59:58Z", "9999-12-31T23:59:59.999999Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00.000001Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00.25Z"},
		{"1969-12-31T23:59:59.999999Z", "1970-01-01T00:00:00Z"},
	} {
		snap := loadLines(t, event("a", "RequestReceived", c.received, c.received), event("a", "ResponseComplete", c.received, c.stageAt))
		if len(snap.Requests) != 1 {
			t.Fatalf("%v: %d requests, want the two stages merged into 1", c, len(snap.Requests))
		}
		r := snap.Requests[0]
		want, _ := time.Parse(time.RFC3339Nano, c.received)
		wantLast, _ := time.Parse(time.RFC3339Nano, c.stageAt)
		if !r.First().Equal(want) || r.First().IsZero() {
			t.Errorf("First() = %v, logged %s", r.First(), c.received)
		}
		if !r.Last().Equal(wantLast) || !r.Events[1].At().Equal(wantLast) {
			t.Errorf("Last() = %v, event At() = %v, logged %s", r.Last(), r.Events[1].At(), c.stageAt)
		}
		if got, want := r.Latency(), wantLast.Sub(want); got != want {
			t.Errorf("%v: latency %v, want %v", c, got, want)
		}
	}
}

func TestNoTimeIsNotTheEpoch(t *testing.T) {
	r := NewRequest(Who{}, What{}, "x", "/", "")
	if !r.First().IsZero() || !r.Last().IsZero() || r.Latency() != 0 {
		t.Fatalf("a request without stages has times %v %v", r.First(), r.Last())
	}
	snap := loadLines(t, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"n","stage":"ResponseComplete","verb":"get"}`)
	if r := snap.Requests[0]; !r.First().IsZero() || !r.Events[0].At().IsZero() {
		t.Fatalf("an event without times has First() %v, At() %v", r.First(), r.Events[0].At())
	}
}

// The explorer holds millions of these: a new time representation must not
// grow them.
func TestTimeFieldsKeepSizes(t *testing.T) {
	if s := unsafe.Sizeof(EventRef{}); s != 40 {
		t.Errorf("EventRef is %d bytes, was 40", s)
	}
	if s := unsafe.Sizeof(Request{}); s != 128 {
		t.Errorf("Request is %d bytes, was 128", s)
	}
}

// Kubernetes 1.8's audit.k8s.io/v1beta1 events have only timestamp: it is
// the request's time (real events, testdata/v1beta1).
func TestV1beta1TimestampIsTheTime(t *testing.T) {
	b, err := os.ReadFile("../testdata/v1beta1/audit.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	snap := loadLines(t, lines...)
	if len(snap.Requests) != 5 {
		t.Fatalf("%d requests, want 5 (stages merged)", len(snap.Requests))
	}
	for _, r := range snap.Requests {
		ts := gjsonTimestamp(t, lines, r)
		if !r.First().Equal(ts) || !r.Last().Equal(ts) {
			t.Errorf("%s %s: First %v Last %v, logged timestamp %v", r.Verb, r.AuditID, r.First(), r.Last(), ts)
		}
		for _, e := range r.Events {
			if !e.At().Equal(ts) {
				t.Errorf("%s %s: event at %v, logged %v", e.Stage(), r.AuditID, e.At(), ts)
			}
		}
	}
	ev, ok := ParseEvent([]byte(lines[0]))
	if want := time.Date(2017, 9, 11, 19, 55, 5, 0, time.UTC); !ok || !ev.Received.Equal(want) || !ev.StageAt.Equal(want) {
		t.Errorf("ParseEvent: received %v, stage %v, want %v", ev.Received, ev.StageAt, want)
	}
}

func gjsonTimestamp(t *testing.T, lines []string, r *Request) time.Time {
	t.Helper()
	at := ParseTime(gjson.Get(lines[r.Events[0].Line-1], "timestamp").Str)
	if at.IsZero() {
		t.Fatalf("line %d has no timestamp", r.Events[0].Line)
	}
	return at
}
