package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"
	"k8s.io/apiserver/pkg/audit"
	auditpolicy "k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/yaml"
)

// What an audit policy keeps out of the log (`query --coverage`, the
// explorer's "What the log cannot see"): its level None rules, the stages
// it omits, and the requests no rule matches. The policy is the one the
// master's apiserver is started with, found as the apiserver finds it, or a
// file named by the user.

// DefaultManifest is the kubeadm apiserver manifest on a control-plane node.
const DefaultManifest = "/" + manifestRel

// PolicyReport describes an audit policy as data a renderer draws. Strings
// come from files (user names, paths): sanitise them before drawing.
type PolicyReport struct {
	Path    string // the policy file read (on the node: inside the root)
	Source  string // how it was found, in words: "--policy", or the manifest flag and the mount
	Warning string // the apiserver accepts it only leniently (unknown or duplicate fields); "" when clean
	Rules   int    // how many rules it has
	Raw     []byte // the file as read (render/policytext.Propose puts rules first in it)

	None       []PolicyRule // the rules with level None, in the file's order
	Stages     []PolicyRule // rules logging at another level that omit stages of their own
	OmitStages []string     // stages omitted for every request (the policy's omitStages)

	// CoveredBy is the rule (1-based) after which every request has matched
	// a rule; 0 when some requests match none. Unmatched then says which:
	// "requests", "resource requests" or "non-resource requests" (URLs such
	// as /healthz or /metrics). They are not logged: the apiserver's level
	// for a request no rule matches is None.
	CoveredBy int
	Unmatched string

	evals  []audit.PolicyRuleEvaluator // one per rule, for RuleFor
	levels []auditinternal.Level
}

// PolicyRule is one rule of a policy in words.
type PolicyRule struct {
	Index      int      // 1-based, as the file lists it
	Level      string   // None, Metadata, Request, RequestResponse
	Match      []string // its selectors, e.g. "users system:kube-proxy", "verbs watch"; none: every request
	OmitStages []string // the rule's own omitStages
}

// What is the rule's selectors joined, or "every request".
func (r PolicyRule) What() string {
	if len(r.Match) == 0 {
		return "every request"
	}
	return strings.Join(r.Match, "; ")
}

// String is "rule 1 drops: users system:kube-proxy; verbs watch" for a
// level None rule, "rule 5 (level Metadata: ...)" for another.
func (r PolicyRule) String() string {
	if r.Level == string(auditinternal.LevelNone) {
		return fmt.Sprintf("rule %d drops: %s", r.Index, r.What())
	}
	return fmt.Sprintf("rule %d (level %s: %s)", r.Index, r.Level, r.What())
}

// ErrNotMaster is returned (wrapped) by MasterPolicy when there is no
// apiserver manifest: this is not a kubeadm control-plane node.
var ErrNotMaster = errors.New("no kube-apiserver manifest: not a kubeadm control-plane node")

// PolicyError says why the policy could not be described, with what to do
// (Error is one line). errors.Is(err, fs.ErrPermission) tells the case of
// a file only root can read.
type PolicyError struct {
	What string // what could not be done, e.g. "cannot read /etc/kubernetes/audit-policy.yaml"
	Err  error  // the cause
	Hint string // what to do
}

func (e *PolicyError) Error() string {
	s := e.What
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *PolicyError) Unwrap() error { return e.Err }

// PolicySource is where to find the policy: File when given, else the one
// the apiserver manifest at Manifest (a path on the node inside Root) names.
type PolicySource struct {
	Root     string // the node's filesystem root: "/" on a node, a folder in tests; "" = "/"
	Manifest string // "" = DefaultManifest
	File     string // an explicit policy file (a path of this machine, not in Root)
	// ReadFile reads a file (nil: a bounded read of regular files only);
	// tests stand in for files only root can read.
	ReadFile func(name string) ([]byte, error)
}

// MasterPolicy describes the policy the apiserver of the kubeadm manifest
// at manifest (a path on the node, "" = DefaultManifest) inside root ("/"
// on the node) is started with. Not a master: an error wrapping
// ErrNotMaster.
func MasterPolicy(root, manifest string) (*PolicyReport, error) {
	return FindPolicy(PolicySource{Root: root, Manifest: manifest})
}

