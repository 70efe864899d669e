package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
	"github.com/kauditui/kauditui/ui"
)

// The explorer opens a store through the same source layer as files, and
// follows it: `kauditui --store URL --follow` shows the store's answer,
// then the requests that reach the store while it runs. The real explorer
// (runExplore, its bubbletea program) is driven in process: no renderer, a
// window size, and a look at its screen before each message.
func TestExplorerFollowsAStore(t *testing.T) {
	vl, files, _ := storeTestdata(t)
	count := func(args ...string) int {
		r := runQueryTest(t, "", append([]string{"--count"}, args...)...)
		n, err := strconv.Atoi(strings.TrimSpace(r.stdout))
		if err != nil {
			t.Fatalf("query --count %v: %q %s", args, r.stdout, r.stderr)
		}
		return n
	}
	history := count("--store", vl.url(), "--cluster", "c1")
	if files := count(liveLog(files)); history != files {
		t.Fatalf("the store holds %d requests of c1, the files %d", history, files)
	}
	deletes := storeDeletes(t, files)
	added := len(deletes) / 2 // each delete is two stages

	o := &exploreOptions{Now: time.Now, Follow: true, NoColor: true, Store: source.StoreFlags{URL: vl.url(), Cluster: []string{"c1"}}}
	status, _, errb, _ := exploreInProcess(t, o, 200, 30)
	want := func(n int, what string) {
		t.Helper()
		req := regexp.MustCompile(`(^|[^0-9,])` + thousands(n) + ` req\b`)
		for deadline := time.Now().Add(30 * time.Second); !req.MatchString(status()); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the status bar does not say %s req:\n%s\n(stderr %s)", what, thousands(n), status(), errb.String())
			}
		}
	}
	want(history, "the store's answer")
	if s := status(); !strings.Contains(s, vl.addr) {
		t.Errorf("the status bar does not name the store at %s:\n%s", vl.addr, s)
	}
	sendStore(t, vl.url(), freshDeletes(deletes, "e1"))
	want(history+added, "after the new requests")
	time.Sleep(1500 * time.Millisecond) // a tail that would repeat a request
	want(history+added, "a while later")
}

