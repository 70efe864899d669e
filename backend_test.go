package main

// The requests a backend ends (a kubelet answering pods/log, exec and
// nodes/proxy), on testdata/backend/: a real kube-apiserver v1.37.2's log of
// hack/gen-backend.sh, with expected.json written by the script from what it
// and its stand-in kubelet did. Each case is asked of --count, the table and
// -o json (countEveryWay), by its identity, its last stage and code, and its
// latency: a backend's 401 is a finished request (ResponseComplete), an exec
// held open is one request whose latency is the time it was held, a proxied
// response the backend cut off is a Panic 500.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

type backendCase struct {
	Name              string            `json:"name"`
	Did               string            `json:"did"`
	Find              map[string]string `json:"find"`
	Requests          int               `json:"requests"`
	User              string            `json:"user"`
	Stages            []string          `json:"stages"`
	LastStage         string            `json:"lastStage"`
	Code              int               `json:"code"`
	MinLatencySeconds float64           `json:"minLatencySeconds"`
}

// backendData is testdata/backend (or the one in $KAUDITUI_TESTDATA): the
// log and its cases.
func backendData(t *testing.T) (string, []backendCase) {
	t.Helper()
	var exp struct {
		Version string        `json:"kubeApiserverVersion"`
		Cases   []backendCase `json:"cases"`
	}
	audittest.ReadJSON(t, "backend/expected.json", &exp)
	if len(exp.Cases) == 0 {
		t.Fatal("expected.json has no cases")
	}
	return audittest.Path("backend", "audit.log"), exp.Cases
}

// backendFilter is the filter that finds the case's requests.
func backendFilter(c backendCase) string {
	var terms []string
	f := c.Find
	if id := f["auditID"]; id != "" {
		terms = append(terms, "id="+id)
	}
	if u := f["user"]; u != "" {
		terms = append(terms, "user="+u)
	}
	if v := f["verb"]; v != "" {
		terms = append(terms, "verb="+v)
	}
	if r := f["resource"]; r != "" {
		if s := f["subresource"]; s != "" {
			r += "/" + s
		}
		terms = append(terms, "resource="+r)
	}
	if ns := f["namespace"]; ns != "" {
		terms = append(terms, "ns="+ns)
	}
	if n := f["name"]; n != "" {
		terms = append(terms, "name="+n)
	}
	if u := f["uriSuffix"]; u != "" {
		terms = append(terms, "uri=*"+u)
	}
	return strings.Join(terms, " ")
}

func TestBackendCasesEveryWay(t *testing.T) {
	path, cases := backendData(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			id := backendFilter(c)
			if got := countEveryWay(t, path, id); got != c.Requests {
				t.Fatalf("%s: -q %q finds %d requests, want %d", c.Did, id, got, c.Requests)
			}
			last := fmt.Sprintf("%s stage=%s code=%d", id, c.LastStage, c.Code)
			if got := countEveryWay(t, path, last); got != c.Requests {
				t.Errorf("%s: -q %q finds %d requests, want all %d (last stage %s, code %d)", c.Did, last, got, c.Requests, c.LastStage, c.Code)
			}
			for _, st := range []string{"RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"} {
				if st == c.LastStage {
					continue
				}
				if got := countEveryWay(t, path, id+" stage="+st); got != 0 {
					t.Errorf("%s: %d requests counted at stage %s, want 0 (its last stage is %s)", c.Did, got, st, c.LastStage)
				}
			}
			if c.MinLatencySeconds > 0 {
				q := fmt.Sprintf("%s latency>=%gs", id, c.MinLatencySeconds)
				if got := countEveryWay(t, path, q); got != c.Requests {
					t.Errorf("%s: -q %q finds %d requests, want %d (held %gs)", c.Did, q, got, c.Requests, c.MinLatencySeconds)
				}
			}
			user := "user=" + strconv.Quote(c.User)
			if got := countEveryWay(t, path, id+" "+user); got != c.Requests {
				t.Errorf("%s: -q %q finds %d requests, want %d", c.Did, id+" "+user, got, c.Requests)
			}
		})
	}
}

