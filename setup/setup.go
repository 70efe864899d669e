// Package setup is `kauditui setup`: it enables auditing on a kubeadm
// control-plane node by writing a validated policy file and patching the
// kube-apiserver static pod manifest structurally, with a backup, an atomic
// write, a wait for the restarted apiserver and a rollback when it does not
// come back. It also carries the change into kube-system/kubeadm-config so
// `kubeadm upgrade` keeps it.
package setup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	sigsyaml "sigs.k8s.io/yaml"
)

// Defaults of the questions the form asks.
const (
	DefaultLogPath    = "/var/log/kubernetes/audit/audit.log"
	DefaultPolicyPath = "/etc/kubernetes/audit-policy.yaml"
	DefaultMaxAge     = 30
	DefaultMaxSize    = 100
	DefaultMaxBackup  = 10
	DefaultTimeout    = 3 * time.Minute

	manifestRel = "etc/kubernetes/manifests/kube-apiserver.yaml"
	adminConf   = "etc/kubernetes/admin.conf"
	backupRel   = "etc/kubernetes/kauditui/backup"

	// policyHashAnnotation changes with the policy, so the kubelet restarts
	// the apiserver (which reads the policy only at start) when only the
	// policy changed.
	policyHashAnnotation = "kauditui.io/audit-policy-sha256"
)

// Options of `kauditui setup`; every answer of the form is a field (and a flag).
// A field left unset keeps what the manifest has (else the default).
type Options struct {
	Root       string // filesystem root, "/" on a real node
	Mode       string // "file" or "stdout"; "" keeps the manifest's, else file
	LogPath    string // "" keeps the manifest's, else DefaultLogPath
	PolicyPath string // where the policy file goes; "" keeps the manifest's, else DefaultPolicyPath
	MaxAge     int    // -1 keeps the manifest's, else DefaultMaxAge
	MaxSize    int    // -1 keeps the manifest's, else DefaultMaxSize
	MaxBackup  int    // -1 keeps the manifest's, else DefaultMaxBackup
	Compress   *bool  // nil keeps the manifest's, else no
	Policy     string // preset name, "existing", or a policy file; "" keeps the policy the manifest names, else DefaultPreset

	Yes, DryRun, NoWait, Revert, PrintKubeadmConfig bool
	RevertTo                                        int  // --revert --to N: back to before backup N of the list (1 is the newest)
	KubeadmConfig                                   bool // update kube-system/kubeadm-config
	Timeout, Interval                               time.Duration

	Out, Err io.Writer
	ErrTTY   bool // Err is a terminal: the progress line updates in place
	Now      func() time.Time
	Geteuid  func() int
	Hostname string
	// Confirm asks before writing (interactive runs); nil means yes.
	Confirm func(summary string) (bool, error)
	// Clientset connects with a kubeconfig (admin.conf).
	Clientset func(kubeconfig string) (kubernetes.Interface, error)
	// probe looks at the apiserver; nil builds ClientProbe from Clientset.
	Probe probe

	failAt func(step string) error // tests: fail (or look) at a write step
}

// NewOptions has the defaults of the flags and the real dependencies.
func NewOptions(out, errw io.Writer) *Options {
	host, _ := os.Hostname()
	return &Options{
		Root: "/", MaxAge: -1, MaxSize: -1, MaxBackup: -1,
		KubeadmConfig: true, Timeout: DefaultTimeout, Interval: 2 * time.Second,
		Out: out, Err: errw, Now: time.Now, Geteuid: os.Geteuid, Hostname: strings.ToLower(host),
		Clientset: newClientset,
	}
}

// plan is what setup will change.
type plan struct {
	Cfg          config
	Version      string
	ManifestPath string // in the root
	PolicyFile   string // in the root
	OldManifest  []byte
	NewManifest  []byte
	OldPolicy    []byte // nil when there is none
	NewPolicy    []byte
	PolicyAbout  string
	Findings     []string
	// Changes says each change in words, before the diffs.
	Changes []string
	// Kubeadm is the change of kube-system/kubeadm-config (Run fills it in).
	Kubeadm     *kubeadmChange
	kubeadmSame bool // kubeadm-config was read and already has these settings
	oldExists   bool // the policy file exists
}

