package setup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The description of each preset and of the policy testdata/answers was
// written under: the level None rules in words, the stages omitted, and
// whether requests no rule matches are left out.
func TestDescribePolicyFiles(t *testing.T) {
	for _, c := range []struct {
		file      string
		none      []string
		omit      []string
		coveredBy int
		unmatched string
	}{
		{"policies/default.yaml", []string{
			"rule 1 drops: user groups system:serviceaccounts:kube-system",
			"rule 2 drops: users system:apiserver, system:kube-scheduler, system:volume-scheduler, system:kube-controller-manager, system:node",
			"rule 3 drops: user groups system:nodes",
			"rule 4 drops: URLs /healthz*, /livez*, /readyz*, /version, /swagger*",
		}, nil, 6, ""},
		{"policies/metadata.yaml", nil, nil, 1, ""},
		{"policies/security.yaml", []string{
			"rule 1 drops: URLs /healthz*, /livez*, /readyz*",
			`rule 2 drops: verbs get, update, watch, list; resources leases in group "coordination.k8s.io"`,
			`rule 3 drops: resources events in group "" (core)`,
		}, []string{"RequestReceived"}, 7, ""},
		{"../hack/policy-answers.yaml", []string{
			"rule 1 drops: user groups system:serviceaccounts:kube-system, system:nodes",
			"rule 2 drops: users system:apiserver, system:kube-controller-manager, system:kube-scheduler",
			"rule 3 drops: URLs /healthz*, /livez*, /readyz*, /version, /openapi*",
			"rule 4 drops: verbs get; URLs /api, /api/*, /apis, /apis/*",
		}, []string{"RequestReceived"}, 6, ""},
	} {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			r, err := PolicyFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			var none []string
			for _, n := range r.None {
				none = append(none, n.String())
			}
			if !slices.Equal(none, c.none) {
				t.Errorf("level None rules:\n got %q\nwant %q", none, c.none)
			}
			// Independently of the words: as many as the file has.
			b, _ := os.ReadFile(c.file)
			if n := len(regexp.MustCompile(`(?m)^\s*- level: None\b`).FindAll(b, -1)); n != len(r.None) {
				t.Errorf("%d level None rules described, the file has %d", len(r.None), n)
			}
			if !slices.Equal(r.OmitStages, c.omit) || r.CoveredBy != c.coveredBy || r.Unmatched != c.unmatched {
				t.Errorf("omitStages %q, covered by rule %d, unmatched %q; want %q, %d, %q", r.OmitStages, r.CoveredBy, r.Unmatched, c.omit, c.coveredBy, c.unmatched)
			}
			if r.Path != c.file || r.Source != "--policy" || r.Warning != "" {
				t.Errorf("path %q source %q warning %q", r.Path, r.Source, r.Warning)
			}
		})
	}
}

// Every selector field in words, the rules' own omitStages, requests no
// rule matches, rules never reached.
func TestDescribePolicyWords(t *testing.T) {
	for _, c := range []struct {
		name, rules string
		want        []string // None rules, then "stages: ..." lines
		coveredBy   int
		unmatched   string
	}{
		{"every selector", `
- level: None
  users: [system:kube-proxy]
  verbs: [watch]
  resources:
  - group: ""
    resources: [endpoints, services, services/status]
- level: None
  userGroups: [system:authenticated, ops]
  namespaces: ["", kube-system]
  resources:
  - group: apps
  - group: "*"
    resources: [configmaps]
    resourceNames: [a, b]
- level: Metadata
  resources: [{group: rbac.authorization.k8s.io}]
  omitStages: [ResponseStarted, Panic]`, []string{
			`rule 1 drops: users system:kube-proxy; verbs watch; resources endpoints, services, services/status in group "" (core)`,
			`rule 2 drops: user groups system:authenticated, ops; every resource in group "apps" or resources configmaps named a, b in any group; namespaces "" (cluster-scoped), kube-system`,
			`stages: rule 3 (level Metadata: every resource in group "rbac.authorization.k8s.io") ResponseStarted, Panic`,
		}, 0, "requests"},
		{"non-resource catch-all", `
- level: None
  nonResourceURLs: ["*"]
- level: Metadata
  resources: [{group: ""}]`, []string{"rule 1 drops: URLs *"}, 0, "resource requests"},
		{"resource catch-all", `
- level: Metadata
  resources: [{group: "*", resources: ["*"]}]`, nil, 0, "non-resource requests"},
		{"both, then more", `
- level: None
  resources: [{group: "*"}]
- level: Request
  nonResourceURLs: ["*"]
- level: Metadata`, []string{`rule 1 drops: every resource in any group`}, 2, ""},
		{"a None catch-all", `
- level: Metadata
  verbs: [delete]
- level: None`, []string{"rule 2 drops: every request"}, 2, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, _, err := describeYAML("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:" + c.rules)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range r.None {
				got = append(got, n.String())
			}
			for _, s := range r.Stages {
				got = append(got, "stages: "+s.String()+" "+strings.Join(s.OmitStages, ", "))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("\n got %q\nwant %q", got, c.want)
			}
			if r.CoveredBy != c.coveredBy || r.Unmatched != c.unmatched {
				t.Errorf("covered by %d, unmatched %q; want %d, %q", r.CoveredBy, r.Unmatched, c.coveredBy, c.unmatched)
			}
		})
	}
}

