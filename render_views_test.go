package main

import (
	"context"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
	"github.com/kauditui/kauditui/ui"
)

// The same request shows the same cells in `query -o table`, `query -o
// wide` and the explorer's list (package render draws all three): every
// column the two share has the same text, except TIME, whose layout is
// the width's. A column changed in render changes in all of them.
func TestOneRendererForEveryView(t *testing.T) {
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{audittest.Path("file", "audit.log")}}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	reqs := st.Snapshot().Requests
	if len(reqs) < 100 {
		t.Fatalf("%d requests in the real log, want hundreds", len(reqs))
	}
	narrow, wide := render.NewTablePrinter(0, false, false), render.NewTablePrinter(0, true, false)

	env := &ui.Env{Data: ui.Data{Store: st, Raw: set.Raw}, Styles: ui.NewStyles(true), Keys: ui.DefaultKeyMap()}
	page := ui.NewRequestsPage(env)
	const width = 400 // room for every column, uncut
	page.SetSize(width, 40)
	page.Update(ui.DataMsg{Snap: st.Snapshot(), Shown: ui.RequestList(reqs), Reset: true})

	cols := render.Columns(render.TimeMedium, true)
	var kinds = map[string]bool{}
	for i, r := range reqs {
		cells := make([]ui.Cell, len(cols))
		page.Cells(i, cells)
		explorer := map[string]string{}
		for j, c := range cols {
			explorer[c.Title] = cells[j].Prefix + cells[j].Text + cells[j].Suffix
		}
		for _, p := range []*render.TablePrinter{narrow, wide} {
			for j, text := range p.Cells(r) {
				title := p.Columns()[j].Title
				want := explorer[title]
				if title == "TIME" {
					want = render.FormatTime(r.First(), render.TimeFull)
				}
				if text != want {
					t.Errorf("request %d (%s %s), column %s: query shows %q, the explorer %q", i, r.Verb, r.RequestURI(), title, text, want)
				}
			}
		}
		kinds[r.Verb+" "+r.ResourcePath()] = true
	}
	// the views agree on cases that used to differ
	for _, want := range []string{"delete apps/deployments", "create namespaces", "get "} {
		if !kinds[want] {
			t.Errorf("the real log has no %q request: the test checks less than it says", want)
		}
	}
	if len(wide.Columns()) != len(cols) || len(narrow.Columns()) != len(render.Columns(render.TimeFull, false)) {
		t.Errorf("query has %d and %d columns, render %d", len(narrow.Columns()), len(wide.Columns()), len(cols))
	}
}