// ManifestChanged and PolicyChanged say what a write would change.
func (p *plan) ManifestChanged() bool { return !bytes.Equal(p.OldManifest, p.NewManifest) }
func (p *plan) PolicyChanged() bool   { return !p.oldExists || !bytes.Equal(p.OldPolicy, p.NewPolicy) }

// path is where rel (a path of the node) lies under --root, its symbolic
// links followed inside the root (inRoot).
func (o *Options) path(rel string) string { return inRoot(o.Root, rel) }

// preflight checks we are on a kubeadm control-plane node with rights to
// change it; each error is one line that says what to do.
func (o *Options) preflight() error {
	mp := o.path(manifestRel)
	_, err := os.Stat(mp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no %s: run kauditui setup on a kubeadm control-plane node (or point --root at its filesystem)", mp)
	case err != nil:
		return fmt.Errorf("cannot read %s: %v (run as root: sudo kauditui setup)", mp, err)
	}
	return o.checkRoot()
}

// checkRoot: on a real node (--root /) writing needs root.
func (o *Options) checkRoot() error {
	if o.Root == "/" && o.Geteuid() != 0 && !o.DryRun && !o.PrintKubeadmConfig {
		return errors.New("setup changes /etc/kubernetes: run it as root (sudo kauditui setup), or try --dry-run")
	}
	return nil
}

// current is the audit settings the manifest has now.
type current struct {
	m                          *manifest
	hasPolicy, hasLog          bool
	policyPath, logPath        string
	values                     map[string]string // audit flags set, by name
	counts                     map[string]int    // occurrences of each audit flag
	policy                     []byte            // the policy file it names, if readable
	policyErr                  error
	compress                   bool
	maxAge, maxSize, maxBackup int // -1 when not set
}

var auditFlagNames = []string{"audit-policy-file", "audit-log-path", "audit-log-format", "audit-log-maxage", "audit-log-maxsize", "audit-log-maxbackup", "audit-log-compress"}

func readCurrent(o *Options, m *manifest) *current {
	st := &current{m: m, values: map[string]string{}, counts: map[string]int{}}
	for _, u := range m.cmdline().parse().uses {
		st.counts[u.name]++
		st.values[u.name] = u.value
	}
	st.policyPath, st.hasPolicy = st.values["audit-policy-file"], st.counts["audit-policy-file"] > 0
	st.logPath, st.hasLog = st.values["audit-log-path"], st.counts["audit-log-path"] > 0
	num := func(name string) int {
		if v, ok := st.values[name]; ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return n
			}
		}
		return -1
	}
	st.maxAge, st.maxSize, st.maxBackup = num("audit-log-maxage"), num("audit-log-maxsize"), num("audit-log-maxbackup")
	if v, ok := st.values["audit-log-compress"]; ok {
		st.compress, _ = strconv.ParseBool(v)
	}
	if st.hasPolicy {
		if !filepath.IsAbs(st.policyPath) {
			st.policyErr = errors.New("not an absolute path")
		} else {
			st.policy, st.policyErr = readBounded(o.path(st.policyPath), maxPolicySize)
		}
	}
	return st
}