// thousands is n as the status bar writes it (1,234).
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// The explorer's lazy pages over a store (source.StorePages) are the
// files' answer: page after page, the same requests in receive order as
// the table shows them, each with the very lines the files hold (Detail
// reads them); the total, the Summary's top counts and the histogram from
// the store's stats are the files' counts; and no query downloads the
// answer (each page names its own requests).
func TestStorePagesAreTheFilesAnswer(t *testing.T) {
	vl, files, hostile := storeTestdata(t)
	rec := recordStore(t, vl.url())
	table := func(reqs []*audit.Request) string {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		render.NewTablePrinter(0, true, false).Print(w, reqs)
		w.Flush()
		return b.String()
	}
	lines := func(r *audit.Request, raw func(audit.Ref) ([]byte, error)) []string {
		var out []string
		for _, ev := range r.Events {
			l, err := raw(ev.Ref)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(l))
		}
		slices.Sort(out)
		return out
	}
	ctx := context.Background()
	for _, c := range []struct{ cluster, file string }{{"c1", liveLog(files)}, {"c2", hostile}} {
		set, err := source.Open(ctx, source.Spec{Paths: []string{c.file}}, source.Options{})
		if err != nil {
			t.Fatal(err)
		}
		st := audit.NewStore()
		if err := set.Load(ctx, st); err != nil {
			t.Fatal(err)
		}
		all := st.Snapshot().Requests
		for _, term := range []string{"", "verb=list", "code>=400", "kubyk", "ns=team-a", "!user=system:*"} {
			f, err := filter.Parse(term, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			want := f.Select(all, set.Raw)
			slices.SortStableFunc(want, func(a, b *audit.Request) int {
				return cmp.Or(a.First().Compare(b.First()), strings.Compare(a.AuditID, b.AuditID))
			})
			sp := &source.StoreSpec{Filter: term, Now: time.Now(), StoreOptions: source.StoreOptions{URL: rec.URL, Cluster: []string{c.cluster}}}
			p, why, err := sp.Pages(ctx, func(s string) { t.Errorf("%s -q %q: warning %s", c.cluster, term, s) })
			if err != nil || why != "" {
				t.Fatalf("%s -q %q: %v %s", c.cluster, term, err, why)
			}
			if why, err := p.Exact(ctx); err != nil || why != "" {
				t.Fatalf("%s -q %q: the store's counts are not exact: %v %s", c.cluster, term, err, why)
			}
			total, err := p.Total(ctx)
			if n := total; err != nil || n != int64(len(want)) {
				t.Errorf("%s -q %q: total %d (%v), the files %d", c.cluster, term, n, err, len(want))
			}
			var got []*audit.Request
			for off := 0; ; off += 100 {
				pg, err := p.Page(ctx, off, 100)
				if err != nil {
					t.Fatal(err)
				}
				for i, r := range pg.Requests {
					if w := want[min(off+i, len(want)-1)]; !slices.Equal(lines(r, pg.Raw), lines(w, set.Raw)) {
						t.Errorf("%s -q %q: row %d: the page's lines of %s are not the files'", c.cluster, term, off+i, r.AuditID)
					}
				}
				got = append(got, pg.Requests...)
				if len(pg.Requests) < 100 {
					break
				}
			}
			rows := ui.NewStoreRows(ctx, p, int(total), nil) // as the explorer reads them
			for i, w := range want {
				r, err := rows.Open(i)
				if err != nil || r.AuditID != w.AuditID || !slices.Equal(lines(r, rows.Raw), lines(w, set.Raw)) {
					t.Fatalf("%s -q %q: the explorer's row %d: %v %v, the files' %s", c.cluster, term, i, r, err, w.AuditID)
				}
			}
			if g, w := table(got), table(want); g != w {
				t.Errorf("%s -q %q: the pages hold %d requests, the files %d:\n%s\nfiles:\n%s", c.cluster, term, len(got), len(want), head(g), head(w))
			}
			for _, field := range topFields {
				counts, total, why, err := p.Top(ctx, field)
				if err != nil || why != "" {
					t.Errorf("%s -q %q: top %s: %v %s", c.cluster, term, field, err, why)
					continue
				}
				if w := filter.TopCounts(want, field); !maps.Equal(counts, w) || total != len(want) {
					t.Errorf("%s -q %q: top %s: the store %v, the files %v", c.cluster, term, field, counts, w)
				}
			}
			for _, step := range []time.Duration{10 * time.Second, time.Minute, 7 * time.Minute} {
				hist, err := p.Histogram(ctx, step)
				if err != nil {
					t.Fatal(err)
				}
				matched := want
				got, want := map[time.Time]int64{}, map[time.Time]int64{}
				for _, b := range hist {
					got[b.Start] = b.Requests
				}
				for _, r := range matched {
					want[r.First().UTC().Truncate(step)]++
				}
				if !maps.Equal(got, want) {
					t.Errorf("%s -q %q: histogram by %s: the store %v, the files %v", c.cluster, term, step, got, want)
				}
			}
			queries, _ := rec.take()
			for _, q := range queries {
				if downloads([]string{q}) && !strings.Contains(q, ` auditID:in("`) {
					t.Errorf("%s -q %q: the pages downloaded the answer: %s", c.cluster, term, q)
				}
			}
		}
		set.Close()
	}
}

// bigLog is the 1 GB generated log (hack/genlog), or a skip.
func bigLog(t *testing.T) string {
	t.Helper()
	p := os.Getenv("KAUDITUI_BIG_LOG")
	if p == "" {
		p = filepath.Join("testdata", "big", "audit-1GB.log")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("no 1 GB log at %s: make it with go run ./hack/genlog -size 1GB -o testdata/big/audit-1GB.log (or set KAUDITUI_BIG_LOG)", p)
	}
	return p
}

