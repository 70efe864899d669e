package ui

import (
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// The same check as TestSanitizedViews, on what a real kube-apiserver logged
// for hostile clients (testdata/hostile, made by hack/gen-hostile.sh): a C1
// CSI and a bidi override in the user agent, a real ESC in an object name.
func TestHostileRealLogIsDrawnEscaped(t *testing.T) {
	st, set := loadStore(t, audittest.Path("hostile", "audit.log"))
	if n := len(st.Snapshot().Requests); n != 3 {
		t.Fatalf("want the 3 hostile requests, got %d", n)
	}
	for _, sz := range sizes {
		for _, color := range []bool{false, true} {
			var opts []testOpt
			if color {
				opts = append(opts, withColor())
			}
			m := newTestModel(t, st, set.Raw, sz.w, sz.h, opts...)
			frames := map[string]string{"requests": m.Render()}
			for i := 0; i < 3; i++ {
				press(m, "enter")
				frames["detail"] += m.Render()
				press(m, "E")
				frames["detail expanded"] += m.Render()
				press(m, "esc", "j")
			}
			press(m, "4")
			frames["summary"] = m.Render()
			for name, f := range frames {
				rest := escSeq.ReplaceAllString(f, "")
				for _, bad := range []string{"\x1b", "\u202e", "\u009b"} {
					if strings.Contains(rest, bad) {
						t.Errorf("%dx%d color=%v %s: the frame holds %q:\n%q", sz.w, sz.h, color, name, bad, rest)
					}
				}
			}
			if !strings.Contains(frames["detail expanded"], `evil\x1b[2Jname`) {
				t.Errorf("%dx%d: the hostile name is not shown escaped in the detail view", sz.w, sz.h)
			}
		}
	}
}
