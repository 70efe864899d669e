package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
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

	var mu sync.Mutex
	screen := ""
	errb := &syncBuffer{}
	o := &exploreOptions{IO: &IO{In: strings.NewReader(""), Out: io.Discard, Err: errb, Getenv: func(string) string { return "" }},
		Now: time.Now, Follow: true, NoColor: true, Store: source.StoreFlags{URL: vl.url(), Cluster: []string{"c1"}}}
	o.program = []tea.ProgramOption{tea.WithoutRenderer(), tea.WithInput(nil), tea.WithWindowSize(200, 30), tea.WithoutSignalHandler(),
		tea.WithFilter(func(m tea.Model, msg tea.Msg) tea.Msg {
			v := ansi.Strip(m.View().Content)
			mu.Lock()
			screen = v
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
	defer func() {
		p.Quit()
		if err := <-done; err != nil {
			t.Errorf("the explorer ended with %v", err)
		}
	}()
	status := func() string {
		mu.Lock()
		defer mu.Unlock()
		return screen
	}
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
			if n, err := p.Total(ctx); err != nil || n != int64(len(want)) {
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