// peakRSS is the process's peak resident memory (VmHWM), in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status: cannot read the peak memory")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}

// The explorer on a store holding the 1 GB log (602,403 requests a
// generated trail of that size holds): its pages, total, Summary and
// histogram come from the store, the process stays within 150 MiB however
// far it pages, and the total and the Summary's counts are the file's.
// (Times are hack/vlogs-pages.sh's to print, not this test's to judge.)
// KAUDITUI_BIG_STORE=URL uses a store that holds the log as cluster big
// already (hack/vlogs-pages.sh leaves one); else the log is loaded here,
// which takes a minute.
func TestStorePagesOnTheBigLog(t *testing.T) {
	base := os.Getenv("KAUDITUI_BIG_STORE")
	log := bigLog(t)
	if base == "" {
		vl := startVLogs(t)
		base = vl.url()
		load := exec.Command("go", "run", "./hack/vlogs-load", "-url", base, "-cluster", "big", "-node", "gen-1", log)
		if out, err := load.CombinedOutput(); err != nil {
			t.Fatalf("vlogs-load: %v %s", err, out)
		}
		if resp, err := http.Get(base + "/internal/force_flush"); err == nil {
			resp.Body.Close()
		}
	}
	ctx := context.Background()
	runtime.GC()
	sp := &source.StoreSpec{Now: time.Now(), StoreOptions: source.StoreOptions{URL: base, Cluster: []string{"big"}}}
	p, why, err := sp.Pages(ctx, func(s string) { t.Logf("warning: %s", s) })
	if err != nil || why != "" {
		t.Fatalf("%v %s", err, why)
	}
	pg, err := p.Page(ctx, 0, 60)
	if err != nil || len(pg.Requests) != 60 {
		t.Fatalf("the first screen: %v, %d rows", err, len(pg.Requests))
	}
	total, err := p.Total(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if why, err := p.Exact(ctx); err != nil || why != "" {
		t.Fatalf("the store's counts are not exact: %v %s", err, why)
	}
	for i := range 20 { // scrolling far: the pages' memory is the pages'
		if _, err := p.Page(ctx, int(total)*i/20, 200); err != nil {
			t.Fatal(err)
		}
	}
	verbs, _, why, err := p.Top(ctx, "verb")
	if err != nil || why != "" {
		t.Fatalf("%v %s", err, why)
	}
	if _, err := p.Histogram(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	peak := peakRSS(t)
	if peak > 150<<20 {
		t.Errorf("the explorer's pages of the 1 GB store: %d MiB at the peak, want at most 150", peak>>20)
	}
	t.Logf("%d requests; the test process's peak after 21 pages, the total, the Summary's verbs and a histogram: %d MiB", total, peak>>20)
	// the file's answers, read after the peak was taken
	if r := runQueryTest(t, "", "--count", log); strings.TrimSpace(r.stdout) != strconv.FormatInt(total, 10) {
		t.Errorf("the store's total %d, the file's %q", total, r.stdout)
	}
	if r := runQueryTest(t, "", "--top", "verb", log); r.stdout != strings.Join(render.TopText(verbs, int(total)), "\n")+"\n" {
		t.Errorf("the Summary's verbs %v, the file's:\n%s", verbs, r.stdout)
	}
}

// exploreStore runs the explorer on a store (not followed: read a page at a
// time) in process, and gives its screen and a way to press keys.
func exploreStore(t *testing.T, url, cluster, expr string) (screen func() string, press func(...tea.Msg), stderr *syncBuffer) {
	t.Helper()
	o := &exploreOptions{Now: time.Now, NoColor: true, Filter: expr, Store: source.StoreFlags{URL: url, Cluster: []string{cluster}}}
	screen, press, stderr, _ = exploreInProcess(t, o, 200, 40)
	return screen, press, stderr
}

// exploreInProcess runs the explorer of o (its IO made here) in process: no
// renderer, a window of width by height, and a look at its screen before
// each message. screen pokes it and returns what it drew; press sends keys;
// quit ends it (and is called at the test's end), failing the test if it
// ended with an error.
func exploreInProcess(t *testing.T, o *exploreOptions, width, height int) (screen func() string, press func(...tea.Msg), stderr *syncBuffer, quit func()) {
	t.Helper()
	var mu sync.Mutex
	shown := ""
	errb := &syncBuffer{}
	o.IO = &IO{In: strings.NewReader(""), Out: io.Discard, Err: errb, Getenv: func(string) string { return "" }}
	o.program = []tea.ProgramOption{tea.WithoutRenderer(), tea.WithInput(nil), tea.WithWindowSize(width, height), tea.WithoutSignalHandler(),
		tea.WithFilter(func(m tea.Model, msg tea.Msg) tea.Msg {
			v := ansi.Strip(m.View().Content)
			mu.Lock()
			shown = v
			mu.Unlock()
			return msg
		})}
	started := make(chan *tea.Program, 1)
	o.started = func(p *tea.Program) { started <- p }
	done := make(chan error, 1)
	go func() { done <- runExplore(context.Background(), o) }()
	var p *tea.Program
	select {
	case p = <-started:
	case err := <-done:
		t.Fatalf("the explorer did not start: %v %s", err, errb.String())
	}
	var once sync.Once
	quit = func() {
		once.Do(func() {
			p.Quit()
			if err := <-done; err != nil {
				t.Errorf("the explorer ended with %v", err)
			}
		})
	}
	t.Cleanup(quit)
	screen = func() string {
		p.Send(pokeMsg{})
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return shown
	}
	press = func(msgs ...tea.Msg) {
		for _, m := range msgs {
			p.Send(m)
		}
	}
	return screen, press, errb, quit
}

// pokeMsg is a message the explorer does nothing with.
type pokeMsg struct{}

// waitScreen waits until the screen matches re.
func waitScreen(t *testing.T, screen func() string, re, what string, errb *syncBuffer) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if s := screen(); rx.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the screen does not match %s:\n%s\n(stderr %s)", what, re, screen(), errb.String())
		}
	}
}

