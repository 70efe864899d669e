package setup

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// kubeadm keeps the cluster's configuration here; `kubeadm upgrade`
// regenerates the static pod manifests from it, so a change only in the
// manifest would vanish at the next upgrade.
const (
	kubeadmConfigNamespace = "kube-system"
	kubeadmConfigName      = "kubeadm-config"
	kubeadmConfigKey       = "ClusterConfiguration"
)

// auditArgs is the apiserver flags (without "--") cfg needs, and the ones it
// removes, in a fixed order.
func auditArgs(cfg Config) (set [][2]string, remove []string) {
	set = append(set, [2]string{"audit-policy-file", cfg.PolicyPath})
	retention := []string{"audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize", "audit-log-compress"}
	if cfg.Mode == "stdout" {
		set = append(set, [2]string{"audit-log-path", "-"})
		return set, retention
	}
	set = append(set,
		[2]string{"audit-log-path", cfg.LogPath},
		[2]string{"audit-log-maxage", fmt.Sprint(cfg.MaxAge)},
		[2]string{"audit-log-maxbackup", fmt.Sprint(cfg.MaxBackup)},
		[2]string{"audit-log-maxsize", fmt.Sprint(cfg.MaxSize)})
	if cfg.Compress {
		set = append(set, [2]string{"audit-log-compress", "true"})
	} else {
		remove = append(remove, "audit-log-compress")
	}
	return set, remove
}

// auditVolumes is the kubeadm extraVolumes cfg needs.
func auditVolumes(cfg Config) []map[string]any {
	vols := []map[string]any{{
		"name": policyVolume, "hostPath": cfg.PolicyPath, "mountPath": cfg.PolicyPath,
		"readOnly": true, "pathType": "File",
	}}
	if cfg.Mode != "stdout" {
		dir := path.Dir(cfg.LogPath)
		vols = append(vols, map[string]any{
			"name": logVolume, "hostPath": dir, "mountPath": dir, "pathType": "DirectoryOrCreate",
		})
	}
	return vols
}

// PatchClusterConfiguration sets the audit extraArgs and extraVolumes in a
// kubeadm ClusterConfiguration document (v1beta3: extraArgs is a map;
// v1beta4: a list of {name, value}), keeping every other field.
func PatchClusterConfiguration(doc []byte, cfg Config) ([]byte, error) {
	var cc map[string]any
	if err := yaml.Unmarshal(doc, &cc); err != nil {
		return nil, fmt.Errorf("ClusterConfiguration: %v", err)
	}
	if cc == nil {
		cc = map[string]any{}
	}
	apiVersion, _ := cc["apiVersion"].(string)
	if !strings.HasPrefix(apiVersion, "kubeadm.k8s.io/") {
		return nil, fmt.Errorf("ClusterConfiguration has apiVersion %q, want kubeadm.k8s.io/v1beta3 or v1beta4", apiVersion)
	}
	apiServer, _ := cc["apiServer"].(map[string]any)
	if apiServer == nil {
		apiServer = map[string]any{}
	}
	set, remove := auditArgs(cfg)
	switch args := apiServer["extraArgs"].(type) {
	case []any: // v1beta4
		apiServer["extraArgs"] = patchArgList(args, set, remove)
	case map[string]any: // v1beta3 and older
		patchArgMap(args, set, remove)
	case nil:
		if apiVersion == "kubeadm.k8s.io/v1beta3" || apiVersion == "kubeadm.k8s.io/v1beta2" {
			m := map[string]any{}
			patchArgMap(m, set, remove)
			apiServer["extraArgs"] = m
		} else {
			apiServer["extraArgs"] = patchArgList(nil, set, remove)
		}
	default:
		return nil, fmt.Errorf("ClusterConfiguration apiServer.extraArgs is a %T, want a map or a list", args)
	}

	vols, _ := apiServer["extraVolumes"].([]any)
	for _, want := range auditVolumes(cfg) {
		vols = setExtraVolume(vols, want)
	}
	if cfg.Mode == "stdout" {
		vols = removeExtraVolume(vols, logVolume)
	}
	if len(vols) > 0 {
		apiServer["extraVolumes"] = vols
	} else {
		delete(apiServer, "extraVolumes")
	}
	cc["apiServer"] = apiServer
	return yaml.Marshal(cc)
}

