package main

import (
	"context"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

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
