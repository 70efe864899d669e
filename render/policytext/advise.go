package policytext

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/setup"
)

// The policy that fits this cluster (`query --advise-policy`): how much of
// the log each user, verb and resource is, and a policy that drops the
// noisiest reads of the control plane and of service accounts, proposed as
// the policy in force with rules put first, and dry-run over the log with
// the apiserver's own matcher (Eval, as CountDrops).

// Volume is what one user's verb on one resource (or URL) weighs in a log.
type Volume struct {
	User, Verb, What string // What: resource[.group][/sub], or the URL path
	Requests, Lines  int
	Bytes            int64 // the event lines' bytes with their newlines
}

// VolumeOf counts reqs per user, verb and resource, the most lines first;
// total is the sum over all of them.
func VolumeOf(reqs []*audit.Request) (rows []Volume, total Volume) {
	byKey := map[[3]string]*Volume{}
	for _, r := range reqs {
		what := whatOf(r)
		k := [3]string{r.User, r.Verb, what}
		v := byKey[k]
		if v == nil {
			v = &Volume{User: r.User, Verb: r.Verb, What: what}
			byKey[k] = v
		}
		lines, b := weight(r)
		v.Requests++
		v.Lines += lines
		v.Bytes += b
		total.Requests++
		total.Lines += lines
		total.Bytes += b
	}
	for _, v := range byKey {
		rows = append(rows, *v)
	}
	slices.SortFunc(rows, func(a, b Volume) int {
		return cmp.Or(cmp.Compare(b.Lines, a.Lines), cmp.Compare(b.Bytes, a.Bytes), strings.Compare(a.User, b.User), strings.Compare(a.Verb, b.Verb), strings.Compare(a.What, b.What))
	})
	return rows, total
}

// weight is a request's event lines and their bytes (with newlines).
func weight(r *audit.Request) (int, int64) {
	var b int64
	for _, e := range r.Events {
		b += int64(e.Len) + 1
	}
	return len(r.Events), b
}

func whatOf(r *audit.Request) string {
	if r.Resource == "" {
		p, _, _ := strings.Cut(r.RequestURI(), "?")
		return p
	}
	s := r.Resource
	if r.APIGroup != "" {
		s += "." + r.APIGroup
	}
	if r.Subresource != "" {
		s += "/" + r.Subresource
	}
	return s
}

// readVerbs are the verbs a proposal may drop: nothing else is ever
// proposed (a write, a connect, a token request).
var readVerbs = []string{"get", "list", "watch"}

// IsRead reports whether a request only read: get, list or watch of a
// resource itself (not a subresource: get pods/exec is an exec, get
// pods/log reads a container, get nodes/proxy reaches the kubelet), or a
// get of a URL.
func IsRead(r *audit.Request) bool {
	if r.Resource == "" {
		return r.Verb == "get"
	}
	return slices.Contains(readVerbs, r.Verb) && r.Subresource == ""
}

// kept are resources whose reads a proposal never drops: who read a secret,
// who looked at RBAC or at the webhooks are forensic questions.
func kept(group, resource string) bool {
	switch group {
	case "":
		return resource == "secrets"
	case "rbac.authorization.k8s.io", "admissionregistration.k8s.io", "certificates.k8s.io", "authentication.k8s.io", "authorization.k8s.io":
		return true
	}
	return false
}

// components are the control plane's own users (kubeadm's): their reads
// are routine.
var components = []string{"system:kube-controller-manager", "system:kube-scheduler", "system:kube-proxy", "system:apiserver", "system:volume-scheduler"}

// noisyWho is the policy selector for a user whose reads may be dropped:
// a control-plane component, a node (the group system:nodes, one rule for
// every node), a service account; "" for anyone else (people's reads are
// what an audit log is for).
func noisyWho(user string) (field, value string) {
	switch {
	case slices.Contains(components, user):
		return "users", user
	case strings.HasPrefix(user, "system:node:"):
		return "userGroups", "system:nodes"
	case strings.HasPrefix(user, "system:serviceaccount:") && strings.Count(user, ":") == 3:
		return "users", user
	}
	return "", ""
}