// -o json gives every line of each request, in the order the apiserver
// wrote them: the stages expected.json names, the last one with its code.
func TestBackendCasesJSONLines(t *testing.T) {
	path, cases := backendData(t)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			out := runQueryTest(t, "", "-o", "json", "-q", backendFilter(c), path)
			if out.code != 0 {
				t.Fatalf("exit %d: %s", out.code, out.stderr)
			}
			type ev struct {
				AuditID  string `json:"auditID"`
				Stage    string `json:"stage"`
				Received string `json:"requestReceivedTimestamp"`
				User     struct {
					Username string `json:"username"`
				} `json:"user"`
				Status *struct {
					Code int `json:"code"`
				} `json:"responseStatus"`
			}
			byReq := map[string][]ev{}
			var order []string
			for l := range strings.Lines(out.stdout) {
				var e ev
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("-o json line %q: %v", l, err)
				}
				k := e.AuditID + "|" + e.Received
				if byReq[k] == nil {
					order = append(order, k)
				}
				byReq[k] = append(byReq[k], e)
			}
			if len(order) != c.Requests {
				t.Fatalf("%s: -o json has %d requests, want %d", c.Did, len(order), c.Requests)
			}
			for _, k := range order {
				evs := byReq[k]
				var stages []string
				for _, e := range evs {
					stages = append(stages, e.Stage)
					if e.User.Username != c.User {
						t.Errorf("%s: %s at %s has user %q, want %q", c.Did, k, e.Stage, e.User.Username, c.User)
					}
				}
				if strings.Join(stages, ",") != strings.Join(c.Stages, ",") {
					t.Errorf("%s: request %s has the stages %v, want %v", c.Did, k, stages, c.Stages)
				}
				lastEv := evs[len(evs)-1]
				if lastEv.Status == nil || lastEv.Status.Code != c.Code {
					t.Errorf("%s: request %s ends with %+v, want code %d", c.Did, k, lastEv.Status, c.Code)
				}
			}
		})
	}
}

// Over the whole log: only the failed authentication is a request whose
// last stage is ResponseStarted (the backend's 401s and the exec sessions
// finished), and each code counts the cases that end with it.
func TestBackendWholeLog(t *testing.T) {
	path, cases := backendData(t)
	started, panics, byCode := 0, 0, map[int]int{}
	for _, c := range cases {
		switch c.LastStage {
		case "ResponseStarted":
			started += c.Requests
		case "Panic":
			panics += c.Requests
		}
		byCode[c.Code] += c.Requests
	}
	if got := countEveryWay(t, path, "stage=started"); got != started {
		t.Errorf("stage=started: %d requests, want %d (the failed authentications only)", got, started)
	}
	for code, n := range byCode {
		if code < 300 {
			continue // the script's setup requests are 200s and 201s too
		}
		if got := countEveryWay(t, path, fmt.Sprintf("code=%d", code)); got != n {
			t.Errorf("code=%d: %d requests, want %d", code, got, n)
		}
	}
	if got := countEveryWay(t, path, "stage=Panic"); got != panics {
		t.Errorf("stage=Panic: %d requests, want %d", got, panics)
	}
}