// resolve is the config asked for: each option given, else what the manifest
// has, else the default; and the policy to write.
func (o *Options) resolve(st *current) (config, string) {
	cfg := config{Mode: o.Mode, LogPath: o.LogPath, PolicyPath: o.PolicyPath,
		MaxAge: o.MaxAge, MaxSize: o.MaxSize, MaxBackup: o.MaxBackup}
	if cfg.Mode == "" {
		cfg.Mode = "file"
		if st.hasLog && st.logPath == "-" {
			cfg.Mode = "stdout"
		}
	}
	if cfg.LogPath == "" {
		cfg.LogPath = DefaultLogPath
		if st.hasLog && st.logPath != "-" && filepath.IsAbs(st.logPath) {
			cfg.LogPath = st.logPath
		}
	} else if filepath.IsAbs(cfg.LogPath) {
		cfg.LogPath = path.Clean(cfg.LogPath)
	}
	if cfg.PolicyPath == "" {
		cfg.PolicyPath = DefaultPolicyPath
		if st.hasPolicy && filepath.IsAbs(st.policyPath) {
			cfg.PolicyPath = st.policyPath
		}
	} else if filepath.IsAbs(cfg.PolicyPath) {
		cfg.PolicyPath = path.Clean(cfg.PolicyPath)
	}
	pick := func(asked, have, def int) int {
		switch {
		case asked >= 0:
			return asked
		case have >= 0:
			return have
		}
		return def
	}
	cfg.MaxAge = pick(o.MaxAge, st.maxAge, DefaultMaxAge)
	cfg.MaxSize = pick(o.MaxSize, st.maxSize, DefaultMaxSize)
	cfg.MaxBackup = pick(o.MaxBackup, st.maxBackup, DefaultMaxBackup)
	cfg.Compress = st.compress
	if o.Compress != nil {
		cfg.Compress = *o.Compress
	}
	if _, ok := st.values["audit-log-format"]; ok {
		cfg.Format = "json" // kauditui reads json; legacy is switched
	}
	policy := o.Policy
	if policy == "" {
		policy = defaultPreset
		if st.policy != nil {
			policy = keepExisting
		}
	}
	return cfg, policy
}

// Prefill sets every option left unset to what MakePlan would use (the
// manifest's settings, else the defaults): the form starts from them.
func Prefill(o *Options) error {
	if err := o.preflight(); err != nil {
		return err
	}
	b, err := readBounded(o.path(manifestRel), maxManifestSize)
	if err != nil {
		return err
	}
	m, err := parseManifest(b)
	if err != nil {
		return err
	}
	cfg, policy := o.resolve(readCurrent(o, m))
	o.Mode, o.LogPath, o.PolicyPath = cfg.Mode, cfg.LogPath, cfg.PolicyPath
	o.MaxAge, o.MaxSize, o.MaxBackup = cfg.MaxAge, cfg.MaxSize, cfg.MaxBackup
	o.Compress = &cfg.Compress
	o.Policy = policy
	return nil
}

// SettingError is a setting (a flag, a form value) that cannot be used:
// nothing was done, and the message says what to choose instead.
type SettingError struct{ Err error }

