package setup

import (
	"context"
	"errors"
	"fmt"
	"path"
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
func auditArgs(cfg config) (set [][2]string, remove []string) {
	set = append(set, [2]string{"audit-policy-file", cfg.PolicyPath})
	if cfg.Format != "" {
		set = append(set, [2]string{"audit-log-format", cfg.Format})
	}
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
func auditVolumes(cfg config) []map[string]any {
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

// patchClusterConfiguration sets the audit extraArgs and extraVolumes in a
// kubeadm ClusterConfiguration document (v1beta3: extraArgs is a map;
// v1beta4: a list of {name, value}), keeping every other field.
func patchClusterConfiguration(doc []byte, cfg config) ([]byte, error) {
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
		if k := gateName(g); k != gate && k != "" {
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

// kubeadmSnippet is a ClusterConfiguration holding only the audit settings,
// for `kubeadm init --config` on a new cluster.
func kubeadmSnippet(cfg config, apiVersion string) ([]byte, error) {
	doc := "apiVersion: " + apiVersion + "\nkind: ClusterConfiguration\n"
	return patchClusterConfiguration([]byte(doc), cfg)
}

// kubeadmBackupBase is the old ClusterConfiguration's file in a backup set.
const kubeadmBackupBase = "kubeadm-config.ClusterConfiguration"

// kubeadmChange is kube-system/kubeadm-config's ClusterConfiguration as read
// (cur), and a change of it from old to new that apply makes and restore
// undoes. Both carry a resourceVersion: a change made by someone else in
// between makes them fail instead of being overwritten.
type kubeadmChange struct {
	cs       kubernetes.Interface
	cm       *corev1.ConfigMap
	cur      string
	old, new string
	diff     string
	from     string // the backup new comes from, on --revert
}

// kubeadmNow reads kube-system/kubeadm-config (nil, nil with --kubeadm-config=false).
func (o *Options) kubeadmNow(ctx context.Context) (*kubeadmChange, error) {
	if !o.KubeadmConfig {
		return nil, nil
	}
	cs, err := o.client()
	if err != nil {
		return nil, err
	}
	cm, err := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	cur, ok := cm.Data[kubeadmConfigKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s/%s has no key %s", kubeadmConfigNamespace, kubeadmConfigName, kubeadmConfigKey)
	}
	return &kubeadmChange{cs: cs, cm: cm, cur: cur}, nil
}

// planKubeadmConfig is the change that carries cfg into the ClusterConfiguration
// k holds; nil when it already has these settings (compared as parsed
// documents: a reformat alone is no change).
func planKubeadmConfig(k *kubeadmChange, cfg config) (*kubeadmChange, error) {
	patched, err := patchClusterConfiguration([]byte(k.cur), cfg)
	if err != nil {
		return nil, err
	}
	var a, b any
	_ = yaml.Unmarshal([]byte(k.cur), &a)
	_ = yaml.Unmarshal(patched, &b)
	na, _ := yaml.Marshal(a)
	nb, _ := yaml.Marshal(b)
	if string(na) == string(nb) {
		return nil, nil
	}
	c := *k
	c.old, c.new = k.cur, string(patched)
	c.diff = unifiedDiff("kubeadm-config/ClusterConfiguration", "kubeadm-config/ClusterConfiguration", []byte(c.old), patched)
	return &c, nil
}

// apply writes new, if the ConfigMap still holds old.
func (k *kubeadmChange) apply(ctx context.Context) error {
	if k.cm.Data[kubeadmConfigKey] != k.old {
		return errors.New("it changed since it was read")
	}
	cm := k.cm.DeepCopy()
	cm.Data[kubeadmConfigKey] = k.new
	got, err := k.cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Update(ctx, cm, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	k.cm = got
	return nil
}

// restore puts old back after apply, if the ConfigMap still holds what apply
// wrote. The apiserver may be restarting: it tries again until o.Timeout.
func (k *kubeadmChange) restore(ctx context.Context, o *Options) error {
	deadline := o.Now().Add(o.Timeout)
	for {
		cm, err := k.cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
		if err == nil {
			switch cm.Data[kubeadmConfigKey] {
			case k.old:
				return nil
			case k.new:
				cm.Data[kubeadmConfigKey] = k.old
				if _, err = k.cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Update(ctx, cm, metav1.UpdateOptions{}); err == nil {
					return nil
				}
			default:
				return errors.New("it was changed by someone else since setup wrote it: left alone")
			}
		}
		if o.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(o.Interval):
		}
	}
}

// otherControlPlanes lists the control-plane nodes other than self.
func otherControlPlanes(ctx context.Context, cs kubernetes.Interface, self string) ([]string, error) {
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