func patchArgMap(m map[string]any, set [][2]string, remove []string) {
	for _, r := range remove {
		delete(m, r)
	}
	for _, kv := range set {
		m[kv[0]] = kv[1]
	}
	if fg, ok := m["feature-gates"].(string); ok {
		if v := dropGate(fg, "AdvancedAuditing"); v == "" {
			delete(m, "feature-gates")
		} else {
			m["feature-gates"] = v
		}
	}
}

func patchArgList(list []any, set [][2]string, remove []string) []any {
	drop := map[string]bool{}
	for _, r := range remove {
		drop[r] = true
	}
	want := map[string]string{}
	for _, kv := range set {
		want[kv[0]] = kv[1]
	}
	done := map[string]bool{}
	var out []any
	for _, item := range list {
		arg, _ := item.(map[string]any)
		name, _ := arg["name"].(string)
		switch {
		case drop[name] || done[name]:
			continue
		case want[name] != "":
			out = append(out, map[string]any{"name": name, "value": want[name]})
			done[name] = true
			continue
		case name == "feature-gates":
			v, _ := arg["value"].(string)
			if v = dropGate(v, "AdvancedAuditing"); v == "" {
				continue
			}
			arg["value"] = v
		}
		out = append(out, item)
	}
	for _, kv := range set {
		if !done[kv[0]] {
			out = append(out, map[string]any{"name": kv[0], "value": kv[1]})
		}
	}
	return out
}

func dropGate(gates, gate string) string {
	var keep []string
	for _, g := range strings.Split(gates, ",") {
		if k, _, _ := strings.Cut(strings.TrimSpace(g), "="); k != gate && k != "" {
			keep = append(keep, g)
		}
	}
	return strings.Join(keep, ",")
}

func setExtraVolume(vols []any, want map[string]any) []any {
	var out []any
	replaced := false
	for _, v := range vols {
		m, _ := v.(map[string]any)
		same := m["name"] == want["name"]
		// Another volume at the same mount path would clash with ours.
		clash := !same && m["mountPath"] != nil && strings.TrimSuffix(fmt.Sprint(m["mountPath"]), "/") == want["mountPath"]
		switch {
		case same && !replaced:
			out = append(out, want)
			replaced = true
		case same || clash:
		default:
			out = append(out, v)
		}
	}
	if !replaced {
		out = append(out, want)
	}
	return out
}

func removeExtraVolume(vols []any, name string) []any {
	var out []any
	for _, v := range vols {
		if m, _ := v.(map[string]any); m["name"] != name {
			out = append(out, v)
		}
	}
	return out
}

// KubeadmSnippet is a ClusterConfiguration holding only the audit settings,
// for `kubeadm init --config` on a new cluster.
func KubeadmSnippet(cfg Config, apiVersion string) ([]byte, error) {
	doc := "apiVersion: " + apiVersion + "\nkind: ClusterConfiguration\n"
	return PatchClusterConfiguration([]byte(doc), cfg)
}

// Backups of kubeadm-config's ClusterConfiguration go beside the manifest's,
// named like them: <kubeadmBackupBase>.<time> is the text before setup
// changed it, and the same name with kubeadmWrittenSuffix is the text setup
// wrote, so --revert can tell whether someone changed it since.
const (
	kubeadmBackupBase    = "kubeadm-config.ClusterConfiguration"
	kubeadmWrittenSuffix = ".written"
)

