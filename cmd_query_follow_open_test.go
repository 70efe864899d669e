package main

// `kauditui query --follow` and long-running requests (a watch, an exec):
// shown while open, then when they end; and SIGTERM/SIGHUP ending a follow
// as Ctrl-C does. A live file is appended with the real testdata's lines.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// linesOf returns the real log's lines of request id, by stage.
func linesOf(t *testing.T, id string) map[string]string {
	t.Helper()
	lines, _ := followLog(t)
	out := map[string]string{}
	for _, l := range lines {
		if gjson.Get(l, "auditID").String() == id {
			out[gjson.Get(l, "stage").String()] = l
		}
	}
	if len(out) == 0 {
		t.Fatalf("no request %s in the real log", id)
	}
	return out
}

// The real log's watch (erin-editor's, 4 s long, ResponseStarted 200) and
// exec (kubernetes-admin's cat of a password over WebSockets: verb get; the
// kubelet refused it with a 400).
const (
	realWatch = "88296d7d-14b3-4763-a8da-b2b053fa771f"
	realExec  = "da38ae70-c84a-44fa-8a87-15136c2eee10"
	// erin-editor's delete of deploy kubyk-web: a short request
	realDelete = "2ea9c7d0-ace6-4530-a36c-94bc1435af47"
)

// liveFollow is follow running on a live log the test appends to.
type liveFollow struct {
	t      *testing.T
	log    *os.File
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func startFollow(t *testing.T, output string) *liveFollow {
	t.Helper()
	oldTick := followTick
	followTick = 10 * time.Millisecond
	t.Cleanup(func() { followTick = oldTick })
	path := filepath.Join(t.TempDir(), "audit.log")
	log, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}, Follow: true}, source.Options{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	out := &syncBuffer{}
	o := &queryOptions{IO: &IO{Out: out, Err: &bytes.Buffer{}, Getenv: func(string) string { return "" }},
		Output: output, Follow: true, NoColor: true, Now: time.Now}
	f, _ := filter.Parse("", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	lf := &liveFollow{t: t, log: log, out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { lf.done <- o.follow(ctx, set, audit.NewStore(), f) }()
	t.Cleanup(func() { cancel(); <-lf.done })
	return lf
}

func (lf *liveFollow) write(lines ...string) {
	lf.t.Helper()
	if _, err := lf.log.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		lf.t.Fatal(err)
	}
}

// waitFor waits until stdout satisfies ok.
func (lf *liveFollow) waitFor(what string, ok func(string) bool) {
	lf.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(lf.out.String()); time.Sleep(followTick) {
		if time.Now().After(deadline) {
			lf.t.Fatalf("%s: not printed after 20s; stdout:\n%s", what, lf.out.String())
		}
	}
}

// rowsOf are the table rows of request id (AUDIT-ID is the last column).
func rowsOf(out, id string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == id {
			rows = append(rows, l)
		}
	}
	return rows
}

// cellsOf are a row's words.
func cellsOf(row string) []string { return strings.Fields(row) }

