// Package rbacdelta tells which of the permissions a user was seen using
// a cluster's RBAC grants already (`query --rbac FILTER --missing`): the
// Roles, ClusterRoles and bindings, read from the cluster, that apply to
// the user and their groups, and Kubernetes' own rule comparator
// (k8s.io/component-helpers/auth/rbac/validation.Covers, the one the
// apiserver's escalation check uses) on each permission as the authorizer
// checks it (audit.Permission.Checks). It is apart from render so that the
// views do not pull in client-go's typed clients.
package rbacdelta

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/component-helpers/auth/rbac/validation"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
)

// Objects are a cluster's RBAC objects.
type Objects struct {
	Roles               []rbacv1.Role
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
}

// Read lists the cluster's Roles, ClusterRoles and bindings (in every
// namespace): the reader needs list on the four of them.
func Read(ctx context.Context, cs kubernetes.Interface) (*Objects, error) {
	var o Objects
	rbac := cs.RbacV1()
	roles, err := rbac.Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing Roles: %w", err)
	}
	croles, err := rbac.ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing ClusterRoles: %w", err)
	}
	rbs, err := rbac.RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing RoleBindings: %w", err)
	}
	crbs, err := rbac.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing ClusterRoleBindings: %w", err)
	}
	o.Roles, o.ClusterRoles, o.RoleBindings, o.ClusterRoleBindings = roles.Items, croles.Items, rbs.Items, crbs.Items
	return &o, nil
}

// Masters is the group the apiserver allows everything, before RBAC.
const Masters = "system:masters"

// bound is a role's rules granted through one binding.
type bound struct {
	rules []rbacv1.PolicyRule
	via   string // "ClusterRole view through RoleBinding team-a/lou-view"
}

// Grants is what a cluster's RBAC grants one identity: the rules of the
// ClusterRoleBindings that bind it (everywhere), and per namespace those of
// its RoleBindings there.
type Grants struct {
	masters bool
	cluster []bound
	byNS    map[string][]bound
	// Bindings is every binding that binds the identity, in words.
	Bindings []string
}

// For is what o grants user (with groups, as the audit event logged them:
// system:authenticated and the service-account groups included).
func For(o *Objects, user string, groups []string) *Grants {
	g := &Grants{masters: slices.Contains(groups, Masters), byNS: map[string][]bound{}}
	clusterRole := func(name string) (*rbacv1.ClusterRole, bool) {
		for i := range o.ClusterRoles {
			if o.ClusterRoles[i].Name == name {
				return &o.ClusterRoles[i], true
			}
		}
		return nil, false
	}
	for _, b := range o.ClusterRoleBindings {
		if !bindsAny(b.Subjects, user, groups, "") || b.RoleRef.Kind != "ClusterRole" {
			continue
		}
		via := "ClusterRole " + b.RoleRef.Name + " through ClusterRoleBinding " + b.Name
		g.Bindings = append(g.Bindings, via)
		if r, ok := clusterRole(b.RoleRef.Name); ok {
			g.cluster = append(g.cluster, bound{r.Rules, via})
		}
	}
	for _, b := range o.RoleBindings {
		if !bindsAny(b.Subjects, user, groups, b.Namespace) {
			continue
		}
		via := b.RoleRef.Kind + " " + b.RoleRef.Name + " through RoleBinding " + b.Namespace + "/" + b.Name
		g.Bindings = append(g.Bindings, via)
		var rules []rbacv1.PolicyRule
		switch b.RoleRef.Kind {
		case "ClusterRole":
			if r, ok := clusterRole(b.RoleRef.Name); ok {
				rules = r.Rules
			}
		case "Role":
			for _, r := range o.Roles {
				if r.Namespace == b.Namespace && r.Name == b.RoleRef.Name {
					rules = r.Rules
				}
			}
		}
		g.byNS[b.Namespace] = append(g.byNS[b.Namespace], bound{rules, via})
	}
	slices.Sort(g.Bindings)
	return g
}

// bindsAny reports whether a binding's subjects name the identity, as the
// RBAC authorizer matches them: a User by name, a Group among the groups, a
// ServiceAccount by its username (its namespace defaulting to the
// binding's).
func bindsAny(subjects []rbacv1.Subject, user string, groups []string, bindingNS string) bool {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			if s.Name == user {
				return true
			}
		case rbacv1.GroupKind:
			if slices.Contains(groups, s.Name) {
				return true
			}
		case rbacv1.ServiceAccountKind:
			ns := s.Namespace
			if ns == "" {
				ns = bindingNS
			}
			if ns != "" && user == "system:serviceaccount:"+ns+":"+s.Name {
				return true
			}
		}
	}
	return false
}

// Allows reports whether the identity may do p, and through what: every
// check of p (audit.Permission.Checks) covered by a rule of a binding that
// applies where p is (its namespace's RoleBindings and the
// ClusterRoleBindings; a cluster-wide or URL permission, the
// ClusterRoleBindings only).
func (g *Grants) Allows(p audit.Permission) (bool, string) {
	if g.masters {
		return true, "group " + Masters + " (the apiserver allows it everything, before RBAC)"
	}
	var vias []string
	for _, c := range p.Checks() {
		via, ok := g.allows(c)
		if !ok {
			return false, ""
		}
		if !slices.Contains(vias, via) {
			vias = append(vias, via)
		}
	}
	return true, strings.Join(vias, "; ")
}

func (g *Grants) allows(p audit.Permission) (string, bool) {
	want := rbacv1.PolicyRule{Verbs: []string{p.Verb}}
	if p.Resource == "" {
		want.NonResourceURLs = []string{p.URL}
	} else {
		want.APIGroups, want.Resources = []string{p.Group}, []string{p.Resource}
		if p.Name != "" {
			want.ResourceNames = []string{p.Name}
		}
	}
	where := g.cluster
	ns := p.Namespace
	if res, _, _ := strings.Cut(p.Resource, "/"); p.Group == "" && res == "namespaces" {
		// the apiserver takes /api/v1/namespaces/NAME as a request in
		// namespace NAME: that namespace's RoleBindings apply
		// (audit.PermissionOf words it cluster-wide)
		ns = p.Name
	}
	if p.Resource != "" && ns != "" {
		where = append(slices.Clone(g.cluster), g.byNS[ns]...)
	}
	for _, b := range where {
		if ok, _ := validation.Covers(b.rules, []rbacv1.PolicyRule{want}); ok {
			return b.via, true
		}
	}
	return "", false
}

// Text is the RBAC answer for reqs less what o, the RBAC of the cluster at
// host, grants already (render.RBACDeltaText).
func (o *Objects) Text(reqs []*audit.Request, raw func(audit.Ref) ([]byte, error), host string) ([]string, error) {
	return render.RBACDeltaText(reqs, raw, &render.RBACDelta{
		Against: "the cluster at " + host,
		For: func(user string, groups []string) (func(audit.Permission) (bool, string), []string) {
			g := For(o, user, groups)
			return g.Allows, g.Bindings
		},
	})
}
