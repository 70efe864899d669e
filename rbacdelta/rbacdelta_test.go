package rbacdelta

import (
	"context"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

func meta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

func ref(kind, name string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
}

// erin-editor's requests in the harness's real file log, against RBAC
// objects made here: a Role reading deployments in team-a bound to her, a
// ClusterRole for /openapi/* bound to her group, ClusterRole edit bound in
// team-b (not where she worked) and to another user. Each request is
// allowed exactly when one of the first two covers it, as said here apart.
func TestAllowsOnTheFileLog(t *testing.T) {
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{audittest.Path("file", "audit.log")}}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	all := []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}
	o := &Objects{
		Roles: []rbacv1.Role{{ObjectMeta: meta("team-a", "reader"), Rules: []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}}}}},
		ClusterRoles: []rbacv1.ClusterRole{
			{ObjectMeta: meta("", "openapi"), Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/openapi/*"}, Verbs: []string{"get"}}}},
			{ObjectMeta: meta("", "edit"), Rules: all},
		},
		RoleBindings: []rbacv1.RoleBinding{
			{ObjectMeta: meta("team-a", "erin-reads"), RoleRef: ref("Role", "reader"), Subjects: []rbacv1.Subject{{Kind: "User", Name: "erin-editor"}}},
			{ObjectMeta: meta("team-b", "erin-edits-b"), RoleRef: ref("ClusterRole", "edit"), Subjects: []rbacv1.Subject{{Kind: "User", Name: "erin-editor"}}},
			{ObjectMeta: meta("team-a", "lou-edits"), RoleRef: ref("ClusterRole", "edit"), Subjects: []rbacv1.Subject{{Kind: "User", Name: "lou-viewer"}}},
		},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{
			{ObjectMeta: meta("", "devs-openapi"), RoleRef: ref("ClusterRole", "openapi"), Subjects: []rbacv1.Subject{{Kind: "Group", Name: "kubyk:developers"}}},
		},
	}
	n, yes := 0, 0
	for _, r := range st.Snapshot().Requests {
		if r.User != "erin-editor" || r.ImpersonatedUser != "" {
			continue
		}
		n++
		g := For(o, r.User, r.Groups)
		want := r.Namespace == "team-a" && r.APIGroup == "apps" && r.Resource == "deployments" && r.Subresource == "" && slices.Contains([]string{"get", "list", "watch"}, r.Verb) ||
			r.Resource == "" && r.Verb == "get" && strings.HasPrefix(r.RequestURI(), "/openapi/")
		ok, via := g.Allows(audit.PermissionOf(r))
		if ok != want {
			t.Errorf("%s %s %s/%s %s: allowed %v (%s), want %v", r.Verb, r.RequestURI(), r.Resource, r.Subresource, r.Namespace, ok, via, want)
		}
		if ok {
			yes++
		}
	}
	if n < 10 || yes == 0 || yes == n {
		t.Fatalf("%d of erin-editor's %d requests allowed: the log no longer tests both ways", yes, n)
	}
	g := For(o, "erin-editor", []string{"kubyk:developers", "system:authenticated"})
	want := []string{"ClusterRole edit through RoleBinding team-b/erin-edits-b", "ClusterRole openapi through ClusterRoleBinding devs-openapi", "Role reader through RoleBinding team-a/erin-reads"}
	if !slices.Equal(g.Bindings, want) {
		t.Errorf("bindings %q, want %q", g.Bindings, want)
	}
}

// Crafted edges of the authorizer's semantics.
func TestAllowsEdges(t *testing.T) {
	rule := func(verbs []string, res string, names ...string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{res}, Verbs: verbs, ResourceNames: names}
	}
	o := &Objects{
		Roles: []rbacv1.Role{
			{ObjectMeta: meta("a", "exec-get"), Rules: []rbacv1.PolicyRule{rule([]string{"get"}, "pods/exec"), rule([]string{"get", "create", "list"}, "configmaps", "cfg")}},
			{ObjectMeta: meta("a", "ns"), Rules: []rbacv1.PolicyRule{rule([]string{"get"}, "namespaces")}},
		},
		RoleBindings: []rbacv1.RoleBinding{
			// a ServiceAccount subject without a namespace is the binding's
			{ObjectMeta: meta("a", "b"), RoleRef: ref("Role", "exec-get"), Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "bot"}}},
			{ObjectMeta: meta("a", "n"), RoleRef: ref("Role", "ns"), Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "bot", Namespace: "a"}}},
		},
	}
	g := For(o, "system:serviceaccount:a:bot", []string{"system:serviceaccounts", "system:serviceaccounts:a", "system:authenticated"})
	for _, c := range []struct {
		p    audit.Permission
		want bool
	}{
		// exec needs get and create (1.35+): get alone is not enough
		{audit.Permission{Verb: "get", Resource: "pods/exec", Namespace: "a", Name: "web"}, false},
		// a rule limited to names allows a get of that name, not another
		{audit.Permission{Verb: "get", Resource: "configmaps", Namespace: "a", Name: "cfg"}, true},
		{audit.Permission{Verb: "get", Resource: "configmaps", Namespace: "a", Name: "other"}, false},
		// a list names nothing at authorization, so resourceNames never allow it
		{audit.Permission{Verb: "list", Resource: "configmaps", Namespace: "a"}, false},
		// a create names nothing at authorization either, though the log names the object
		{audit.Permission{Verb: "create", Resource: "configmaps", Namespace: "a", Name: "cfg"}, false},
		// another namespace
		{audit.Permission{Verb: "get", Resource: "configmaps", Namespace: "b", Name: "cfg"}, false},
		// GET /api/v1/namespaces/a is in namespace a for RBAC
		{audit.Permission{Verb: "get", Resource: "namespaces", Name: "a"}, true},
		{audit.Permission{Verb: "get", Resource: "namespaces", Name: "b"}, false},
	} {
		if ok, _ := g.Allows(c.p); ok != c.want {
			t.Errorf("%s: allowed %v, want %v", c.p, ok, c.want)
		}
	}
	if ok, via := For(&Objects{}, "root", []string{Masters}).Allows(audit.Permission{Verb: "delete", Resource: "nodes"}); !ok || !strings.Contains(via, Masters) {
		t.Errorf("system:masters: %v %s", ok, via)
	}
}

// The RBAC answer as a delta (render.RBACDeltaText with For), on
// erin-editor's real requests: the granted reads are said, and left out
// of the Role; with everything granted, nothing is proposed.
func TestDeltaText(t *testing.T) {
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{audittest.Path("file", "audit.log")}}, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	var reqs []*audit.Request
	for _, r := range st.Snapshot().Requests {
		if r.User == "erin-editor" {
			reqs = append(reqs, r)
		}
	}
	reader := &Objects{
		Roles:        []rbacv1.Role{{ObjectMeta: meta("team-a", "reader"), Rules: []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}}}}},
		RoleBindings: []rbacv1.RoleBinding{{ObjectMeta: meta("team-a", "erin-reads"), RoleRef: ref("Role", "reader"), Subjects: []rbacv1.Subject{{Kind: "User", Name: "erin-editor"}}}},
	}
	delta := func(o *Objects) *render.RBACDelta {
		return &render.RBACDelta{Against: "the test", For: func(u string, g []string) (func(audit.Permission) (bool, string), []string) {
			gr := For(o, u, g)
			return gr.Allows, gr.Bindings
		}}
	}
	full, err := render.RBACText(reqs, set.Raw)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := render.RBACDeltaText(reqs, set.Raw, delta(reader))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{
		"#   bound: Role reader through RoleBinding team-a/erin-reads",
		"#   granted already: list deployments.apps in namespace team-a (Role reader through RoleBinding team-a/erin-reads)",
		"#   granted already: get deployments.apps named kubyk-web in namespace team-a (Role reader through RoleBinding team-a/erin-reads)",
		"# what is still missing, and nothing more:",
		"  verbs: [\"create\"]",                        // deployments, unnamed
		"  verbs: [\"update\", \"patch\", \"delete\"]", // kubyk-web, without get
		"- nonResourceURLs: [\"/openapi/v3\"",          // not granted here
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
	if !strings.Contains(strings.Join(full, "\n"), `verbs: ["list", "watch", "create"]`) || strings.Contains(text, `"list"`) || strings.Contains(text, `"watch"`) {
		t.Errorf("the reads are proposed although granted:\n%s", text)
	}
	edit := &Objects{
		ClusterRoles: []rbacv1.ClusterRole{{ObjectMeta: meta("", "all"), Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}, {NonResourceURLs: []string{"*"}, Verbs: []string{"get"}}}}},
		ClusterRoleBindings: []rbacv1.ClusterRoleBinding{{ObjectMeta: meta("", "devs"), RoleRef: ref("ClusterRole", "all"), Subjects: []rbacv1.Subject{{Kind: "Group", Name: "kubyk:developers"}}}},
	}
	lines, err = render.RBACDeltaText(reqs, set.Raw, delta(edit))
	if err != nil {
		t.Fatal(err)
	}
	if last := lines[len(lines)-1]; last != "# nothing missing: that RBAC grants every permission these requests needed" || strings.Contains(strings.Join(lines, "\n"), "apiVersion") {
		t.Errorf("everything granted:\n%s", strings.Join(lines, "\n"))
	}
}
