package ui

import (
	"strings"

	"github.com/kauditui/kauditui/filter"
)

// answer is one ready question of the Answers page: a filter and the page to
// show it on. Answers that need an object first (who deleted X?) have a
// Prompt; the object the user types is added to Filter by Expr.
type answer struct {
	ID     string // stable identifier, used by tests and the e2e script
	Name   string // the question, as listed in the menu
	Desc   string // one line on what it shows and why
	Filter string // filter expression (the fixed part for prompted answers)
	Prompt string // placeholder of the object prompt; "" = no prompt
	Page   state  // where the answer is shown
	// ByLatency lists the matches slowest first on the Answers page itself:
	// the filter language has no latency field to sort the Requests view by.
	ByLatency bool
	// ShowCommand adds the exec/attach command (from the requestURI) to the
	// answer's result rows.
	ShowCommand bool
	// History opens the object's history (ui/history.go) instead of a page.
	History bool
	// ShowCred adds the credential (which admin.conf) to the result rows.
	ShowCred bool
	// Coverage opens what the log cannot see (render.CoverageText).
	Coverage bool
	// Timeline opens what happened when (ui/timeline.go).
	Timeline bool
	// Findings opens what the detection rules found (ui/findings.go).
	Findings bool
	// Admission keeps, of the filter's matches, the requests admission
	// refused or changed (audit.WhyRefused: the control that refused it,
	// the mutating webhooks that patched it, the webhooks that failed
	// open), listed on the Answers page with what it did.
	Admission bool
}

// answerCatalog is the menu, in order. Each Filter must parse (answers_test.go
// parses every one).
var answerCatalog = []answer{
	{
		ID:     "deleted",
		Name:   "Who deleted …?",
		Desc:   "successful deletes of one object (denied attempts: see Denied requests); e.g. deploy kubyk-web",
		Filter: "verb=delete code=2xx",
		Prompt: "KIND [NAMESPACE/]NAME   e.g. deploy kubyk-web",
		Page:   stateRequests,
	},
	{
		ID:      "history",
		Name:    "Changes to one object",
		Desc:    "every create, update, patch and delete of one object in time order, with what each changed where the policy logged bodies",
		Filter:  "verb=create,update,patch,delete code=2xx",
		Prompt:  "KIND [NAMESPACE/]NAME   e.g. deploy shop/web",
		Page:    stateRequests,
		History: true,
	},
	{
		ID:     "rbac",
		Name:   "RBAC changes",
		Desc:   "writes to roles, rolebindings, clusterroles and clusterrolebindings",
		Filter: "verb=create,update,patch,delete,deletecollection resource=roles,rolebindings,clusterroles,clusterrolebindings",
		Page:   stateRequests,
	},
	{
		ID:          "exec",
		Name:        "Exec, attach, port-forward into pods",
		Desc:        "any verb (kubectl 1.30+ execs with get over WebSockets), kubectl debug, nodes/proxy (the kubelet itself); commands from the URI",
		Filter:      filter.Exec,
		Page:        stateRequests,
		ShowCommand: true,
	},
	{
		ID:       "admins",
		Name:     "Which admin: admin credentials",
		Desc:     "requests of kubeadm's admins, each with the certificate it came with (admin.conf on this node, or unknown certificate …)",
		Filter:   "group=kubeadm:cluster-admins,system:masters",
		Page:     stateRequests,
		ShowCred: true,
	},
	{
		ID:     "secrets",
		Name:   "Secret reads",
		Desc:   "get, list and watch of secrets",
		Filter: "resource=secrets verb=get,list,watch",
		Page:   stateRequests,
	},
	{
		ID:     "denied",
		Name:   "Denied requests (401, 403)",
		Desc:   "failed authentication (401) and refusals (403) by RBAC or by admission: Detail says which",
		Filter: "code=401,403",
		Page:   stateRequests,
	},
	{
		ID:        "admission",
		Name:      "Why refused or changed by admission",
		Desc:      "requests an admission control refused after RBAC allowed them (webhook, PodSecurity, ValidatingAdmissionPolicy, quota), or a mutating webhook patched, or a webhook failed open; enter opens one",
		Filter:    "verb!=get,list,watch",
		Page:      stateAnswers,
		Admission: true,
	},
	{
		ID:     "anonymous",
		Name:   "Anonymous requests",
		Desc:   "requests that carried no credentials (system:anonymous)",
		Filter: "user=system:anonymous",
		Page:   stateRequests,
	},
	{
		ID:     "serviceaccounts",
		Name:   "Requests by service accounts",
		Desc:   "everything done by a service account token",
		Filter: "user=system:serviceaccount:*",
		Page:   stateRequests,
	},
	{
		ID:       "findings",
		Name:     "Findings: was this cluster attacked?",
		Desc:     "what kauditui's rules found (README: Findings), each with its MITRE ATT&CK technique, severity and why; enter opens the request(s)",
		Filter:   "",
		Page:     stateAnswers,
		Findings: true,
	},
	{
		ID:        "slow",
		Name:      "Slowest requests",
		Desc:      "slowest first, without watches (long-running by design); enter opens one",
		Filter:    "verb!=watch",
		Page:      stateAnswers,
		ByLatency: true,
	},
	{
		ID:       "timeline",
		Name:     "What happened when (per minute)",
		Desc:     "requests per minute (of the applied filter) with their users, verbs, codes and latency, and where the slow ones spent their time; +/- zoom, enter narrows to a minute",
		Filter:   "",
		Page:     stateAnswers,
		Timeline: true,
	},
	{
		ID:       "coverage",
		Name:     "What the log cannot see",
		Desc:     "the time each input covers, gaps of over 5 minutes with no event, shared auditIDs, writes logged without a body (no diff possible)",
		Filter:   "",
		Page:     stateAnswers,
		Coverage: true,
	},
}

// Expr is the filter expression of an answer; for a prompted answer, input
// names the object as filter.ParseObject reads it (deploy web -n shop, or just a name).
// Values go through filter.With, which quotes them, except a name with a
// '*', which is kept as a glob (kubyk-*).
func (a answer) Expr(input string) (string, error) {
	if a.Prompt == "" {
		return a.Filter, nil
	}
	kind, ns, name, err := parseObjectSpec(input)
	if err != nil {
		return "", err
	}
	expr := a.Filter
	if kind != "" {
		expr = filter.With(expr, "resource", kind, false)
	}
	if ns != "" {
		expr = filter.With(expr, "ns", ns, false)
	}
	if strings.Contains(name, "*") && !strings.ContainsAny(name, " \t\",") {
		return expr + " name=" + name, nil
	}
	expr = filter.With(expr, "name", name, false)
	return expr, nil
}

// parseObjectSpec reads the object a prompted answer asks for in kubectl's
// spellings (deploy web -n shop, deployments.apps/web, deploy shop/web):
// filter.ParseObject, which query --history reads too.
func parseObjectSpec(input string) (kind, ns, name string, err error) {
	o, err := filter.ParseObject(input)
	return o.Resource, o.Namespace, o.Name, err
}