// PolicyFile describes the audit policy in a file.
func PolicyFile(name string) (*PolicyReport, error) {
	return FindPolicy(PolicySource{File: name})
}

// FindPolicy reads, loads (as kube-apiserver loads it) and describes the
// policy of src. Errors are *PolicyError, one line each.
func FindPolicy(src PolicySource) (*PolicyReport, error) {
	read := src.ReadFile
	if read == nil {
		read = func(name string) ([]byte, error) { return readBounded(name, maxPolicySize) }
	}
	if src.File != "" {
		b, err := read(src.File)
		if err != nil {
			return nil, &PolicyError{What: "--policy: cannot read " + src.File, Err: unwrapPath(err)}
		}
		return describePolicyBytes(b, src.File, "--policy")
	}
	root := src.Root
	if root == "" {
		root = "/"
	}
	mp := src.Manifest
	if mp == "" {
		mp = DefaultManifest
	}
	b, err := read(inRoot(root, mp))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: %w", mp, ErrNotMaster)
	case errors.Is(err, fs.ErrPermission):
		return nil, &PolicyError{What: "cannot read " + mp + " to find the audit policy", Err: fs.ErrPermission, Hint: "run as root, or pass --policy FILE"}
	case err != nil:
		return nil, &PolicyError{What: "cannot read " + mp + " to find the audit policy", Err: unwrapPath(err), Hint: "pass --policy FILE"}
	}
	// Leniently, as a reader: setup's strict parse is for writing the file back.
	var pod corev1.Pod
	if err := yaml.Unmarshal(b, &pod); err != nil {
		return nil, &PolicyError{What: mp + " does not parse as a pod", Err: err, Hint: "pass --policy FILE"}
	}
	if apiserverContainer(&pod) == nil {
		return nil, &PolicyError{What: mp + " has no container named kube-apiserver", Hint: "pass --policy FILE"}
	}
	inPod, ok := APIServerFlag(&pod, "audit-policy-file")
	if !ok || inPod == "" {
		return nil, &PolicyError{What: "the apiserver in " + mp + " has no --audit-policy-file: it logs no request", Hint: "kauditui setup enables auditing"}
	}
	hostPath, via, err := hostPathOf(&pod, inPod)
	if err != nil {
		return nil, &PolicyError{What: "--audit-policy-file " + inPod + " in " + mp, Err: err, Hint: "pass --policy FILE"}
	}
	onNode := resolveInRoot(root, hostPath)
	pb, err := read(inRoot(root, onNode))
	if err != nil {
		hint := "pass --policy FILE"
		if errors.Is(err, fs.ErrPermission) {
			hint = "run as root, or pass --policy FILE"
		}
		return nil, &PolicyError{What: "cannot read the audit policy " + onNode + " (" + via + ")", Err: unwrapPath(err), Hint: hint}
	}
	return describePolicyBytes(pb, onNode, "--audit-policy-file of "+mp+", "+via)
}

// unwrapPath drops the path an *fs.PathError repeats: messages name it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// hostPathOf maps a path in the apiserver container to the node through
// the container's volumeMounts and the pod's hostPath volumes (the
// deepest mount holding it wins, as in the container's mount table).
func hostPathOf(pod *corev1.Pod, p string) (string, string, error) {
	if !path.IsAbs(p) {
		return "", "", errors.New("not an absolute path: the apiserver resolves it in its container, which kauditui cannot see")
	}
	p = path.Clean(p)
	c := apiserverContainer(pod)
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		mp := path.Clean(vm.MountPath)
		if within(p, mp) && (best == nil || len(mp) > len(path.Clean(best.MountPath))) {
			best = vm
		}
	}
	if best == nil {
		return "", "", errors.New("no volume of the pod is mounted there, so the apiserver reads it from its image, not from this node")
	}
	var vol *corev1.Volume
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == best.Name {
			vol = &pod.Spec.Volumes[i]
		}
	}
	switch {
	case vol == nil:
		return "", "", fmt.Errorf("it is in the mount of volume %q, which the pod does not define", best.Name)
	case vol.HostPath == nil:
		return "", "", fmt.Errorf("volume %q is not a hostPath: its files are not on this node's disk", best.Name)
	case best.SubPathExpr != "":
		return "", "", fmt.Errorf("volume %q is mounted with subPathExpr, which kauditui cannot expand", best.Name)
	}
	host := path.Join(vol.HostPath.Path, best.SubPath, strings.TrimPrefix(p, path.Clean(best.MountPath)))
	via := fmt.Sprintf("volume %s from the node's %s", best.Name, path.Clean(path.Join(vol.HostPath.Path, best.SubPath)))
	return host, via, nil
}

