package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kauditui/kauditui/audit"
)

// eventLine is a real event of the sample with its own auditID, padded to
// about size bytes (so rotations come quickly).
func eventLine(t testing.TB, i, size int) string {
	l := sampleLines(t)[1]
	l = strings.Replace(l, `"auditID":"`, fmt.Sprintf(`"auditID":"follow-%07d-`, i), 1)
	if pad := size - len(l) - 20; pad > 0 {
		l = strings.Replace(l, `"userAgent":"`, `"userAgent":"`+strings.Repeat("x", pad), 1)
	}
	return l
}

// following loads path with Follow in the background; stop ends the load
// and returns the store.
func following(t *testing.T, path string) (st *audit.Store, set *Set, stop func() audit.Snapshot) {
	t.Helper()
	return followingWith(t, Spec{Paths: []string{path}}, Options{Warn: func(m string) { t.Logf("warning: %s", m) }})
}

// followingWith is following for any paths and options (Follow and a short
// poll are set here).
func followingWith(t *testing.T, spec Spec, opt Options) (st *audit.Store, set *Set, stop func() audit.Snapshot) {
	t.Helper()
	spec.Follow, opt.PollInterval = true, 5*time.Millisecond
	set, err := Open(context.Background(), spec, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	st = audit.NewStore()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- set.Load(ctx, st) }()
	return st, set, func() audit.Snapshot {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return st.Snapshot()
	}
}

func waitEvents(t *testing.T, st *audit.Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); st.Snapshot().Events < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d events, want %d", st.Snapshot().Events, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkOnce asserts that the n events written are each in the store once,
// and can be read again from where they were logged.
func checkOnce(t *testing.T, snap audit.Snapshot, set *Set, n int) {
	t.Helper()
	if snap.Events != n || len(snap.Requests) != n || snap.Duplicates != 0 || len(snap.Other) != 0 {
		t.Fatalf("%d events, %d requests, %d duplicates, %d other lines; want %d events, each once", snap.Events, len(snap.Requests), snap.Duplicates, len(snap.Other), n)
	}
	seen := map[string]bool{}
	for _, r := range snap.Requests {
		if seen[r.AuditID] {
			t.Fatalf("%s read twice", r.AuditID)
		}
		seen[r.AuditID] = true
	}
	for _, i := range []int{0, n / 2, n - 1} {
		e := snap.Requests[i].Events[0]
		b, err := set.Raw(e.Ref)
		if err != nil || !strings.Contains(string(b), snap.Requests[i].AuditID) {
			t.Errorf("request %d read again: %v %.80q", i, err, b)
		}
	}
}

// The apiserver's own rotator writes real events fast while kauditui
// follows: every rotation is followed, nothing is lost, nothing read twice.
// With --audit-log-compress the backups are gzipped (and the plain copies
// removed) while kauditui follows.
func TestFollowThroughLumberjackRotations(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) { followRotations(t, compress) })
	}
}

func followRotations(t *testing.T, compress bool) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, nil, 0o600)
	st, set, stop := following(t, path)
	w := &lumberjack.Logger{Filename: path, MaxSize: 1, MaxBackups: 0, LocalTime: false, Compress: compress}
	defer w.Close()
	const lineSize = 4096
	n := rotations * (1 << 20) / lineSize
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := w.Write([]byte(eventLine(t, i, lineSize) + "\n")); err != nil {
			t.Fatal(err)
		}
	}
	waitEvents(t, st, n)
	took := time.Since(start)
	snap := stop()
	backups, _ := Backups(path)
	if len(backups) < rotations-1 {
		t.Fatalf("%d rotations happened, want %d", len(backups), rotations)
	}
	checkOnce(t, snap, set, n)
	t.Logf("%d events through %d rotations in %v: %.0f events/s", n, len(backups), took, float64(n)/took.Seconds())
	if compress {
		// lumberjack compresses in a goroutine of its own that Close does
		// not wait for: let it finish before the folder is removed.
		w.Close()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			plain, _ := filepath.Glob(filepath.Join(dir, "audit-*.log"))
			if len(plain) == 0 {
				break
			}
		}
	}
}