// probes are URL paths that kubelets and load balancers poll.
var probes = []string{"/healthz", "/livez", "/readyz"}

// MinShare is the share of a log's lines a set of reads must reach to be
// proposed for dropping.
const MinShare = 0.01

// maxRules bounds the rules a proposal adds.
const maxRules = 12

// Proposal is a proposed policy and its dry run over the log.
type Proposal struct {
	Base  *setup.PolicyReport // the policy in force it starts from
	Added []Candidate         // the rules put first, most lines first
	YAML  []byte              // the whole policy, the dry run as its first comments
	Dry   DryRun
}

// Candidate is one rule a proposal adds: level None for the reads of one
// user (or group) on one resource, or for the probe URLs.
type Candidate struct {
	Field, Who string   // users or userGroups, and its value; "" for probes
	Verbs      []string // the read verbs seen
	Group      string
	Resource   string // "" for the probe URLs
	Lines      int
	Bytes      int64
}

// DryRun is what a policy would have kept of a log: requests it matches
// with a level other than None, by the apiserver's own matcher.
type DryRun struct {
	Total, Kept        Volume
	Writes, WritesKept int // requests that are not reads (IsRead)
	Dropped            []*audit.Request
	DroppedWrites      []*audit.Request
	AlreadyDropped     int // requests of the log the policy in force does not log either (logged under another policy)
}

// WouldDrop reports whether p would not log r: the apiserver's matcher gives it
// a level None rule, or no rule.
func WouldDrop(p *setup.PolicyReport, r *audit.Request) bool {
	return p.Drops(p.RuleFor(Attrs(r)))
}

// Run is the dry run of policy p over reqs.
func Run(p *setup.PolicyReport, reqs []*audit.Request) DryRun {
	var d DryRun
	for _, r := range reqs {
		lines, b := weight(r)
		d.Total.Requests++
		d.Total.Lines += lines
		d.Total.Bytes += b
		write := !IsRead(r)
		if write {
			d.Writes++
		}
		if WouldDrop(p, r) {
			d.Dropped = append(d.Dropped, r)
			if write {
				d.DroppedWrites = append(d.DroppedWrites, r)
			}
			continue
		}
		d.Kept.Requests++
		d.Kept.Lines += lines
		d.Kept.Bytes += b
		if write {
			d.WritesKept++
		}
	}
	return d
}

// Summary is the dry run in one sentence.
func (d DryRun) Summary() string {
	writes := fmt.Sprintf("every write (%d of %d)", d.WritesKept, d.Writes)
	if d.WritesKept < d.Writes {
		writes = fmt.Sprintf("%d of the %d writes", d.WritesKept, d.Writes)
	}
	return fmt.Sprintf("this policy would have kept %s of the lines (%d of %d), %s of the bytes (%s of %s) and %s",
		Percent(d.Kept.Lines, d.Total.Lines), d.Kept.Lines, d.Total.Lines,
		Percent(int(d.Kept.Bytes), int(d.Total.Bytes)), Bytes(d.Kept.Bytes), Bytes(d.Total.Bytes), writes)
}

// Percent is n of total as a whole percentage, never rounded to 0% or 100%
// when it is not.
func Percent(n, total int) string {
	if total == 0 {
		return "0%"
	}
	p := n * 100 / total
	switch {
	case n > 0 && p == 0:
		return "<1%"
	case n < total && p >= 99:
		return ">99%"
	}
	if n*100%total*2 >= total && p < 99 {
		p++
	}
	return strconv.Itoa(p) + "%"
}

