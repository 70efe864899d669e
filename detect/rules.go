package detect

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// Who the control plane is: its own requests are not findings. kubeadm's
// controllers run as kube-system service accounts
// (--use-service-account-credentials), the kubelets as system:node:*.
const controlPlane = "system:kube-controller-manager,system:kube-scheduler,system:apiserver," +
	"system:serviceaccount:kube-system:*,system:node:*"

// allowed: the request passed authentication and authorization (it may
// still have failed later, like an exec into a pod with no node: 400).
const allowed = "code!=401,403"

// The resources whose bodies are pod specs, with the path of the spec.
var podSpecPaths = map[string]string{
	"pods":                   "requestObject.spec",
	"podtemplates":           "requestObject.template.spec",
	"deployments":            "requestObject.spec.template.spec",
	"replicasets":            "requestObject.spec.template.spec",
	"statefulsets":           "requestObject.spec.template.spec",
	"daemonsets":             "requestObject.spec.template.spec",
	"jobs":                   "requestObject.spec.template.spec",
	"replicationcontrollers": "requestObject.spec.template.spec",
	"cronjobs":               "requestObject.spec.jobTemplate.spec.template.spec",
}

// podWrites are the writes of pods and of workloads that carry a pod spec,
// except the control plane's own (the replicaset controller creates the pods
// of a deployment whose write was already looked at).
const podWrites = "resource=core/pods,core/podtemplates,core/replicationcontrollers,apps/deployments,apps/replicasets," +
	"apps/statefulsets,apps/daemonsets,batch/jobs,batch/cronjobs verb=create,update,patch code=2xx user!=" + controlPlane

const bindingWrites = "resource=rbac.authorization.k8s.io/clusterrolebindings,rbac.authorization.k8s.io/rolebindings " +
	"verb=create,update,patch code=2xx"

