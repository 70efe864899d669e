// Package detect answers "was this cluster attacked?": rules that each name
// a MITRE ATT&CK technique, a severity and why the request matters, run over
// the requests of an audit log. The rule pack is the project's own
// (rules.go); rules in Sigma's YAML format (logsource product kubernetes,
// service audit) load from a folder (sigma.go).
//
// A rule is a filter expression (the filter package: one meaning of a field
// for the CLI, the explorer and the rules), optionally a check of the
// request's body (requestObject, read with gjson from the raw last-stage
// event, so only where the audit policy logs it), or a rule over several
// requests (a burst of 401/403 from one address).
package detect

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// Severities, most severe first.
const (
	Critical = "critical"
	High     = "high"
	Medium   = "medium"
	Low      = "low"
	Info     = "informational"
)

// SeverityRank orders severities: critical 4 … informational 0, unknown -1.
func SeverityRank(s string) int {
	switch s {
	case Critical:
		return 4
	case High:
		return 3
	case Medium:
		return 2
	case Low:
		return 1
	case Info:
		return 0
	}
	return -1
}

// Rule is one detection.
type Rule struct {
	ID            string // stable: "privileged-pod"; a Sigma rule's is "sigma:<file stem>"
	Title         string
	Technique     string // MITRE ATT&CK id, "T1611"; "" when a Sigma rule names none
	TechniqueName string // "Escape to Host"
	Severity      string // critical, high, medium, low, informational
	Why           string // one line: why a finding of this rule matters
	Source        string // "kauditui", or the Sigma file it was read from

	// Filter is the expression of the requests the rule looks at; the
	// rule fires on each unless Body says otherwise.
	Filter string
	f      *filter.Filter

	// body looks into the request's last-stage event (nil: the filter
	// decides alone).
	body func(ev *eventCache, r *audit.Request) verdict
	// bodyWhat names what body reads, for the note on requests logged
	// without one ("pod specs").
	bodyWhat string

	sigma *sigmaRule // a Sigma rule: its detection decides (Filter is "")
	burst *burst     // a rule over several requests
}

// BodyWhat names what the rule's body check reads ("pod specs"), "" for a
// rule without one.
func (r *Rule) BodyWhat() string { return r.bodyWhat }

// verdict is what a body check found.
type verdict struct {
	fire      bool
	detail    string
	unchecked bool // the body that would tell is not in the log
}

// Finding is one rule firing: on one request, or on several (a burst).
type Finding struct {
	Rule     *Rule
	Requests []*audit.Request // oldest first
	Detail   string           // what was seen, from the log (unsanitised)
}

// Time is when the (first) request was received.
func (f Finding) Time() time.Time { return f.Requests[0].First() }

