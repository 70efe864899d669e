package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit/audittest"
)

// timelineRow is a row of `query --timeline` as a user reads it.
type timelineRow struct {
	start            time.Time
	shown            string // the time as printed
	reqs, c4xx, c5xx int
	line             string
}

// timelineRows reads the rows of --timeline's output: lines that start with
// a time; the time has the precision of the step.
func timelineRows(t *testing.T, out string, step time.Duration) []timelineRow {
	t.Helper()
	layout, n := "2006-01-02T15:04Z07:00", 1
	if step < time.Minute {
		layout = "2006-01-02T15:04:05Z07:00"
	}
	var rows []timelineRow
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) < n+3 || len(l) == 0 || l[0] < '0' || l[0] > '9' {
			continue
		}
		at, err := time.Parse(layout, f[0])
		if err != nil {
			t.Fatalf("row %q: %v", l, err)
		}
		num := func(s string) int {
			v, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("row %q: %v", l, err)
			}
			return v
		}
		rows = append(rows, timelineRow{start: at, shown: f[0], reqs: num(f[n]), c4xx: num(f[n+1]), c5xx: num(f[n+2]), line: l})
	}
	return rows
}

// Each row of --timeline counts what a since/until filter of its step finds,
// at the default step of a minute and at 10 s; the rows add up to every
// request, and a -q narrows them.
func TestQueryTimelineRowsAreTheirStepsRequests(t *testing.T) {
	log := audittest.Path("file", "audit.log")
	total, _, code := runQueryArgs(t, "--count", log)
	if code != exitOK {
		t.Fatalf("--count: exit %d", code)
	}
	all, _ := strconv.Atoi(strings.TrimSpace(total))
	for _, c := range []struct {
		step  time.Duration
		extra []string
		q     string
	}{
		{time.Minute, nil, ""},
		{10 * time.Second, []string{"--step", "10s"}, ""},
		// erin's requests may all fall in one minute of a regenerated log:
		// steps of a second split them
		{time.Second, []string{"--step", "1s", "-q", "user=erin-editor"}, "user=erin-editor"},
	} {
		out, errOut, code := runQueryArgs(t, append(append([]string{"--timeline"}, c.extra...), log)...)
		if code != exitOK {
			t.Fatalf("--timeline %v: exit %d: %s", c.extra, code, errOut)
		}
		rows := timelineRows(t, out, c.step)
		// a regenerated log may fit in one minute: the finer steps are
		// what must split it
		if len(rows) < 2 && c.step < time.Minute {
			t.Fatalf("--timeline %v: %d rows, want at least 2:\n%s", c.extra, len(rows), out)
		}
		sum := 0
		for _, r := range rows {
			sum += r.reqs
			// The row's time as printed, fed back: it names its whole
			// minute (or second), so until= the row's last shown unit
			// ends the window at the next row.
			last := r.shown
			if c.step != time.Minute {
				last = r.start.Add(c.step - time.Second).Format(time.RFC3339)
			}
			window := "since=" + r.shown + " until=" + last + " " + c.q
			for _, check := range []struct {
				what string
				q    string
				got  int
			}{
				{"REQS", window, r.reqs},
				{"4XX", window + " code=4xx", r.c4xx},
				{"5XX", window + " code=5xx", r.c5xx},
			} {
				n, _, _ := runQueryArgs(t, "--count", "-q", check.q, log)
				if want, _ := strconv.Atoi(strings.TrimSpace(n)); want != check.got {
					t.Errorf("--timeline %v: row %q says %s %d; -q %q counts %d", c.extra, r.line, check.what, check.got, check.q, want)
				}
			}
		}
		if c.q == "" && sum != all {
			t.Errorf("--timeline %v: rows add up to %d requests; the log has %d", c.extra, sum, all)
		}
		if c.q != "" && sum >= all {
			t.Errorf("-q %s: rows add up to %d of %d requests: not narrowed", c.q, sum, all)
		}
	}
}

// --timeline is an answer of its own: it refuses what it cannot go with.
func TestQueryTimelineRefusals(t *testing.T) {
	for _, args := range [][]string{
		{"--timeline", "--count"},
		{"--timeline", "--top", "user"},
		{"--timeline", "--follow"},
		{"--timeline", "-o", "json"},
		{"--timeline", "--coverage"},
		{"--timeline", "--step", "0s"},
	} {
		_, errOut, code := runQueryArgs(t, append(args, audittest.Path("file", "audit.log"))...)
		if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--") {
			t.Errorf("query %v: exit %d, %q; want exit %d with one line", args, code, errOut, exitUsage)
		}
	}
}

// On testdata/answers (hack/gen-answers.sh stalled etcd and made two
// webhooks answer late on a real apiserver), each slow step of
// expected.json is counted SLOW in the row of its time, and that row says
// where the time went with the annotation expected.json names; ci-bot's
// burst is the busiest minute and its user.
func TestQueryTimelineOfRealSlowRequests(t *testing.T) {
	exp := audittest.Expected(t, "answers")
	out, errOut, code := runQueryArgs(t, "--timeline", "--step", "10s", filepath.Join(answersDir, "audit.log"))
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	rows := timelineRows(t, out, 10*time.Second)
	rowOf := func(at time.Time) *timelineRow {
		for i := range rows {
			if !at.Before(rows[i].start) && at.Before(rows[i].start.Add(10*time.Second)) {
				return &rows[i]
			}
		}
		t.Fatalf("no row holds %s:\n%s", at, out)
		return nil
	}
	slowIn := map[*timelineRow]int{}
	layersIn := map[*timelineRow]map[string]bool{} // the slow layers of the steps in each row
	steps := 0
	for _, a := range exp.Get("actions").Array() {
		if slow := a.Get("slow").String(); slow != "" {
			r := rowOf(a.Get("from").Time())
			if layersIn[r] == nil {
				layersIn[r] = map[string]bool{}
			}
			layersIn[r][slow] = true
		}
	}
	for _, a := range exp.Get("actions").Array() {
		slow := a.Get("slow").String()
		if slow == "" {
			continue
		}
		steps++
		r := rowOf(a.Get("from").Time())
		slowIn[r]++
		// A row names its largest layers and cuts the rest with "…": when
		// a regeneration puts steps slow in other layers in the same step
		// of time, a smaller one may be among those cut.
		crowded := len(layersIn[r]) > 2 && strings.Contains(r.line, "…")
		if slow != "total" && !strings.Contains(r.line, slow+" ") && !crowded {
			t.Errorf("step %s (slow in %s): its row does not say so: %q", a.Get("step"), slow, r.line)
		}
	}
	if steps < 4 {
		t.Fatalf("expected.json names %d slow steps: the data lacks them", steps)
	}
	for r, n := range slowIn {
		f := strings.Fields(r.line)
		if got, _ := strconv.Atoi(f[8]); got != n {
			t.Errorf("row %q: SLOW %s, want the %d slow steps of its time", r.line, f[8], n)
		}
	}
	burst := exp.Get(`actions.#(step=="ci-bot-list-pods")`)
	r := rowOf(burst.Get("from").Time())
	for _, other := range rows {
		if other.reqs > r.reqs {
			t.Errorf("the burst's row (%d requests) is not the busiest: %q", r.reqs, other.line)
		}
	}
	if !strings.Contains(r.line, "ci-bot ") {
		t.Errorf("the burst's row does not name ci-bot: %q", r.line)
	}
}
