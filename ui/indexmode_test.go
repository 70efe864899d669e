package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/source"
)

// indexedModel is the explorer on paths loaded as kauditui loads them
// (cmd_explore.go): an indexing store into a columnar index, the requests
// read back from the files.
func indexedModel(t *testing.T, w, h int, paths ...string) *model {
	t.Helper()
	set, err := source.Open(context.Background(), source.Spec{Paths: paths}, source.Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	ix := audit.NewIndex()
	st := audit.NewIndexingStore(ix)
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	st.Finish()
	o := Options{
		Data:    Data{Store: st, Index: ix, Raw: set.Raw},
		Sources: []string{"/var/log/kubernetes/audit/audit.log"},
		NoColor: true,
		Now:     func() time.Time { return testNow },
		OutDir:  t.TempDir(),
	}
	m := New(o)
	m.holdTimers = true
	t.Cleanup(m.Close)
	send(m, tea.WindowSizeMsg{Width: w, Height: h})
	send(m, tickMsg{})
	return m
}

// The explorer on the columnar index (the load path of kauditui) draws
// what it drew on a full store of *audit.Requests, screen for screen: the
// list, its orders, a request's detail, the Summary, every answer with its
// results, a result's detail, history and RBAC, the timeline, the findings
// and the coverage report, on the real logs of the harness.
func TestIndexedExplorerReadsAsTheStore(t *testing.T) {
	for _, rel := range []string{"file/audit.log", "admission/audit.log"} {
		path := audittest.Path(rel)
		st, set := loadStore(t, path)
		full := newTestModel(t, st, set.Raw, 160, 40)
		send(full, tickMsg{})
		ix := indexedModel(t, 160, 40, path)
		step := func(what string, keys ...string) {
			t.Helper()
			press(full, keys...)
			press(ix, keys...)
			if a, b := screen(full), screen(ix); a != b {
				t.Fatalf("%s, %s %v: the indexed explorer draws\n%s\nthe store's draws\n%s", rel, what, keys, b, a)
			}
		}
		step("the list")
		step("a row's detail", "k", "k", "k", "enter")
		step("back", "esc")
		for i := range requestOrders {
			step(fmt.Sprintf("order %d", i), "s")
		}
		step("reversed", "S")
		step("time order", "F")
		step("history", "H")
		step("back", "esc")
		step("RBAC", "R")
		step("back", "esc")
		step("the Summary", "4")
		step("a box", "j", "j", "tab")
		for i, a := range answerCatalog {
			what := "answer " + a.ID
			step(what, "5", "g")
			for range i {
				press(full, "j")
				press(ix, "j")
			}
			step(what+" results", "l")
			step(what+" a result", "j", "enter")
			step(what+" back", "esc")
			step(what+" history", "H")
			step(what+" back", "esc")
			step(what+" RBAC", "R")
			step(what+" back", "esc", "h")
			if a.Prompt == "" {
				step(what+" chosen", "enter")
				step(what+" left", "esc")
			}
		}
		// ctrl+s of the list and of a request: the same bytes, the raw
		// lines as the apiserver wrote them
		exports := func(what string, a, b *exportJob) {
			t.Helper()
			if a == nil || b == nil || len(a.formats) != len(b.formats) {
				t.Fatalf("%s, %s: exports %v and %v", rel, what, a, b)
			}
			for i := range a.formats {
				x, err1 := a.formats[i].build()
				y, err2 := b.formats[i].build()
				if err1 != nil || err2 != nil || string(x) != string(y) || len(x) == 0 {
					t.Fatalf("%s, %s as %s: %d bytes (%v) from the store, %d (%v) from the index", rel, what, a.formats[i].name, len(x), err1, len(y), err2)
				}
			}
		}
		press(full, "1", "esc")
		press(ix, "1", "esc")
		send(full, setFilterMsg{Expr: "verb!=watch"})
		send(ix, setFilterMsg{Expr: "verb!=watch"})
		step("a filter")
		exports("the list", full.requests.export(), ix.requests.export())
		for _, k := range []string{"g", "G"} {
			step("a request", "1", k, "enter")
			exports("a request's events", full.detail.export(), ix.detail.export())
			if a, b := full.detail.req, ix.detail.req; a.AuditID != b.AuditID || len(a.Events) != len(b.Events) {
				t.Fatalf("%s: opened %s with %d events, the store's %s has %d", rel, b.AuditID, len(b.Events), a.AuditID, len(a.Events))
			}
			step("back", "esc")
		}
		if !strings.Contains(screen(ix), "req") {
			t.Fatalf("%s: no status bar:\n%s", rel, screen(ix))
		}
	}
}
