package main

// `kauditui query --follow` while a writer appends the real testdata's
// audit lines to a live log, in chunks, under -race.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

// syncBuffer is stdout, written by follow while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// followRequest is what the log says of one request once all of it is read.
type followRequest struct {
	id        string
	code      string // final
	latency   string // as the table shows it
	lastStage string
	ends      bool // has a ResponseComplete or Panic
	// long: long-running (audit-facts.md: a watch, exec, attach,
	// portforward, pods/log, a proxy), so it may also be shown while open
	long bool
}

// followLog is the real file run (backups oldest first, then the live log)
// as lines, and its requests in the order they started.
func followLog(t *testing.T) ([]string, []*followRequest) {
	t.Helper()
	var lines []string
	for _, f := range audittest.Logs(t, "file") {
		lines = append(lines, readLines(t, f)...)
	}
	// A failed authentication (a 401 at ResponseStarted with no user) is
	// done at that stage. A failure at ResponseStarted of a user (a failed
	// exec's 400) may still get its ResponseComplete: follow waits a grace
	// period for it. The real log has none that never completes, so one is
	// made from a failed authentication's line (crafted: user and ID set).
	for _, l := range lines {
		if strings.Contains(l, `"stage":"ResponseStarted"`) && strings.Contains(l, `"user":{}`) && strings.Contains(l, `"code":401`) {
			id := gjson.Get(l, "auditID").String()
			m := strings.Replace(l, `"user":{}`, `"user":{"username":"alice"}`, 1)
			m = strings.Replace(m, `"auditID":"`+id+`"`, `"auditID":"00000000-0000-0000-0000-0000000a11ce"`, 1)
			m = strings.Replace(m, `"code":401`, `"code":400`, 1)
			lines = append(lines, m)
			break
		}
	}
	byID := map[string]*followRequest{}
	var reqs []*followRequest
	first, last := map[string]time.Time{}, map[string]time.Time{}
	for _, l := range lines {
		f := gjson.GetMany(l, "auditID", "stage", "responseStatus.code", "requestReceivedTimestamp", "stageTimestamp", "verb", "objectRef.subresource")
		id := f[0].String()
		r := byID[id]
		if r == nil {
			r = &followRequest{id: id}
			byID[id] = r
			reqs = append(reqs, r)
		}
		r.lastStage = f[1].String()
		r.long = f[5].String() == "watch" || slices.Contains([]string{"exec", "attach", "portforward", "log", "proxy"}, f[6].String())
		if f[2].Exists() {
			r.code = f[2].String()
		}
		failedAuth := r.lastStage == "ResponseStarted" && r.code == "401" && !gjson.Get(l, "user.username").Exists()
		r.ends = r.ends || r.lastStage == "ResponseComplete" || r.lastStage == "Panic" || failedAuth
		first[id], _ = time.Parse(time.RFC3339Nano, f[3].String())
		if at, _ := time.Parse(time.RFC3339Nano, f[4].String()); at.After(last[id]) {
			last[id] = at
		}
	}
	for _, r := range reqs {
		r.latency = render.FormatLatency(last[r.id].Sub(first[r.id]))
	}
	return lines, reqs
}

