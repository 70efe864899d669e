package ui

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"github.com/kauditui/kauditui/audit"
)

// No test of this package leaves a goroutine running: every model a test
// makes is closed at its end (newTestModel), and the explorer stops what it
// started when closed.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Quitting the explorer leaves no goroutine behind: not the loader
// following its sources, not a re-filter running in the background, not the
// refresh tick, the filter bar's debounce or the timer that clears a
// message. The program runs for real (bubbletea's loop, commands in their
// own goroutines) and quits with ctrl+c while all of those are going.
func TestQuitLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	lines := variedLines(t, 6000)
	st := audit.NewStore()
	for i, l := range lines[:5500] {
		st.AddEvent(l, audit.Ref{Line: int64(i + 1)})
	}
	filtering := make(chan struct{})
	var once sync.Once
	raw := func(ref audit.Ref) ([]byte, error) { // a slow disk
		once.Do(func() { close(filtering) })
		time.Sleep(time.Millisecond)
		return lines[ref.Line-1], nil
	}
	loading := make(chan struct{})
	load := func(ctx context.Context) error { // following: ends only when told
		close(loading)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 5500; ; i++ {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
				j := i % len(lines)
				st.AddEvent(lines[j], audit.Ref{Line: int64(j + 1)})
			}
		}
	}
	m := New(Options{
		Data:    Data{Store: st, Raw: raw},
		Load:    load,
		Follow:  true,
		NoColor: true,
		Now:     func() time.Time { return testNow },
		OutDir:  t.TempDir(),
	})
	p := tea.NewProgram(m, tea.WithInput(nil), tea.WithOutput(io.Discard),
		tea.WithWindowSize(120, 40), tea.WithoutSignalHandler())
	ended := make(chan error, 1)
	go func() {
		_, err := p.Run()
		ended <- err
	}()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			p.Kill()
			t.Fatalf("%s never started", what)
		}
	}
	wait(loading, "the loader")
	keys := func(ks ...string) {
		for _, k := range ks {
			p.Send(keyMsg(k))
		}
	}
	p.Send(setFilterMsg{Expr: "code>"}) // an error: a message, cleared in 6 s
	// A word searched in the raw lines of more than 5000 requests: filtered
	// in the background, slowly.
	keys("/", "d", "e", "p", "l", "o", "y", "e", "r", "enter")
	wait(filtering, "the re-filter")
	keys("/", "x", "ctrl+c") // a debounce pending
	select {
	case err := <-ended:
		if err != nil {
			t.Fatalf("the program ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		p.Kill()
		t.Fatal("ctrl+c did not end the program")
	}
}