func (e *SettingError) Error() string { return e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// makePlan reads the node's manifest and policy and computes the change.
func makePlan(o *Options) (*plan, error) {
	if err := o.preflight(); err != nil {
		return nil, err
	}
	p := &plan{ManifestPath: o.path(manifestRel)}
	var err error
	if p.OldManifest, err = readBounded(p.ManifestPath, maxManifestSize); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v (run as root: sudo kauditui setup)", p.ManifestPath, err)
	}
	m, err := parseManifest(p.OldManifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p.ManifestPath, err)
	}
	p.Version = m.Version()
	st := readCurrent(o, m)
	cfg, policy := o.resolve(st)
	if cfg.Mode != "file" && cfg.Mode != "stdout" {
		return nil, &SettingError{fmt.Errorf("--mode %q: want file or stdout", cfg.Mode)}
	}
	if cfg.LogPath == "-" || cfg.LogPath == "/dev/stdout" {
		return nil, &SettingError{errors.New("--log-path: for stdout use --mode stdout (never /dev/stdout: the rotator would rotate it away)")}
	}
	if !filepath.IsAbs(cfg.LogPath) || !filepath.IsAbs(cfg.PolicyPath) {
		return nil, &SettingError{errors.New("--log-path and --policy-path must be absolute paths on the node")}
	}
	fromFlag := map[string]bool{"log-path": o.LogPath != "", "policy-path": o.PolicyPath != ""}
	if err := checkPaths(o.Root, m, cfg, st.logPath, fromFlag); err != nil {
		return nil, &SettingError{err}
	}
	p.Cfg = cfg
	if p.Version != "" {
		p.Findings = append(p.Findings, "kube-apiserver "+p.Version+" (image tag)")
	}
	if st.hasPolicy || st.hasLog {
		var set []string
		for _, f := range auditFlagNames {
			if v, ok := st.values[f]; ok {
				set = append(set, "--"+f+"="+v)
			}
		}
		p.Findings = append(p.Findings, "audit flags already set: "+strings.Join(set, " "))
	}
	if pos := m.Positional(); len(pos) > 0 {
		p.Findings = append(p.Findings, fmt.Sprintf("the apiserver's command line has arguments that are no flag's value, which kube-apiserver refuses: %q", pos))
	}

	// The policy file the manifest names now, and the one setup writes.
	if st.hasPolicy {
		switch {
		case st.policyErr != nil:
			p.Findings = append(p.Findings, fmt.Sprintf("the manifest names policy %s, which cannot be read: %v", st.policyPath, oneLine(st.policyErr.Error())))
		case isV1beta1Policy(st.policy):
			p.Findings = append(p.Findings, fmt.Sprintf(
				"2019 recipe: %s is an audit.k8s.io/v1beta1 policy, removed in Kubernetes 1.24; the apiserver will not start with it. Fix: setup converts it to audit.k8s.io/v1, keeping its rules (--policy default, metadata or security replaces it)", st.policyPath))
		}
	}
	if v, ok := m.Gate("AdvancedAuditing"); ok {
		p.Findings = append(p.Findings, fmt.Sprintf(
			"2019 recipe: --feature-gates=AdvancedAuditing=%s; the gate was removed and an unknown gate stops the apiserver. Fix: setup removes it", v))
	}
	if p.NewPolicy, p.PolicyAbout, err = choosePolicy(policy, st.policy); err != nil {
		return nil, &SettingError{err}
	}
	warning, err := validatePolicy(p.NewPolicy)
	if err != nil {
		hint := ""
		if o.Policy == "" {
			hint = "; choose another with --policy (" + presetNames() + ", or a file)"
		}
		return nil, fmt.Errorf("policy (%s) refused, nothing written: %v%s", p.PolicyAbout, oneLine(err.Error()), hint)
	}
	if warning != "" {
		p.Findings = append(p.Findings, "policy warning: "+oneLine(warning))
	}
	p.PolicyFile = o.path(cfg.PolicyPath)
	switch b, err := readBounded(p.PolicyFile, maxPolicySize); {
	case err == nil:
		p.OldPolicy, p.oldExists = b, true
		// Replacing a file the manifest does not name: only an audit policy.
		if !(st.hasPolicy && path.Clean(st.policyPath) == path.Clean(cfg.PolicyPath)) && !looksLikePolicy(b) {
			return nil, fmt.Errorf("--policy-path %s: that file exists and is not an audit policy: setup will not replace it; choose another path", cfg.PolicyPath)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("policy path %s: %v", cfg.PolicyPath, oneLine(err.Error()))
	}

	patched := m.Clone()
	patched.Patch(cfg)
	s := sha256.Sum256(p.NewPolicy)
	if patched.Pod.Annotations == nil {
		patched.Pod.Annotations = map[string]string{}
	}
	patched.Pod.Annotations[policyHashAnnotation] = hex.EncodeToString(s[:])[:16]
	var notes []string
	if p.NewManifest, notes, err = m.Rewrite(patched.Pod); err != nil {
		return nil, err
	}
	p.Changes = describeChanges(st, cfg, m, patched, p)
	p.Changes = append(p.Changes, notes...)
	return p, nil
}