// The explorer on a store it does not follow reads the answer a page at a
// time: the status bar says the store's count before any row is fetched,
// the first rows are drawn, the last page is fetched when the user goes
// there (and Detail opens its request from the page's lines), the Summary
// is the store's counts and they are the files' (its top user), the
// Answers say they need the answer loaded, and no query downloaded the
// answer (each page asks for its own requests by auditID).
func TestExplorerPagesAStore(t *testing.T) {
	vl, files, _ := storeTestdata(t)
	rec := recordStore(t, vl.url())
	ctx := context.Background()
	set, err := source.Open(ctx, source.Spec{Paths: []string{liveLog(files)}}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	want := st.Snapshot().Requests
	slices.SortStableFunc(want, func(a, b *audit.Request) int {
		return cmp.Or(a.First().Compare(b.First()), strings.Compare(a.AuditID, b.AuditID))
	})
	if len(want) < 600 {
		t.Fatalf("the testdata holds %d requests: too few for pages", len(want))
	}

	screen, press, errb := exploreStore(t, rec.URL, "c1", "")
	waitScreen(t, screen, `(^|[^0-9,])`+thousands(len(want))+` req\b`, "the store's count", errb)
	first := want[0]
	waitScreen(t, screen, regexp.QuoteMeta(render.Sanitize(first.User)), "the first row", errb)
	queries, _ := rec.take()
	for _, q := range queries {
		if downloadsAnswer(q) {
			t.Fatalf("the explorer downloaded the answer to show its first rows: %s", q)
		}
	}

	// the last page, fetched when the user goes there; Detail reads it
	press(tea.KeyPressMsg{Code: 'G', Text: "G"})
	waitScreen(t, screen, `row `+thousands(len(want))+`\b`, "the cursor on the last row", errb)
	last := want[len(want)-1]
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		press(tea.KeyPressMsg{Code: tea.KeyEnter})
		time.Sleep(200 * time.Millisecond)
		if strings.Contains(screen(), last.AuditID) {
			break
		}
		press(tea.KeyPressMsg{Code: tea.KeyEscape})
		if time.Now().After(deadline) {
			t.Fatalf("Detail of the last row does not show %s:\n%s", last.AuditID, screen())
		}
	}
	if s := screen(); strings.Contains(s, "let go") || strings.Contains(s, "no line at") {
		t.Errorf("Detail of the last row could not read its lines:\n%s", s)
	}
	press(tea.KeyPressMsg{Code: tea.KeyEscape})

	// the Summary: the store's counts, the files'
	top := filter.TopCounts(want, "user")
	user, n := "", 0
	for u, c := range top {
		if c > n || c == n && u < user {
			user, n = u, c
		}
	}
	press(tea.KeyPressMsg{Code: '4', Text: "4"})
	waitScreen(t, screen, regexp.QuoteMeta(render.Sanitize(user))+`\s+`+strconv.Itoa(n)+`\b`, "the Summary's top user", errb)
	press(tea.KeyPressMsg{Code: '5', Text: "5"})
	waitScreen(t, screen, `read a page at a time`, "the Answers", errb)
	// what reads every row says so rather than fetch every page
	press(tea.KeyPressMsg{Code: '1', Text: "1"}, tea.KeyPressMsg{Code: 's', Text: "s"})
	waitScreen(t, screen, `sorting reads every request`, "sorting", errb)
	press(tea.KeyPressMsg{Code: 'H', Text: "H"})
	waitScreen(t, screen, `the history reads every request`, "the history", errb)

	queries, _ = rec.take()
	pages := 0
	for _, q := range queries {
		if downloadsAnswer(q) {
			t.Errorf("the explorer downloaded the answer: %s", q)
		}
		if strings.Contains(q, ` auditID:in("`) {
			pages++
		}
	}
	if pages == 0 || pages > 8 {
		t.Errorf("the explorer read %d pages to show the last row: want a few", pages)
	}
}

