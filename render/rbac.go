package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kauditui/kauditui/audit"
)

// RBACIdentity is who RBAC checked a request as: the impersonated user when
// there is one, else the user.
func RBACIdentity(r *audit.Request) string {
	if r.ImpersonatedUser != "" {
		return r.ImpersonatedUser
	}
	return r.User
}

// RBACText explains one identity's requests for RBAC, as lines: a YAML
// comment per refusal saying in words what refused it (audit.WhyRefused:
// RBAC, an admission control, or the log cannot tell) and, for RBAC, what
// was missing (user, groups, verb, resource, namespace, name); then the
// smallest Role/ClusterRole and bindings that allow everything it was seen
// doing (or, for refusals only, what would allow those RBAC refused: none
// of those admission refused, nor those the log cannot attribute, which
// neither Role grants). The lines are YAML: comments, then documents,
// so they can go to kubectl apply --dry-run. Requests that were not
// authenticated (401) are left out; requests of several identities are an
// error that says how to narrow them. raw reads an event's line again (the
// annotations that name an admission control); nil does without.
func RBACText(reqs []*audit.Request, raw func(audit.Ref) ([]byte, error)) ([]string, error) {
	return RBACDeltaText(reqs, raw, nil)
}

// RBACDelta is what RBACDeltaText compares the permissions with: the RBAC
// an identity has now (rbacdelta.For, read from a cluster).
type RBACDelta struct {
	Against string // what the RBAC is, in words: "the cluster at https://..."
	// For is what RBAC grants the identity (user, with its groups as
	// logged): allows says whether a permission is granted and through
	// what; bindings are the bindings that name the identity, in words.
	For func(user string, groups []string) (allows func(audit.Permission) (bool, string), bindings []string)
}

// maxGranted bounds the comment lines that list what is granted already.
const maxGranted = 30

// RBACDeltaText is RBACText that, with d, proposes only the permissions
// the RBAC of d does not grant yet, and says in comments which bindings
// apply and what they grant already. d nil: RBACText.
func RBACDeltaText(reqs []*audit.Request, raw func(audit.Ref) ([]byte, error), d *RBACDelta) ([]string, error) {
	var ids []string
	var kept []*audit.Request
	for _, r := range reqs {
		id := RBACIdentity(r)
		if id == "" || r.Code == 401 || r.Verb == "" {
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		kept = append(kept, r)
	}
	switch {
	case len(ids) == 0:
		return nil, fmt.Errorf("no authenticated request matches: nothing to grant")
	case len(ids) > 1:
		more := ""
		if len(ids) > 3 {
			more = ", ..."
			ids = ids[:3]
		}
		return nil, fmt.Errorf("requests of %d users match (%s%s): narrow to one with user=NAME", len(ids), Sanitize(strings.Join(ids, ", ")), more)
	}
	id := ids[0]
	var groups []string
	var perms, refusedPerms []audit.Permission
	refused, byAdmission, unknown := 0, 0, 0
	// The same refusal repeated (a retrying client) is told once, with how
	// often and when.
	type refusal struct {
		first, last *audit.Request
		why         audit.Refusal
		n           int
	}
	var refusals []*refusal
	byKind := map[string]*refusal{}
	for _, r := range kept {
		if groups == nil {
			groups = r.Groups
			if r.ImpersonatedUser != "" {
				groups = r.ImpersonatedGroups
			}
		}
		perm := audit.PermissionOf(r)
		why := audit.WhyRefused(r, raw)
		if why.By != audit.RefusedUnknown {
			perms = append(perms, perm)
		}
		if why.By == audit.NotRefused {
			continue
		}
		refused++
		switch {
		case why.Admission():
			byAdmission++
		case why.By == audit.RefusedUnknown:
			// refused before authorization (impersonation) or by something
			// else: a Role for the permission it asked is a guess, left out
			// of both Roles
			unknown++
		default:
			refusedPerms = append(refusedPerms, perm)
		}
		k := strconv.Itoa(r.Code) + "\x00" + perm.String() + "\x00" + r.Reason + "\x00" + why.Who()
		if d := byKind[k]; d != nil {
			d.n++
			d.last = r
			continue
		}
		d := &refusal{first: r, last: r, why: why, n: 1}
		byKind[k] = d
		refusals = append(refusals, d)
	}
	var out []string
	for _, d := range refusals {
		r := d.first
		when := historyTime(r.First())
		if d.n > 1 {
			when = fmt.Sprintf("%d times, %s to %s", d.n, historyTime(r.First()), historyTime(d.last.First()))
		}
		perm := Sanitize(audit.PermissionOf(r).String())
		switch {
		case d.why.Admission():
			end := "and no Role lets it through"
			if !d.why.Named() {
				end = "so no Role is proposed for it"
			}
			out = append(out, fmt.Sprintf("# refused %s (%d) by %s, not RBAC: %s may %s, %s",
				when, r.Code, Sanitize(d.why.Who()), Sanitize(id), perm, end))
			if d.why.Said != "" {
				out = append(out, "#   it said: "+Sanitize(d.why.Said))
			}
		case d.why.By == audit.RefusedUnknown:
			out = append(out, fmt.Sprintf("# denied %s (%d): %s may not %s, if RBAC refused it: %s",
				when, r.Code, Sanitize(id), perm, "the log cannot tell (no authorization.k8s.io/decision annotation), so no Role is proposed for it"))
			if d.why.Said != "" {
				out = append(out, "#   message: "+Sanitize(d.why.Said))
			}
		default:
			out = append(out, fmt.Sprintf("# denied %s (%d): %s may not %s", when, r.Code, Sanitize(id), perm))
			if r.Reason != "" {
				out = append(out, "#   reason: "+Sanitize(r.Reason))
			}
		}
	}
	head := fmt.Sprintf("# %d requests by %s", len(kept), Sanitize(id))
	if len(kept) == 1 {
		head = "# 1 request by " + Sanitize(id)
	}
	if len(groups) > 0 {
		head += " (groups " + Sanitize(strings.Join(groups, ", ")) + ")"
	}
	switch {
	case byAdmission > 0:
		head += fmt.Sprintf(", %d refused (%d by admission, after RBAC allowed them)", refused, byAdmission)
	case refused > 0:
		head += ", " + strconv.Itoa(refused) + " denied"
	}
	out = append([]string{head}, out...)
	what := "# the least privilege for all of them:"
	if byAdmission > 0 {
		what = "# the least privilege for all of them (RBAC allowed those admission refused: the Role keeps what they used):"
	}
	if refused == len(kept) {
		// refusals only: what would let them through, and nothing more
		perms = refusedPerms
		what = "# what would allow them, and nothing more:"
		if byAdmission+unknown > 0 {
			what = "# what would allow those RBAC refused, and nothing more:"
		}
		switch {
		case len(perms) > 0:
		case byAdmission == refused:
			return append(out, "# no Role: RBAC allowed every one of them; change the object or the admission control that refused it"), nil
		default:
			return append(out, "# no Role: the log shows RBAC refusing none of them"), nil
		}
	}
	if d != nil {
		allows, bindings := d.For(id, groups)
		out = append(out, "# compared with the RBAC of "+Sanitize(d.Against)+" now (RBAC only: not the Node authorizer nor a webhook authorizer):")
		if len(bindings) == 0 {
			out = append(out, "#   no binding there names "+Sanitize(id)+" or one of its groups")
		}
		for _, b := range bindings {
			out = append(out, "#   bound: "+Sanitize(b))
		}
		var missing []audit.Permission
		var granted []string
		for _, p := range perms {
			ok, via := allows(p)
			if !ok {
				missing = append(missing, p)
				continue
			}
			if l := "#   granted already: " + Sanitize(p.String()) + " (" + Sanitize(via) + ")"; !slices.Contains(granted, l) {
				granted = append(granted, l)
			}
		}
		if len(granted) > maxGranted {
			granted = append(granted[:maxGranted], fmt.Sprintf("#   ... and %d more granted already", len(granted)-maxGranted))
		}
		out = append(out, granted...)
		if len(missing) == 0 {
			return append(out, "# nothing missing: that RBAC grants every permission these requests needed"), nil
		}
		perms = missing
		what = "# what is still missing, and nothing more:"
	}
	out = append(out, what)
	name := "kauditui-" + rbacSlug(id)
	for _, l := range strings.Split(strings.TrimRight(audit.RoleYAML(audit.SubjectOf(id), name, perms, nil), "\n"), "\n") {
		out = append(out, Sanitize(l))
	}
	return out, nil
}

// rbacSlug makes a username a part of an object name: lower-case letters,
// digits and dashes.
func rbacSlug(user string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(user) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) > 50 {
		s = strings.TrimRight(s[:50], "-")
	}
	if s == "" {
		s = "user"
	}
	return s
}