// builtin is the project's rule pack. Each Filter must parse (rules_test.go).
var builtin = []*Rule{
	{
		ID: "exec-control-plane", Title: "Exec or attach into a control-plane pod",
		Technique: "T1609", TechniqueName: "Container Administration Command", Severity: High,
		Why:    "a shell in the apiserver, etcd, controller-manager or scheduler pod reads the cluster's keys and every secret",
		Filter: "resource=core/pods/exec,core/pods/attach,core/pods/portforward,core/pods/ephemeralcontainers ns=kube-system name=kube-apiserver-*,etcd-*,kube-controller-manager-*,kube-scheduler-* " + allowed,
	},
	{
		ID: "rbac-bind-admin", Title: "Binding to cluster-admin or system:masters",
		Technique: "T1098.006", TechniqueName: "Account Manipulation: Additional Container Cluster Roles", Severity: High,
		Why:    "whoever the binding names can do anything in the cluster (or the namespace), and keeps it until the binding is removed",
		Filter: bindingWrites, body: bindAdmin, bodyWhat: "role bindings",
	},
	{
		ID: "rbac-bind-anonymous", Title: "Binding for anonymous or every authenticated user",
		Technique: "T1078.001", TechniqueName: "Valid Accounts: Default Accounts", Severity: High,
		Why:    "system:anonymous, system:unauthenticated and system:authenticated are anyone who reaches the apiserver (or has any credential)",
		Filter: bindingWrites, body: bindAnonymous, bodyWhat: "role bindings",
	},
	{
		ID: "secrets-cluster-wide", Title: "Secrets listed or watched across namespaces",
		Technique: "T1552.007", TechniqueName: "Unsecured Credentials: Container API", Severity: High,
		Why:    "one request returns every secret of the cluster: tokens, certificates and passwords",
		Filter: `resource=core/secrets verb=list,watch ns="" code=2xx user!=` + controlPlane,
	},
	{
		ID: "privileged-pod", Title: "Privileged container",
		Technique: "T1611", TechniqueName: "Escape to Host", Severity: High,
		Why:    "a privileged container is root on its node: it can load kernel modules, read the node's disks and every pod's secrets there",
		Filter: podWrites, body: podCheck(privileged), bodyWhat: "pod specs",
	},
	{
		ID: "host-namespace-pod", Title: "Pod in the node's PID, network or IPC namespace",
		Technique: "T1611", TechniqueName: "Escape to Host", Severity: High,
		Why:    "hostPID sees and signals the node's processes, hostNetwork its interfaces and the kubelet, hostIPC its shared memory",
		Filter: podWrites, body: podCheck(hostNamespaces), bodyWhat: "pod specs",
	},
	{
		ID: "hostpath-pod", Title: "Pod mounting a hostPath volume",
		Technique: "T1611", TechniqueName: "Escape to Host", Severity: Medium,
		Why:    "a hostPath volume gives the container the node's files: / or /etc is the node, /var/lib/kubelet its pods' secrets",
		Filter: podWrites, body: podCheck(hostPaths), bodyWhat: "pod specs",
	},
	{
		ID: "nodes-proxy-exec", Title: "Exec through the kubelet (nodes/proxy)",
		Technique: "T1609", TechniqueName: "Container Administration Command", Severity: High,
		Why:    "nodes/proxy reaches the kubelet's own exec, run and attach endpoints: the command runs in a pod and neither the kubelet nor the apiserver logs it as pods/exec",
		Filter: "resource=core/nodes/proxy uri=*/exec/*,*/run/*,*/attach/*,*/portForward/* " + allowed,
	},
	{
		ID: "nodes-proxy", Title: "Other use of the kubelet API (nodes/proxy)",
		Technique: "T1609", TechniqueName: "Container Administration Command", Severity: Low,
		Why:    "nodes/proxy get is enough to exec on the node's kubelet; its logs, metrics and pods are read through it too (monitoring agents do)",
		Filter: "resource=core/nodes/proxy uri!=*/exec/*,*/run/*,*/attach/*,*/portForward/* " + allowed,
	},
	{
		ID: "anonymous-allowed", Title: "Anonymous request allowed",
		Technique: "T1078.001", TechniqueName: "Valid Accounts: Default Accounts", Severity: High,
		Why:    "someone with no credentials was let through: a binding grants system:anonymous or system:unauthenticated more than the health and version endpoints",
		Filter: "user=system:anonymous " + allowed + " uri!=/healthz*,/livez*,/readyz*,/version,/version?*,/.well-known/openid-configuration*,/openid/v1/jwks*",
	},
	{
		ID: "token-other-sa", Title: "Token requested for a service account",
		Technique: "T1528", TechniqueName: "Steal Application Access Token", Severity: Medium,
		Why:    "a token of another identity, valid for as long as asked and not revoked when the requester loses access",
		Filter: "resource=core/serviceaccounts/token verb=create code=2xx user!=" + controlPlane, body: tokenForOther,
	},
	{
		ID: "webhook-change", Title: "Admission webhook or policy changed",
		Technique: "T1562.001", TechniqueName: "Impair Defenses: Disable or Modify Tools", Severity: High,
		Why: "a mutating webhook sees and may rewrite every object it matches (secrets too); a deleted validating webhook or policy is a control gone",
		Filter: "resource=admissionregistration.k8s.io/mutatingwebhookconfigurations,admissionregistration.k8s.io/validatingwebhookconfigurations," +
			"admissionregistration.k8s.io/validatingadmissionpolicies,admissionregistration.k8s.io/validatingadmissionpolicybindings," +
			"admissionregistration.k8s.io/mutatingadmissionpolicies,admissionregistration.k8s.io/mutatingadmissionpolicybindings " +
			"verb=create,update,patch,delete,deletecollection code=2xx user!=" + controlPlane,
	},
	{
		ID: "kubeadm-config-change", Title: "kubeadm-config changed (apiserver flags, audit settings)",
		Technique: "T1562", TechniqueName: "Impair Defenses", Severity: Medium,
		Why:    "kube-system/kubeadm-config holds the apiserver flags (audit policy and log) the next kubeadm upgrade writes; edits to the manifest or policy file on a master are not API requests and never reach the audit log",
		Filter: "resource=core/configmaps ns=kube-system name=kubeadm-config verb=update,patch,delete code=2xx",
	},
	{
		ID: "csr-approval", Title: "Certificate signing request approved by a person",
		Technique: "T1098", TechniqueName: "Account Manipulation", Severity: High,
		Why:    "an approved CSR becomes a client certificate the apiserver trusts until it expires: it cannot be revoked",
		Filter: "resource=certificates.k8s.io/certificatesigningrequests/approval verb=update,patch code=2xx user!=" + controlPlane,
		body:   csrSubject,
	},
	{
		ID: "impersonate-privileged", Title: "Impersonation of a privileged user or group",
		Technique: "T1078", TechniqueName: "Valid Accounts", Severity: High,
		Why:    "acting as system:masters, an admin group, a node or a control-plane identity is every right they have, under their name",
		Filter: "", body: impersonatesPrivileged,
	},
	{
		ID: "impersonation-refused", Title: "Impersonation refused",
		Technique: "T1078", TechniqueName: "Valid Accounts", Severity: Medium,
		Why:    "someone tried to act as another user or group and was refused; the apiserver logs neither whom nor which groups",
		Filter: `code=403 msg=*"cannot impersonate"*`,
	},
	{
		ID: "auth-failure-burst", Title: "Burst of 401/403 from one address",
		Technique: "T1110", TechniqueName: "Brute Force", Severity: Medium,
		Why:   "many refusals in a minute from one address and identity: guessed tokens, a stolen credential probing what it may do, or a scanner",
		burst: &burst{min: 10, window: time.Minute},
	},
}

