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
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
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
type Options struct {
	Root       string // filesystem root, "/" on a real node
	Mode       string // "file" or "stdout"; "" keeps the manifest's, else file
	LogPath    string // "" keeps the manifest's, else DefaultLogPath
	PolicyPath string // where the policy file goes; "" keeps the manifest's, else DefaultPolicyPath
	MaxAge     int
	MaxSize    int
	MaxBackup  int
	Compress   bool
	Policy     string // preset name, "existing", or a policy file

	Yes, DryRun, NoWait, Revert, PrintKubeadmConfig bool
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
	// Probe looks at the apiserver; nil builds ClientProbe from Clientset.
	Probe Probe

	failAt func(step string) error // tests: fail (or look) at a write step
}

// NewOptions has the defaults of the flags and the real dependencies.
func NewOptions(out, errw io.Writer) *Options {
	host, _ := os.Hostname()
	return &Options{
		Root: "/", MaxAge: DefaultMaxAge, MaxSize: DefaultMaxSize, MaxBackup: DefaultMaxBackup,
		Policy: DefaultPreset, KubeadmConfig: true, Timeout: DefaultTimeout, Interval: 2 * time.Second,
		Out: out, Err: errw, Now: time.Now, Geteuid: os.Geteuid, Hostname: strings.ToLower(host),
		Clientset: NewClientset,
	}
}

// Plan is what setup will change.
type Plan struct {
	Cfg          Config
	Version      string
	ManifestPath string // in the root
	PolicyFile   string // in the root
	OldManifest  []byte
	NewManifest  []byte
	OldPolicy    []byte // nil when there is none
	NewPolicy    []byte
	PolicyAbout  string
	Findings     []string
}

// ManifestChanged and PolicyChanged say what a write would change.
func (p *Plan) ManifestChanged() bool { return !bytes.Equal(p.OldManifest, p.NewManifest) }
func (p *Plan) PolicyChanged() bool   { return !bytes.Equal(p.OldPolicy, p.NewPolicy) }

func (o *Options) path(rel string) string { return filepath.Join(o.Root, rel) }

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