// Bytes is a size in B, KiB, MiB or GiB.
func Bytes(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// ErrNothingToPropose: no read of the control plane or of a service
// account reaches MinShare of the log.
var ErrNothingToPropose = errors.New("no read by a control-plane component, node or service account is 1% of the log's lines or more: nothing to propose")

// Propose makes the policy that fits the log: base (the policy in force,
// with its Raw bytes) with level None rules put first for the reads that
// weigh MinShare of the lines or more, by components, nodes and service
// accounts, of resources whose reads are not forensic (never secrets, RBAC,
// webhooks; never a subresource; never a write), and for the probe URLs.
// The policy is loaded as the apiserver loads it and dry-run over reqs.
func Propose(base *setup.PolicyReport, reqs []*audit.Request) (*Proposal, error) {
	if base == nil || len(base.Raw) == 0 {
		return nil, errors.New("no policy in force to start from")
	}
	cands, totalLines := candidates(base, reqs)
	if len(cands) == 0 {
		return nil, ErrNothingToPropose
	}
	body, err := withRulesFirst(base.Raw, cands, totalLines)
	if err != nil {
		return nil, fmt.Errorf("the policy in force %s: %w", base.Path, err)
	}
	load := func(b []byte) (*setup.PolicyReport, error) {
		return setup.FindPolicy(setup.PolicySource{File: "the proposed policy", ReadFile: func(string) ([]byte, error) { return b, nil }})
	}
	p, err := load(body)
	if err != nil {
		return nil, fmt.Errorf("the proposal does not load (a kauditui bug): %w", err)
	}
	d := Run(p, reqs)
	was := Run(base, reqs)
	d.AlreadyDropped = len(was.Dropped)
	var head strings.Builder
	fmt.Fprintf(&head, "# Proposed by kauditui query --advise-policy from %s: the policy in force\n", oneLine(base.Path))
	fmt.Fprintf(&head, "# with %s put first to drop the noisiest reads of the control plane and of\n", plural(len(cands), "rule"))
	head.WriteString("# service accounts (never a write, a secret, RBAC, a webhook, a subresource).\n")
	fmt.Fprintf(&head, "# Dry run over the log (%d requests), by the apiserver's own rule matcher:\n", d.Total.Requests)
	fmt.Fprintf(&head, "# %s.\n", d.Summary())
	if d.AlreadyDropped > 0 {
		fmt.Fprintf(&head, "# (%d requests of the log are ones the policy in force does not log either: logged under another policy.)\n", d.AlreadyDropped)
	}
	head.WriteString("# Apply it with: kauditui setup --policy FILE\n")
	out := append([]byte(head.String()), body...)
	if _, err := load(out); err != nil {
		return nil, fmt.Errorf("the proposal does not load (a kauditui bug): %w", err)
	}
	return &Proposal{Base: base, Added: cands, YAML: out, Dry: d}, nil
}

func oneLine(s string) string { return render.Sanitize(strings.ReplaceAll(s, "\n", " ")) }

// candidates are the reads worth dropping, most lines first: those the
// policy in force logs (a rule of it that drops them already needs no
// other).
func candidates(base *setup.PolicyReport, reqs []*audit.Request) ([]Candidate, int) {
	type key struct{ field, who, group, resource string }
	byKey := map[key]*Candidate{}
	total := 0
	for _, r := range reqs {
		lines, b := weight(r)
		total += lines
		if !IsRead(r) || WouldDrop(base, r) {
			continue
		}
		var k key
		switch {
		case r.Resource == "":
			if !slices.ContainsFunc(probes, func(p string) bool { return isUnder(whatOf(r), p) }) {
				continue
			}
		case kept(r.APIGroup, r.Resource):
			continue
		default:
			field, who := noisyWho(r.User)
			if field == "" {
				continue
			}
			k = key{field, who, r.APIGroup, r.Resource}
		}
		c := byKey[k]
		if c == nil {
			c = &Candidate{Field: k.field, Who: k.who, Group: k.group, Resource: k.resource}
			byKey[k] = c
		}
		if !slices.Contains(c.Verbs, r.Verb) {
			c.Verbs = append(c.Verbs, r.Verb)
		}
		c.Lines += lines
		c.Bytes += b
	}
	var out []Candidate
	for _, c := range byKey {
		if float64(c.Lines) >= MinShare*float64(total) {
			slices.SortFunc(c.Verbs, func(a, b string) int { return slices.Index(readVerbs, a) - slices.Index(readVerbs, b) })
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(b.Lines, a.Lines), strings.Compare(a.Who, b.Who), strings.Compare(a.Group, b.Group), strings.Compare(a.Resource, b.Resource))
	})
	if len(out) > maxRules {
		out = out[:maxRules]
	}
	return out, total
}