// looksLikePolicy: a YAML document of kind Policy.
func looksLikePolicy(b []byte) bool {
	var doc struct {
		Kind string `json:"kind"`
	}
	return sigsyaml.Unmarshal(b, &doc) == nil && doc.Kind == "Policy"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Summary is the text shown before asking: findings, the changes in words,
// the policy, the diffs.
func (p *plan) Summary(o *Options) string {
	var b strings.Builder
	rel := func(abs string) string { return "/" + strings.TrimPrefix(strings.TrimPrefix(abs, o.Root), "/") }
	for _, f := range p.Findings {
		fmt.Fprintf(&b, "• %s\n", f)
	}
	fmt.Fprintf(&b, "• mode %s", p.Cfg.Mode)
	if p.Cfg.Mode == "file" {
		fmt.Fprintf(&b, ": %s, keep %d days, %d MB a file, %d backups, compress %v", p.Cfg.LogPath, p.Cfg.MaxAge, p.Cfg.MaxSize, p.Cfg.MaxBackup, p.Cfg.Compress)
	} else {
		b.WriteString(": audit events go to the apiserver's stdout (kubectl logs)")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "• policy: %s -> %s\n", p.PolicyAbout, p.Cfg.PolicyPath)
	if len(p.Changes) > 0 {
		b.WriteString("\nWhat changes:\n")
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "  - %s\n", c)
		}
	}
	switch {
	case !p.PolicyChanged():
		fmt.Fprintf(&b, "\n%s is already this policy.\n", p.Cfg.PolicyPath)
	case p.OldPolicy != nil:
		fmt.Fprintf(&b, "\n%s", unifiedDiff(p.Cfg.PolicyPath, p.Cfg.PolicyPath+" (new)", p.OldPolicy, p.NewPolicy))
	default:
		fmt.Fprintf(&b, "\n%s (new):\n%s", p.Cfg.PolicyPath, p.NewPolicy)
	}
	if p.ManifestChanged() {
		mp := rel(p.ManifestPath)
		fmt.Fprintf(&b, "\n%s", unifiedDiff(mp, mp+" (new)", p.OldManifest, p.NewManifest))
	} else {
		fmt.Fprintf(&b, "\n%s already has these settings.\n", rel(p.ManifestPath))
	}
	if p.Kubeadm != nil {
		fmt.Fprintf(&b, "\nkube-system/kubeadm-config, so kubeadm upgrade keeps auditing:\n%s", p.Kubeadm.diff)
	}
	return b.String()
}

// Run is `kauditui setup`.
func Run(ctx context.Context, o *Options) error {
	if o.PrintKubeadmConfig {
		return printKubeadmConfig(o)
	}
	if err := o.preflight(); err != nil {
		return err
	}
	if err := recoverIncomplete(ctx, o); err != nil {
		return err
	}
	if o.Revert {
		return revert(ctx, o)
	}
	p, err := makePlan(o)
	if err != nil {
		return err
	}
	o.planKubeadm(ctx, p)
	fmt.Fprint(o.Out, p.Summary(o))
	if !p.ManifestChanged() && !p.PolicyChanged() && p.Kubeadm == nil {
		fmt.Fprintln(o.Out, "\nNothing to change: auditing is already set up as asked.")
		if p.kubeadmSame {
			fmt.Fprintln(o.Out, "kube-system/kubeadm-config already has these settings")
		}
		o.otherControlPlanes(ctx)
		return nil
	}
	if o.DryRun {
		fmt.Fprintln(o.Out, "\nDry run: nothing written.")
		return nil
	}
	if o.Confirm != nil {
		ok, err := o.Confirm(p.Summary(o))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(o.Out, "Nothing written.")
			return nil
		}
	}

	wait := !o.NoWait && p.ManifestChanged()
	before := ""
	if wait {
		probe, err := o.probe()
		if err != nil {
			return fmt.Errorf("cannot reach the apiserver to watch it restart (%v); nothing written (use --no-wait to skip the wait)", err)
		}
		o.Probe = probe
		if _, inst, err := probe(ctx); err == nil {
			before = inst
		}
	}
	t := &txn{o: o, kind: "setup", now: o.Now(), changes: p.Changes, about: p.about(), kc: p.Kubeadm}
	var wrote []string
	if p.PolicyChanged() {
		t.files = append(t.files, &fileChange{rel: p.Cfg.PolicyPath, abs: p.PolicyFile, old: p.OldPolicy, oldExists: p.oldExists,
			new: p.NewPolicy, newExists: true, mode: 0o600})
		wrote = append(wrote, p.Cfg.PolicyPath)
	}
	if p.ManifestChanged() {
		t.files = append(t.files, &fileChange{rel: "/" + manifestRel, abs: p.ManifestPath, old: p.OldManifest, oldExists: true,
			new: p.NewManifest, newExists: true, mode: 0o600})
		wrote = append(wrote, "/"+manifestRel)
	}
	if err := t.run(ctx); err != nil {
		return err
	}
	if len(wrote) > 0 {
		fmt.Fprintf(o.Out, "wrote %s\n", strings.Join(wrote, " and "))
	}
	switch {
	case p.Kubeadm != nil:
		fmt.Fprintln(o.Out, "updated kube-system/kubeadm-config so kubeadm upgrade keeps auditing")
	case p.kubeadmSame:
		fmt.Fprintln(o.Out, "kube-system/kubeadm-config already has these settings")
	}
	if err := o.settle(ctx, t, wait, before); err != nil {
		return err
	}
	if wait {
		o.checkAuditEvents(ctx, p.Cfg)
	}
	o.otherControlPlanes(ctx)
	return nil
}

