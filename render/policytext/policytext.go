// Package policytext tells in words what an audit policy does not log, and
// counts the requests of a log it would drop. It is apart from render so
// that the views do not depend on the apiserver's policy libraries (which
// setup loads the policy with): only the coverage report needs them.
package policytext

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/setup"
)

// Heading starts the policy part of the coverage report.
const Heading = "Not logged by the policy (level None), first matching rule wins:"

// Drops counts the requests of a log that a policy would not log,
// by the rule that drops them.
type Drops struct {
	Requests  int         // requests looked at
	ByRule    map[int]int // level None rule (1-based) -> requests it matches
	Unmatched int         // requests no rule matches
}

// Dropped is how many requests the policy would not log.
func (d Drops) Dropped() int {
	n := d.Unmatched
	for _, c := range d.ByRule {
		n += c
	}
	return n
}

// CountDrops matches each request with the apiserver's own rule
// matcher (setup.PolicyReport.RuleFor): a logged request that a level None
// rule, or no rule, matches was logged under another policy.
func CountDrops(p *setup.PolicyReport, reqs []*audit.Request) Drops {
	d := Drops{Requests: len(reqs), ByRule: map[int]int{}}
	if p == nil {
		return d
	}
	for _, r := range reqs {
		i := p.RuleFor(Attrs(r))
		switch {
		case !p.Drops(i):
		case i == 0:
			d.Unmatched++
		default:
			d.ByRule[i]++
		}
	}
	return d
}

// Attrs is what a policy rule matches of a request: the user before
// impersonation (as the apiserver evaluates the policy), the verb, the
// resource or the URL path.
func Attrs(r *audit.Request) setup.RequestAttrs {
	p, _, _ := strings.Cut(r.RequestURI(), "?")
	return setup.RequestAttrs{User: r.User, Groups: r.Groups, Verb: r.Verb, Path: p, APIGroup: r.APIGroup,
		Resource: r.Resource, Subresource: r.Subresource, Namespace: r.Namespace, Name: r.Name}
}

// Text is the policy part of the coverage report, sanitised: the
// policy's level None rules, the requests no rule matches, the stages it
// never logs. err is what setup.MasterPolicy or setup.PolicyFile returned:
// one line says what went wrong and what to do; setup.ErrNotMaster gives
// no lines (nothing to say on a machine that is not a control-plane node).
// drops (nil: not counted) adds how many requests of the log each rule
// matches.
func Text(p *setup.PolicyReport, err error, drops *Drops) []string {
	switch {
	case errors.Is(err, setup.ErrNotMaster):
		return nil
	case err != nil:
		return []string{"Not logged by the policy (level None): unknown, " + render.Sanitize(err.Error())}
	case p == nil:
		return nil
	}
	s := render.Sanitize
	lines := []string{Heading}
	about := "  Policy " + s(p.Path)
	if p.Source != "" {
		about += " (" + s(p.Source) + ")"
	}
	lines = append(lines, fmt.Sprintf("%s: %s", about, plural(p.Rules, "rule")))
	if p.Warning != "" {
		lines = append(lines, "  Warning: "+s(p.Warning))
	}
	count := func(i int) string {
		if drops == nil {
			return ""
		}
		n := drops.ByRule[i]
		if i == 0 {
			n = drops.Unmatched
		}
		if n == 0 {
			return ""
		}
		return fmt.Sprintf(" [%s in this log]", plural(n, "request"))
	}
	if len(p.None) == 0 {
		lines = append(lines, "  No rule has level None.")
	}
	for _, r := range p.None {
		lines = append(lines, "  "+s(r.String())+count(r.Index))
	}
	switch {
	case p.CoveredBy == 0:
		what := p.Unmatched
		if what == "non-resource requests" {
			what += " (URLs such as /healthz, /version, /metrics)"
		}
		lines = append(lines, "  "+upperFirst(what)+" no rule matches are not logged (the apiserver's level for them is None)"+count(0))
	case p.CoveredBy == 1:
		lines = append(lines, "  Every request matches rule 1.")
	default:
		lines = append(lines, fmt.Sprintf("  Every request matches one of rules 1 to %d.", p.CoveredBy))
	}
	if p.CoveredBy > 0 && p.CoveredBy < p.Rules {
		lines = append(lines, fmt.Sprintf("  Rules %d to %d are never reached: every request matched a rule before them.", p.CoveredBy+1, p.Rules))
	}
	if len(p.OmitStages) > 0 {
		lines = append(lines, "  Stages no request has in the log (the policy's omitStages): "+s(strings.Join(p.OmitStages, ", ")))
	}
	for _, r := range p.Stages {
		lines = append(lines, fmt.Sprintf("  Stages the requests of %s never have: %s", s(r.String()), s(strings.Join(r.OmitStages, ", "))))
	}
	if drops != nil && drops.Requests > 0 {
		if n := drops.Dropped(); n > 0 {
			lines = append(lines, fmt.Sprintf("  %d of the %s in this log are ones this policy does not log: they were logged under another policy (it changed while the log was written, or another apiserver wrote it).", n, plural(drops.Requests, "request")))
		} else {
			lines = append(lines, fmt.Sprintf("  None of the %s in this log is one this policy does not log.", plural(drops.Requests, "request")))
		}
	}
	return lines
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// NotMasterHint ends the coverage report on a machine that is not a
// control-plane node, when no policy file was named.
const NotMasterHint = "(Not a control-plane node: --policy FILE adds what the audit policy does not log.)"

// StoreHint ends the coverage report of a store when no policy file was
// named: this machine's manifest says nothing of the store's clusters.
const StoreHint = "(--policy FILE adds what the audit policy of the store's cluster does not log.)"

// OfNode is what the policy src finds (a file, or the one this node's
// apiserver manifest names) does not log, with how many of reqs it would
// drop; on a machine that is not a master, NotMasterHint. The explorer's
// coverage report and `query --coverage` end with it.
func OfNode(src setup.PolicySource, reqs []*audit.Request) []string {
	rep, err := setup.FindPolicy(src)
	var drops *Drops
	if rep != nil {
		d := CountDrops(rep, reqs)
		drops = &d
	}
	if pl := Text(rep, err, drops); len(pl) > 0 {
		return pl
	}
	if errors.Is(err, setup.ErrNotMaster) {
		return []string{NotMasterHint}
	}
	return nil
}

// Coverage is `query --coverage`'s answer: what the log cannot see
// (render.CoverageText of reqs), then what the policy src finds does not
// log (OfNode); on a store with no policy file named, StoreHint instead:
// this machine's apiserver manifest says nothing of the store's clusters.
func Coverage(reqs []*audit.Request, facts render.CoverageFacts, name func(int32) string, src setup.PolicySource, onStore bool) []string {
	lines := render.CoverageText(audit.CoverageOf(reqs, facts.Gap), facts, name)
	if onStore && src.File == "" {
		return append(lines, "", StoreHint)
	}
	return append(append(lines, ""), OfNode(src, reqs)...)
}
