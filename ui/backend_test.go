package ui

// The explorer on testdata/backend/ (a real kube-apiserver v1.37.2's log of
// hack/gen-backend.sh: a stand-in kubelet answering 401, exec sessions held
// open or ended in errors, a proxied response cut off into a Panic), against
// the cases of its expected.json: what the list shows for each, loaded whole
// and grown a line at a time as when following.

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

func backendTestdata(t *testing.T) (string, []gjson.Result) {
	t.Helper()
	cases := audittest.Expected(t, "backend").Get("cases").Array()
	if len(cases) == 0 {
		t.Fatal("expected.json has no cases")
	}
	return audittest.Path("backend", "audit.log"), cases
}

// backendFind is the filter that finds a case's requests.
func backendFind(c gjson.Result) string {
	f := c.Get("find")
	var terms []string
	add := func(field, v string) {
		if v != "" {
			terms = append(terms, field+"="+v)
		}
	}
	add("id", f.Get("auditID").Str)
	add("user", f.Get("user").Str)
	add("verb", f.Get("verb").Str)
	if r := f.Get("resource").Str; r != "" {
		if s := f.Get("subresource").Str; s != "" {
			r += "/" + s
		}
		add("resource", r)
	}
	add("ns", f.Get("namespace").Str)
	add("name", f.Get("name").Str)
	if u := f.Get("uriSuffix").Str; u != "" {
		add("uri", "*"+u)
	}
	return strings.Join(terms, " ")
}

// Each case's filter lists its requests, with the last stage and code the
// apiserver logged (a kubelet's 401 is a finished 401, a held exec one 101
// as long as it was held, a cut-off proxy a Panic 500), and the row shows
// the code and that latency.
func TestBackendCasesInTheList(t *testing.T) {
	path, cases := backendTestdata(t)
	st, set := loadStore(t, path)
	for _, c := range cases {
		t.Run(c.Get("name").Str, func(t *testing.T) {
			find := backendFind(c)
			m := newTestModel(t, st, set.Raw, 160, 40, withFilter(find))
			if got, want := len(m.flt.shownReqs()), int(c.Get("requests").Int()); got != want {
				t.Fatalf("%s: the list shows %d requests for %q, want %d:\n%s", c.Get("did").Str, got, find, want, screen(m))
			}
			s := screen(m)
			code := strconv.Itoa(int(c.Get("code").Int()))
			for _, r := range m.flt.shownReqs() {
				if r.Stage != c.Get("lastStage").Str || r.Code != int(c.Get("code").Int()) {
					t.Errorf("%s: request %s is at %s %d, want %s %s", c.Get("did").Str, r.AuditID, r.Stage, r.Code, c.Get("lastStage").Str, code)
				}
				if min := time.Duration(c.Get("minLatencySeconds").Float() * float64(time.Second)); r.Latency() < min {
					t.Errorf("%s: latency %v, want at least %v", c.Get("did").Str, r.Latency(), min)
				}
				row := ""
				for _, l := range strings.Split(s, "\n") {
					if strings.Contains(l, r.AuditID) && !strings.Contains(l, "id=") { // not the filter bar
						row = l
					}
				}
				for _, want := range []string{" " + code + " ", render.FormatLatency(r.Latency())} {
					if !strings.Contains(row, want) {
						t.Errorf("%s: the row %q lacks %q:\n%s", c.Get("did").Str, row, want, s)
					}
				}
			}
		})
	}
}

// Grown a line at a time, as a follower reads the log, the list under each
// filter ends as the whole log's: a request at ResponseStarted (a kubelet's
// 401, an exec session still open) is looked at again when its last stage
// comes, and the failed authentication, which has no later stage, stays.
func TestBackendListGrowsLikeTheWholeLog(t *testing.T) {
	path, cases := backendTestdata(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	raw := func(r audit.Ref) ([]byte, error) { return []byte(lines[r.Line-1]), nil }
	type check struct {
		expr, why string
		want      int // -1: as the whole log
	}
	checks := []check{{"code=401", "", -1}, {"code=500", "", -1}, {"resource=pods/exec code=101 stage=complete", "", -1}}
	started := check{"stage=started", "the failed authentications", 0}
	for _, c := range cases {
		n := int(c.Get("requests").Int())
		if c.Get("lastStage").Str == "ResponseStarted" {
			started.want += n
		}
		checks = append(checks, check{backendFind(c) + " stage=" + c.Get("lastStage").Str, c.Get("did").Str, n})
	}
	for _, ck := range append(checks, started) {
		f, err := filter.Parse(ck.expr, testNow)
		if err != nil {
			t.Fatal(err)
		}
		st := audit.NewStore()
		inc := newFiltered(ck.expr, f, raw)
		for i, l := range lines {
			st.AddEvent([]byte(l), audit.Ref{Line: int64(i + 1)})
			inc.extend(testSrc(st))
		}
		full := newFiltered(ck.expr, f, raw)
		full.run(testSrc(st))
		if !sameRequests(inc.shownReqs(), full.shownReqs()) {
			t.Errorf("%q grown a line at a time lists %d requests, the whole log %d", ck.expr, len(inc.shownReqs()), len(full.shownReqs()))
		}
		if ck.want >= 0 && len(inc.shownReqs()) != ck.want {
			t.Errorf("%s: %q grown a line at a time lists %d requests, want %d", ck.why, ck.expr, len(inc.shownReqs()), ck.want)
		}
	}
}