// MakePlan reads the node's manifest and policy and computes the change.
func MakePlan(o *Options) (*Plan, error) {
	if err := o.preflight(); err != nil {
		return nil, err
	}
	p := &Plan{ManifestPath: o.path(manifestRel)}
	var err error
	if p.OldManifest, err = os.ReadFile(p.ManifestPath); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v (run as root: sudo kauditui setup)", p.ManifestPath, err)
	}
	m, err := ParseManifest(p.OldManifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p.ManifestPath, err)
	}
	p.Version = m.Version()

	oldPolicyPath, hasPolicy := m.Flag("audit-policy-file")
	oldLogPath, hasLog := m.Flag("audit-log-path")
	cfg := Config{Mode: o.Mode, LogPath: o.LogPath, PolicyPath: o.PolicyPath,
		MaxAge: o.MaxAge, MaxSize: o.MaxSize, MaxBackup: o.MaxBackup, Compress: o.Compress}
	if cfg.Mode == "" {
		cfg.Mode = "file"
		if hasLog && oldLogPath == "-" {
			cfg.Mode = "stdout"
		}
	}
	if cfg.Mode != "file" && cfg.Mode != "stdout" {
		return nil, fmt.Errorf("--mode %q: want file or stdout", cfg.Mode)
	}
	if cfg.LogPath == "" {
		cfg.LogPath = DefaultLogPath
		if hasLog && oldLogPath != "-" && filepath.IsAbs(oldLogPath) {
			cfg.LogPath = oldLogPath
		}
	}
	if cfg.LogPath == "-" || cfg.LogPath == "/dev/stdout" {
		return nil, errors.New("--log-path: for stdout use --mode stdout (never /dev/stdout: the rotator would rotate it away)")
	}
	if cfg.PolicyPath == "" {
		cfg.PolicyPath = DefaultPolicyPath
		if hasPolicy && filepath.IsAbs(oldPolicyPath) {
			cfg.PolicyPath = oldPolicyPath
		}
	}
	if !filepath.IsAbs(cfg.LogPath) || !filepath.IsAbs(cfg.PolicyPath) {
		return nil, errors.New("--log-path and --policy-path must be absolute paths on the node")
	}
	p.Cfg = cfg
	if p.Version != "" {
		p.Findings = append(p.Findings, "kube-apiserver "+p.Version+" (image tag)")
	}
	if hasPolicy || hasLog {
		var set []string
		for _, f := range []string{"audit-policy-file", "audit-log-path", "audit-log-maxage", "audit-log-maxsize", "audit-log-maxbackup", "audit-log-compress"} {
			if v, ok := m.Flag(f); ok {
				set = append(set, "--"+f+"="+v)
			}
		}
		p.Findings = append(p.Findings, "audit flags already set: "+strings.Join(set, " "))
	}

	// The policy file the manifest names now, and the one setup writes.
	var existing []byte
	if hasPolicy {
		if b, err := os.ReadFile(o.path(oldPolicyPath)); err == nil {
			existing = b
			if isV1beta1Policy(b) {
				p.Findings = append(p.Findings, fmt.Sprintf(
					"2019 recipe: %s is an audit.k8s.io/v1beta1 policy, removed in Kubernetes 1.24; the apiserver will not start with it. Fix: setup writes an audit.k8s.io/v1 policy (--policy existing keeps your rules, converted)", oldPolicyPath))
			}
		} else {
			p.Findings = append(p.Findings, fmt.Sprintf("the manifest names policy %s, which cannot be read: %v", oldPolicyPath, err))
		}
	}
	if v, ok := m.Gate("AdvancedAuditing"); ok {
		p.Findings = append(p.Findings, fmt.Sprintf(
			"2019 recipe: --feature-gates=AdvancedAuditing=%s; the gate was removed and an unknown gate stops the apiserver. Fix: setup removes it", v))
	}
	if p.NewPolicy, p.PolicyAbout, err = choosePolicy(o.Policy, existing); err != nil {
		return nil, err
	}
	warning, err := ValidatePolicy(p.NewPolicy)
	if err != nil {
		return nil, fmt.Errorf("policy (%s) refused, nothing written: %v", p.PolicyAbout, oneLine(err.Error()))
	}
	if warning != "" {
		p.Findings = append(p.Findings, "policy warning: "+oneLine(warning))
	}
	p.PolicyFile = o.path(cfg.PolicyPath)
	if b, err := os.ReadFile(p.PolicyFile); err == nil {
		p.OldPolicy = b
	}

	patched := m.Clone()
	patched.Patch(cfg)
	sum := sha256.Sum256(p.NewPolicy)
	if patched.Pod.Annotations == nil {
		patched.Pod.Annotations = map[string]string{}
	}
	patched.Pod.Annotations[policyHashAnnotation] = hex.EncodeToString(sum[:])[:16]
	if p.NewManifest, err = patched.Marshal(); err != nil {
		return nil, err
	}
	// A manifest already as asked stays byte for byte, whatever its formatting.
	if again, err := m.Marshal(); err == nil && bytes.Equal(again, p.NewManifest) {
		p.NewManifest = p.OldManifest
	}
	return p, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Summary is the text shown before asking: findings, the policy, the diff.
func (p *Plan) Summary(o *Options) string {
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
	return b.String()
}

