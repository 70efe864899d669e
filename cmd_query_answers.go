package main

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

// answerFlags are the questions `query` answers in a form of their own,
// rather than as a table of requests: the explorer's Answers, for scripts.
type answerFlags struct {
	Exec     bool   // who got into a container, with the command
	History  string // KIND/NAMESPACE/NAME: every write of one object, with diffs
	RBAC     string // a filter: the least-privilege Role for those requests
	Coverage bool   // what the log cannot see
	Gap      time.Duration
	Policy   policyFlags // --coverage: where the audit policy is

	truncated audit.TruncatedCounter // --coverage: events the apiserver cut
	onStore   bool                   // --coverage on a store
}

func (a *answerFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&a.Exec, "exec", false, "who exec'd, attached, port-forwarded, debugged (ephemeral containers) or went through nodes/proxy, with the command; -q narrows it")
	fs.StringVar(&a.RBAC, "rbac", "", "why denied (by RBAC, or by which admission control after RBAC allowed it) and what would allow it: the least-privilege Role/ClusterRole and bindings, as YAML, for the requests of one user that `FILTER` matches (user=NAME; add code=403 for the denials only)")
	fs.BoolVar(&a.Coverage, "coverage", false, "what the log cannot see: the time each input covers, gaps longer than --gap, truncated events, shared auditIDs, writes logged without a body")
	fs.DurationVar(&a.Gap, "gap", 5*time.Minute, "with --coverage: the shortest gap with no event that is reported")
	a.Policy.register(fs)
	fs.StringVar(&a.History, "history", "", "every write of one object in time order with what changed: `OBJECT` as kubectl names it ('deploy web -n shop', deployments.apps/web, deploy/shop/web)")
}

// given reports whether an answer replaces the request table.
func (a *answerFlags) given() bool { return a.Exec || a.History != "" || a.RBAC != "" || a.Coverage }

func (a *answerFlags) validate(o *queryOptions) error {
	if a.Policy.File != "" && !a.Coverage && !o.Advise.On {
		return usageError("query: --policy goes with --coverage (what the log cannot see) or --advise-policy: add one")
	}
	if !a.given() {
		return nil
	}
	n := 0
	for _, b := range []bool{a.Exec, a.History != "", a.RBAC != "", a.Coverage} {
		if b {
			n++
		}
	}
	if n > 1 {
		return usageError("query: --exec, --history, --rbac and --coverage are four questions: ask one")
	}
	flag := "--exec"
	if a.Coverage {
		flag = "--coverage"
		if a.Gap <= 0 {
			return usageError("query: --gap takes a duration above 0, like 5m")
		}
	}
	if a.RBAC != "" {
		flag = "--rbac"
	}
	if a.History != "" {
		flag = "--history"
		if _, err := filter.ParseHistoryTarget(a.History); err != nil {
			return usageError("query: --history %v", err)
		}
	}
	switch {
	case o.Count || o.Top != "":
		return usageError("query: %s prints its own answer; it does not go with --count or --top (drop one)", flag)
	case o.Store.Given() && !a.Coverage:
		return usageError("query: %s reads log files and pods, not yet --store: use -q '%s' with --store", flag, a.filter(""))
	case o.Follow:
		return usageError("query: %s answers from what is logged so far; it does not go with --follow", flag)
	case o.Output != "table":
		return usageError("query: %s prints its own answer; -o %s is for requests (use -q '%s' -o %s for the raw events)", flag, o.Output, a.filter(""), o.Output)
	}
	return nil
}

// filter is the expression of the answer's requests, with the user's -q.
func (a *answerFlags) filter(user string) string {
	var expr string
	switch {
	case a.Exec:
		expr = filter.Exec
	case a.History != "":
		t, _ := filter.ParseHistoryTarget(a.History)
		expr = t.Filter()
	case a.RBAC != "":
		expr = a.RBAC
	default:
		return user
	}
	if strings.TrimSpace(user) != "" {
		expr += " " + user
	}
	return expr
}

// print writes the answer for the matching requests.
func (a *answerFlags) print(w *bufio.Writer, set *source.Set, snap audit.Snapshot, matched []*audit.Request) error {
	if a.Coverage {
		a.printCoverage(w, set, snap, matched)
		return nil
	}
	if a.History != "" {
		// every write of the object in time order with what it changed, then
		// who deleted it and its last known state
		t, _ := filter.ParseHistoryTarget(a.History)
		h := audit.BuildHistory(matched, set.Raw)
		if len(h.Changes) == 0 {
			return &exitError{code: 1, msg: "query: no create, update, patch or delete of " + sanitize(t.String()) + " in the log (check the name, and that the policy logs writes of it)"}
		}
		writeLines(w, render.HistoryText(t.String(), h))
		return nil
	}
	if a.RBAC != "" {
		lines, err := render.RBACText(matched, set.Raw)
		if err != nil {
			return &exitError{code: 1, msg: "query: --rbac: " + err.Error()}
		}
		writeLines(w, lines)
		return nil
	}
	writeLines(w, render.ExecText(matched, set.Raw))
	return nil
}

// writeLines writes lines, each ended by a newline.
func writeLines(w io.Writer, lines []string) {
	for _, l := range lines {
		io.WriteString(w, l+"\n")
	}
}
