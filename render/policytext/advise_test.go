package policytext

import (
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/setup"
)

// Crafted (the harness's apiserver has no such traffic): the control plane
// and a service account flood the log with what a proposal must never
// drop: lease renewals (writes), reads of secrets, RBAC and webhooks, an
// exec (get pods/exec), a kubelet's pods/log; and a person lists pods a
// thousand times. Nothing of it is proposed; the one routine read is.
func TestProposeNeverTouchesWhatMatters(t *testing.T) {
	var reqs []*audit.Request
	add := func(n int, user, verb, group, resource, sub string) {
		for range n {
			groups := []string{"system:authenticated"}
			if strings.HasPrefix(user, "system:node:") {
				groups = append(groups, "system:nodes")
			}
			r := audit.NewRequest(audit.Who{User: user, Groups: groups},
				audit.What{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub, Namespace: "kube-system", Level: "Metadata", Code: 200}, "id", "/x", "")
			r.Events = []audit.EventRef{audit.NewEventRef(audit.Ref{Len: 500}, "ResponseComplete", r.First())}
			reqs = append(reqs, r)
		}
	}
	kcm := "system:kube-controller-manager"
	add(1000, kcm, "update", "coordination.k8s.io", "leases", "")
	add(1000, kcm, "list", "", "secrets", "")
	add(1000, kcm, "watch", "rbac.authorization.k8s.io", "clusterroles", "")
	add(1000, kcm, "get", "admissionregistration.k8s.io", "validatingwebhookconfigurations", "")
	add(1000, "system:serviceaccount:ci:runner", "get", "", "pods", "exec")
	add(1000, "system:node:n1", "get", "", "pods", "log")
	add(1000, "kubernetes-admin", "list", "", "pods", "")
	add(1000, kcm, "patch", "", "configmaps", "")
	p, err := setup.PolicyFile("../../setup/policies/metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Propose(p, reqs); err != ErrNothingToPropose {
		t.Fatalf("proposed for what must stay: %v", err)
	}
	add(2000, "system:node:n1", "get", "", "nodes", "")
	prop, err := Propose(p, reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(prop.Added) != 1 || prop.Added[0].Field != "userGroups" || prop.Added[0].Who != "system:nodes" || prop.Added[0].Resource != "nodes" {
		t.Errorf("proposed %+v", prop.Added)
	}
	if prop.Dry.WritesKept != prop.Dry.Writes || prop.Dry.Writes != 4000 || prop.Dry.Kept.Requests != 8000 {
		t.Errorf("dry run %+v", prop.Dry)
	}
	if !strings.Contains(string(prop.YAML), "would have kept 80% of the lines (8000 of 10000), 80% of the bytes") {
		t.Errorf("%s", prop.YAML)
	}
}