func describeYAML(policy string) (*PolicyReport, string, error) {
	dir, err := os.MkdirTemp("", "policyreport")
	if err != nil {
		return nil, "", err
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(name, []byte(policy), 0o600); err != nil {
		return nil, "", err
	}
	r, err := PolicyFile(name)
	return r, name, err
}

// RuleFor is the apiserver's matcher, first match winning, on the policy
// of testdata/answers.
func TestRuleFor(t *testing.T) {
	r, err := PolicyFile("../hack/policy-answers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		a    RequestAttrs
		rule int
	}{
		{"a kube-system service account", RequestAttrs{User: "system:serviceaccount:kube-system:generic-garbage-collector", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"}, Verb: "delete", APIGroup: "apps", Resource: "deployments", Namespace: "shop", Name: "web"}, 1},
		{"the scheduler", RequestAttrs{User: "system:kube-scheduler", Verb: "list", Resource: "pods"}, 2},
		{"a probe", RequestAttrs{User: "system:anonymous", Groups: []string{"system:unauthenticated"}, Verb: "get", Path: "/livez"}, 3},
		{"discovery", RequestAttrs{User: "kubernetes-admin", Verb: "get", Path: "/apis/apps/v1"}, 4},
		{"a post to a discovery URL", RequestAttrs{User: "kubernetes-admin", Verb: "post", Path: "/apis"}, 6},
		{"a deployment's scale", RequestAttrs{User: "kubernetes-admin", Verb: "patch", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Namespace: "shop", Name: "web"}, 5},
		{"a failed authentication", RequestAttrs{Verb: "get", Path: "/api/v1/namespaces", Resource: "namespaces"}, 6},
	} {
		if got := r.RuleFor(c.a); got != c.rule {
			t.Errorf("%s: rule %d, want %d", c.name, got, c.rule)
		}
		if drops := r.Drops(r.RuleFor(c.a)); drops != (c.rule <= 4) {
			t.Errorf("%s: drops = %v", c.name, drops)
		}
	}
	if !r.Drops(0) {
		t.Error("a request no rule matches is logged?")
	}
}

// A policy only accepted leniently loads (as the apiserver loads it) with a
// warning; one the apiserver refuses is an error that says so.
func TestPolicyLoadsAsTheAPIServerDoes(t *testing.T) {
	r, _, err := describeYAML("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  user: [alice]\n- level: Metadata\n")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Warning, "leniently") || !strings.Contains(r.Warning, `unknown field "rules[0].user"`) {
		t.Errorf("warning %q", r.Warning)
	}
	// The misspelt field is ignored, as by the apiserver: rule 1 drops all.
	if len(r.None) != 1 || r.None[0].String() != "rule 1 drops: every request" || r.CoveredBy != 1 {
		t.Errorf("%+v", r.None)
	}
	for _, c := range []struct{ policy, want string }{
		{"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n", "the apiserver does not start with it"},
		{"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n", "the apiserver does not start with it"},
		{"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  nonResourceURLs: [/healthz]\n  resources: [{group: \"\"}]\n", "the apiserver does not start with it"},
	} {
		_, name, err := describeYAML(c.policy)
		var pe *PolicyError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v", c.policy, err)
		}
	}
	b, err := os.ReadFile("../testdata/setup/recipe-2019/audit-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := describeYAML(string(b)); err == nil || !strings.Contains(err.Error(), "1.24") {
		t.Errorf("the 2019 recipe's v1beta1 policy: %v", err)
	}
}

// kubeadmRoot is a node's root holding kubeadm's real manifest, changed by
// edit, and files (path on the node -> content).
func kubeadmRoot(t *testing.T, edit func(*corev1.Pod), files map[string]string) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/kubeadm/kube-apiserver.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(b, &pod); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&pod)
	}
	if b, err = yaml.Marshal(&pod); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	files[DefaultManifest] = string(b)
	for p, s := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// withPolicy adds --audit-policy-file=inPod and a hostPath volume hostPath
