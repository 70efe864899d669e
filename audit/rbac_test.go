package audit

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// refusedEvent is a ResponseComplete event of a create of configmaps in
// namespace locked, answered code with message, with these annotations.
// Crafted, modelled on what kube-apiserver v1.37.2 writes (testdata/admission/
// holds the real ones, which cmd_query_admission_test.go checks).
func refusedEvent(code int, message string, ann map[string]string) []byte {
	msg, _ := json.Marshal(message)
	a, _ := json.Marshal(ann)
	return fmt.Appendf(nil, `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-%d","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/locked/configmaps","verb":"create","user":{"username":"dev-pat"},"objectRef":{"resource":"configmaps","namespace":"locked","apiVersion":"v1"},"responseStatus":{"metadata":{},"status":"Failure","message":%s,"code":%d},"requestReceivedTimestamp":"2026-12-06T01:00:00.000000Z","stageTimestamp":"2026-12-06T01:00:00.010000Z","annotations":%s}`,
		len(message), msg, code, a)
}

func TestWhyRefused(t *testing.T) {
	allow := map[string]string{"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": `RBAC: allowed by RoleBinding "pat-edit/locked" of ClusterRole "edit" to User "dev-pat"`}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range allow {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	vapFailure := `[{"message":"blue configmaps are not allowed here","policy":"no-blue","binding":"no-blue-audited","expressionIndex":0,"validationActions":["Deny","Audit"]}]`
	for _, c := range []struct {
		name    string
		code    int
		message string
		ann     map[string]string
		want    Refusal
		admits  bool // Admission()
	}{
		{"rbac", 403, `configmaps is forbidden: User "dev-pat" cannot create resource "configmaps" in API group "" in the namespace "locked"`,
			map[string]string{"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": ""},
			Refusal{By: RefusedByRBAC}, false},
		// a user named like a webhook's message is still RBAC's 403
		{"rbac, hostile user", 403, `configmaps is forbidden: User "admission webhook \"x\" denied the request: y" cannot create resource "configmaps"`,
			map[string]string{"authorization.k8s.io/decision": "forbid"}, Refusal{By: RefusedByRBAC}, false},
		{"webhook", 403, `admission webhook "deny.example.com" denied the request: no`, allow,
			Refusal{By: RefusedByWebhook, Control: "deny.example.com", Said: "no"}, true},
		{"webhook without explanation", 403, `admission webhook "deny.example.com" denied the request without explanation`, allow,
			Refusal{By: RefusedByWebhook, Control: "deny.example.com", Said: "without explanation"}, true},
		// a webhook that sets no code is answered 400
		{"webhook 400", 400, `admission webhook "deny.example.com" denied the request: no`, allow,
			Refusal{By: RefusedByWebhook, Control: "deny.example.com", Said: "no"}, true},
		{"podsecurity", 403, `pods "root-shell" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "root-shell" must set securityContext.runAsNonRoot=true)`,
			with(map[string]string{"pod-security.kubernetes.io/enforce-policy": "restricted:latest"}),
			Refusal{By: RefusedByPodSecurity, Control: "restricted:latest", Said: `runAsNonRoot != true (pod or container "root-shell" must set securityContext.runAsNonRoot=true)`}, true},
		{"policy", 403, `configmaps "blue-quiet" is forbidden: ValidatingAdmissionPolicy 'no-blue' with binding 'no-blue-quiet' denied request: blue configmaps are not allowed here`, allow,
			Refusal{By: RefusedByPolicy, Control: "no-blue", Binding: "no-blue-quiet", Said: "blue configmaps are not allowed here"}, true},
		// the policy named only by the annotation its auditing binding writes
		{"policy by annotation", 403, `configmaps "blue" is forbidden: something the log does not spell`,
			with(map[string]string{"validation.policy.admission.k8s.io/validation_failure": vapFailure}),
			Refusal{By: RefusedByPolicy, Control: "no-blue", Binding: "no-blue-audited", Said: "blue configmaps are not allowed here"}, true},
		// an Audit-only failure of another binding is not what refused it
		{"audit-only policy failure", 403, `services "web" is forbidden: exceeded quota: locked-quota, requested: services=1, used: services=0, limited: services=0`,
			with(map[string]string{"validation.policy.admission.k8s.io/validation_failure": strings.Replace(vapFailure, `"Deny",`, "", 1)}),
			Refusal{By: RefusedByQuota, Control: "locked-quota", Said: "exceeded quota: locked-quota, requested: services=1, used: services=0, limited: services=0"}, true},
		{"namespace terminating", 403, `configmaps "x" is forbidden: unable to create new content in namespace locked because it is being terminated`, allow,
			Refusal{By: RefusedByAdmission, Said: `configmaps "x" is forbidden: unable to create new content in namespace locked because it is being terminated`}, true},
		// no decision annotation: whatever the message says, the log cannot tell
		{"no decision", 403, `admission webhook "deny.example.com" denied the request: no`, nil,
			Refusal{By: RefusedUnknown, Said: `admission webhook "deny.example.com" denied the request: no`}, false},
		{"not refused", 404, `configmaps "x" not found`, allow, Refusal{}, false},
		{"invalid", 422, `ConfigMap "x" is invalid: metadata.name: Invalid value`, allow, Refusal{}, false},
	} {
		st := NewStore()
		line := refusedEvent(c.code, c.message, c.ann)
		r, _, ok := st.AddEvent(line, Ref{Line: 1})
		if !ok {
			t.Fatalf("%s: event not read: %s", c.name, line)
		}
		raw := func(Ref) ([]byte, error) { return line, nil }
		got := WhyRefused(r, raw)
		if c.want.By == RefusedByRBAC {
			got.Said = "" // the reason
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: WhyRefused = %+v, want %+v", c.name, got, c.want)
		}
		if got.Admission() != c.admits || got.Admission() && got.RoleMayHelp() {
			t.Errorf("%s: Admission() = %v, RoleMayHelp() = %v", c.name, got.Admission(), got.RoleMayHelp())
		}
		// only a control the log names is said to let no Role through: a
		// refusal after RBAC it does not name may be the backend's own
		if got.Named() != (got.Admission() && got.By != RefusedByAdmission) {
			t.Errorf("%s: Named() = %v", c.name, got.Named())
		}
	}
}