// loadPolicy loads a policy as kube-apiserver does. A policy it only
// accepts leniently is re-encoded first, so the loader's klog warning does
// not reach the terminal; the warning is returned instead.
func loadPolicy(b []byte) (*auditinternal.Policy, string, error) {
	if isV1beta1Policy(b) {
		return nil, "", errors.New("it is audit.k8s.io/v1beta1, which Kubernetes 1.24 removed: the apiserver does not start with it (kauditui setup --policy existing converts it)")
	}
	warning := ""
	strict := serializer.NewCodecFactory(audit.Scheme, serializer.EnableStrict).UniversalDecoder()
	if _, _, err := strict.Decode(b, nil, &auditinternal.Policy{}); err != nil && runtime.IsStrictDecodingError(err) {
		var v1 auditv1.Policy
		if _, _, lerr := audit.Codecs.UniversalDecoder(auditv1.SchemeGroupVersion).Decode(b, nil, &v1); lerr == nil {
			warning = fmt.Sprintf("the apiserver accepts this policy only leniently, ignoring what it does not know: %v", err)
			v1.TypeMeta.APIVersion, v1.TypeMeta.Kind = auditv1.SchemeGroupVersion.String(), "Policy"
			if j, jerr := json.Marshal(&v1); jerr == nil {
				b = j
			}
		}
	}
	p, err := auditpolicy.LoadPolicyFromBytes(b)
	if err != nil {
		return nil, "", fmt.Errorf("the apiserver does not start with it: %w", err)
	}
	return p, warning, nil
}

func describePolicyBytes(b []byte, name, source string) (*PolicyReport, error) {
	p, warning, err := loadPolicy(b)
	if err != nil {
		return nil, &PolicyError{What: "audit policy " + name, Err: err}
	}
	r := DescribePolicy(p)
	r.Path, r.Source, r.Warning, r.Raw = name, source, warning, b
	return r, nil
}

// DescribePolicy describes a loaded policy (Path and Source left empty).
func DescribePolicy(p *auditinternal.Policy) *PolicyReport {
	r := &PolicyReport{Rules: len(p.Rules), OmitStages: stageNames(p.OmitStages)}
	allRes, allNonRes := 0, 0
	for i := range p.Rules {
		rule := &p.Rules[i]
		pr := PolicyRule{Index: i + 1, Level: string(rule.Level), Match: ruleWords(rule), OmitStages: stageNames(rule.OmitStages)}
		if rule.Level == auditinternal.LevelNone {
			r.None = append(r.None, pr)
		} else if len(pr.OmitStages) > 0 {
			r.Stages = append(r.Stages, pr)
		}
		res, nonRes := matchesEvery(rule)
		if res && allRes == 0 {
			allRes = i + 1
		}
		if nonRes && allNonRes == 0 {
			allNonRes = i + 1
		}
		// The apiserver's matcher on a single-rule policy, its level made
		// visible: it says whether a request matches this rule.
		one := rule.DeepCopy()
		one.Level = auditinternal.LevelMetadata
		r.evals = append(r.evals, auditpolicy.NewPolicyRuleEvaluator(&auditinternal.Policy{Rules: []auditinternal.PolicyRule{*one}}))
		r.levels = append(r.levels, rule.Level)
	}
	switch {
	case allRes > 0 && allNonRes > 0:
		r.CoveredBy = max(allRes, allNonRes)
	case allRes > 0:
		r.Unmatched = "non-resource requests"
	case allNonRes > 0:
		r.Unmatched = "resource requests"
	default:
		r.Unmatched = "requests"
	}
	return r
}