// (of type typ) mounted at mountPath (with subPath).
func withPolicy(inPod, volume, hostPath, mountPath, subPath string, typ corev1.HostPathType) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Command = append(c.Command, "--audit-policy-file="+inPod, "--audit-log-path=/var/log/kubernetes/audit/audit.log")
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: volume, MountPath: mountPath, SubPath: subPath, ReadOnly: true})
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostPath, Type: &typ}}})
	}
}

// The policy of kubeadm's manifest is found as the apiserver finds it:
// through the container's mounts to the node's hostPath, not by assuming
// the same path.
func TestMasterPolicyFollowsTheMounts(t *testing.T) {
	answers, err := os.ReadFile("../hack/policy-answers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	pol := string(answers)
	for _, c := range []struct {
		name   string
		edit   func(*corev1.Pod)
		files  map[string]string
		path   string // on the node
		source string
	}{
		{"kubeadm's pattern: the file at the same path",
			withPolicy("/etc/kubernetes/audit-policy.yaml", "audit-policy", "/etc/kubernetes/audit-policy.yaml", "/etc/kubernetes/audit-policy.yaml", "", corev1.HostPathFile),
			map[string]string{"/etc/kubernetes/audit-policy.yaml": pol}, "/etc/kubernetes/audit-policy.yaml",
			"--audit-policy-file of /etc/kubernetes/manifests/kube-apiserver.yaml, volume audit-policy from the node's /etc/kubernetes/audit-policy.yaml"},
		{"a folder mounted elsewhere",
			withPolicy("/etc/kubernetes/audit/policy.yaml", "audit-conf", "/srv/audit-conf/", "/etc/kubernetes/audit", "", corev1.HostPathDirectory),
			map[string]string{"/srv/audit-conf/policy.yaml": pol, "/etc/kubernetes/audit/policy.yaml": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"},
			"/srv/audit-conf/policy.yaml", "--audit-policy-file of /etc/kubernetes/manifests/kube-apiserver.yaml, volume audit-conf from the node's /srv/audit-conf"},
		{"a subPath",
			withPolicy("/policy/audit.yaml", "conf", "/srv/conf", "/policy", "kube", corev1.HostPathDirectory),
			map[string]string{"/srv/conf/kube/audit.yaml": pol}, "/srv/conf/kube/audit.yaml",
			"--audit-policy-file of /etc/kubernetes/manifests/kube-apiserver.yaml, volume conf from the node's /srv/conf/kube"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := kubeadmRoot(t, c.edit, c.files)
			r, err := MasterPolicy(root, "")
			if err != nil {
				t.Fatal(err)
			}
			if r.Path != c.path || r.Source != c.source || len(r.None) != 4 || r.Rules != 6 {
				t.Errorf("path %q source %q, %d None rules of %d;\nwant %q, %q", r.Path, r.Source, len(r.None), r.Rules, c.path, c.source)
			}
		})
	}

	// A symbolic link on the node is followed, inside the root.
	root := kubeadmRoot(t, withPolicy("/etc/kubernetes/audit-policy.yaml", "audit-policy", "/etc/kubernetes/audit-policy.yaml", "/etc/kubernetes/audit-policy.yaml", "", corev1.HostPathFile),
		map[string]string{"/opt/policies/audit.yaml": pol})
	if err := os.Symlink("/opt/policies/audit.yaml", filepath.Join(root, "etc/kubernetes/audit-policy.yaml")); err != nil {
		t.Fatal(err)
	}
	if r, err := MasterPolicy(root, ""); err != nil || r.Path != "/opt/policies/audit.yaml" {
		t.Errorf("through a symlink: %+v %v", r, err)
	}
}

// What cannot be found says so in one line, with what to do.
func TestMasterPolicyErrors(t *testing.T) {
	pol := "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"
	same := withPolicy("/etc/kubernetes/audit-policy.yaml", "audit-policy", "/etc/kubernetes/audit-policy.yaml", "/etc/kubernetes/audit-policy.yaml", "", corev1.HostPathFile)
	denied := func(name string) ([]byte, error) {
		if strings.HasSuffix(name, "audit-policy.yaml") {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return os.ReadFile(name)
	}
	for _, c := range []struct {
		name       string
		edit       func(*corev1.Pod)
		files      map[string]string
		read       func(string) ([]byte, error)
		want       string
		permission bool
	}{
		{"kubeadm's manifest, not audited", nil, map[string]string{},
			nil, "the apiserver in /etc/kubernetes/manifests/kube-apiserver.yaml has no --audit-policy-file: it logs no request (kauditui setup enables auditing)", false},
		{"no policy file", same, map[string]string{},
			nil, "cannot read the audit policy /etc/kubernetes/audit-policy.yaml (volume audit-policy from the node's /etc/kubernetes/audit-policy.yaml): no such file or directory (pass --policy FILE)", false},
		{"a policy only root may read", same, map[string]string{"/etc/kubernetes/audit-policy.yaml": pol},
			denied, "cannot read the audit policy /etc/kubernetes/audit-policy.yaml (volume audit-policy from the node's /etc/kubernetes/audit-policy.yaml): permission denied (run as root, or pass --policy FILE)", true},
		{"a manifest only root may read", same, map[string]string{"/etc/kubernetes/audit-policy.yaml": pol},
			func(string) ([]byte, error) { return nil, fs.ErrPermission }, "cannot read /etc/kubernetes/manifests/kube-apiserver.yaml to find the audit policy: permission denied (run as root, or pass --policy FILE)", true},
		{"not mounted", withPolicy("/etc/kubernetes/audit-policy.yaml", "logs", "/var/log/x", "/var/log/x", "", corev1.HostPathDirectory),
			map[string]string{"/etc/kubernetes/audit-policy.yaml": pol}, nil,
			"--audit-policy-file /etc/kubernetes/audit-policy.yaml in /etc/kubernetes/manifests/kube-apiserver.yaml: no volume of the pod is mounted there, so the apiserver reads it from its image, not from this node (pass --policy FILE)", false},
		{"not a hostPath", func(p *corev1.Pod) {
			same(p)
			p.Spec.Volumes[len(p.Spec.Volumes)-1].VolumeSource = corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}
		}, map[string]string{"/etc/kubernetes/audit-policy.yaml": pol}, nil, `volume "audit-policy" is not a hostPath`, false},
		{"a relative path", withPolicy("audit-policy.yaml", "audit-policy", "/etc/kubernetes", "/etc/kubernetes", "", corev1.HostPathDirectory),
			map[string]string{"/etc/kubernetes/audit-policy.yaml": pol}, nil, "not an absolute path", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := kubeadmRoot(t, c.edit, c.files)
			r, err := FindPolicy(PolicySource{Root: root, ReadFile: c.read})
			var pe *PolicyError
			if r != nil || !errors.As(err, &pe) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), root) {
				t.Fatalf("got %v\nwant %q", err, c.want)
			}
			if errors.Is(err, fs.ErrPermission) != c.permission || errors.Is(err, ErrNotMaster) {
				t.Errorf("permission: %v", errors.Is(err, fs.ErrPermission))
			}
		})
	}
	// No manifest: not a master.
	if _, err := MasterPolicy(t.TempDir(), ""); !errors.Is(err, ErrNotMaster) {
		t.Errorf("an empty root: %v", err)
	}
	// Really unreadable, where the test does not run as root.
	if os.Geteuid() != 0 {
		root := kubeadmRoot(t, same, map[string]string{"/etc/kubernetes/audit-policy.yaml": pol})
		if err := os.Chmod(filepath.Join(root, "etc/kubernetes/audit-policy.yaml"), 0); err != nil {
			t.Fatal(err)
		}
		if _, err := MasterPolicy(root, ""); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "run as root") {
			t.Errorf("mode 000: %v", err)
		}
	}
	// The 2019 recipe: its real manifest names a v1beta1 policy, mounted.
	b, _ := os.ReadFile("../testdata/setup/recipe-2019/kube-apiserver.yaml")
	p, _ := os.ReadFile("../testdata/setup/recipe-2019/audit-policy.yaml")
	root := t.TempDir()
	for name, data := range map[string][]byte{DefaultManifest: b, "/etc/kubernetes/audit-policy.yaml": p} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755)
		if err := os.WriteFile(filepath.Join(root, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := MasterPolicy(root, ""); err == nil || !strings.Contains(err.Error(), "audit policy /etc/kubernetes/audit-policy.yaml: it is audit.k8s.io/v1beta1, which Kubernetes 1.24 removed") {
		t.Errorf("the 2019 recipe: %v", err)
	}
}
