package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// The real apiserver's log of clients reusing one Audit-ID
// (hack/gen-trust.sh): the explorer finds each request, says that IDs are
// shared (status bar, Detail), and answers as `kauditui query` does.
func TestExplorerReusedAuditIDHidesNothing(t *testing.T) {
	log := audittest.Path("trust", "reused-id", "audit.log")
	if _, err := os.Stat(log); err != nil {
		t.Skipf("no testdata/trust: %v", err)
	}
	st, set := loadStore(t, log)
	m := newTestModel(t, st, set.Raw, 160, 30, withFilter("verb!=get,watch"))
	scr := screen(m)
	if !strings.Contains(scr, "6 shared IDs") {
		t.Errorf("the status bar does not count the shared IDs:\n%s", scr)
	}
	var verbs []string
	for _, r := range m.flt.shownReqs() {
		verbs = append(verbs, r.Verb)
	}
	if !slices.Contains(verbs, "delete") || !slices.Contains(verbs, "list") {
		t.Fatalf("verb!=get,watch shows %v: the delete and the list under reused IDs are missing", verbs)
	}
	// open the delete: the Detail page says its ID is shared
	row := rowOf(t, m, func(r *audit.Request) bool { return r.Verb == "delete" })
	for i := 0; i < row; i++ {
		press(m, "down")
	}
	press(m, "enter")
	if scr := screen(m); !strings.Contains(scr, "shared with other requests") || !strings.Contains(scr, "delete") {
		t.Errorf("the Detail page of the delete does not say its auditID is shared:\n%s", scr)
	}
}

// A stderr klog record between the partial records of a long audit line,
// and a broken line, in a CRI log: the Apiserver log page shows the klog
// line and the broken line as they were logged, not a piece of the audit
// line around them.
func TestExplorerOtherLinesShowTheLoggedText(t *testing.T) {
	sample, err := os.ReadFile(sampleLog(t))
	if err != nil {
		t.Fatal(err)
	}
	event := strings.SplitN(string(sample), "\n", 2)[0]
	at := time.Date(2026, 11, 26, 3, 58, 50, 0, time.UTC).Format(time.RFC3339Nano)
	rec := func(stream, tag, text string) string { return fmt.Sprintf("%s %s %s %s\n", at, stream, tag, text) }
	klog := `I1126 03:58:50.564233   12364 flags.go:64] FLAG: --v="3"`
	broken := `{"kind":"Event","kubyk-broken":`
	cri := rec("stdout", "P", event[:100]) + rec("stderr", "F", klog) + rec("stdout", "P", event[100:200]) +
		rec("stderr", "F", broken) + rec("stdout", "F", event[200:])
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(cri), 0o600); err != nil {
		t.Fatal(err)
	}
	st, set := loadStore(t, path)
	snap := st.Snapshot()
	if len(snap.Requests) != 1 || len(snap.Klog) != 1 || len(snap.Other) != 1 {
		t.Fatalf("%d requests, %d klog, %d other; want 1 each", len(snap.Requests), len(snap.Klog), len(snap.Other))
	}
	m := newTestModel(t, st, set.Raw, 140, 20)
	press(m, "3")
	if scr := screen(m); !strings.Contains(scr, `FLAG: --v="3"`) {
		t.Errorf("the klog line is not shown as logged:\n%s", scr)
	}
	press(m, "o")
	scr := screen(m)
	if !strings.Contains(scr, `"kubyk-broken":`) || strings.Contains(scr, `"apiVersion"`) {
		t.Errorf("the other line is not shown as logged:\n%s", scr)
	}
}

// Two apiservers' logs (a real log split by request): the explorer's list,
// and so the Answers' newest first, is one timeline across both.
func TestExplorerTwoLogsInTimeOrder(t *testing.T) {
	real, err := os.ReadFile(audittest.Rotated(t, "file", "audit-*.log"))
	if err != nil {
		t.Skipf("no real testdata: %v", err)
	}
	var m1, m2 strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(string(real)), "\n") {
		// whole requests to one side or the other, by the line's auditID
		id := l[strings.Index(l, `"auditID":"`)+11:]
		id = id[:strings.IndexByte(id, '"')]
		if id[len(id)-1]%2 == 0 {
			m1.WriteString(l + "\n")
		} else {
			m2.WriteString(l + "\n")
		}
	}
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, "m1.log"), filepath.Join(dir, "m2.log")
	os.WriteFile(p1, []byte(m1.String()), 0o600)
	os.WriteFile(p2, []byte(m2.String()), 0o600)
	st, set := loadStore(t, p1, p2)
	m := newTestModel(t, st, set.Raw, 120, 30)
	reqs := m.flt.shownReqs()
	if len(reqs) < 100 || m1.Len() == 0 || m2.Len() == 0 {
		t.Fatalf("%d requests; %d and %d bytes in the two logs", len(reqs), m1.Len(), m2.Len())
	}
	for i := 1; i < len(reqs); i++ {
		if reqs[i].First().Truncate(time.Second).Before(reqs[i-1].First().Truncate(time.Second)) {
			t.Fatalf("row %d (%s) comes after %s", i+1, reqs[i].First(), reqs[i-1].First())
		}
	}
}

// The pods' log streams, counted by state in the status bar.
func TestStatusBarCountsPodStreams(t *testing.T) {
	p := &Progress{}
	p.Stream("kube-apiserver-m1", "streaming", 0, "")
	p.Stream("kube-apiserver-m2", "streaming", 0, "")
	p.Stream("kube-apiserver-m3", "reconnecting", 4*time.Second, "EOF")
	now := time.Now()
	got := p.streamSummary(now)
	if got != "pods: 2 streaming, 1 reconnecting in 4s" {
		t.Errorf("summary %q", got)
	}
	bar := renderStatus(NewStyles(true), statusInfo{Total: 3, Shown: 3, Streams: got}, 160)
	if !strings.Contains(bar, "pods: 2 streaming, 1 reconnecting in 4s") {
		t.Errorf("status bar: %q", bar)
	}
}

// What kauditui gave up for the master (low priority, memory near its
// budget) is in the status bar while it holds.
func TestStatusBarShowsNotes(t *testing.T) {
	p := &Progress{}
	p.Note("priority", "low priority")
	p.Note("memory", "memory near its budget")
	bar := renderStatus(NewStyles(true), statusInfo{Total: 3, Shown: 3, Notes: p.noteSummary()}, 160)
	if !strings.Contains(bar, "memory near its budget, low priority") {
		t.Errorf("status bar: %q", bar)
	}
	p.Note("memory", "")
	if got := p.noteSummary(); got != "low priority" {
		t.Errorf("after removing a note: %q", got)
	}
}