// logrotate's copytruncate, and delete then create: followed too.
func TestFollowThroughTruncateAndRecreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, []byte(eventLine(t, 0, 0)+"\n"), 0o600)
	st, set, stop := following(t, path)
	waitEvents(t, st, 1)
	appendLines := func(from, to int) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			f.WriteString(eventLine(t, i, 0) + "\n")
		}
		f.Close()
	}
	appendLines(1, 50)
	waitEvents(t, st, 50)
	if err := os.Truncate(path, 0); err != nil { // copytruncate
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	appendLines(50, 60)
	waitEvents(t, st, 60)
	os.Remove(path) // deleted, then made again
	time.Sleep(30 * time.Millisecond)
	appendLines(60, 100)
	waitEvents(t, st, 100)
	os.Rename(path, path+".old") // replaced while kauditui is not looking
	appendLines(100, 120)
	waitEvents(t, st, 120)
	snap := stop()
	if snap.Events != 120 || len(snap.Requests) != 120 || snap.Duplicates != 0 {
		t.Fatalf("%d events, %d requests, %d duplicates; want 120 once each", snap.Events, len(snap.Requests), snap.Duplicates)
	}
	// lines of the truncated file are gone from it: Raw says so
	if _, err := set.Raw(snap.Requests[0].Events[0].Ref); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a line of the truncated file: %v", err)
	}
	if b, err := set.Raw(snap.Requests[119].Events[0].Ref); err != nil || !strings.Contains(string(b), "follow-0000119-") {
		t.Errorf("the last line: %v %.60q", err, b)
	}
}

// A pipe that stays open: each line is handed on as soon as it is complete,
// not when 1 MiB has come or the pipe closed.
func TestStreamHandsOnLinesAsTheyCome(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	set, err := Open(context.Background(), Spec{Paths: []string{"-"}, Stdin: pr}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go set.Load(ctx, st)
	klog := "I1126 03:58:50.564233   12364 flags.go:64] FLAG: --v=\"3\"\n"
	pw.WriteString(strings.Repeat(klog, 1300) + eventLine(t, 1, 0) + "\n")
	deadline := time.Now().Add(3 * time.Second)
	for s := st.Snapshot(); s.Events < 1 || len(s.Klog) < 1299; s = st.Snapshot() {
		if time.Now().After(deadline) {
			t.Fatalf("after 3 s with the pipe open: %d events, %d klog lines", s.Events, len(s.Klog))
		}
		time.Sleep(5 * time.Millisecond)
	}
	pw.WriteString(eventLine(t, 2, 0) + "\n")
	for deadline = time.Now().Add(3 * time.Second); st.Snapshot().Events < 2; {
		if time.Now().After(deadline) {
			t.Fatal("a second line in the open pipe was not handed on")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The kubelet rotates a container log by renaming 0.log to
// 0.log.<20060102-150405> (gzipped later) and the runtime opens a new 0.log:
// a CRI pod log file on the node is followed through it, partial records
// joined across the switch of files only within a file.
func TestFollowCRIThroughKubeletRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	cri := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			l := eventLine(t, i, 0)
			at := time.Date(2026, 11, 26, 3, 0, 0, i*1000, time.UTC).Format(time.RFC3339Nano)
			fmt.Fprintf(&b, "%s stdout P %s\n%s stdout F %s\n", at, l[:100], at, l[100:])
			fmt.Fprintf(&b, "%s stderr F I1126 03:00:00.%06d       1 a.go:1] line %d\n", at, i, i)
		}
		return b.String()
	}
	os.WriteFile(path, []byte(cri(0, 10)), 0o600)
	st, set, stop := following(t, path)
	waitEvents(t, st, 10)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(cri(10, 20))
	f.Close()
	os.Rename(path, path+".20261126-030405")
	os.WriteFile(path, []byte(cri(20, 30)), 0o600)
	waitEvents(t, st, 30)
	snap := stop()
	if snap.Events != 30 || len(snap.Klog) != 30 || len(snap.Other) != 0 || snap.Duplicates != 0 {
		t.Fatalf("%d events, %d klog, %d other, %d duplicates; want 30, 30, 0, 0", snap.Events, len(snap.Klog), len(snap.Other), snap.Duplicates)
	}
	if b, err := set.Raw(snap.Klog[29].Ref); err != nil || !strings.HasSuffix(string(b), "line 29") {
		t.Errorf("last klog line: %v %q", err, b)
	}
}
