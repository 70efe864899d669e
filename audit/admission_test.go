package audit

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit/audittest"
)

// What admission changed, on testdata/answers (a real apiserver with
// hack/slow-webhook's /mutate registered as slow-mutate.kauditui.example):
// every request whose last event carries mutation.webhook.admission.k8s.io/
// round_*_index_* says which webhook patched it and with which patch, as
// the annotations say; no other request says it was changed.
func TestWhyRefusedReadsMutationsOfRealLog(t *testing.T) {
	var lines [][]byte
	for _, p := range audittest.Logs(t, "answers") {
		for l := range bytes.Lines(audittest.ReadLog(t, p)) {
			lines = append(lines, bytes.TrimRight(l, "\n"))
		}
	}
	reqs, raw := storeOf(lines)
	patched := 0
	for _, r := range reqs {
		last, _ := raw(r.Events[len(r.Events)-1].Ref)
		var want []string
		gjson.GetBytes(last, "annotations").ForEach(func(k, v gjson.Result) bool {
			if strings.HasPrefix(k.String(), "patch.webhook.admission.k8s.io/round_") {
				want = append(want, gjson.Get(v.String(), "webhook").String()+" "+gjson.Get(v.String(), "patch").Raw)
			}
			return true
		})
		why := WhyRefused(r, raw)
		var got []string
		for _, m := range why.Patched() {
			got = append(got, m.Webhook+" "+m.Patch)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") || why.Changed() != (len(want) > 0) {
			t.Errorf("%s %s %s: patched %q, changed %v; the annotations say %q", r.Verb, r.Resource, r.Name, got, why.Changed(), want)
		}
		if len(got) > 0 {
			patched++
			if got[0] != "slow-mutate.kauditui.example "+why.Mutations[0].Patch || why.Mutations[0].Round != 0 || why.Mutations[0].Index != 0 {
				t.Errorf("%s: mutation %+v", r.Name, why.Mutations[0])
			}
		}
	}
	if patched == 0 {
		t.Fatal("no patched request in testdata/answers: the test checks nothing")
	}
}

// The webhooks that failed open, in the order admission ran them (mutating
// first), and a mutation annotation without a logged patch (level
// Metadata): crafted (the annotation formats are k8s.io/apiserver's).
func TestWhyRefusedReadsFailedOpen(t *testing.T) {
	line := refusedEvent(201, "", map[string]string{
		"authorization.k8s.io/decision":                                   "allow",
		"failed-open.validating.webhook.admission.k8s.io/round_0_index_0": "gone-validate.example",
		"failed-open.mutation.webhook.admission.k8s.io/round_0_index_1":   "gone-mutate.example",
		"mutation.webhook.admission.k8s.io/round_0_index_0":               `{"configuration":"stamp","webhook":"stamp.example","mutated":true}`,
		"mutation.webhook.admission.k8s.io/round_1_index_0":               `{"configuration":"stamp","webhook":"quiet.example","mutated":false}`,
	})
	st := NewStore()
	r, _, _ := st.AddEvent(line, Ref{Line: 1})
	why := WhyRefused(r, func(Ref) ([]byte, error) { return line, nil })
	if why.By != NotRefused || !why.Changed() {
		t.Errorf("By %v, Changed %v", why.By, why.Changed())
	}
	if p := why.Patched(); len(p) != 1 || p[0].Webhook != "stamp.example" || p[0].Patch != "" {
		t.Errorf("patched %+v, want stamp.example only (quiet.example changed nothing)", p)
	}
	if f := why.FailedOpen; len(f) != 2 || f[0] != (FailedWebhook{true, 0, 1, "gone-mutate.example"}) ||
		f[1] != (FailedWebhook{false, 0, 0, "gone-validate.example"}) {
		t.Errorf("failed open %+v", f)
	}
	// a read is not admitted: nothing is read for it
	r.What = &What{Verb: "get", Code: 200}
	if why := WhyRefused(r, func(Ref) ([]byte, error) { return line, nil }); why.Changed() {
		t.Errorf("a get was changed by admission: %+v", why)
	}
}

// A latency value the apiserver cannot have meant is kept and marked, not
// trusted or added up: a negative total (seen in real data), a layer longer
// than the request, a value that is no duration. Crafted.
func TestLatencyBreakdownMarksAbsurdValues(t *testing.T) {
	line := refusedEvent(200, "", map[string]string{
		LatencyAnnotation + "total":          "-3.2ms",
		LatencyAnnotation + "etcd":           "2h",
		LatencyAnnotation + "authentication": "1.5ms",
		LatencyAnnotation + "impersonation":  "soon",
	})
	st := NewStore()
	r, _, _ := st.AddEvent(line, Ref{Line: 1}) // the request took 10ms
	raw := func(Ref) ([]byte, error) { return line, nil }
	bad := map[string]string{}
	for _, l := range LatencyBreakdown(r, raw) {
		bad[l.Layer] = l.Bad
	}
	want := map[string]string{"total": "negative", "etcd": "longer than the request", "authentication": "", "impersonation": "not a duration"}
	for k, v := range want {
		if bad[k] != v {
			t.Errorf("%s: Bad %q, want %q", k, bad[k], v)
		}
	}
	if got := LatencyLayers(r, raw); len(got) != 1 || got["authentication"] != 1500*time.Microsecond {
		t.Errorf("LatencyLayers = %v, want authentication only", got)
	}
}
