package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Permission is what RBAC checks for one request: a verb on a resource
// (with its API group, namespace and object name), or on a non-resource URL.
type Permission struct {
	Verb      string
	Group     string // "" is the core group
	Resource  string // resource[/subresource]; "" for a non-resource URL
	Namespace string // "" when cluster-scoped
	Name      string // "" when the request names no object
	URL       string // the path of a non-resource request
}

// PermissionOf is the permission a request needed.
func PermissionOf(r *Request) Permission {
	if r.Resource == "" {
		path, _, _ := strings.Cut(r.RequestURI(), "?")
		return Permission{Verb: r.Verb, URL: path}
	}
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	// A namespace's own objectRef names itself as its namespace on delete.
	ns := r.Namespace
	if r.Resource == "namespaces" && r.APIGroup == "" {
		ns = ""
	}
	return Permission{Verb: r.Verb, Group: r.APIGroup, Resource: res, Namespace: ns, Name: r.Name}
}

// String says the permission in words: "create deployments.apps in
// namespace shop", "get secrets named db in namespace shop", "get /metrics".
func (p Permission) String() string {
	if p.Resource == "" {
		return p.Verb + " " + p.URL
	}
	s := p.Verb + " " + p.Resource
	if p.Group != "" {
		res, sub, ok := strings.Cut(p.Resource, "/")
		s = p.Verb + " " + res + "." + p.Group
		if ok {
			s += "/" + sub
		}
	}
	if p.Name != "" {
		s += " named " + p.Name
	}
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	} else {
		s += " (cluster-wide)"
	}
	return s
}

// nameable reports whether RBAC can limit verb on resource to
// resourceNames: only when the request names the object at authorization.
// A create names none (the name is in the body), nor do list, watch and
// deletecollection; a create of a subresource (pods/exec, a token) names
// its object in the path.
func nameable(verb, resource string) bool {
	switch verb {
	case "list", "watch", "deletecollection":
		return false
	case "create":
		return strings.Contains(resource, "/")
	}
	return true
}

// connectVerbs: exec, attach and port-forward over WebSockets are a get,
// and since 1.35 also need create (kubernetes#134577); grant both.
var connectSubs = []string{"pods/exec", "pods/attach", "pods/portforward"}

// Checks are the permissions RBAC checks for p, as the authorizer sees
// them: a name only where the request names its object at authorization
// (see nameable: a create, list, watch or deletecollection names none),
// and for exec, attach and port-forward both get and create (see
// connectSubs). The request is allowed when every one of them is.
func (p Permission) Checks() []Permission {
	if p.Resource == "" {
		return []Permission{p}
	}
	verbs := []string{p.Verb}
	if slices.Contains(connectSubs, p.Resource) {
		verbs = []string{"get", "create"}
	}
	var out []Permission
	for _, v := range verbs {
		c := p
		c.Verb = v
		if !nameable(v, p.Resource) {
			c.Name = ""
		}
		out = append(out, c)
	}
	return out
}

// subject is who a binding binds: a User, or a ServiceAccount for the
// usernames system:serviceaccount:NAMESPACE:NAME.
type subject struct {
	Kind, Name, Namespace string
}

// SubjectOf is the RBAC subject of a username.
func SubjectOf(user string) subject {
	if rest, ok := strings.CutPrefix(user, "system:serviceaccount:"); ok {
		if ns, name, ok := strings.Cut(rest, ":"); ok {
			return subject{Kind: "ServiceAccount", Name: name, Namespace: ns}
		}
	}
	return subject{Kind: "User", Name: user}
}

// ruleKey groups permissions into one rule.
type ruleKey struct {
	ns, group, resource string
	named               bool // a rule limited to resourceNames
}

type rule struct {
	verbs, names, urls []string
}

