package main

// Why a 403 was refused, through `kauditui query --rbac`, on testdata/admission/
// (a real kube-apiserver's log of 403s that admission controls and RBAC gave
// dev-pat; expected.json says what hack/gen-admission.sh did and which control
// refused each one).

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kauditui/kauditui/audit/audittest"
)

var admissionDir = audittest.Path("admission")

// admissionWho is how kauditui names the control that refused a: the
// words of audit.Refusal.Who, from what the harness set up.
func admissionWho(a gjson.Result) string {
	c := a.Get("control").String()
	switch a.Get("refusedBy").String() {
	case "webhook":
		return `admission webhook "` + c + `"`
	case "podsecurity":
		return `PodSecurity "` + c + `"`
	case "policy":
		return `ValidatingAdmissionPolicy "` + c + `" (binding "` + a.Get("binding").String() + `")`
	case "quota":
		return `ResourceQuota "` + c + `"`
	}
	return ""
}

// permWords is the permission an action needed, as --rbac says it.
func permWords(a gjson.Result) string {
	res := a.Get("resource").String()
	if g := a.Get("apiGroup").String(); g != "" {
		res += "." + g
	}
	return a.Get("verb").String() + " " + res
}

// --rbac on dev-pat's 403s says what refused each: the admission control
// the harness set up (webhook, PodSecurity level, policy and binding,
// quota) with no Role for it, RBAC for the role binding, and "cannot tell"
// for the impersonation the apiserver refused before authorizing; the Role
// allows only what RBAC refused.
func TestQueryRBACSaysWhatRefusedA403(t *testing.T) {
	log := filepath.Join(admissionDir, "audit.log")
	r := runQueryTest(t, "", "--rbac", "user=dev-pat", "-q", "code=403", log)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	// lineOf is the comment line of the refusal of a (its words and name).
	lineOf := func(a gjson.Result, prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) && strings.Contains(l, permWords(a)) && strings.Contains(l, "in namespace "+a.Get("namespace").String()) &&
				(a.Get("refusedBy").String() == "rbac" || a.Get("refusedBy").String() == "impersonation" || strings.Contains(l, admissionWho(a))) {
				return l
			}
		}
		return ""
	}
	admission := 0
	for _, a := range audittest.Refusals(t) {
		if a.Get("code").Int() != 403 {
			continue // a policy's 422: not asked for here
		}
		step := a.Get("step").String()
		switch a.Get("refusedBy").String() {
		case "rbac":
			if l := lineOf(a, "# denied"); !strings.Contains(l, "dev-pat may not "+permWords(a)) || strings.Contains(l, "cannot tell") {
				t.Errorf("%s: --rbac does not say RBAC denied %s:\n%s", step, permWords(a), r.stdout)
			}
		case "impersonation":
			if l := lineOf(a, "# denied"); !strings.Contains(l, "the log cannot tell") {
				t.Errorf("%s: --rbac does not say the log cannot tell who refused it:\n%s", step, r.stdout)
			}
		default:
			admission++
			l := lineOf(a, "# refused")
			if !strings.Contains(l, "by "+admissionWho(a)+", not RBAC") || !strings.Contains(l, "no Role lets it through") {
				t.Errorf("%s: --rbac does not say %s refused it:\n%s", step, admissionWho(a), r.stdout)
			}
		}
	}
	// the Role: the role binding RBAC refused; nothing admission refused,
	// nor what the impersonation asked for (pat may list pods: what was
	// missing is an impersonate permission, which the log does not show)
	roles, croles, _ := rbacDocs(t, r.stdout)
	granted := map[string]bool{}
	var rules []rbacv1.PolicyRule
	for _, role := range roles {
		rules = append(rules, role.Rules...)
	}
	for _, role := range croles {
		rules = append(rules, role.Rules...)
	}
	for _, rule := range rules {
		for _, v := range rule.Verbs {
			for _, res := range rule.Resources {
				granted[v+" "+res] = true
			}
		}
	}
	for _, a := range audittest.Refusals(t) {
		g := a.Get("verb").String() + " " + a.Get("resource").String()
		switch a.Get("refusedBy").String() {
		case "rbac":
			if !granted[g] {
				t.Errorf("%s: the Role does not grant %s: %v\n%s", a.Get("step"), g, granted, r.stdout)
			}
		default:
			if granted[g] {
				t.Errorf("%s: the Role grants %s, which RBAC did not refuse\n%s", a.Get("step"), g, r.stdout)
			}
		}
	}
	if !strings.Contains(r.stdout, "refused (") || admission < 4 {
		t.Errorf("the head does not count the %d refused by admission:\n%s", admission, r.stdout)
	}

	// all of pat's requests: the least privilege keeps what RBAC allowed,
	// those admission refused too (they were authorized), never what the
	// impersonation asked
	r = runQueryTest(t, "", "--rbac", "user=dev-pat", log)
	roles, _, _ = rbacDocs(t, r.stdout)
	granted = map[string]bool{}
	for _, role := range roles {
		for _, rule := range role.Rules {
			for _, v := range rule.Verbs {
				granted[v+" "+rule.Resources[0]] = true
			}
		}
	}
	for _, a := range audittest.Refusals(t) {
		g := a.Get("verb").String() + " " + a.Get("resource").String()
		if want := a.Get("refusedBy").String() != "impersonation"; granted[g] != want {
			t.Errorf("%s: the least privilege grants %s: %v, want %v\n%s", a.Get("step"), g, granted[g], want, r.stdout)
		}
	}

	// refusals by admission only: no Role at all
	r = runQueryTest(t, "", "--rbac", "user=dev-pat", "-q", "code=403 verb=create resource=configmaps,pods,services", log)
	if r.code != 0 || strings.Contains(r.stdout, "kind:") || !strings.Contains(r.stdout, "# no Role: RBAC allowed every one of them") {
		t.Errorf("--rbac on refusals by admission only: want no Role, got (exit %d):\n%s", r.code, r.stdout)
	}
}