// about is the one line the backup list shows for this run.
func (p *plan) about() string {
	var parts []string
	if p.Cfg.Mode == "file" {
		parts = append(parts, fmt.Sprintf("file %s (%d days, %d MB, %d files)", p.Cfg.LogPath, p.Cfg.MaxAge, p.Cfg.MaxSize, p.Cfg.MaxBackup))
	} else {
		parts = append(parts, "stdout")
	}
	parts = append(parts, "policy "+p.PolicyAbout+" at "+p.Cfg.PolicyPath)
	var touched []string
	if p.PolicyChanged() {
		touched = append(touched, "policy")
	}
	if p.ManifestChanged() {
		touched = append(touched, "manifest")
	}
	if p.Kubeadm != nil {
		touched = append(touched, "kubeadm-config")
	}
	return strings.Join(parts, ", ") + "; changed " + strings.Join(touched, ", ")
}

// planKubeadm reads kube-system/kubeadm-config and plans its change; when it
// cannot, it says why in one line and the run goes on without it.
func (o *Options) planKubeadm(ctx context.Context, p *plan) {
	if !o.KubeadmConfig {
		return
	}
	k, err := o.kubeadmNow(ctx)
	switch {
	case apierrors.IsNotFound(err):
		fmt.Fprintln(o.Err, "no ConfigMap kube-system/kubeadm-config: not a kubeadm cluster, or an old one; nothing to keep for kubeadm upgrade")
		return
	case err != nil:
		fmt.Fprintf(o.Err, "kubeadm-config not checked (%s): add 'kauditui setup --print-kubeadm-config' to your ClusterConfiguration so kubeadm upgrade keeps auditing\n", oneLine(err.Error()))
		return
	}
	c, err := planKubeadmConfig(k, p.Cfg)
	if err != nil {
		fmt.Fprintf(o.Err, "kubeadm-config not updated (%s): kubeadm upgrade would drop auditing; see 'kauditui setup --print-kubeadm-config'\n", oneLine(err.Error()))
		return
	}
	p.Kubeadm, p.kubeadmSame = c, c == nil
}

func (o *Options) otherControlPlanes(ctx context.Context) {
	if !o.KubeadmConfig {
		return
	}
	cs, err := o.client()
	if err != nil {
		return
	}
	if others, err := otherControlPlanes(ctx, cs, o.Hostname); err == nil && len(others) > 0 {
		fmt.Fprintf(o.Out, "other control-plane nodes: %s; run kauditui setup on each of them, one at a time\n", strings.Join(others, ", "))
		fmt.Fprint(o.Out, readersNote)
	}
}