// downloadsAnswer is a query that reads the answer's events, not one
// page's (those name their requests).
func downloadsAnswer(q string) bool {
	return strings.HasPrefix(q, "/select/") && downloads([]string{q}) && !strings.Contains(q, ` auditID:in("`)
}

// A filter the store cannot count (a word the requests must not hold:
// kauditui checks it on the lines), or a store whose counts its checks
// refuse, is read whole, as before, and the status bar says why.
func TestExplorerLoadsAStoreWholeWhenItCannotPage(t *testing.T) {
	vl, files, _ := storeTestdata(t)
	r := runQueryTest(t, "", "--count", "-q", "!kubyk", liveLog(files))
	n, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if err != nil || n == 0 {
		t.Fatalf("query --count kubyk: %q %s", r.stdout, r.stderr)
	}
	screen, _, errb := exploreStore(t, vl.url(), "c1", "!kubyk")
	waitScreen(t, screen, `loaded whole: \S`, "the reason", errb)
	waitScreen(t, screen, `(^|[^0-9,])`+thousands(n)+`(/[0-9,]+)? req\b`, "the whole answer's count", errb)

	// a store whose checks fail (every event twice: two nodes shipped the
	// same log) is paged at first, then loaded whole when the checks say
	// so; the loader drops the stages read twice
	loadVLogs(t, vl.url(), "dup", "m1", files...)
	loadVLogs(t, vl.url(), "dup", "m2", files...)
	all, err := strconv.Atoi(strings.TrimSpace(runQueryTest(t, "", "--count", liveLog(files)).stdout))
	if err != nil {
		t.Fatal(err)
	}
	screen, _, errb = exploreStore(t, vl.url(), "dup", "")
	waitScreen(t, screen, `loaded whole: \S`, "the checks' reason", errb)
	waitScreen(t, screen, `(^|[^0-9,])`+thousands(all)+` req\b`, "the whole answer's count", errb)
}

