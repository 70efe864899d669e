package ui

import (
	"fmt"
	"slices"

	"github.com/kauditui/kauditui/audit"
)

// What Detail adds from outside the request's own fields: where a slow
// request spent its time (the apiserver's latency annotations) and, for a
// 401, what the apiserver's own log says about it. Kept apart from
// buildHeader, which calls apiserverFields once.

// detailSays is the detail page's view of the store beyond the request:
// the latest snapshot (for the klog lines) and what was found for the
// request shown, found again when the request or the klog lines change.
type detailSays struct {
	snap audit.Snapshot
	req  *audit.Request
	n    int // len(snap.Klog) when last looked
	says klogSays
}

// data takes a new snapshot; it reports whether the request shown is a 401
// and klog lines came, so the header is built again.
func (d *detailSays) data(snap audit.Snapshot, r *audit.Request) bool {
	d.snap = snap
	return r != nil && r.Code == 401 && len(snap.Klog) != d.n
}

// klogMax is how many of the apiserver's lines Detail shows.
const klogMax = 5

// apiserverFields adds the "Apiserver" field ("Slow in" is render.SlowIn). Call it under
// Store.Read, as buildHeader.
func (p *detailPage) apiserverFields(field func(label string, parts ...string)) {
	st := p.env.Styles
	r := p.req
	if r.Code != 401 {
		return
	}
	d := &p.says
	if d.req != r {
		d.req, d.n, d.says = r, -1, klogSays{}
	}
	if d.n != len(d.snap.Klog) {
		d.n, d.says = len(d.snap.Klog), klogAbout(d.snap, r, d.says, p.env.src) // the lines not read yet
	}
	s := d.says
	if !s.loaded {
		field("Apiserver", st.Muted.Render("the apiserver's log is not loaded: run with --pods or on a stdout-mode log"))
		return
	}
	lines := append(slices.Clone(s.named), s.timed...)
	slices.Sort(lines)
	if len(lines) == 0 {
		field("Apiserver", st.Muted.Render("no line of the apiserver's log names it or was written that second about a failed authentication"))
		return
	}
	for j, i := range lines[:min(len(lines), klogMax)] {
		lab := ""
		if j == 0 {
			lab = "Apiserver"
		}
		text := klogText(&s.lines[i])
		if !slices.Contains(s.named, i) {
			text += st.Muted.Render("  (by time)")
		}
		field(lab, text)
	}
	if len(lines) > klogMax {
		field("", st.Muted.Render(fmt.Sprintf("… %d more (3: the apiserver log)", len(lines)-klogMax)))
	}
	if len(s.timed) > 0 && s.others > 0 {
		field("", st.Warning.Render(fmt.Sprintf("matched by time: %s in that second; a line by time may be about one of them",
			plural(s.others, "other failed authentication"))))
	}
}