// readersNote says what reading every master from one place takes, and what
// the powerful grant among it allows.
const readersNote = `to read every master from one place: kauditui --pods (get, list, watch on pods and get on
  pods/log in kube-system: docs/kauditui-reader.yaml); their audit files through the kubelet
  (kauditui --nodes) need nodes/proxy, a powerful grant: it also allows exec into every pod on
  those nodes, and what is done through it is not in the audit log: give it only to people who
  may already do that
`

// rollbackAfterWait puts everything back after the apiserver did not come
// back with the new files.
// settle waits for the apiserver to come back (when wait; before is the
// instance that ran before) and records the transaction done; a failure of
// either puts every file back.
func (o *Options) settle(ctx context.Context, t *txn, wait bool, before string) error {
	if wait {
		if err := waitRestart(ctx, o, before); err != nil {
			return o.rollbackAfterWait(ctx, t, err)
		}
	}
	if err := t.done(); err != nil {
		if errors.Is(err, errKilled) {
			return err
		}
		return t.fail(ctx, fmt.Errorf("recording the backup as complete failed: %v", err))
	}
	return nil
}

func (o *Options) rollbackAfterWait(ctx context.Context, t *txn, cause error) error {
	fmt.Fprintf(o.Err, "%v: restoring the previous files\n", cause)
	if lines := lastApiserverErrors(o.Root, 10); len(lines) > 0 {
		fmt.Fprintln(o.Err, "last apiserver log lines:")
		for _, l := range lines {
			fmt.Fprintln(o.Err, "  "+l)
		}
	}
	if err := t.rollback(ctx); err != nil {
		return fmt.Errorf("%v; and restoring failed: %v (restore by hand from %s)", cause, err, t.dir)
	}
	what := []string{}
	for _, f := range t.files {
		what = append(what, f.rel)
	}
	if t.kc != nil {
		what = append(what, "kube-system/kubeadm-config")
	}
	return fmt.Errorf("%v; the previous manifest is restored (%s as before)", cause, strings.Join(what, ", "))
}

func (o *Options) client() (kubernetes.Interface, error) {
	kc := o.path(adminConf)
	if _, err := os.Stat(kc); err != nil {
		return nil, fmt.Errorf("no %s", kc)
	}
	return o.Clientset(kc)
}

func (o *Options) probe() (probe, error) {
	if o.Probe != nil {
		return o.Probe, nil
	}
	cs, err := o.client()
	if err != nil {
		return nil, err
	}
	return clientProbe(cs, o.Hostname), nil
}

// checkAuditEvents makes a request (audited by every preset) and looks for
// events where the config promises them.
func (o *Options) checkAuditEvents(ctx context.Context, cfg config) {
	deadline := o.Now().Add(30 * time.Second)
	for {
		if cs, err := o.client(); err == nil {
			_, _ = cs.CoreV1().Namespaces().List(ctx, metav1ListOne)
		}
		ok, where := auditEventsAt(o.Root, cfg)
		if ok {
			fmt.Fprintf(o.Out, "audit events are being written: %s\n", where)
			return
		}
		if o.Now().After(deadline) {
			fmt.Fprintf(o.Err, "warning: no audit event in %s yet; check the policy and the apiserver's log\n", where)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(o.Interval):
		}
	}
}

func printKubeadmConfig(o *Options) error {
	q := *o
	q.DryRun, q.Out, q.Err = true, io.Discard, io.Discard
	var cfg config
	if p, err := makePlan(&q); err == nil {
		cfg = p.Cfg // on a master: the paths and settings its manifest already has
	} else {
		cfg, _ = o.resolve(&current{maxAge: -1, maxSize: -1, maxBackup: -1, values: map[string]string{}})
	}
	b, err := kubeadmSnippet(cfg, "kubeadm.k8s.io/v1beta4")
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "# Merge into your kubeadm ClusterConfiguration (kubeadm init --config, or\n# kubectl -n kube-system edit cm kubeadm-config); put the policy file at\n# %s on every control-plane node.\n%s", cfg.PolicyPath, b)
	return nil
}