// runFollow runs follow on a live log that the test writes as follow reads
// it: the first lines before it starts, the rest in chunks, pausing after
// failures at ResponseStarted that complete later (they must not be printed
// from that stage). The failed authentication (a 401 that ends at
// ResponseStarted, with no user) is done there and printed at once. It
// returns stdout.
func runFollow(t *testing.T, output string, io *IO, lines []string, reqs []*followRequest) string {
	t.Helper()
	oldTick := followTick
	followTick = 10 * time.Millisecond
	t.Cleanup(func() { followTick = oldTick })

	// The ResponseStarted lines with a failure code whose request completes
	// later: the writer pauses after the first for many ticks (it must not
	// be printed from that stage), and after the others for a tick and a
	// half (its ResponseComplete is then merged while a tick may be writing
	// it out: under -race, a row written outside store.Read is caught).
	pauses := map[int]time.Duration{}
	for i, l := range lines {
		if gjson.Get(l, "stage").String() == "ResponseStarted" && gjson.Get(l, "responseStatus.code").Int() >= 400 {
			id := gjson.Get(l, "auditID").String()
			if slices.ContainsFunc(lines[i+1:], func(m string) bool { return strings.Contains(m, id) }) {
				pauses[i] = 3 * followTick / 2
				if len(pauses) == 1 {
					pauses[i] = 30 * followTick
				}
			}
		}
	}
	var failedAuth []string // not done at its last stage: printed after the grace period
	for _, r := range reqs {
		if r.lastStage == "ResponseStarted" && r.code >= "400" && !r.ends {
			failedAuth = append(failedAuth, r.id)
		}
	}
	if len(pauses) == 0 || len(failedAuth) == 0 {
		t.Fatalf("the testdata has no failure at ResponseStarted completed later (%v) or no failure at ResponseStarted that may end there (%v)", pauses, failedAuth)
	}

	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	write := func(ls []string) {
		if _, err := log.WriteString(strings.Join(ls, "\n") + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	write(lines[:50])

	set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}, Follow: true}, source.Options{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var offset atomic.Int64 // the options' clock: real time does not end a grace period
	base := time.Now()
	o := &queryOptions{IO: io, Output: output, Follow: true, NoColor: true,
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
	for i := 50; i < len(lines); {
		n := min(i+37, len(lines))
		for p := range pauses {
			if i <= p && p < n {
				n = p + 1
			}
		}
		write(lines[i:n])
		if d, ok := pauses[n-1]; ok {
			time.Sleep(d)
		} else {
			time.Sleep(time.Millisecond)
		}
		i = n
	}

	waitFor := func(what string, ok func(string) bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(out.String()); time.Sleep(followTick) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not printed after 30s; stdout:\n%s", what, out.String())
			}
		}
	}
	waitFor("the requests that ended", func(s string) bool {
		for _, r := range reqs {
			if r.ends && !strings.Contains(s, r.id) {
				return false
			}
		}
		return true
	})
	time.Sleep(10 * followTick)
	for _, id := range failedAuth {
		if strings.Contains(out.String(), id) {
			t.Errorf("%s, which may have ended at ResponseStarted, was printed before its grace period was over", id)
		}
	}
	offset.Store(int64(followGrace + time.Second))
	waitFor("the failed authentication after its grace period", func(s string) bool {
		for _, id := range failedAuth {
			if !strings.Contains(s, id) {
				return false
			}
		}
		return true
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	return out.String()
}

// parseFixedRow splits a row of a table whose columns start at the header's
// starts: each cell starts at its column, or two cells after the end of the
// previous cell when that one is wider than its column (only when the
// output is not a terminal: nothing is cut). The text between cells must be
// blank. It returns the cells and whether one overflowed.
func parseFixedRow(header []int, line []rune) (cells []string, overflow bool, ok bool) {
	end := 0
	for i, start := range header {
		at := start
		if i > 0 && end+2 > at {
			at, overflow = end+2, true
		}
		for j := end; j < min(at, len(line)); j++ {
			if line[j] != ' ' {
				return nil, overflow, false // text where the gap before a column is
			}
		}
		if at >= len(line) || line[at] == ' ' {
			cells = append(cells, "")
			end = at
			continue
		}
		e := len(line)
		if i < len(header)-1 {
			if k := strings.Index(string(line[at:]), "  "); k >= 0 {
				e = at + len([]rune(string(line[at:])[:k]))
			}
		}
		cells = append(cells, string(line[at:e]))
		end = e
	}
	return cells, overflow, true
}

// Each request is printed once when it ends; a long-running one may also
// have been shown once while open (whether a tick saw it open depends on
// the writer's chunks: TestFollowShowsLongRunningRequestsWhileOpen makes
// sure of it).
func TestFollowTablePrintsEachRequestOnceWhenItEnds(t *testing.T) {
	lines, reqs := followLog(t)
	for _, tc := range []struct {
		name  string
		tty   bool
		width int
	}{{"not a terminal", false, 0}, {"terminal 200 wide", true, 200}, {"terminal 150 wide", true, 150}} {
		t.Run(tc.name, func(t *testing.T) {
			io := &IO{In: strings.NewReader(""), Out: &syncBuffer{}, Err: &bytes.Buffer{}, OutTTY: tc.tty, Width: tc.width,
				Getenv: func(string) string { return "" }}
			out := runFollow(t, "wide", io, lines, reqs)
			if s := io.Err.(*bytes.Buffer).String(); s != "" {
				t.Errorf("stderr: %s", s)
			}
			rowsOut := strings.Split(strings.TrimRight(out, "\n"), "\n")
			if !strings.HasPrefix(rowsOut[0], "TIME") {
				t.Fatalf("no header: %q", rowsOut[0])
			}
			var header []int
			col := map[string]int{}
			for i, f := range tableToken.FindAllStringIndex(rowsOut[0], -1) {
				header = append(header, len([]rune(rowsOut[0][:f[0]])))
				col[rowsOut[0][f[0]:f[1]]] = i
			}
			want := map[string]*followRequest{}
			for _, r := range reqs {
				want[r.id] = r
			}
			seen, seenOpen := map[string]int{}, map[string]int{}
			overflows, misaligned := 0, 0
			for n, line := range rowsOut[1:] {
				if strings.HasPrefix(line, "TIME") {
					t.Errorf("line %d: a second header", n+1)
					continue
				}
				open := false
				if f := strings.Fields(line); len(f) > 0 {
					id := f[len(f)-1] // AUDIT-ID, the last column, is never cut
					if open = slices.Contains(f, render.OpenLatency); open {
						if seenOpen[id]++; seen[id] > 0 {
							t.Errorf("%s: an open row after its end: %s", id, line)
						}
					} else {
						seen[id]++
					}
				}
				if tc.tty && len([]rune(line)) > tc.width {
					t.Errorf("line %d is %d cells, the terminal %d: %s", n+1, len([]rune(line)), tc.width, line)
				}
				cells, overflow, ok := parseFixedRow(header, []rune(line))
				if !ok || overflow && tc.tty {
					if misaligned++; misaligned <= 3 {
						t.Errorf("line %d does not line up with the header:\n%s\n%s", n+1, rowsOut[0], line)
					}
					continue
				}
				if overflow {
					overflows++
				}
				id := cells[col["AUDIT-ID"]]
				r := want[id]
				if r == nil {
					t.Errorf("line %d: no request %q in the log: %s", n+1, id, line)
					continue
				}
				if open {
					if !r.long || cells[col["LATENCY"]] != render.OpenLatency {
						t.Errorf("%s: shown open, but it is not long-running or its LATENCY does not say open: %s", id, line)
					}
					continue
				}
				if got := cells[col["CODE"]]; got != r.code {
					t.Errorf("%s: code %q, its final code is %q: %s", id, got, r.code, line)
				}
				if got := cells[col["LATENCY"]]; got != r.latency {
					t.Errorf("%s: latency %q, from its last stage %q: %s", id, got, r.latency, line)
				}
			}
			if misaligned > 0 {
				t.Errorf("%d of %d rows do not line up with the header", misaligned, len(rowsOut)-1)
			}
			for _, r := range reqs {
				if seen[r.id] != 1 || seenOpen[r.id] > 1 {
					t.Errorf("%s printed %d times (and %d open), want once (and at most once open before)", r.id, seen[r.id], seenOpen[r.id])
				}
			}
			if !tc.tty && overflows > len(reqs)/4 {
				t.Errorf("%d of %d rows are wider than the fixed columns: the widths are not sensible", overflows, len(reqs))
			}
		})
	}
}

func TestFollowJSONPrintsEveryEventOnce(t *testing.T) {
	lines, reqs := followLog(t)
	io := &IO{In: strings.NewReader(""), Out: &syncBuffer{}, Err: &bytes.Buffer{}, Getenv: func(string) string { return "" }}
	out := runFollow(t, "json", io, lines, reqs)
	got := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := slices.Clone(lines)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		count := map[string]int{}
		for _, l := range lines {
			count[l]++
		}
		for _, l := range got {
			count[l]--
		}
		for l, n := range count {
			if n != 0 {
				t.Errorf("event printed %d times, want once: %.160s", 1-n, l)
			}
		}
		t.Fatalf("-o json --follow printed %d events, the log has %d", len(got), len(lines))
	}
}

// Requests that never end (here: only RequestReceived, as when a policy
// omits the later stages) are not waited on forever: past followMaxPending
// the oldest are printed as they are, and a tick looks only at the requests
// still waited on and the new ones.
func TestFollowWaitsOnABoundedNumberOfRequests(t *testing.T) {
	old := followMaxPending
	followMaxPending = 10
	t.Cleanup(func() { followMaxPending = old })

	store := audit.NewStore()
	add := func(id, stage string) {
		t.Helper()
		line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"` + id + `","stage":"` + stage +
			`","requestURI":"/api/v1/pods","verb":"list","user":{"username":"alice"},"objectRef":{"resource":"pods","apiVersion":"v1"},` +
			`"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-26T03:00:00.000000Z","stageTimestamp":"2026-11-26T03:00:00.002000Z"}`
		if _, _, ok := store.AddEvent([]byte(line), audit.Ref{}); !ok {
			t.Fatalf("not an event: %s", line)
		}
	}
	for i := range 25 {
		add("open-"+strconv.Itoa(100+i), "RequestReceived")
	}
	var out bytes.Buffer
	o := &queryOptions{IO: &IO{Out: &out, Getenv: func(string) string { return "" }}, Output: "wide", Now: time.Now}
	f, _ := filter.Parse("", time.Now())
	fl := o.newFollower(nil, store, f)
	ids := func() []string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
			fs := strings.Fields(l)
			got = append(got, fs[len(fs)-1])
		}
		return got
	}
	if err := fl.flush(false); err != nil {
		t.Fatal(err)
	}
	got := ids()
	if len(got) != 15 || got[0] != "open-100" || got[14] != "open-114" {
		t.Fatalf("with 25 open requests and room to wait on 10, want the oldest 15 printed, got %v", got)
	}
	if pending, next := fl.follow.Waiting(); pending != 10 || next != 25 {
		t.Fatalf("waiting on %d requests, next at %d; want 10 and 25", pending, next)
	}
	add("open-120", "ResponseComplete") // one of those waited on ends
	add("done-1", "RequestReceived")
	add("done-1", "ResponseComplete")
	if err := fl.flush(false); err != nil {
		t.Fatal(err)
	}
	if got := ids()[15:]; !slices.Equal(got, []string{"open-120", "done-1"}) {
		t.Fatalf("want open-120 and done-1 printed when they ended, got %v", got)
	}
	if err := fl.flush(true); err != nil {
		t.Fatal(err)
	}
	got = ids()
	if len(got) != 26 || got[25] != "open-124" {
		t.Fatalf("at the end, want every request printed once, got %v", got)
	}
}