// matchesEvery reports whether a rule matches every resource request, and
// every non-resource request (the apiserver's ruleMatches).
func matchesEvery(r *auditinternal.PolicyRule) (resource, nonResource bool) {
	if len(r.Users) > 0 || len(r.UserGroups) > 0 || len(r.Verbs) > 0 {
		return false, false
	}
	if len(r.Namespaces) > 0 || len(r.Resources) > 0 {
		if len(r.Namespaces) > 0 {
			return false, false
		}
		for _, gr := range r.Resources {
			if gr.Group != "*" {
				continue
			}
			if len(gr.Resources) == 0 {
				return true, false
			}
			for _, res := range gr.Resources {
				if res == "*" && len(gr.ResourceNames) == 0 {
					return true, false
				}
			}
		}
		return false, false
	}
	if len(r.NonResourceURLs) > 0 {
		for _, u := range r.NonResourceURLs {
			if u == "*" {
				return false, true
			}
		}
		return false, false
	}
	return true, true
}

// ruleWords are a rule's selectors in an operator's words; a selector the
// rule leaves out matches anything.
func ruleWords(r *auditinternal.PolicyRule) []string {
	var out []string
	list := func(label string, vs []string) {
		if len(vs) > 0 {
			out = append(out, label+" "+strings.Join(vs, ", "))
		}
	}
	list("users", r.Users)
	list("user groups", r.UserGroups)
	list("verbs", r.Verbs)
	if len(r.Resources) > 0 {
		var rs []string
		for _, gr := range r.Resources {
			rs = append(rs, groupResourcesWords(gr))
		}
		out = append(out, strings.Join(rs, " or "))
	}
	if len(r.Namespaces) > 0 {
		var ns []string
		for _, n := range r.Namespaces {
			if n == "" {
				n = `"" (cluster-scoped)`
			}
			ns = append(ns, n)
		}
		list("namespaces", ns)
	}
	list("URLs", r.NonResourceURLs)
	return out
}

func groupResourcesWords(gr auditinternal.GroupResources) string {
	group := `in group "` + gr.Group + `"`
	switch gr.Group {
	case "":
		group = `in group "" (core)`
	case "*":
		group = "in any group"
	}
	if len(gr.Resources) == 0 {
		return "every resource " + group
	}
	s := "resources " + strings.Join(gr.Resources, ", ")
	if len(gr.ResourceNames) > 0 {
		s += " named " + strings.Join(gr.ResourceNames, ", ")
	}
	return s + " " + group
}

func stageNames(st []auditinternal.Stage) []string {
	var out []string
	for _, s := range st {
		out = append(out, string(s))
	}
	return out
}

// RequestAttrs is what a policy rule matches of a logged request: the
// original user (the policy sees the user before impersonation), the verb,
// and the resource or, for a non-resource request, the URL path.
type RequestAttrs struct {
	User        string // "" for a request whose authentication failed
	Groups      []string
	Verb        string
	Path        string // the request URI without its query
	APIGroup    string
	Resource    string // "" for a non-resource request
	Subresource string
	Namespace   string
	Name        string
}

// RuleFor is the rule (1-based) the apiserver's own matcher picks for a
// request, first match winning; 0 when no rule matches. Safe for
// concurrent use.
func (r *PolicyReport) RuleFor(a RequestAttrs) int {
	attrs := authorizer.AttributesRecord{
		Verb:            a.Verb,
		Path:            a.Path,
		APIGroup:        a.APIGroup,
		Resource:        a.Resource,
		Subresource:     a.Subresource,
		Namespace:       a.Namespace,
		Name:            a.Name,
		ResourceRequest: a.Resource != "",
	}
	if a.User != "" || len(a.Groups) > 0 {
		attrs.User = &user.DefaultInfo{Name: a.User, Groups: a.Groups}
	}
	for i, e := range r.evals {
		if e.EvaluatePolicyRule(attrs).Level != auditinternal.LevelNone {
			return i + 1
		}
	}
	return 0
}

// Drops reports whether the requests RuleFor gives rule i (0: none) are not
// logged: the rule's level is None, or no rule matched them.
func (r *PolicyReport) Drops(i int) bool {
	return i <= 0 || i > len(r.levels) || r.levels[i-1] == auditinternal.LevelNone
}
