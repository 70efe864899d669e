package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// newRBACScreen is the RBAC of the identity a request was checked as,
// from every request of the store.
func newRBACScreen(env *Env, all []*audit.Request, read func(func()), r *audit.Request) (*historyScreen, error) {
	id := rbacIdentity(r)
	if id == "" {
		return nil, fmt.Errorf("this request was not authenticated: no user to grant anything")
	}
	var lines []string
	var err error
	read(func() {
		var reqs []*audit.Request
		for _, q := range all {
			if rbacIdentity(q) == id {
				reqs = append(reqs, q)
			}
		}
		lines, err = RBACText(reqs)
	})
	if err != nil {
		return nil, err
	}
	return &historyScreen{env: env, lines: lines, expr: filter.With("", "user", id, false),
		back: "this user's requests on the Requests page"}, nil
}

// rbacIdentity is who RBAC checked a request as: the impersonated user when
// there is one, else the user.
func rbacIdentity(r *audit.Request) string {
	if r.ImpersonatedUser != "" {
		return r.ImpersonatedUser
	}
	return r.User
}

// RBACText explains one identity's requests for RBAC, as lines: a YAML
// comment per denial saying in words what was missing (user, groups, verb,
// resource, namespace, name), then the smallest Role/ClusterRole and
// bindings that allow everything it was seen doing (or, for denials only,
// what would allow them). The lines are YAML: comments, then documents, so
// they can go to kubectl apply --dry-run. Requests that were not
// authenticated (401) are left out; requests of several identities are an
// error that says how to narrow them.
func RBACText(reqs []*audit.Request) ([]string, error) {
	var ids []string
	var kept []*audit.Request
	for _, r := range reqs {
		id := rbacIdentity(r)
		if id == "" || r.Code == 401 || r.Verb == "" {
			continue
		}
		if !contains(ids, id) {
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
		return nil, fmt.Errorf("requests of %d users match (%s%s): narrow to one with user=NAME", len(ids), sanitize(strings.Join(ids, ", ")), more)
	}
	id := ids[0]
	var groups []string
	var perms []audit.Permission
	denied := 0
	// The same denial repeated (a retrying client) is told once, with how
	// often and when.
	type denial struct {
		first, last *audit.Request
		n           int
	}
	var denials []*denial
	byKind := map[string]*denial{}
	for _, r := range kept {
		if groups == nil {
			groups = r.Groups
			if r.ImpersonatedUser != "" {
				groups = r.ImpersonatedGroups
			}
		}
		perms = append(perms, audit.PermissionOf(r))
		if r.Code == 403 || r.Decision == "forbid" {
			denied++
			k := strconv.Itoa(r.Code) + "\x00" + audit.PermissionOf(r).String() + "\x00" + r.Reason
			if d := byKind[k]; d != nil {
				d.n++
				d.last = r
				continue
			}
			d := &denial{first: r, last: r, n: 1}
			byKind[k] = d
			denials = append(denials, d)
		}
	}
	var out []string
	for _, d := range denials {
		r := d.first
		when := historyTime(r.First())
		if d.n > 1 {
			when = fmt.Sprintf("%d times, %s to %s", d.n, historyTime(r.First()), historyTime(d.last.First()))
		}
		out = append(out, fmt.Sprintf("# denied %s (%d): %s may not %s", when, r.Code,
			sanitize(id), sanitize(audit.PermissionOf(r).String())))
		if r.Reason != "" {
			out = append(out, "#   reason: "+sanitize(r.Reason))
		}
	}
	head := fmt.Sprintf("# %d requests by %s", len(kept), sanitize(id))
	if len(kept) == 1 {
		head = "# 1 request by " + sanitize(id)
	}
	if len(groups) > 0 {
		head += " (groups " + sanitize(strings.Join(groups, ", ")) + ")"
	}
	if denied > 0 {
		head += ", " + strconv.Itoa(denied) + " denied"
	}
	what := "# the least privilege for all of them:"
	if denied == len(kept) {
		what = "# what would allow them, and nothing more:"
	}
	out = append([]string{head}, out...)
	out = append(out, what)
	name := "kauditui-" + rbacSlug(id)
	for _, l := range strings.Split(strings.TrimRight(audit.RoleYAML(audit.SubjectOf(id), name, perms, nil), "\n"), "\n") {
		out = append(out, sanitize(l))
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

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