// Run is `kauditui setup`.
func Run(ctx context.Context, o *Options) error {
	if o.PrintKubeadmConfig {
		return printKubeadmConfig(o)
	}
	if o.Revert {
		return revert(ctx, o)
	}
	p, err := MakePlan(o)
	if err != nil {
		return err
	}
	fmt.Fprint(o.Out, p.Summary(o))
	if !p.ManifestChanged() && !p.PolicyChanged() {
		fmt.Fprintln(o.Out, "\nNothing to change: auditing is already set up as asked.")
		o.syncKubeadmConfig(ctx, p.Cfg, o.Now())
		return nil
	}
	if o.DryRun {
		fmt.Fprintln(o.Out, "\nDry run: nothing written.")
		o.syncKubeadmConfig(ctx, p.Cfg, o.Now())
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

	var probe Probe
	before := ""
	if !o.NoWait {
		if probe, err = o.probe(); err != nil {
			return fmt.Errorf("cannot reach the apiserver to watch it restart (%v); nothing written (use --no-wait to skip the wait)", err)
		}
		o.Probe = probe
		if _, inst, err := probe(ctx); err == nil {
			before = inst
		}
	}
	// One time for every backup of this run: --revert pairs them by it.
	now := o.Now()
	saved, err := apply(o, p, now)
	if err != nil {
		return err
	}
	for _, s := range saved {
		fmt.Fprintf(o.Out, "backup: %s\n", s)
	}
	fmt.Fprintf(o.Out, "wrote %s and %s\n", p.Cfg.PolicyPath, "/"+manifestRel)

	if !o.NoWait {
		if err := waitRestart(ctx, o, before); err != nil {
			return o.rollback(p, err)
		}
		o.checkAuditEvents(ctx, p.Cfg)
	}
	o.syncKubeadmConfig(ctx, p.Cfg, now)
	return nil
}

// apply writes backups, then the policy, then the manifest: the policy
// first, so the manifest never names a policy file that is not there yet.
func apply(o *Options, p *Plan, now time.Time) (saved []string, err error) {
	bdir := o.path(backupRel)
	if p.ManifestChanged() {
		s, err := backup(p.ManifestPath, bdir, now)
		if err != nil {
			return nil, fmt.Errorf("backup failed, nothing changed: %v", err)
		}
		saved = append(saved, s)
	}
	if p.OldPolicy != nil && p.PolicyChanged() {
		s, err := backup(p.PolicyFile, bdir, now)
		if err != nil {
			return saved, fmt.Errorf("backup failed, nothing changed: %v", err)
		}
		saved = append(saved, s)
	}
	if err := hook(o.failAt, StepAfterBackup); err != nil {
		return saved, err
	}
	if p.PolicyChanged() {
		if err := os.MkdirAll(filepath.Dir(p.PolicyFile), 0o755); err != nil {
			return saved, err
		}
		if err := writeAtomic(p.PolicyFile, p.NewPolicy, 0o600, o.failAt); err != nil {
			return saved, fmt.Errorf("writing %s failed, manifest unchanged: %v", p.Cfg.PolicyPath, err)
		}
	}
	if p.ManifestChanged() {
		if err := writeAtomic(p.ManifestPath, p.NewManifest, 0o600, o.failAt); err != nil {
			return saved, fmt.Errorf("writing the manifest failed, the old one is in place: %v", err)
		}
	}
	return saved, nil
}

// rollback puts the old manifest (and policy) back after a failed restart.
func (o *Options) rollback(p *Plan, cause error) error {
	fmt.Fprintf(o.Err, "%v: restoring the previous manifest\n", cause)
	if err := writeAtomic(p.ManifestPath, p.OldManifest, 0o600, nil); err != nil {
		return fmt.Errorf("%v; and restoring the backup failed: %v (restore it by hand from %s)", cause, err, o.path(backupRel))
	}
	if p.OldPolicy != nil && p.PolicyChanged() {
		_ = writeAtomic(p.PolicyFile, p.OldPolicy, 0o600, nil)
	}
	if lines := lastApiserverErrors(o.Root, 10); len(lines) > 0 {
		fmt.Fprintln(o.Err, "last apiserver log lines:")
		for _, l := range lines {
			fmt.Fprintln(o.Err, "  "+l)
		}
	}
	return fmt.Errorf("%v; the previous manifest is restored", cause)
}

func (o *Options) client() (kubernetes.Interface, error) {
	kc := o.path(adminConf)
	if _, err := os.Stat(kc); err != nil {
		return nil, fmt.Errorf("no %s", kc)
	}
	return o.Clientset(kc)
}

func (o *Options) probe() (Probe, error) {
	if o.Probe != nil {
		return o.Probe, nil
	}
	cs, err := o.client()
	if err != nil {
		return nil, err
	}
	return ClientProbe(cs, o.Hostname), nil
}

// checkAuditEvents makes a request (audited by every preset) and looks for
// events where the config promises them.
func (o *Options) checkAuditEvents(ctx context.Context, cfg Config) {
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

// syncKubeadmConfig carries the change into kube-system/kubeadm-config and
// names the other control-plane nodes. Failing here never undoes the node's
// change: it says what to do instead. The previous ClusterConfiguration is
// saved in the backup folder under the time now, for --revert.
func (o *Options) syncKubeadmConfig(ctx context.Context, cfg Config, now time.Time) {
	if !o.KubeadmConfig {
		return
	}
	cs, err := o.client()
	if err != nil {
		fmt.Fprintf(o.Err, "kubeadm-config not checked (%v): add 'kauditui setup --print-kubeadm-config' to your ClusterConfiguration so kubeadm upgrade keeps auditing\n", err)
		return
	}
	diff, saved, err := UpdateKubeadmConfig(ctx, cs, cfg, o.DryRun, o.path(backupRel), now)
	switch {
	case apierrors.IsNotFound(err):
		fmt.Fprintln(o.Err, "no ConfigMap kube-system/kubeadm-config: not a kubeadm cluster, or an old one; nothing to keep for kubeadm upgrade")
	case err != nil:
		fmt.Fprintf(o.Err, "kubeadm-config not updated (%s): kubeadm upgrade would drop auditing; see 'kauditui setup --print-kubeadm-config'\n", oneLine(err.Error()))
	case diff == "":
		fmt.Fprintln(o.Out, "kube-system/kubeadm-config already has these settings")
	case o.DryRun:
		fmt.Fprintf(o.Out, "\nkube-system/kubeadm-config would change:\n%s", diff)
	default:
		fmt.Fprintf(o.Out, "updated kube-system/kubeadm-config so kubeadm upgrade keeps auditing:\n%sbackup: %s\n", diff, saved)
	}
	if others, err := OtherControlPlanes(ctx, cs, o.Hostname); err == nil && len(others) > 0 {
		fmt.Fprintf(o.Out, "other control-plane nodes: %s; run kauditui setup on each of them, one at a time\n", strings.Join(others, ", "))
	}
}

func printKubeadmConfig(o *Options) error {
	cfg := Config{Mode: o.Mode, LogPath: o.LogPath, PolicyPath: o.PolicyPath,
		MaxAge: o.MaxAge, MaxSize: o.MaxSize, MaxBackup: o.MaxBackup, Compress: o.Compress}
	if p, err := MakePlan(&Options{Root: o.Root, Mode: o.Mode, LogPath: o.LogPath, PolicyPath: o.PolicyPath,
		MaxAge: o.MaxAge, MaxSize: o.MaxSize, MaxBackup: o.MaxBackup, Compress: o.Compress, Policy: o.Policy,
		DryRun: true, Geteuid: o.Geteuid}); err == nil {
		cfg = p.Cfg // on a master: the paths its manifest already uses
	}
	if cfg.Mode == "" {
		cfg.Mode = "file"
	}
	if cfg.LogPath == "" {
		cfg.LogPath = DefaultLogPath
	}
	if cfg.PolicyPath == "" {
		cfg.PolicyPath = DefaultPolicyPath
	}
	b, err := KubeadmSnippet(cfg, "kubeadm.k8s.io/v1beta4")
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "# Merge into your kubeadm ClusterConfiguration (kubeadm init --config, or\n# kubectl -n kube-system edit cm kubeadm-config); put the policy file at\n# %s on every control-plane node.\n%s", cfg.PolicyPath, b)
	return nil
}

// revert restores the latest backup of the manifest byte for byte, the
// policy saved with it, and kube-system/kubeadm-config's ClusterConfiguration
// if setup changed it in that run or later.
func revert(ctx context.Context, o *Options) error {
	if err := o.preflight(); err != nil {
		return err
	}
	mp := o.path(manifestRel)
	bdir := o.path(backupRel)
	rel := "/" + manifestRel
	latest, noBackup := latestBackup(bdir, filepath.Base(mp))
	var want, cur []byte
	since := ""
	if noBackup == nil {
		var err error
		if want, err = os.ReadFile(latest); err != nil {
			return err
		}
		cur, _ = os.ReadFile(mp)
		since = backupStamp(latest, filepath.Base(mp))
	}
	manifestDone := noBackup != nil || bytes.Equal(cur, want)
	kc := o.planKubeadmRevert(ctx, since)
	if noBackup != nil && kc == nil {
		return noBackup
	}
	switch {
	case noBackup != nil:
	case manifestDone:
		fmt.Fprintf(o.Out, "%s is already the backup %s\n", rel, filepath.Base(latest))
	default:
		fmt.Fprint(o.Out, unifiedDiff(rel, rel+" (backup "+filepath.Base(latest)+")", cur, want))
	}
	if kc != nil {
		fmt.Fprintf(o.Out, "\nkube-system/kubeadm-config, back to %s:\n%s", filepath.Base(kc.backup), kc.diff)
	}
	if manifestDone && kc == nil {
		return nil
	}
	if o.DryRun {
		fmt.Fprintln(o.Out, "\nDry run: nothing written.")
		return nil
	}
	if o.Confirm != nil {
		ok, err := o.Confirm("")
		if err != nil || !ok {
			return err
		}
	}
	var probe Probe
	before := ""
	if !o.NoWait && !manifestDone {
		var err error
		if probe, err = o.probe(); err == nil {
			o.Probe = probe
			if _, inst, err := probe(ctx); err == nil {
				before = inst
			}
		}
	}
	// kubeadm-config first: the apiserver is surely up now, and restarts
	// once the manifest changes.
	if kc != nil {
		if err := kc.apply(ctx); err != nil {
			fmt.Fprintf(o.Err, "kube-system/kubeadm-config not restored (%s): put its ClusterConfiguration back by hand from %s\n", oneLine(err.Error()), kc.backup)
		} else {
			fmt.Fprintf(o.Out, "restored kube-system/kubeadm-config ClusterConfiguration from %s\n", kc.backup)
		}
	}
	if manifestDone {
		return nil
	}
	if err := writeAtomic(mp, want, 0o600, o.failAt); err != nil {
		return fmt.Errorf("revert failed, manifest unchanged: %v", err)
	}
	// The policy saved by the same run, if setup replaced one.
	suffix := strings.TrimPrefix(filepath.Base(latest), filepath.Base(mp))
	if olds, _ := filepath.Glob(filepath.Join(bdir, "*"+suffix)); len(olds) > 0 {
		if m, err := ParseManifest(want); err == nil {
			if pp, ok := m.Flag("audit-policy-file"); ok {
				for _, old := range olds {
					if filepath.Base(old) == filepath.Base(pp)+suffix {
						if b, err := os.ReadFile(old); err == nil {
							_ = writeAtomic(o.path(pp), b, 0o600, nil)
							fmt.Fprintf(o.Out, "restored %s from %s\n", pp, old)
						}
					}
				}
			}
		}
	}
	fmt.Fprintf(o.Out, "restored %s from %s\n", rel, latest)
	if probe != nil {
		return waitRestart(ctx, o, before)
	}
	return nil
}

// pendingKubeadmRevert is a ClusterConfiguration backup to put back.
type pendingKubeadmRevert struct {
	*kubeadmRevert
	backup string
}

// planKubeadmRevert finds the ClusterConfiguration setup replaced in the
// run stamped since (the manifest backup being restored) or later. It
// returns nil when there is nothing to restore, after saying why in one line
// unless setup never touched kubeadm-config then.
func (o *Options) planKubeadmRevert(ctx context.Context, since string) *pendingKubeadmRevert {
	if !o.KubeadmConfig {
		return nil
	}
	saved, err := latestBackup(o.path(backupRel), kubeadmBackupBase)
	if err != nil || backupStamp(saved, kubeadmBackupBase) < since {
		return nil // kubeadm-config was left as it was by the run being undone
	}
	before, err := os.ReadFile(saved)
	if err != nil {
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config not restored: %v\n", err)
		return nil
	}
	written, _ := os.ReadFile(saved + kubeadmWrittenSuffix)
	cs, err := o.client()
	var r *kubeadmRevert
	if err == nil {
		r, err = planKubeadmRevert(ctx, cs, before, written)
	}
	switch {
	case err != nil:
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config not restored (%s): put its ClusterConfiguration back by hand from %s\n", oneLine(err.Error()), saved)
	case r.state == kubeadmAlreadyBack:
		fmt.Fprintf(o.Out, "kube-system/kubeadm-config already holds the ClusterConfiguration of %s\n", saved)
	case r.state == kubeadmChanged:
		fmt.Fprintf(o.Err, "kube-system/kubeadm-config was changed since setup wrote it: left alone (its ClusterConfiguration before setup is in %s)\n", saved)
	default:
		return &pendingKubeadmRevert{kubeadmRevert: r, backup: saved}
	}
	return nil
}