// `query --follow` on the backend log written as the apiserver wrote it: a
// request is printed once, when it ends, with its last code. An exec session
// open for longer than the grace period (its clock moved past it) is not
// printed at its ResponseStarted 101; a kubelet's 401 at ResponseStarted is
// not printed before its ResponseComplete comes; the failed authentication
// is printed at once: it ends at its ResponseStarted (audit.Request.Done).
func TestBackendFollowPrintsEachRequestOnceAtItsEnd(t *testing.T) {
	path, cases := backendData(t)
	lines := readLines(t, path)
	oldTick := followTick
	followTick = 10 * time.Millisecond
	t.Cleanup(func() { followTick = oldTick })

	// The auditIDs of the cases, and the lines of the ResponseStarted of the
	// held exec and of the kubelet's 401 to pods/log.
	idsOf := func(c backendCase) []string {
		out := runQueryTest(t, "", "-o", "json", "-q", backendFilter(c), path)
		var ids []string
		for l := range strings.Lines(out.stdout) {
			if id := field(l, "auditID"); !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	byName := map[string]backendCase{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	held, denied, authn := idsOf(byName["exec-held"]), idsOf(byName["logs-backend-401"]), idsOf(byName["authn-401"])
	if len(held) != 1 || len(denied) != 1 || len(authn) != 1 {
		t.Fatalf("want one request each for exec-held, logs-backend-401, authn-401: %v %v %v", held, denied, authn)
	}
	startedAt := func(id string) int {
		for i, l := range lines {
			if field(l, "auditID") == id && field(l, "stage") == "ResponseStarted" {
				return i
			}
		}
		t.Fatalf("no ResponseStarted of %s", id)
		return 0
	}
	heldAt, deniedAt := startedAt(held[0]), startedAt(denied[0])

	live := filepath.Join(t.TempDir(), "audit.log")
	logf, err := os.Create(live)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	written := 0
	writeTo := func(n int) { // lines[:n] written
		if _, err := logf.WriteString(strings.Join(lines[written:n], "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
		written = n
	}
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{live}, Follow: true}, source.Options{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var offset atomic.Int64
	base := time.Now()
	io := &IO{In: strings.NewReader(""), Out: &syncBuffer{}, Err: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	o := &queryOptions{IO: io, Output: "wide", Follow: true, NoColor: true,
		Now: func() time.Time { return base.Add(time.Duration(offset.Load())) }}
	f, err := filter.Parse("", o.Now())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- o.follow(ctx, set, audit.NewStore(), f) }()
	out := io.Out.(*syncBuffer)
	rowsOf := func(id string) []string {
		var rs []string
		for l := range strings.Lines(out.String()) {
			if strings.Contains(l, id) {
				rs = append(rs, l)
			}
		}
		return rs
	}
	waitRow := func(what, id string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); len(rowsOf(id)) == 0; time.Sleep(followTick) {
			if time.Now().After(deadline) {
				t.Fatalf("%s (%s): not printed after 30s; stdout:\n%s", what, id, out.String())
			}
		}
	}

	// The kubelet's 401 at ResponseStarted, its ResponseComplete not yet written.
	writeTo(deniedAt + 1)
	time.Sleep(30 * followTick)
	if rs := rowsOf(denied[0]); len(rs) != 0 {
		t.Errorf("the kubelet's 401 was printed at its ResponseStarted: %q", rs)
	}
	// The held exec at its ResponseStarted 101, for longer than the grace
	// period. The clock moves once follow has printed the last request to
	// end before it (so it has read every line before: the proxy's 401 has
	// its ResponseComplete by then, as in the log).
	writeTo(heldAt + 1)
	waitRow("the kubelet's 401 after its ResponseComplete", denied[0])
	for i := heldAt; i >= 0; i-- {
		if st := field(lines[i], "stage"); st == "ResponseComplete" || st == "Panic" {
			waitRow("the last request to end before the held exec", field(lines[i], "auditID"))
			break
		}
	}
	time.Sleep(10 * followTick)
	offset.Store(int64(followGrace + time.Second))
	time.Sleep(30 * followTick)
	// A long-running request shows while it is open (LATENCY "open"), once.
	if rs := rowsOf(held[0]); len(rs) != 1 || !strings.Contains(rs[0], " open ") {
		t.Errorf("the exec session still open: want one row marked open, got %q", rs)
	}
	writeTo(len(lines))
	waitRow("the held exec after its ResponseComplete", held[0])
	waitRow("the failed authentication, with no wait", authn[0]) // the clock does not move again
	time.Sleep(10 * followTick)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	for _, c := range cases {
		for _, id := range idsOf(c) {
			rs := rowsOf(id)
			if len(rs) == 2 && strings.Contains(rs[0], " open ") && !strings.Contains(rs[1], " open ") {
				rs = rs[1:] // shown while open, then at its end
			} else if id == held[0] {
				t.Errorf("%s: the held exec was not shown open and then ended: %q", c.Name, rs)
			}
			if len(rs) != 1 {
				t.Errorf("%s: %s printed %d times, want once:\n%s", c.Name, id, len(rs), strings.Join(rs, ""))
				continue
			}
			if code := fmt.Sprintf(" %d ", c.Code); !strings.Contains(rs[0], code) {
				t.Errorf("%s: the row lacks its last code %d: %q", c.Name, c.Code, rs[0])
			}
		}
	}
}