// RoleYAML is the least-privilege RBAC for perms granted to subject: per
// namespace a Role and a RoleBinding, for cluster-scoped resources and
// non-resource URLs a ClusterRole and a ClusterRoleBinding, named name.
// Requests that name their object are limited to resourceNames; create,
// list, watch and deletecollection cannot be (see nameable).
// impersonated are the users the subject acted as (impersonate on users).
func RoleYAML(subject subject, name string, perms []Permission, impersonated []string) string {
	rules := map[ruleKey]*rule{}
	add := func(k ruleKey, verb, objName, url string) {
		r := rules[k]
		if r == nil {
			r = &rule{}
			rules[k] = r
		}
		for _, v := range []string{verb} {
			if !slices.Contains(r.verbs, v) {
				r.verbs = append(r.verbs, v)
			}
		}
		if objName != "" && !slices.Contains(r.names, objName) {
			r.names = append(r.names, objName)
		}
		if url != "" && !slices.Contains(r.urls, url) {
			r.urls = append(r.urls, url)
		}
	}
	// A name-limited verb seen once without a name is granted unnamed.
	unnamed := map[ruleKey]bool{}
	for _, p := range perms {
		if p.Resource != "" && nameable(p.Verb, p.Resource) && p.Name == "" {
			unnamed[ruleKey{p.Namespace, p.Group, p.Resource + "\x00" + p.Verb, false}] = true
		}
	}
	for _, p := range perms {
		if p.Resource == "" {
			add(ruleKey{resource: "\x00url"}, p.Verb, "", p.URL)
			continue
		}
		verbs := []string{p.Verb}
		if slices.Contains(connectSubs, p.Resource) {
			verbs = []string{"get", "create"}
		}
		for _, v := range verbs {
			named := nameable(v, p.Resource) && p.Name != "" && !unnamed[ruleKey{p.Namespace, p.Group, p.Resource + "\x00" + v, false}]
			k := ruleKey{p.Namespace, p.Group, p.Resource, named}
			if named {
				add(k, v, p.Name, "")
			} else {
				add(k, v, "", "")
			}
		}
	}
	for _, u := range impersonated {
		add(ruleKey{resource: "users", named: true}, "impersonate", u, "")
	}
	keys := make([]ruleKey, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b ruleKey) int {
		return strings.Compare(a.ns+"\x00"+a.group+"\x00"+a.resource+strconv.FormatBool(a.named),
			b.ns+"\x00"+b.group+"\x00"+b.resource+strconv.FormatBool(b.named))
	})
	var nss []string
	for _, k := range keys {
		if !slices.Contains(nss, k.ns) {
			nss = append(nss, k.ns)
		}
	}
	var b strings.Builder
	for _, ns := range nss {
		kind, bindKind := "Role", "RoleBinding"
		if ns == "" {
			kind, bindKind = "ClusterRole", "ClusterRoleBinding"
		}
		if b.Len() > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "apiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: %s\n", kind, q(name))
		if ns != "" {
			fmt.Fprintf(&b, "  namespace: %s\n", q(ns))
		}
		b.WriteString("rules:\n")
		for _, k := range keys {
			if k.ns != ns {
				continue
			}
			r := rules[k]
			slices.SortFunc(r.verbs, verbOrder)
			if k.resource == "\x00url" {
				slices.Sort(r.urls)
				fmt.Fprintf(&b, "- nonResourceURLs: %s\n  verbs: %s\n", qList(r.urls), qList(r.verbs))
				continue
			}
			fmt.Fprintf(&b, "- apiGroups: %s\n  resources: %s\n", qList([]string{k.group}), qList([]string{k.resource}))
			if k.named {
				slices.Sort(r.names)
				fmt.Fprintf(&b, "  resourceNames: %s\n", qList(r.names))
			}
			fmt.Fprintf(&b, "  verbs: %s\n", qList(r.verbs))
		}
		fmt.Fprintf(&b, "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: %s\nmetadata:\n  name: %s\n", bindKind, q(name))
		if ns != "" {
			fmt.Fprintf(&b, "  namespace: %s\n", q(ns))
		}
		fmt.Fprintf(&b, "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: %s\n  name: %s\nsubjects:\n- kind: %s\n  name: %s\n", kind, q(name), subject.Kind, q(subject.Name))
		if subject.Kind == "ServiceAccount" {
			fmt.Fprintf(&b, "  namespace: %s\n", q(subject.Namespace))
		} else {
			b.WriteString("  apiGroup: rbac.authorization.k8s.io\n")
		}
	}
	return b.String()
}

// q quotes a string for YAML: a JSON string is a YAML double-quoted scalar.
// Names from the log are client-chosen: quoting keeps them values.
func q(s string) string { return strconv.Quote(s) }