// The explorer itself on a store holding the 1 GB log (KAUDITUI_BIG_STORE=URL,
// cluster big: hack/vlogs-pages.sh's; skipped without it): the first rows,
// the total, a scroll to the end, the Summary and its histogram, the
// Timeline, the process within 150 MiB. The times are logged, not judged.
func TestExplorerOnTheBigStore(t *testing.T) {
	base := os.Getenv("KAUDITUI_BIG_STORE")
	if base == "" {
		t.Skip("KAUDITUI_BIG_STORE is not set: a store holding the 1 GB log as cluster big (hack/vlogs-pages.sh)")
	}
	runtime.GC()
	start := time.Now()
	screen, press, errb := exploreStore(t, base, "big", "")
	s := waitScreen(t, screen, `(?m)^\s*\d\d-\d\d \d\d:\d\d:\d\d`, "the first rows", errb)
	rows := time.Since(start)
	total := regexp.MustCompile(`([0-9,]+) req\b`).FindStringSubmatch(s)
	press(tea.KeyPressMsg{Code: 'G', Text: "G"})
	waitScreen(t, screen, `row `+regexp.QuoteMeta(total[1])+`\b`, "the last row", errb)
	waitScreen(t, screen, `(?m)^\s*\d\d-\d\d \d\d:\d\d:\d\d`, "the last rows", errb)
	end := time.Since(start)
	press(tea.KeyPressMsg{Code: '4', Text: "4"})
	waitScreen(t, screen, `Users \(\d+\)[^\n]*\n\s*\S+\s+\d+`, "the Summary's users", errb)
	summary := time.Since(start)
	slow := func(re, what string) { // the store's scans: minutes on a loaded machine
		at := time.Now()
		for rx := regexp.MustCompile(re); !rx.MatchString(screen()); time.Sleep(200 * time.Millisecond) {
			if time.Since(at) > 3*time.Minute {
				t.Fatalf("%s is not drawn after 3 minutes:\n%s\n(stderr %s)", what, screen(), errb.String())
			}
		}
	}
	slow(`Requests over time \(`, "the Summary's histogram")
	hist := time.Since(start)
	press(tea.KeyPressMsg{Code: '5', Text: "5"}, tea.KeyPressMsg{Code: tea.KeyEnter})
	at := time.Now()
	slow(`computed by the store\s*\n[^\n]*TIME[^\n]*\n[^\n]*\d\d:\d\dZ\s+\d+`, "the Timeline")
	timeline := time.Since(at)
	peak := peakRSS(t)
	t.Logf("%s requests: rows and total at %v, the last rows at %v, the Summary at %v, its histogram at %v, the Timeline %v after enter; the test process's peak %d MiB", total[1], rows, end, summary, hist, timeline, peak>>20)
	if peak > 150<<20 {
		t.Errorf("the explorer on the 1 GB store: %d MiB at the peak, want at most 150", peak>>20)
	}
}

