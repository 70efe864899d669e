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
type historyTarget struct {
	resource string // as the filter's resource= takes it: deploy, apps/deployments
	ns, name string
}

// parseHistoryTarget reads RESOURCE/NAMESPACE/NAME, RESOURCE/NAME (cluster
// scoped) or GROUP/RESOURCE/NAMESPACE/NAME.
func parseHistoryTarget(s string) (historyTarget, error) {
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "*, \t\"'\\") {
			return historyTarget{}, fmt.Errorf("%q: name one object as RESOURCE/NAMESPACE/NAME, e.g. deploy/shop/web (RESOURCE/NAME when cluster-scoped)", s)
		}
	}
	switch len(parts) {
	case 2:
		return historyTarget{resource: parts[0], name: parts[1]}, nil
	case 3:
		return historyTarget{resource: parts[0], ns: parts[1], name: parts[2]}, nil
	case 4:
		return historyTarget{resource: parts[0] + "/" + parts[1], ns: parts[2], name: parts[3]}, nil
	}
	return historyTarget{}, fmt.Errorf("%q: name one object as RESOURCE/NAMESPACE/NAME, e.g. deploy/shop/web (RESOURCE/NAME when cluster-scoped)", s)
}

// filter finds the object's writes (the explorer's History uses the same).
func (t historyTarget) filter() string {
	expr, _ := filter.History(t.resource, t.ns, t.name) // parseHistoryTarget refused what it refuses
	return expr
}

func (t historyTarget) String() string {
	if t.ns == "" {
		return t.resource + " " + t.name
	}
	return t.resource + " " + t.ns + "/" + t.name
}

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