// User is who made the request(s): the actor ("user (as other)"), or for a
// rule over several requests every distinct actor, comma-separated.
func (f Finding) User() string {
	var users []string
	for _, r := range f.Requests {
		u := r.Actor()
		if u == "" {
			u = "(unauthenticated)"
		}
		if !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	return strings.Join(users, ",")
}

// AuditIDs are the auditIDs of the finding's requests.
func (f Finding) AuditIDs() []string {
	ids := make([]string, len(f.Requests))
	for i, r := range f.Requests {
		ids[i] = r.AuditID
	}
	return ids
}

// Unchecked counts the requests a rule with a body check matched but could
// not look into: the policy logged them without a body.
type Unchecked struct {
	Rule  *Rule
	Count int
}

// Result is every finding, oldest first, and what could not be checked.
type Result struct {
	Findings  []Finding
	Unchecked []Unchecked
}

// Run runs rules over reqs. raw reads an event again (source.Set.Raw); body
// checks and Sigma fields beyond the request's own read it. Call it where
// reqs do not change (after loading, or under the store's read lock).
func Run(rules []*Rule, reqs []*audit.Request, raw func(audit.Ref) ([]byte, error)) Result {
	var res Result
	unchecked := make([]int, len(rules))
	events := eventCache{raw: raw}
	for _, r := range reqs {
		events.reset(r)
		for i, rule := range rules {
			if rule.burst != nil {
				continue
			}
			if rule.sigma != nil {
				if rule.sigma.match(r, &events) {
					res.Findings = append(res.Findings, Finding{Rule: rule, Requests: []*audit.Request{r}, Detail: plainDetail(r)})
				}
				continue
			}
			if !rule.matches(r, raw) {
				continue
			}
			if rule.body == nil {
				res.Findings = append(res.Findings, Finding{Rule: rule, Requests: []*audit.Request{r}, Detail: plainDetail(r)})
				continue
			}
			v := rule.body(&events, r)
			switch {
			case v.unchecked:
				unchecked[i]++
			case v.fire:
				res.Findings = append(res.Findings, Finding{Rule: rule, Requests: []*audit.Request{r}, Detail: v.detail})
			}
		}
	}
	for _, rule := range rules {
		if rule.burst != nil {
			res.Findings = append(res.Findings, rule.burst.run(rule, reqs)...)
		}
	}
	for i, n := range unchecked {
		if n > 0 {
			res.Unchecked = append(res.Unchecked, Unchecked{Rule: rules[i], Count: n})
		}
	}
	slices.SortStableFunc(res.Findings, func(a, b Finding) int {
		return cmp.Or(a.Time().Compare(b.Time()), cmp.Compare(a.Requests[0].AuditID, b.Requests[0].AuditID))
	})
	return res
}

func (rule *Rule) matches(r *audit.Request, raw func(audit.Ref) ([]byte, error)) bool {
	if rule.f.NeedsRaw() {
		return rule.f.MatchRaw(r, raw)
	}
	return rule.f.Match(r)
}

// plainDetail is what a rule without a body check says of a request: the
// object and the outcome.
func plainDetail(r *audit.Request) string {
	var b strings.Builder
	b.WriteString(r.Verb)
	if p := r.ResourcePath(); p != "" {
		b.WriteString(" " + p)
	} else {
		b.WriteString(" " + r.RequestURI())
	}
	if obj := object(r); obj != "" {
		b.WriteString(" " + obj)
	}
	b.WriteString(outcome(r))
	return b.String()
}

// object is ns/name, name or "".
func object(r *audit.Request) string {
	switch {
	case r.Namespace != "" && r.Name != "":
		return r.Namespace + "/" + r.Name
	case r.Name != "":
		return r.Name
	case r.Namespace != "":
		return "in " + r.Namespace
	}
	return ""
}

// outcome is " (403)", " (refused: 403)" for a refusal, "" when nothing
// was logged.
func outcome(r *audit.Request) string {
	switch {
	case r.Code == 0:
		return ""
	case r.Code == 401 || r.Code == 403:
		return " (refused: " + strconv.Itoa(r.Code) + ")"
	}
	return " (" + strconv.Itoa(r.Code) + ")"
}

// eventCache reads a request's last-stage event once for every rule that
// looks at it.
type eventCache struct {
	raw  func(audit.Ref) ([]byte, error)
	r    *audit.Request
	read bool
	ev   gjson.Result
}

func (c *eventCache) reset(r *audit.Request) { c.r, c.read, c.ev = r, false, gjson.Result{} }

// get is the request's last-stage event (the one whose stage the request
// reports, the last of them), or an empty result when it cannot be read.
func (c *eventCache) get() gjson.Result {
	if c.read {
		return c.ev
	}
	c.read = true
	if c.raw == nil {
		return c.ev
	}
	ref, ok := LastEvent(c.r)
	if !ok {
		return c.ev
	}
	b, err := c.raw(ref)
	if err != nil || !gjson.ValidBytes(b) {
		return c.ev
	}
	c.ev = gjson.ParseBytes(b)
	return c.ev
}

// LastEvent is the reference of the request's last-stage event: the last
// event read whose stage is the request's stage (audit's merge decides which
// stage is last), or the last event read.
func LastEvent(r *audit.Request) (audit.Ref, bool) {
	if len(r.Events) == 0 {
		return audit.Ref{}, false
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		if r.Events[i].Stage() == r.Stage {
			return r.Events[i].Ref, true
		}
	}
	return r.Events[len(r.Events)-1].Ref, true
}