// isUnder reports whether path is p or below it, as a probe's /livez/etcd.
func isUnder(path, p string) bool {
	return path == p || strings.HasPrefix(path, p+"/")
}

// rule is the candidate as a policy rule, commented with what it weighs.
func (c Candidate) rule(total int) *yamlv3.Node {
	seq := func(vs ...string) *yamlv3.Node {
		n := &yamlv3.Node{Kind: yamlv3.SequenceNode, Style: yamlv3.FlowStyle}
		for _, v := range vs {
			n.Content = append(n.Content, &yamlv3.Node{Kind: yamlv3.ScalarNode, Value: v, Style: yamlv3.DoubleQuotedStyle})
		}
		return n
	}
	str := func(v string) *yamlv3.Node {
		return &yamlv3.Node{Kind: yamlv3.ScalarNode, Value: v}
	}
	m := &yamlv3.Node{Kind: yamlv3.MappingNode}
	add := func(k string, v *yamlv3.Node) { m.Content = append(m.Content, str(k), v) }
	add("level", str("None"))
	var what string
	if c.Resource == "" {
		var urls []string
		for _, p := range probes {
			urls = append(urls, p, p+"/*")
		}
		add("nonResourceURLs", seq(urls...))
		add("verbs", seq("get"))
		what = "Probes (" + strings.Join(probes, ", ") + ")"
	} else {
		add(c.Field, seq(c.Who))
		add("verbs", seq(c.Verbs...))
		res := &yamlv3.Node{Kind: yamlv3.MappingNode}
		res.Content = append(res.Content, str("group"), &yamlv3.Node{Kind: yamlv3.ScalarNode, Value: c.Group, Style: yamlv3.DoubleQuotedStyle},
			str("resources"), seq(c.Resource))
		add("resources", &yamlv3.Node{Kind: yamlv3.SequenceNode, Content: []*yamlv3.Node{res}})
		who := c.Who
		if c.Field == "userGroups" {
			who = "the nodes (" + c.Who + ")"
		}
		r := c.Resource
		if c.Group != "" {
			r += "." + c.Group
		}
		what = fmt.Sprintf("%s by %s", strings.Join(c.Verbs, ", ")+" "+r, who)
	}
	m.HeadComment = render.Sanitize(fmt.Sprintf("%s: %s of the lines (%d), %s.", what, Percent(c.Lines, total), c.Lines, Bytes(c.Bytes)))
	return m
}

// withRulesFirst puts the candidates' rules first in the policy b, on its
// YAML node tree (so its own comments stay).
func withRulesFirst(b []byte, cands []Candidate, totalLines int) ([]byte, error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yamlv3.MappingNode {
		return nil, errors.New("not a YAML mapping")
	}
	top := doc.Content[0]
	var rules *yamlv3.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "rules" {
			rules = top.Content[i+1]
		}
	}
	if rules == nil || rules.Kind != yamlv3.SequenceNode {
		return nil, errors.New("no list of rules")
	}
	var added []*yamlv3.Node
	for _, c := range cands {
		added = append(added, c.rule(totalLines))
	}
	rules.Style = 0 // block style, whatever the file used
	rules.Content = append(added, rules.Content...)
	var out bytes.Buffer
	enc := yamlv3.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
