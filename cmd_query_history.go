package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// historyTarget is the object of `query --history`.
type historyTarget filter.Object

// parseHistoryTarget reads the object in any of kubectl's spellings
// (filter.ParseObject, which the explorer's prompts read too); history needs
// a kind.
func parseHistoryTarget(s string) (historyTarget, error) {
	o, err := filter.ParseObject(s)
	if err != nil {
		return historyTarget{}, err
	}
	if o.Resource == "" {
		return historyTarget{}, fmt.Errorf("%q: history needs the kind too, e.g. deploy %s -n NAMESPACE", s, o.Name)
	}
	if strings.Contains(o.Name, "*") {
		return historyTarget{}, fmt.Errorf("%q: history follows one object; give its whole name (a * matches many)", s)
	}
	return historyTarget(o), nil
}

// filter finds the object's writes (the explorer's History uses the same).
func (t historyTarget) filter() string {
	expr, _ := filter.History(t.Resource, t.Namespace, t.Name) // parseHistoryTarget refused what it refuses
	return expr
}

func (t historyTarget) String() string { return filter.Object(t).String() }

// printHistory writes every write of the object in time order with what it
// changed, then who deleted it and its last known state.
func printHistory(w *bufio.Writer, t historyTarget, reqs []*audit.Request, raw func(audit.Ref) ([]byte, error)) error {
	h := audit.BuildHistory(reqs, raw)
	if len(h.Changes) == 0 {
		return &exitError{code: 1, msg: "query: no create, update, patch or delete of " + sanitize(t.String()) + " in the log (check the name, and that the policy logs writes of it)"}
	}
	writeLines(w, render.HistoryText(t.String(), h))
	return nil
}