// A watch and an exec are shown while open (LATENCY "open"), before the
// apiserver logs their end; their end comes as a second row with the final
// code and latency. Before, a kubectl exec -it session appeared only when
// it closed, a watch only when it ended.
func TestFollowShowsLongRunningRequestsWhileOpen(t *testing.T) {
	watch, exec := linesOf(t, realWatch), linesOf(t, realExec)
	lf := startFollow(t, "wide")
	lf.write(watch["RequestReceived"], watch["ResponseStarted"])
	lf.waitFor("the open watch", func(s string) bool { return len(rowsOf(s, realWatch)) == 1 })
	lf.write(exec["RequestReceived"])
	lf.waitFor("the open exec", func(s string) bool { return len(rowsOf(s, realExec)) == 1 })
	time.Sleep(20 * followTick) // nothing more comes while they are open
	for _, id := range []string{realWatch, realExec} {
		rows := rowsOf(lf.out.String(), id)
		if len(rows) != 1 || !slices.Contains(cellsOf(rows[0]), "open") {
			t.Fatalf("%s while open: want one row marked open, got %q", id, rows)
		}
	}
	if w := cellsOf(rowsOf(lf.out.String(), realWatch)[0]); !slices.Contains(w, "200") || !slices.Contains(w, "watch") {
		t.Errorf("the open watch's row does not say watch and its ResponseStarted code 200: %q", w)
	}
	lf.write(watch["ResponseComplete"])
	lf.waitFor("the watch's end", func(s string) bool { return len(rowsOf(s, realWatch)) == 2 })
	lf.write(exec["ResponseStarted"], exec["ResponseComplete"])
	lf.waitFor("the exec's end", func(s string) bool { return len(rowsOf(s, realExec)) == 2 })
	lf.cancel()
	if err := <-lf.done; err != nil {
		t.Fatal(err)
	}
	lf.done <- nil // for the cleanup
	out := lf.out.String()
	for id, want := range map[string][]string{realWatch: {"200", "4.0s"}, realExec: {"400", "1ms"}} {
		rows := rowsOf(out, id)
		if len(rows) != 2 {
			t.Fatalf("%s: %d rows, want its open row and its end: %q", id, len(rows), rows)
		}
		end := cellsOf(rows[1])
		if slices.Contains(end, "open") || !slices.Contains(end, want[0]) || !slices.Contains(end, want[1]) {
			t.Errorf("%s's end row: want code %s, latency %s, not open: %s", id, want[0], want[1], rows[1])
		}
		if cellsOf(rows[0])[0]+cellsOf(rows[0])[1] != end[0]+end[1] {
			t.Errorf("%s: the two rows do not carry the same received time:\n%s\n%s", id, rows[0], rows[1])
		}
	}
}

// -o json: the events of an open watch come while it is open, the rest when
// it ends; each event once.
func TestFollowJSONShowsLongRunningRequestsWhileOpen(t *testing.T) {
	watch := linesOf(t, realWatch)
	lf := startFollow(t, "json")
	lf.write(watch["RequestReceived"], watch["ResponseStarted"])
	want := watch["RequestReceived"] + "\n" + watch["ResponseStarted"] + "\n"
	lf.waitFor("the open watch's events", func(s string) bool { return s == want })
	time.Sleep(20 * followTick)
	if s := lf.out.String(); s != want {
		t.Fatalf("while the watch is open, want its two events once:\n%s", s)
	}
	lf.write(watch["ResponseComplete"])
	want += watch["ResponseComplete"] + "\n"
	lf.waitFor("the watch's last event", func(s string) bool { return s == want })
	lf.cancel()
	<-lf.done
	lf.done <- nil
	if s := lf.out.String(); s != want {
		t.Fatalf("each event once, in order:\n%s", s)
	}
}

// SIGTERM (systemd stopping a service, kill) and SIGHUP (the terminal
// closed) end a follow as Ctrl-C does: what is pending is printed, here a
// delete whose RequestReceived came and whose end did not (before, SIGTERM
// killed kauditui and the request was never printed).
func TestFollowPrintsPendingOnSIGTERMAndSIGHUP(t *testing.T) {
	del := linesOf(t, realDelete)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			lf := startFollow(t, "wide")
			lf.waitFor("the header", func(s string) bool { return strings.HasPrefix(s, "TIME") })
			lf.write(del["RequestReceived"])
			time.Sleep(20 * followTick)
			if rows := rowsOf(lf.out.String(), realDelete); len(rows) != 0 {
				t.Fatalf("the delete was printed before it ended: %q", rows)
			}
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-lf.done:
				lf.done <- nil
				if err != nil {
					t.Fatalf("follow after %s: %v", sig, err)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("follow did not end on %s", sig)
			}
			rows := rowsOf(lf.out.String(), realDelete)
			if len(rows) != 1 || !slices.Contains(cellsOf(rows[0]), "erin-editor") {
				t.Fatalf("after %s, want the pending delete printed once:\n%s", sig, lf.out.String())
			}
		})
	}
}
