package main

import (
	"bufio"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// printHistory writes every write of the object in time order with what it
// changed, then who deleted it and its last known state.
func printHistory(w *bufio.Writer, t filter.HistoryTarget, reqs []*audit.Request, raw func(audit.Ref) ([]byte, error)) error {
	h := audit.BuildHistory(reqs, raw)
	if len(h.Changes) == 0 {
		return &exitError{code: 1, msg: "query: no create, update, patch or delete of " + sanitize(t.String()) + " in the log (check the name, and that the policy logs writes of it)"}
	}
	writeLines(w, render.HistoryText(t.String(), h))
	return nil
}