// UpdateKubeadmConfig carries cfg into ConfigMap kube-system/kubeadm-config.
// It returns a diff of the ClusterConfiguration ("" when nothing changes) and,
// when it wrote, the backup of the previous text it saved in backupDir.
func UpdateKubeadmConfig(ctx context.Context, cs kubernetes.Interface, cfg Config, dryRun bool, backupDir string, now time.Time) (diff, saved string, err error) {
	cms := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace)
	cm, err := cms.Get(ctx, kubeadmConfigName, metav1.GetOptions{})
	if err != nil {
		return "", "", err
	}
	old, ok := cm.Data[kubeadmConfigKey]
	if !ok {
		return "", "", fmt.Errorf("ConfigMap %s/%s has no key %s", kubeadmConfigNamespace, kubeadmConfigName, kubeadmConfigKey)
	}
	patched, err := PatchClusterConfiguration([]byte(old), cfg)
	if err != nil {
		return "", "", err
	}
	// Compare as parsed documents: a reformat alone is no change.
	var a, b any
	_ = yaml.Unmarshal([]byte(old), &a)
	_ = yaml.Unmarshal(patched, &b)
	na, _ := yaml.Marshal(a)
	nb, _ := yaml.Marshal(b)
	if string(na) == string(nb) {
		return "", "", nil
	}
	diff = unifiedDiff("kubeadm-config/ClusterConfiguration", "kubeadm-config/ClusterConfiguration", []byte(old), patched)
	if dryRun {
		return diff, "", nil
	}
	if saved, err = saveKubeadmBackup(backupDir, now, []byte(old), patched); err != nil {
		return "", "", fmt.Errorf("backup of its ClusterConfiguration failed, kubeadm-config unchanged: %v", err)
	}
	cm.Data[kubeadmConfigKey] = string(patched)
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		// Nothing was changed: a backup left behind would make --revert
		// think someone else changed the ConfigMap since.
		os.Remove(saved + kubeadmWrittenSuffix)
		os.Remove(saved)
		return "", "", err
	}
	return diff, saved, nil
}

// saveKubeadmBackup writes what setup wrote first, then the previous text:
// a backup --revert lists always has its record of what setup wrote.
func saveKubeadmBackup(dir string, now time.Time, before, written []byte) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	saved := filepath.Join(dir, kubeadmBackupBase+"."+now.UTC().Format(backupTimeFormat))
	if _, err := os.Lstat(saved); err == nil {
		return "", fmt.Errorf("backup %s already exists", saved)
	}
	if err := writeAtomic(saved+kubeadmWrittenSuffix, written, 0o600, nil); err != nil {
		return "", err
	}
	if err := writeAtomic(saved, before, 0o600, nil); err != nil {
		os.Remove(saved + kubeadmWrittenSuffix)
		return "", err
	}
	return saved, nil
}

// kubeadmRevertState is what --revert finds in kube-system/kubeadm-config.
type kubeadmRevertState int

const (
	kubeadmRestore     kubeadmRevertState = iota // it holds what setup wrote: put the old text back
	kubeadmAlreadyBack                           // it holds the text from before setup
	kubeadmChanged                               // someone else changed it since: leave it alone
)

// kubeadmRevert is the restore of one ClusterConfiguration backup.
type kubeadmRevert struct {
	cs     kubernetes.Interface
	cm     *corev1.ConfigMap
	before string
	state  kubeadmRevertState
	diff   string // current -> before, when state is kubeadmRestore
}

// planKubeadmRevert compares the ConfigMap with what setup wrote (written)
// and the text it replaced (before).
func planKubeadmRevert(ctx context.Context, cs kubernetes.Interface, before, written []byte) (*kubeadmRevert, error) {
	cm, err := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	r := &kubeadmRevert{cs: cs, cm: cm, before: string(before), state: kubeadmChanged}
	cur, ok := cm.Data[kubeadmConfigKey]
	switch {
	case ok && cur == string(before):
		r.state = kubeadmAlreadyBack
	case ok && written != nil && cur == string(written):
		r.state = kubeadmRestore
		r.diff = unifiedDiff("kubeadm-config/ClusterConfiguration", "kubeadm-config/ClusterConfiguration (backup)", []byte(cur), before)
	}
	return r, nil
}

// apply puts the old text back. The update carries the resourceVersion read
// by planKubeadmRevert, so a change made in between makes it fail instead
// of being overwritten.
func (r *kubeadmRevert) apply(ctx context.Context) error {
	r.cm.Data[kubeadmConfigKey] = r.before
	_, err := r.cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Update(ctx, r.cm, metav1.UpdateOptions{})
	return err
}

// OtherControlPlanes lists the control-plane nodes other than self.
func OtherControlPlanes(ctx context.Context, cs kubernetes.Interface, self string) ([]string, error) {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: "node-role.kubernetes.io/control-plane"})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range nodes.Items {
		if n.Name != self {
			names = append(names, n.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}
