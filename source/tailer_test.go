package source

import (
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// The rotation rules of tailer.go, run as one table against both kinds of
// folder: a local one, and a node's /var/log through the API server's node
// proxy (fakeNodes: net/http's FileServer, as the kubelet serves /logs/).
// The files are crafted (real events of the sample, given their own IDs and
// times), the rotations done by hand as logrotate and lumberjack do them.

// tailKinds are the two kinds of folder: each follows the audit log whose
// path on this machine it returns.
var tailKinds = []struct {
	name   string
	follow func(t *testing.T, poll time.Duration, first string) (path string, st *audit.Store, set *Set, warnings func() []string, stop func() audit.Snapshot)
}{
	{"local", func(t *testing.T, poll time.Duration, first string) (string, *audit.Store, *Set, func() []string, func() audit.Snapshot) {
		path := filepath.Join(t.TempDir(), "audit.log")
		os.WriteFile(path, []byte(first), 0o600)
		st, set, w, stop := followPoll(t, Spec{Paths: []string{path}}, Options{}, poll)
		return path, st, set, w, stop
	}},
	{"node", func(t *testing.T, poll time.Duration, first string) (string, *audit.Store, *Set, func() []string, func() audit.Snapshot) {
		f := newFakeNodes(t, "m")
		path := f.log("m")
		os.WriteFile(path, []byte(first), 0o600)
		st, set, w, stop := followPoll(t, Spec{Nodes: &NodeOptions{Client: f.client(t), Nodes: []string{"m"}}}, Options{}, poll)
		return path, st, set, w, stop
	}},
}

// followPoll loads with Follow and the given poll interval in the
// background.
func followPoll(t *testing.T, spec Spec, opt Options, poll time.Duration) (*audit.Store, *Set, func() []string, func() audit.Snapshot) {
	t.Helper()
	var mu sync.Mutex
	var warned []string
	opt.Warn = func(m string) { mu.Lock(); warned = append(warned, m); mu.Unlock(); t.Logf("warning: %s", m) }
	spec.Follow, opt.PollInterval = true, poll
	set, err := Open(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	st := audit.NewStore()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- set.Load(ctx, st) }()
	return st, set, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(warned) }, func() audit.Snapshot {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return st.Snapshot()
	}
}

// tailLines are events from..to-1 (times nodeT0 + i ms), each 600 bytes.
func tailLines(t *testing.T, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		b.WriteString(timedLine(t, "tail", i, 600))
	}
	return b.String()
}

func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

// gzipAway compresses path into its .gz and removes it, as lumberjack does.
func gzipAway(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path+".gz", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	zw.Write(b)
	zw.Close()
	f.Close()
	os.Remove(path)
}

// A rotated backup's name, lumberjack's (the apiserver's rotator).
func backupName(path string, at time.Time) string {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	return filepath.Join(dir, strings.TrimSuffix(base, ext)+"-"+at.UTC().Format(backupLayout)+ext)
}

func TestTailerRotationRules(t *testing.T) {
	const n = 40 // events before the rotation
	cases := []struct {
		name string
		// rotate acts on the live file at path after the n first events
		// were read, all within one poll interval; it returns how many
		// events were written in all.
		rotate func(t *testing.T, path string) int
		// lost: the old lines cannot be shown again (the file was
		// truncated) and a warning says lines may be missing.
		truncated bool
	}{
		{
			// logrotate's copytruncate, and the writer goes on at once: the
			// file holds as many bytes as before (and then more) when the
			// next poll comes, so its size alone does not show it.
			name: "same-size copytruncate refilled past its old size",
			rotate: func(t *testing.T, path string) int {
				old, _ := os.ReadFile(path)
				os.WriteFile(path+".1", old, 0o600) // the copy (not a name of the apiserver's backups)
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
				appendTo(t, path, tailLines(t, n, 2*n+10))
				return 2*n + 10
			},
			truncated: true,
		},
		{
			name: "truncate then grow",
			rotate: func(t *testing.T, path string) int {
				if err := os.Truncate(path, 0); err != nil {
					t.Fatal(err)
				}
				time.Sleep(250 * time.Millisecond) // polls see it empty
				appendTo(t, path, tailLines(t, n, n+5))
				time.Sleep(250 * time.Millisecond)
				appendTo(t, path, tailLines(t, n+5, n+10))
				return n + 10
			},
			truncated: true,
		},
		{
			// lines written, then renamed to a backup, compressed (the plain
			// copy removed) and a new live file made, before the next poll:
			// the old file's rest is read (from the .gz through the node
			// proxy), then the new file.
			name: "rotate then compress",
			rotate: func(t *testing.T, path string) int {
				appendTo(t, path, tailLines(t, n, n+10))
				b := backupName(path, time.Now())
				if err := os.Rename(path, b); err != nil {
					t.Fatal(err)
				}
				gzipAway(t, b)
				appendTo(t, path, tailLines(t, n+10, n+20))
				return n + 20
			},
		},
		{
			// two rotations between polls, the first backup compressed
			name: "two rotations within one poll",
			rotate: func(t *testing.T, path string) int {
				appendTo(t, path, tailLines(t, n, n+10))
				b1 := backupName(path, time.Now())
				os.Rename(path, b1)
				appendTo(t, path, tailLines(t, n+10, n+20))
				b2 := backupName(path, time.Now().Add(time.Second))
				os.Rename(path, b2)
				gzipAway(t, b1)
				appendTo(t, path, tailLines(t, n+20, n+30))
				return n + 30
			},
		},
	}
	for _, c := range cases {
		for _, kind := range tailKinds {
			t.Run(c.name+"/"+kind.name, func(t *testing.T) {
				path, st, set, warnings, stop := kind.follow(t, 100*time.Millisecond, tailLines(t, 0, n/2))
				waitEvents(t, st, n/2)
				appendTo(t, path, tailLines(t, n/2, n))
				waitEvents(t, st, n)
				total := c.rotate(t, path)
				waitEvents(t, st, total)
				time.Sleep(250 * time.Millisecond) // more polls: nothing more may come
				snap := stop()
				if snap.Events != total || len(snap.Requests) != total || snap.Duplicates != 0 || len(snap.Other) != 0 {
					t.Fatalf("%d events, %d requests, %d duplicates, %d other lines; want %d events, each once", snap.Events, len(snap.Requests), snap.Duplicates, len(snap.Other), total)
				}
				for i, r := range snap.Requests {
					if want := nodeT0.Add(time.Duration(i) * time.Millisecond); !r.Last().Equal(want) {
						t.Fatalf("request %d is of %s, want %s: out of order", i, r.Last(), want)
					}
				}
				last := snap.Requests[total-1]
				if b, err := set.Raw(last.Events[0].Ref); err != nil || !strings.Contains(string(b), last.AuditID) {
					t.Errorf("the last line read again: %v %.80q", err, b)
				}
				first := snap.Requests[0]
				b, err := set.Raw(first.Events[0].Ref)
				w := warnings()
				if c.truncated {
					if len(w) != 1 || !strings.Contains(w[0], "audit.log: was truncated or replaced, and its lines after byte") {
						t.Errorf("warnings %q; want one saying the file was truncated", w)
					}
					if kind.name == "local" && (err == nil || !strings.Contains(err.Error(), "truncated")) {
						t.Errorf("a line of the truncated file: %v %.60q", err, b)
					}
					return
				}
				if err != nil || !strings.Contains(string(b), first.AuditID) {
					t.Errorf("the first line read again: %v %.80q", err, b)
				}
				if len(w) != 0 {
					t.Errorf("warnings %q", w)
				}
			})
		}
	}
}