// The explorer on a store read a page at a time draws the Summary's
// histogram and the Timeline from the store's stats, and they are what the
// explorer draws on the files the store was loaded from (the test's
// screens, side by side, on the answers run, which has slow requests); no
// query downloads the answer (the slow requests are read whole, by
// auditID, for where their time went). L then loads the answer whole,
// saying what it weighs, and the Answers are the files' again.
func TestExplorerStoreHistogramAndTimeline(t *testing.T) {
	vl := startVLogs(t, "-insert.maxLineSizeBytes=2MiB")
	logs := audittest.Logs(t, "answers")
	loadVLogs(t, vl.url(), "answers", "m1", logs...)
	rec := recordStore(t, vl.url())
	n, err := strconv.Atoi(strings.TrimSpace(runQueryTest(t, "", "--count", liveLog(logs)).stdout))
	if err != nil {
		t.Fatal(err)
	}
	key := func(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }
	store, press, errb := exploreStore(t, rec.URL, "answers", "")
	files, pressFiles, errFiles, _ := exploreInProcess(t, &exploreOptions{Now: time.Now, NoFollow: true, NoColor: true, Sources: []string{liveLog(logs)}}, 200, 40)
	waitScreen(t, store, `(^|[^0-9,])`+thousands(n)+` req\b`, "the store's count", errb)
	waitScreen(t, files, `(^|[^0-9,])`+thousands(n)+` req\b.*snapshot`, "the files read", errFiles)

	// the Summary's histogram: from its title to the line under its axis
	hist := func(s string) string {
		i := strings.Index(s, "Requests over time")
		if i < 0 {
			return ""
		}
		lines := strings.Split(s[i:], "\n")
		for j, l := range lines {
			if strings.Contains(l, " requests from ") {
				return strings.Join(lines[:j+1], "\n")
			}
		}
		return ""
	}
	press(key('4'))
	pressFiles(key('4'))
	want := hist(waitScreen(t, files, `Requests over time \(`, "the files' histogram", errFiles))
	got := hist(waitScreen(t, store, `Requests over time \(`, "the store's histogram", errb))
	if got == "" || got != want {
		t.Errorf("the store's histogram:\n%s\nthe files':\n%s", got, want)
	}

	// the Timeline: enter on the store's Answers; the files' is the 13th answer
	press(key('5'), tea.KeyPressMsg{Code: tea.KeyEnter})
	pressFiles(key('5'))
	for range 12 {
		pressFiles(key('j'))
	}
	pressFiles(tea.KeyPressMsg{Code: tea.KeyEnter})
	timeline := func(s string) string {
		s = s[strings.Index(s, "What happened when"):]
		s = strings.Replace(s, ", computed by the store", "", 1)
		lines := strings.Split(s[:strings.LastIndex(s, "esc: back to the answers")], "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " ")
		}
		return strings.Join(lines, "\n")
	}
	want = timeline(waitScreen(t, files, `What happened when: requests per 1m`, "the files' timeline", errFiles))
	got = timeline(waitScreen(t, store, `What happened when: requests per 1m [^\n]*computed by the store\s*\n[^\n]*TIME`, "the store's timeline", errb))
	if got != want || !strings.Contains(got, "slowest: ") || !strings.Contains(got, "SLOW TIME IN") {
		t.Errorf("the store's timeline:\n%s\nthe files':\n%s", got, want)
	}
	press(key('-')) // zoom out: asked again
	pressFiles(key('-'))
	want = timeline(waitScreen(t, files, `What happened when: requests per 5m`, "the files' timeline at 5m", errFiles))
	got = timeline(waitScreen(t, store, `What happened when: requests per 5m [^\n]*computed by the store\s*\n[^\n]*TIME`, "the store's timeline at 5m", errb))
	if got != want {
		t.Errorf("the store's timeline at 5m:\n%s\nthe files':\n%s", got, want)
	}
	queries, _ := rec.take()
	for _, q := range queries {
		if downloadsAnswer(q) {
			t.Errorf("the explorer downloaded the answer: %s", q)
		}
	}

	// L: the whole answer, and what it weighs
	press(tea.KeyPressMsg{Code: tea.KeyEscape}, key('L'))
	waitScreen(t, store, `loaded whole: asked for \(L\): `+thousands(n)+` requests, [0-9,]+ events, [0-9.]+ [KM]iB of lines downloaded`, "the load's cost", errb)
	waitScreen(t, store, `Who deleted …\?`, "the Answers, once loaded", errb)
}