// AdmissionChanges is what admission did to a request it let through (or
// ran before refusing it), in words, one line each, sanitised: which
// mutating webhook patched the object (with its patch when the policy
// logged it), which webhooks failed open. No lines when it changed nothing.
// Detail, the History and query --history show these lines.
func AdmissionChanges(f audit.Refusal) []string {
	var out []string
	for _, m := range f.Patched() {
		s := fmt.Sprintf(`patched by mutating webhook "%s"`, Sanitize(m.Webhook))
		if m.Configuration != "" && m.Configuration != m.Webhook {
			s += fmt.Sprintf(` (configuration "%s")`, Sanitize(m.Configuration))
		}
		s += fmt.Sprintf(", round %d", m.Round)
		if m.Patch != "" {
			s += ": " + TruncateCells(Sanitize(m.Patch), 4*historyValueMax)
		}
		out = append(out, s)
	}
	for _, w := range f.FailedOpen {
		kind := "validating"
		if w.Mutating {
			kind = "mutating"
		}
		out = append(out, fmt.Sprintf(`%s webhook "%s" failed open: its call failed (no answer, or an error) and its failurePolicy is Ignore, so the request went on without it`,
			kind, Sanitize(w.Webhook)))
	}
	return out
}

// AdmissionSummary is one line for a request's list row: who refused it
// (admission), or who changed it; "" when admission did neither.
func AdmissionSummary(f audit.Refusal) string {
	var parts []string
	if f.Admission() {
		parts = append(parts, "refused by "+f.Who())
	}
	var patched []string
	for _, m := range f.Patched() {
		patched = append(patched, m.Webhook)
	}
	if len(patched) > 0 {
		parts = append(parts, "patched by "+strings.Join(patched, ", "))
	}
	var failed []string
	for _, w := range f.FailedOpen {
		failed = append(failed, w.Webhook)
	}
	if len(failed) > 0 {
		parts = append(parts, "failed open: "+strings.Join(failed, ", "))
	}
	return Sanitize(strings.Join(parts, "; "))
}
