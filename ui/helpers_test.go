package ui

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/source"
)

// testNow is the fixed clock of every test (after the sample's last event).
var testNow = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

// sampleLog is the log the view tests run on: the real file-mode testdata
// when present, else the small sample beside these tests.
func sampleLog(t testing.TB) string {
	return "../testdata/sample.log"
}

// loadStore reads paths with the real source package into a store.
func loadStore(t testing.TB, paths ...string) (*audit.Store, *source.Set) {
	t.Helper()
	set, err := source.Open(context.Background(), source.Spec{Paths: paths}, source.Options{Warn: func(m string) { t.Logf("warning: %s", m) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close() })
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return st, set
}

type testOpt func(*Options)

func withFilter(f string) testOpt { return func(o *Options) { o.Filter = f } }
func withColor() testOpt          { return func(o *Options) { o.NoColor = false } }
func withFollow() testOpt         { return func(o *Options) { o.Follow = true } }

// newTestModel is the explorer on a loaded store, sized w×h, plain styles,
// fixed clock, writing files into a temporary folder.
func newTestModel(t testing.TB, st *audit.Store, raw func(audit.Ref) ([]byte, error), w, h int, opts ...testOpt) *model {
	t.Helper()
	o := Options{
		Data:    Data{Store: st, Raw: raw},
		Sources: []string{"/var/log/kubernetes/audit/audit.log"},
		NoColor: true,
		Now:     func() time.Time { return testNow },
		OutDir:  t.TempDir(),
	}
	for _, f := range opts {
		f(&o)
	}
	m := New(o)
	m.holdTimers = true
	t.Cleanup(m.Close) // its timers end: no goroutine outlives the test
	send(m, tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

func sampleModel(t testing.TB, w, h int, opts ...testOpt) *model {
	st, set := loadStore(t, sampleLog(t))
	return newTestModel(t, st, set.Raw, w, h, opts...)
}

// send delivers msg and runs the commands it returns, feeding their
// messages back, the way the bubbletea loop does. Timers (ticks,
// debounces) are held: tests send those messages themselves.
func send(m *model, msg tea.Msg) {
	_, cmd := m.Update(msg)
	run(m, cmd, 0)
}

// cmdWait bounds how long run waits for a command: none of the explorer's
// commands waits (its timers are held), so only a hang reaches it.
const cmdWait = 10 * time.Second

func run(m *model, cmd tea.Cmd, depth int) {
	if cmd == nil || depth > 20 {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(cmdWait):
		panic(fmt.Sprintf("a command of the explorer did not return within %s", cmdWait))
	}
	switch msg := msg.(type) {
	case nil, timerMsg:
	case tea.BatchMsg:
		for _, c := range msg {
			run(m, c, depth+1)
		}
	default:
		// tea.Sequence's message is an unexported []Cmd: run them in order.
		if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
			for i := 0; i < v.Len(); i++ {
				run(m, v.Index(i).Interface().(tea.Cmd), depth+1)
			}
			return
		}
		_, next := m.Update(msg)
		run(m, next, depth+1)
	}
}

// keyMsg builds a key press from its bubbletea name ("j", "enter", "ctrl+u").
func keyMsg(s string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"tab": tea.KeyTab, "backspace": tea.KeyBackspace,
	}
	var mod tea.KeyMod
	for {
		if rest, ok := strings.CutPrefix(s, "ctrl+"); ok {
			mod |= tea.ModCtrl
			s = rest
			continue
		}
		if rest, ok := strings.CutPrefix(s, "shift+"); ok {
			mod |= tea.ModShift
			s = rest
			continue
		}
		break
	}
	if s == "space" {
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	}
	if c, ok := named[s]; ok {
		return tea.KeyPressMsg{Code: c, Mod: mod}
	}
	r, _ := utf8.DecodeRuneInString(s)
	if mod != 0 {
		return tea.KeyPressMsg{Code: r, Mod: mod}
	}
	return tea.KeyPressMsg{Code: r, Text: s}
}

func press(m *model, keys ...string) {
	for _, k := range keys {
		send(m, keyMsg(k))
	}
}

// typeText types s into whatever has focus, one key per character.
func typeText(m *model, s string) {
	for _, r := range s {
		if r == ' ' {
			send(m, tea.KeyPressMsg{Code: tea.KeySpace, Text: " "})
			continue
		}
		send(m, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// settle fires the pending debounce, as if 100 ms had passed.
func settle(m *model) { send(m, debounceMsg{seq: m.editSeq}) }

// screen is the rendered screen without styling.
func screen(m *model) string { return ansi.Strip(m.Render()) }

// checkFrame asserts the screen is exactly w×h cells.
func checkFrame(t *testing.T, m *model, w, h int) {
	t.Helper()
	lines := strings.Split(m.Render(), "\n")
	if len(lines) != h {
		t.Errorf("screen has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if got := ansi.StringWidth(l); got != w {
			t.Errorf("line %d is %d cells wide, want %d: %q", i, got, w, ansi.Strip(l))
		}
	}
}

// golden compares got with testdata/golden/name (go test -update rewrites it).
func golden(t *testing.T, name, got string) {
	t.Helper()
	audittest.Golden(t, filepath.Join("testdata", "golden", name), got)
}

// rowOf is the index in the shown list of the first request matching pred.
func rowOf(t *testing.T, m *model, pred func(*audit.Request) bool) int {
	t.Helper()
	for i, r := range m.flt.shownReqs() {
		if pred(r) {
			return i
		}
	}
	t.Fatal("no such request in the list")
	return -1
}

// namesOf is Options.InputName for a fixed list of input names.
func namesOf(names []string) func(int32) string {
	return func(i int32) string {
		if i < 0 || int(i) >= len(names) {
			return ""
		}
		return names[i]
	}
}

// reqsOf is the full store's requests a list holds (the rows of an index
// synced from a full store are the store's order).
func reqsOf(rows Rows) []*audit.Request {
	ir, ok := rows.(*indexRows)
	if !ok || ir == nil || ir.src == nil {
		return nil
	}
	snap := ir.src.store.Snapshot()
	out := make([]*audit.Request, 0, ir.Len())
	for i := range ir.Len() {
		out = append(out, snap.Requests[ir.Key(i)])
	}
	return out
}

// shownReqs is the full store's requests the filter lists.
func (fs *filtered) shownReqs() []*audit.Request {
	if fs.src == nil {
		return nil
	}
	return reqsOf(fs.list())
}

var testSrcs sync.Map // *audit.Store → *indexSource

// testSrc is the index of a full store the tests' filters run on (one per
// store, so that a result brought up to it again reads the same index).
func testSrc(st *audit.Store) *indexSource {
	if s, ok := testSrcs.Load(st); ok {
		return s.(*indexSource)
	}
	s, _ := testSrcs.LoadOrStore(st, newIndexSource(Data{Store: st}))
	return s.(*indexSource)
}

// testRows is the list of a full store's requests as the pages are handed
// lists: the rows of the store's index (testSrc) holding them.
func testRows(reqs []*audit.Request) Rows {
	if len(reqs) == 0 {
		return &indexRows{}
	}
	var out *indexRows
	testSrcs.Range(func(_, v any) bool {
		src := v.(*indexSource)
		snap, _ := src.update()
		at := make(map[*audit.Request]int32, len(snap.Requests))
		for i, r := range snap.Requests {
			at[r] = int32(i)
		}
		if _, ok := at[reqs[0]]; !ok {
			return true
		}
		rows := make([]int32, len(reqs))
		for i, r := range reqs {
			rows[i] = at[r]
		}
		out = &indexRows{src: src, rows: rows, n: len(rows)}
		return false
	})
	if out == nil {
		panic("testRows: requests of no store the tests registered (testSrc)")
	}
	return out
}