var compileOnce sync.Once

// Builtin is the project's rule pack, compiled.
func Builtin() []*Rule {
	compileOnce.Do(func() {
		for _, r := range builtin {
			r.Source = "kauditui"
			if err := r.compile(); err != nil {
				panic("detect: rule " + r.ID + ": " + err.Error()) // rules_test.go parses every one
			}
		}
	})
	return slices.Clone(builtin)
}

// compile parses the rule's filter.
func (r *Rule) compile() error {
	f, err := filter.Parse(r.Filter, time.Unix(0, 0))
	if err != nil {
		return err
	}
	r.f = f
	return nil
}

// --- RBAC bindings ------------------------------------------------------------

// binding reads a binding write's body: roleRef (create, update) and
// subjects. A patch's body is the patch: a JSON patch is an array, whose
// operations are not read.
func binding(ev gjson.Result) (roleKind, roleName string, subjects []gjson.Result, ok bool) {
	body := ev.Get("requestObject")
	if !body.IsObject() {
		return "", "", nil, false
	}
	ref := body.Get("roleRef")
	return ref.Get("kind").String(), ref.Get("name").String(), body.Get("subjects").Array(), true
}

func subjectText(s gjson.Result) string {
	t := s.Get("kind").String() + " " + s.Get("name").String()
	if ns := s.Get("namespace").String(); ns != "" {
		t = s.Get("kind").String() + " " + ns + "/" + s.Get("name").String()
	}
	return t
}

func subjectsText(subjects []gjson.Result) string {
	var parts []string
	for _, s := range subjects {
		parts = append(parts, subjectText(s))
	}
	if len(parts) == 0 {
		return "(no subjects in the body)"
	}
	return strings.Join(parts, ", ")
}

func scope(r *audit.Request) string {
	if r.Namespace == "" {
		return "cluster-wide"
	}
	return "in namespace " + r.Namespace
}

func bindAdmin(c *eventCache, r *audit.Request) verdict {
	kind, name, subjects, ok := binding(c.get())
	if !ok {
		return verdict{unchecked: true}
	}
	if kind == "ClusterRole" && name == "cluster-admin" {
		return verdict{fire: true, detail: fmt.Sprintf("%s %s binds %s to ClusterRole cluster-admin (%s)",
			r.Verb, object(r), subjectsText(subjects), scope(r))}
	}
	for _, s := range subjects {
		if s.Get("kind").String() == "Group" && s.Get("name").String() == "system:masters" {
			return verdict{fire: true, detail: fmt.Sprintf("%s %s binds Group system:masters to %s %s (%s)",
				r.Verb, object(r), kind, name, scope(r))}
		}
	}
	return verdict{}
}

// everyone are the subjects that name anyone at all.
var everyone = map[string]bool{
	"User system:anonymous": true, "Group system:anonymous": true,
	"Group system:unauthenticated": true, "Group system:authenticated": true,
}

func bindAnonymous(c *eventCache, r *audit.Request) verdict {
	kind, name, subjects, ok := binding(c.get())
	if !ok {
		return verdict{unchecked: true}
	}
	for _, s := range subjects {
		if everyone[s.Get("kind").String()+" "+s.Get("name").String()] {
			role := kind + " " + name
			if name == "" {
				role = "(roleRef not in a patch)"
			}
			return verdict{fire: true, detail: fmt.Sprintf("%s %s binds %s to %s (%s)",
				r.Verb, object(r), subjectText(s), role, scope(r))}
		}
	}
	return verdict{}
}

// --- pod specs ------------------------------------------------------------------

// podCheck makes the body check of a pod-spec rule: what it finds in the
// spec of the request's body, or "" for nothing.
func podCheck(find func(spec gjson.Result) []string) func(*eventCache, *audit.Request) verdict {
	return func(c *eventCache, r *audit.Request) verdict {
		path, ok := podSpecPaths[r.Resource]
		if !ok || r.Subresource != "" {
			return verdict{}
		}
		ev := c.get()
		body := ev.Get("requestObject")
		if !body.IsObject() {
			// Metadata level (no body), or a JSON patch (an array)
			return verdict{unchecked: true}
		}
		found := find(ev.Get(path))
		if len(found) == 0 {
			return verdict{}
		}
		return verdict{fire: true, detail: fmt.Sprintf("%s %s %s: %s", r.Verb, r.ResourcePath(), object(r), strings.Join(found, ", "))}
	}
}

