package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/source"
)

// Usage problems stop before the terminal is taken over: one line, exit 2.
func TestExploreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-q", "code=4x", "testdata/sample.log"}, `term 1 "code=4x"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--demo", "testdata/sample.log"}, "--demo reads the built-in sample data"},
		{[]string{"/nonexistent/audit.log"}, "/nonexistent/audit.log"},
		{[]string{"--follow", "--no-follow", "testdata/sample.log"}, "--follow and --no-follow: give one or the other"},
	} {
		var out, errb bytes.Buffer
		io := &IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
		code := run(c.args, io)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, errb.String())
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, errb.String(), c.want)
		}
		if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); c.args[0] != "--bogus" && lines > 0 {
			t.Errorf("%v: the error takes %d lines: %q", c.args, lines+1, errb.String())
		}
	}
}

// What the explorer follows when neither --follow nor --no-follow is given:
// everything (what cannot grow is read to its end and shown as a
// snapshot), except the demo and the store.
func TestExploreFollowsByDefault(t *testing.T) {
	for _, c := range []struct {
		o    exploreOptions
		want bool
	}{
		{exploreOptions{Sources: []string{"/var/log/kubernetes/audit/audit.log"}}, true},
		{exploreOptions{Pods: source.PodFlags{Pods: true}}, true},
		{exploreOptions{Nodes: source.NodeFlags{All: true}}, true},
		{exploreOptions{}, true}, // the manifest's log, on a master
		{exploreOptions{Sources: []string{"/var/log/kubernetes/audit/audit.log"}, NoFollow: true}, false},
		{exploreOptions{Demo: true}, false},
		{exploreOptions{Store: source.StoreFlags{URL: "http://vlogs:9428"}}, false},
	} {
		if got := c.o.followByDefault(); got != c.want {
			t.Errorf("%+v: follows %v, want %v", c.o, got, c.want)
		}
	}
}

// explorerBudget is what the explorer may keep resident for each request
// of the trail it shows (issue 21: a 10 GB trail, 6 M requests, on a master
// of 2 GB).
const explorerBudget = 64

// idTableDoubling is what the indexing store's table of rows by auditID
// may add to one request when it doubles between the two halves measured
// (4 bytes a slot, at most 0.75 full: 5.3 to 10.7 bytes a request), as
// audit's TestIndexBytesPerRequest allows.
const idTableDoubling = 11

// The explorer keeps at most explorerBudget bytes a request, measured as
// the live heap after a collection while it shows a log it loaded through
// its own load path (runExplore, in process), with a filter in force that
// most requests pass: what a request adds is the difference between the
// first half of the log and the whole (the fixed part, a program and the
// streaming store's last 4,096 requests, about 4 MB, does not grow with the
// trail). On a log of 500,000 requests or more (1 GB) the whole divided by
// its requests is held to the budget too. The log is made by hack/genlog
// from the real events (100 MB: 59,000 requests), or named by
// KAUDITUI_EXPLORER_LOG (testdata/big/audit-1GB.log: 63.1 bytes a request
// in all, 56.4 a request more). Before the index, the explorer kept a
// *audit.Request each: 460 bytes a request on 1 GB.
func TestExplorerBytesPerRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and explores a 100 MB log")
	}
	path := os.Getenv("KAUDITUI_EXPLORER_LOG")
	if path == "" {
		path = filepath.Join(t.TempDir(), "genlog.log")
		if out, err := exec.Command("go", "run", "./hack/genlog", "-size", "100MB", "-o", path).CombinedOutput(); err != nil {
			t.Fatalf("hack/genlog: %v\n%s", err, out)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	half := filepath.Join(t.TempDir(), "half.log")
	cut := bytes.IndexByte(b[len(b)/2:], '\n') + len(b)/2 + 1
	if err := os.WriteFile(half, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	b = nil
	b1, n1 := exploreHeap(t, half)
	b2, n2 := exploreHeap(t, path)
	marginal := (b2 - b1) / float64(n2-n1)
	t.Logf("the explorer holds %.1f bytes a request on %s (%.1f MiB for %d requests); a request more adds %.1f", b2/float64(n2), filepath.Base(path), b2/(1<<20), n2, marginal)
	if marginal > explorerBudget+idTableDoubling {
		t.Errorf("a request adds %.1f bytes to the explorer, over the budget of %d (and %d for the ID table's doubling)", marginal, explorerBudget, idTableDoubling)
	}
	if all := b2 / float64(n2); n2 >= 500_000 && all > explorerBudget {
		t.Errorf("the explorer holds %.1f bytes a request, over the budget of %d", all, explorerBudget)
	}
}

// exploreHeap runs the explorer on path (no follow, a filter most requests
// pass) until it has read it, and returns the live heap it adds and the
// requests it shows in all.
func exploreHeap(t *testing.T, path string) (heap float64, requests int) {
	t.Helper()
	live := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	o := &exploreOptions{Now: time.Now, NoFollow: true, NoColor: true, Sources: []string{path}, Filter: "verb!=watch"}
	base := live()
	screen, _, errb, quit := exploreInProcess(t, o, 200, 30)
	total := regexp.MustCompile(`(?:[\d,]+/)?([\d,]+) req\b`)
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		s := screen()
		if m := total.FindStringSubmatch(s); m != nil && strings.Contains(s, "snapshot") {
			requests, _ = strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the explorer did not finish reading:\n%s\n(stderr %s)", path, s, errb.String())
		}
	}
	time.Sleep(300 * time.Millisecond) // a refresh after the last read
	heap = float64(live() - base)
	quit()
	return heap, requests
}