func qList(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = q(s)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

// verbOrder lists verbs as kubectl create role does.
func verbOrder(a, b string) int {
	order := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate"}
	ia, ib := slices.Index(order, a), slices.Index(order, b)
	if ia < 0 {
		ia = len(order)
	}
	if ib < 0 {
		ib = len(order)
	}
	if ia != ib {
		return ia - ib
	}
	return strings.Compare(a, b)
}

// Refuser is what refused a request, as far as its log says.
type Refuser uint8

const (
	NotRefused           Refuser = iota
	RefusedByRBAC                // authorization.k8s.io/decision forbid: the authorizer (RBAC)
	RefusedByWebhook             // an admission webhook, named in the message
	RefusedByPodSecurity         // PodSecurity admission: the namespace's enforce level
	RefusedByPolicy              // a ValidatingAdmissionPolicy, through one of its bindings
	RefusedByQuota               // a ResourceQuota
	RefusedByAdmission           // authorized, then refused by a check the log does not name (admission, or the server the request went on to)
	RefusedUnknown               // a 403 without the decision annotation: RBAC or not, the log cannot tell
)

// Refusal is why a request was refused: by what, which one (Control: the
// webhook's, policy's or quota's name, the PodSecurity level; Binding: the
// policy's binding) and what it said. Its strings are as logged: sanitise
// them to print.
type Refusal struct {
	By      Refuser
	Control string
	Binding string
	Said    string

	// What admission did to a request it let through (or ran before it
	// refused it), from the event's annotations; read only when WhyRefused
	// is given raw. Mutations are the mutating webhooks that ran, in the
	// order they ran (round, then index); FailedOpen the webhooks whose
	// failure was ignored (failurePolicy Ignore): the request went on
	// without their say.
	Mutations  []Mutation
	FailedOpen []FailedWebhook
}

// Mutation is one mutating webhook's call, from the annotations
// mutation.webhook.admission.k8s.io/round_R_index_I ({configuration,
// webhook, mutated}) and, when the policy logged the request at Request
// level or above, patch.webhook.admission.k8s.io/round_R_index_I
// ({configuration, webhook, patch, patchType}). Strings are as logged.
type Mutation struct {
	Round, Index  int
	Configuration string
	Webhook       string
	Mutated       bool   // the webhook changed the object
	Patch         string // the patch it returned (compact JSON), "" when not logged
	PatchType     string
}

// FailedWebhook is a webhook that failed open: the annotation
// failed-open.mutation.webhook.admission.k8s.io/round_R_index_I (or
// failed-open.validating...) whose value is the webhook's name.
type FailedWebhook struct {
	Mutating     bool
	Round, Index int
	Webhook      string
}

// Changed reports whether admission changed the request's object or let it
// through without a webhook's say.
func (f Refusal) Changed() bool {
	for _, m := range f.Mutations {
		if m.Mutated {
			return true
		}
	}
	return len(f.FailedOpen) > 0
}

// Patched is the mutating webhooks that changed the object, in order.
func (f Refusal) Patched() []Mutation {
	var out []Mutation
	for _, m := range f.Mutations {
		if m.Mutated {
			out = append(out, m)
		}
	}
	return out
}

// Admission reports whether RBAC allowed the request and a later check
// refused it: no Role is proposed for it.
func (f Refusal) Admission() bool {
	return f.By >= RefusedByWebhook && f.By <= RefusedByAdmission
}

// Named reports whether the log names the admission control that refused
// the request: then no Role lets it through. (An unnamed refusal after
// RBAC may be the backend's own: an aggregated API server authorizes again.)
func (f Refusal) Named() bool {
	return f.By >= RefusedByWebhook && f.By <= RefusedByQuota
}

// RoleMayHelp reports whether a Role could let the request through: RBAC
// refused it, or the log cannot tell who did.
func (f Refusal) RoleMayHelp() bool { return f.By == RefusedByRBAC || f.By == RefusedUnknown }

// Who names what refused the request, in words: `admission webhook
// "deny.example.com"`, `PodSecurity "restricted:latest"`, ...
func (f Refusal) Who() string {
	switch f.By {
	case RefusedByRBAC:
		return "RBAC"
	case RefusedByWebhook:
		return `admission webhook "` + f.Control + `"`
	case RefusedByPodSecurity:
		if f.Control == "" {
			return "PodSecurity"
		}
		return `PodSecurity "` + f.Control + `"`
	case RefusedByPolicy:
		s := "ValidatingAdmissionPolicy"
		if f.Control != "" {
			s += ` "` + f.Control + `"`
		}
		if f.Binding != "" {
			s += ` (binding "` + f.Binding + `")`
		}
		return s
	case RefusedByQuota:
		if f.Control == "" {
			return "a ResourceQuota"
		}
		return `ResourceQuota "` + f.Control + `"`
	case RefusedByAdmission:
		return "a check after RBAC (an admission control, or the server the request went on to: the log does not name it)"
	case RefusedUnknown:
		return "RBAC or admission: the log cannot tell (no authorization.k8s.io/decision annotation)"
	}
	return ""
}

// WhyRefused is the one home of "why was this request refused". The
// authorizer writes authorization.k8s.io/decision on every request it
// decides: forbid is RBAC's 403. A 403 it allowed was refused by admission,
// which says which control in responseStatus.message (`admission webhook
// "X" denied the request: ...`, `violates PodSecurity "restricted:latest":
// ...`, `ValidatingAdmissionPolicy 'p' with binding 'b' denied request: ...`,
// `exceeded quota: q, ...`) and, for PodSecurity and a policy whose binding
// audits, in annotations the Request does not keep: read from the raw event
// line when raw is given. A 403 without the decision annotation is RBAC's or
// not: the log cannot tell. Another code is a refusal only when admission's
// message says so (a webhook answers 400 unless it sets a code).
//
// With raw, it also reads what admission changed (Refusal.Mutations,
// FailedOpen) from the last event with annotations, for the requests
// admission sees (not get, list, watch: they are not admitted).
func WhyRefused(r *Request, raw func(Ref) ([]byte, error)) Refusal {
	f := whyRefused(r, raw)
	if raw != nil && admitted(r.Verb) {
		f.Mutations, f.FailedOpen = admissionChanges(r, raw)
	}
	return f
}

// admitted reports whether requests of verb go through admission: writes
// and connections (exec, attach, port-forward, proxy), not reads.
func admitted(verb string) bool {
	switch verb {
	case "get", "list", "watch", "":
		return false
	}
	return true
}

// Admission annotation prefixes (k8s.io/apiserver admission/plugin/webhook).
const (
	mutationAnnotation   = "mutation.webhook.admission.k8s.io/"
	patchAnnotation      = "patch.webhook.admission.k8s.io/"
	failedOpenMutating   = "failed-open.mutation.webhook.admission.k8s.io/"
	failedOpenValidating = "failed-open.validating.webhook.admission.k8s.io/"
)

// roundIndex reads "round_R_index_I".
func roundIndex(s string) (round, index int, ok bool) {
	r, i, ok := strings.Cut(strings.TrimPrefix(s, "round_"), "_index_")
	if !ok || !strings.HasPrefix(s, "round_") {
		return 0, 0, false
	}
	round, err1 := strconv.Atoi(r)
	index, err2 := strconv.Atoi(i)
	return round, index, err1 == nil && err2 == nil && round >= 0 && index >= 0
}

// admissionChanges reads the mutating webhooks and the webhooks that failed
// open from the annotations of the request's last event that has any.
func admissionChanges(r *Request, raw func(Ref) ([]byte, error)) ([]Mutation, []FailedWebhook) {
	for i := len(r.Events) - 1; i >= 0; i-- {
		line, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		ann := gjson.GetBytes(line, "annotations")
		if !ann.IsObject() {
			continue
		}
		var muts []Mutation
		var failed []FailedWebhook
		at := func(round, index int) *Mutation {
			for j := range muts {
				if muts[j].Round == round && muts[j].Index == index {
					return &muts[j]
				}
			}
			muts = append(muts, Mutation{Round: round, Index: index})
			return &muts[len(muts)-1]
		}
		ann.ForEach(func(k, v gjson.Result) bool {
			key := k.String()
			switch {
			case strings.HasPrefix(key, mutationAnnotation):
				if round, index, ok := roundIndex(strings.TrimPrefix(key, mutationAnnotation)); ok {
					d := gjson.Parse(v.String())
					m := at(round, index)
					m.Configuration, m.Webhook = d.Get("configuration").String(), d.Get("webhook").String()
					m.Mutated = m.Mutated || d.Get("mutated").Bool()
				}
			case strings.HasPrefix(key, patchAnnotation):
				if round, index, ok := roundIndex(strings.TrimPrefix(key, patchAnnotation)); ok {
					d := gjson.Parse(v.String())
					m := at(round, index)
					if m.Webhook == "" {
						m.Configuration, m.Webhook = d.Get("configuration").String(), d.Get("webhook").String()
					}
					if p := d.Get("patch"); p.Exists() {
						m.Patch, m.PatchType = p.Raw, d.Get("patchType").String()
						m.Mutated = true // a webhook's patch is logged only when it changed the object
					}
				}
			case strings.HasPrefix(key, failedOpenMutating), strings.HasPrefix(key, failedOpenValidating):
				mutating := strings.HasPrefix(key, failedOpenMutating)
				rest := strings.TrimPrefix(strings.TrimPrefix(key, failedOpenMutating), failedOpenValidating)
				round, index, _ := roundIndex(rest)
				failed = append(failed, FailedWebhook{Mutating: mutating, Round: round, Index: index, Webhook: v.String()})
			}
			return true
		})
		slices.SortFunc(muts, func(a, b Mutation) int {
			if a.Round != b.Round {
				return a.Round - b.Round
			}
			return a.Index - b.Index
		})
		slices.SortFunc(failed, func(a, b FailedWebhook) int {
			if a.Mutating != b.Mutating { // mutating webhooks run first
				if a.Mutating {
					return -1
				}
				return 1
			}
			if a.Round != b.Round {
				return a.Round - b.Round
			}
			return a.Index - b.Index
		})
		return muts, failed
	}
	return nil, nil
}

func whyRefused(r *Request, raw func(Ref) ([]byte, error)) Refusal {
	if r.Decision == "forbid" {
		return Refusal{By: RefusedByRBAC, Said: r.Reason}
	}
	if r.Code != 403 {
		if r.Decision == "allow" && r.Code >= 400 {
			if f := admissionRefusal(r.Message); f.By != RefusedByAdmission {
				return withAnnotations(f, r, raw)
			}
		}
		return Refusal{}
	}
	if r.Decision != "allow" {
		return Refusal{By: RefusedUnknown, Said: r.Message}
	}
	return withAnnotations(admissionRefusal(r.Message), r, raw)
}

// admissionRefusal reads which admission control refused a request from
// its status message; RefusedByAdmission when none is named.
func admissionRefusal(msg string) Refusal {
	// the webhook's denial is the whole message (webhookerrors.ToStatusErr)
	if rest, ok := strings.CutPrefix(msg, `admission webhook "`); ok {
		if name, said, ok := strings.Cut(rest, `" denied the request`); ok {
			said = strings.TrimPrefix(said, ": ")
			return Refusal{By: RefusedByWebhook, Control: name, Said: strings.TrimPrefix(said, " ")}
		}
	}
	// the others follow `<resource> "<name>" is forbidden: ` (object names
	// are DNS names: no quotes, colons or spaces in them)
	_, reason, ok := strings.Cut(msg, " is forbidden: ")
	if !ok {
		reason = msg
	}
	if rest, ok := strings.CutPrefix(reason, `violates PodSecurity "`); ok {
		level, said, _ := strings.Cut(rest, `": `)
		return Refusal{By: RefusedByPodSecurity, Control: level, Said: said}
	}
	if rest, ok := strings.CutPrefix(reason, "ValidatingAdmissionPolicy '"); ok {
		if policy, rest, ok := strings.Cut(rest, "' with binding '"); ok {
			if binding, said, ok := strings.Cut(rest, "' denied request"); ok {
				return Refusal{By: RefusedByPolicy, Control: policy, Binding: binding, Said: strings.TrimPrefix(said, ": ")}
			}
		}
	}
	for _, p := range []string{"exceeded quota: ", "failed quota: "} {
		if rest, ok := strings.CutPrefix(reason, p); ok {
			name, _, _ := strings.Cut(rest, ",")
			name, _, _ = strings.Cut(name, ":")
			return Refusal{By: RefusedByQuota, Control: name, Said: strings.TrimSuffix(p, ": ") + ": " + rest}
		}
	}
	return Refusal{By: RefusedByAdmission, Said: msg}
}

// withAnnotations completes a refusal by admission from the annotations of
// the request's last event that has them: PodSecurity's enforce level, a
// policy's validation_failure (written when the binding audits).
func withAnnotations(f Refusal, r *Request, raw func(Ref) ([]byte, error)) Refusal {
	if raw == nil || f.By != RefusedByPodSecurity && f.By != RefusedByPolicy && f.By != RefusedByAdmission {
		return f
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		line, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		ann := gjson.GetBytes(line, "annotations")
		if !ann.IsObject() {
			continue
		}
		if level := ann.Get(`pod-security\.kubernetes\.io/enforce-policy`); f.By == RefusedByPodSecurity && level.Type == gjson.String {
			f.Control = level.Str
		}
		if vf := ann.Get(`validation\.policy\.admission\.k8s\.io/validation_failure`); vf.Type == gjson.String && f.By != RefusedByPodSecurity {
			// a JSON array of {message, policy, binding, validationActions}
			for _, d := range gjson.Parse(vf.Str).Array() {
				acts := d.Get("validationActions").String()
				if !strings.Contains(acts, `"Deny"`) {
					continue
				}
				if f.By == RefusedByPolicy && (d.Get("policy").String() != f.Control || d.Get("binding").String() != f.Binding) {
					continue
				}
				f = Refusal{By: RefusedByPolicy, Control: d.Get("policy").String(), Binding: d.Get("binding").String(), Said: d.Get("message").String()}
				break
			}
		}
		break
	}
	return f
}