// containers are every container of a spec, init and ephemeral included.
func containers(spec gjson.Result) []gjson.Result {
	var out []gjson.Result
	for _, k := range []string{"initContainers", "containers", "ephemeralContainers"} {
		out = append(out, spec.Get(k).Array()...)
	}
	return out
}

func privileged(spec gjson.Result) []string {
	var found []string
	for _, c := range containers(spec) {
		if c.Get("securityContext.privileged").Bool() {
			found = append(found, "container "+c.Get("name").String()+" privileged")
		}
	}
	return found
}

func hostNamespaces(spec gjson.Result) []string {
	var found []string
	for _, k := range []string{"hostPID", "hostNetwork", "hostIPC"} {
		if spec.Get(k).Bool() {
			found = append(found, k)
		}
	}
	return found
}

func hostPaths(spec gjson.Result) []string {
	var found []string
	for _, v := range spec.Get("volumes").Array() {
		if hp := v.Get("hostPath"); hp.Exists() {
			found = append(found, "hostPath "+hp.Get("path").String()+" (volume "+v.Get("name").String()+")")
		}
	}
	return found
}

// --- tokens, CSRs, impersonation --------------------------------------------------

// tokenForOther fires unless a service account asked for its own token.
func tokenForOther(_ *eventCache, r *audit.Request) verdict {
	if r.User == "system:serviceaccount:"+r.Namespace+":"+r.Name && r.ImpersonatedUser == "" {
		return verdict{}
	}
	return verdict{fire: true, detail: "token for service account " + r.Namespace + "/" + r.Name + outcome(r)}
}

// csrSubject names the certificate an approved CSR asks for, from the body
// where the policy logs it (its spec.request is the PEM of the request).
func csrSubject(c *eventCache, r *audit.Request) verdict {
	d := "approved CSR " + r.Name
	spec := c.get().Get("requestObject.spec")
	if s := spec.Get("signerName").String(); s != "" {
		d += " (signer " + s + ")"
	}
	if der, err := base64.StdEncoding.DecodeString(spec.Get("request").String()); err == nil {
		if blk, _ := pem.Decode(der); blk != nil {
			if subj, ok := csrSubjectName(blk.Bytes); ok {
				d += ": CN=" + subj.CommonName
				if len(subj.Organization) > 0 {
					d += " O=" + strings.Join(subj.Organization, ",")
				}
			}
		}
	}
	return verdict{fire: true, detail: d}
}

// csrSubjectName reads the subject of a PKCS #10 certificate request
// (CertificationRequest: SEQUENCE {SEQUENCE {version, subject, ...}, ...})
// with encoding/asn1: crypto/x509 would add 68 packages to the explorer.
func csrSubjectName(der []byte) (pkix.Name, bool) {
	var outer, info asn1.RawValue
	var version int
	var rdn pkix.RDNSequence
	var name pkix.Name
	if _, err := asn1.Unmarshal(der, &outer); err != nil {
		return name, false
	}
	if _, err := asn1.Unmarshal(outer.Bytes, &info); err != nil {
		return name, false
	}
	rest, err := asn1.Unmarshal(info.Bytes, &version)
	if err != nil {
		return name, false
	}
	if _, err := asn1.Unmarshal(rest, &rdn); err != nil {
		return name, false
	}
	name.FillFromRDNSequence(&rdn)
	return name, true
}

// privilegedGroups and privilegedUsers are what an impersonator must not
// become.
var privilegedGroups = []string{"system:masters", "kubeadm:cluster-admins", "system:nodes"}

func privilegedUser(u string) bool {
	switch {
	case u == "system:admin", u == "kubernetes-admin", u == "kubernetes-super-admin",
		u == "system:kube-controller-manager", u == "system:kube-scheduler", u == "system:apiserver",
		strings.HasPrefix(u, "system:node:"), strings.HasPrefix(u, "system:serviceaccount:kube-system:"):
		return true
	}
	return false
}

func impersonatesPrivileged(_ *eventCache, r *audit.Request) verdict {
	var as []string
	if privilegedUser(r.ImpersonatedUser) {
		as = append(as, "user "+r.ImpersonatedUser)
	}
	for _, g := range r.ImpersonatedGroups {
		if slices.Contains(privilegedGroups, g) {
			as = append(as, "group "+g)
		}
	}
	if len(as) == 0 {
		return verdict{}
	}
	return verdict{fire: true, detail: fmt.Sprintf("%s %s as %s%s", r.User, strings.TrimSpace(r.Verb+" "+r.ResourcePath()),
		strings.Join(as, ", "), outcome(r))}
}
