package setup

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"

	"github.com/kauditui/kauditui/audit/audittest"
)

// The ConfigMap round trip runs on client-go's fake clientset: no cluster
// with a kubeadm-config ConfigMap (made by kubeadm init, which needs a
// kubelet) runs here. hack/setup-e2e.sh does the same against a real
// kube-apiserver.

var fileCfg = config{Mode: "file", LogPath: DefaultLogPath, PolicyPath: DefaultPolicyPath, MaxAge: 30, MaxSize: 100, MaxBackup: 10}

func clusterConfigurations(t *testing.T) map[string][]byte {
	t.Helper()
	docs := map[string][]byte{"v1beta3": readFile(t, "../testdata/setup/kubeadm-config/v1beta3.yaml")}
	if b, err := os.ReadFile("../testdata/setup/kubeadm-config/v1beta4.yaml"); err == nil {
		docs["v1beta4"] = b
	}
	return docs
}

func parseYAML(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPatchClusterConfigurationKeepsTheRest(t *testing.T) {
	for version, doc := range clusterConfigurations(t) {
		t.Run(version, func(t *testing.T) {
			out, err := patchClusterConfiguration(doc, fileCfg)
			if err != nil {
				t.Fatal(err)
			}
			before, after := parseYAML(t, doc), parseYAML(t, out)
			for k, v := range before {
				if k == "apiServer" {
					continue
				}
				if got, _ := yaml.Marshal(after[k]); string(got) != string(mustYAML(t, v)) {
					t.Errorf("%s changed", k)
				}
			}
			api := after["apiServer"].(map[string]any)
			for k := range before["apiServer"].(map[string]any) {
				if _, ok := api[k]; !ok {
					t.Errorf("apiServer.%s dropped", k)
				}
			}
			args := map[string]string{}
			switch ea := api["extraArgs"].(type) {
			case map[string]any:
				if version != "v1beta3" {
					t.Errorf("%s extraArgs is a map", version)
				}
				for k, v := range ea {
					args[k] = v.(string)
				}
			case []any:
				if version == "v1beta3" {
					t.Error("v1beta3 extraArgs became a list")
				}
				for _, a := range ea {
					m := a.(map[string]any)
					args[m["name"].(string)] = m["value"].(string)
				}
			}
			if args["audit-log-path"] != DefaultLogPath || args["audit-policy-file"] != DefaultPolicyPath || args["audit-log-maxage"] != "30" {
				t.Errorf("extraArgs: %v", args)
			}
			if strings.Contains(args["feature-gates"], "AdvancedAuditing") {
				t.Error("AdvancedAuditing kept in extraArgs")
			}
			if version == "v1beta3" && args["authorization-mode"] != "Node,RBAC" {
				t.Error("an existing extraArg was lost")
			}
			vols := api["extraVolumes"].([]any)
			if len(vols) != 2 {
				t.Fatalf("extraVolumes: %v", vols)
			}
			pol := vols[0].(map[string]any)
			if pol["pathType"] != "File" || pol["readOnly"] != true || pol["hostPath"] != DefaultPolicyPath {
				t.Errorf("policy volume %v", pol)
			}
			again, err := patchClusterConfiguration(out, fileCfg)
			if err != nil || string(again) != string(out) {
				t.Errorf("patching twice changes it again")
			}
		})
	}
}

func mustYAML(t *testing.T, v any) []byte {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUpdateKubeadmConfigMap(t *testing.T) {
	for version, doc := range clusterConfigurations(t) {
		t.Run(version, func(t *testing.T) {
			cs := fake.NewClientset(
				&corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: kubeadmConfigName, Namespace: kubeadmConfigNamespace},
					Data:       map[string]string{kubeadmConfigKey: string(doc)},
				},
				&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}},
				&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-2", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}},
				&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}},
			)
			ctx := context.Background()
			o := &Options{KubeadmConfig: true, Root: t.TempDir(), Clientset: func(string) (kubernetes.Interface, error) { return cs, nil }}
			os.MkdirAll(filepath.Join(o.Root, "etc/kubernetes"), 0o755)
			os.WriteFile(filepath.Join(o.Root, adminConf), nil, 0o600)
			k, err := o.kubeadmNow(ctx)
			if err != nil {
				t.Fatal(err)
			}
			c, err := planKubeadmConfig(k, fileCfg)
			if err != nil || c == nil || c.diff == "" {
				t.Fatalf("plan: %+v, err %v", c, err)
			}
			cm, _ := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
			if cm.Data[kubeadmConfigKey] != string(doc) {
				t.Fatal("planning changed the ConfigMap")
			}
			if err := c.apply(ctx); err != nil {
				t.Fatal(err)
			}
			cm, _ = cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
			if !strings.Contains(cm.Data[kubeadmConfigKey], "audit-policy-file") {
				t.Error("ConfigMap not updated")
			}
			k, _ = o.kubeadmNow(ctx)
			if again, err := planKubeadmConfig(k, fileCfg); err != nil || again != nil {
				t.Errorf("second plan: %+v %v", again, err)
			}
			// apply carries what it read: a change in between makes it fail.
			stale := *c
			if err := stale.apply(ctx); err == nil {
				t.Error("an update from a stale read went through")
			}
			others, err := otherControlPlanes(ctx, cs, "cp-1")
			if err != nil || strings.Join(others, ",") != "cp-2" {
				t.Errorf("other control planes %v %v", others, err)
			}
		})
	}
}

func TestKubeadmSnippetStdout(t *testing.T) {
	b, err := kubeadmSnippet(config{Mode: "stdout", PolicyPath: DefaultPolicyPath}, "kubeadm.k8s.io/v1beta4")
	if err != nil {
		t.Fatal(err)
	}
	audittest.Golden(t, filepath.Join(goldenDir, "kubeadm-snippet.stdout.txt"), string(b))
	if strings.Contains(string(b), "audit-log-max") || strings.Contains(string(b), "name: "+logVolume+"\n") {
		t.Error("stdout mode snippet has retention flags or a log volume")
	}
}

// kubeadmCluster is a node root (kubeadm's manifest, an admin.conf) whose
// cluster, client-go's fake clientset, has kubeadm-config holding doc.
func kubeadmCluster(t *testing.T, doc []byte) (root string, cs *fake.Clientset, options func(*outputs) *Options) {
	t.Helper()
	root = newRoot(t, fixtures[0])
	if err := os.WriteFile(filepath.Join(root, adminConf), []byte("# the fake clientset needs none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cs = fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: kubeadmConfigName, Namespace: kubeadmConfigNamespace},
		Data:       map[string]string{kubeadmConfigKey: string(doc)},
	})
	now := time.Date(2026, 11, 26, 3, 4, 5, 0, time.UTC)
	options = func(o *outputs) *Options {
		opts := testOptions(root, o)
		opts.Now = func() time.Time { now = now.Add(time.Second); return now } // one clock for every run
		opts.KubeadmConfig = true
		opts.Clientset = func(string) (kubernetes.Interface, error) { return cs, nil }
		return opts
	}
	return root, cs, options
}

func clusterConfiguration(t *testing.T, cs kubernetes.Interface) string {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(context.Background(), kubeadmConfigName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm.Data[kubeadmConfigKey]
}

func TestRevertRestoresKubeadmConfig(t *testing.T) {
	ctx := context.Background()
	for version, doc := range clusterConfigurations(t) {
		t.Run(version, func(t *testing.T) {
			root, cs, options := kubeadmCluster(t, doc)
			var o outputs
			if err := Run(ctx, options(&o)); err != nil {
				t.Fatal(err)
			}
			written := clusterConfiguration(t, cs)
			if !strings.Contains(written, "audit-policy-file") || !strings.Contains(o.out.String(), "updated kube-system/kubeadm-config") {
				t.Fatalf("setup did not update kubeadm-config:\n%s", o.out.String())
			}

			o = outputs{}
			opts := options(&o)
			opts.Revert, opts.DryRun = true, true
			if err := Run(ctx, opts); err != nil {
				t.Fatal(err)
			}
			if clusterConfiguration(t, cs) != written || !strings.Contains(o.out.String(), "kube-system/kubeadm-config, back to "+kubeadmBackupBase) ||
				!regexp.MustCompile(`(?m)^-.*audit-policy-file`).MatchString(o.out.String()) {
				t.Fatalf("dry-run revert changed kubeadm-config or showed no diff:\n%s", o.out.String())
			}

			o = outputs{}
			opts = options(&o)
			opts.Revert = true
			if err := Run(ctx, opts); err != nil {
				t.Fatal(err)
			}
			if got := clusterConfiguration(t, cs); got != string(doc) {
				t.Errorf("kubeadm-config not restored byte for byte:\n%s", unifiedDiff("orig", "reverted", doc, []byte(got)))
			}
			if !bytes.Equal(readFile(t, filepath.Join(root, manifestRel)), readFile(t, fixtures[0].manifest)) {
				t.Error("manifest not restored")
			}
			if !strings.Contains(o.out.String(), "restored kube-system/kubeadm-config ClusterConfiguration from ") || o.err.Len() > 0 {
				t.Errorf("revert output:\n%s\nstderr:\n%s", o.out.String(), o.err.String())
			}

			o = outputs{}
			opts = options(&o)
			opts.Revert = true
			if err := Run(ctx, opts); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(o.out.String(), "nothing to revert: revert 1 is in effect") || clusterConfiguration(t, cs) != string(doc) {
				t.Errorf("second revert:\n%s", o.out.String())
			}
		})
	}
}

func TestRevertLeavesChangedKubeadmConfigAlone(t *testing.T) {
	ctx := context.Background()
	for version, doc := range clusterConfigurations(t) {
		t.Run(version, func(t *testing.T) {
			root, cs, options := kubeadmCluster(t, doc)
			var o outputs
			if err := Run(ctx, options(&o)); err != nil {
				t.Fatal(err)
			}
			// Someone else edits the ClusterConfiguration after setup.
			edited := strings.Replace(clusterConfiguration(t, cs), "clusterName: kubernetes", "clusterName: prod", 1)
			cm, _ := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
			cm.Data[kubeadmConfigKey] = edited
			if _, err := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}

			o = outputs{}
			opts := options(&o)
			opts.Revert = true
			if err := Run(ctx, opts); err != nil {
				t.Fatal(err)
			}
			if clusterConfiguration(t, cs) != edited {
				t.Error("revert overwrote someone else's change of kubeadm-config")
			}
			lines := strings.Split(strings.TrimSuffix(o.err.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "kube-system/kubeadm-config was changed since setup wrote it: left alone") {
				t.Errorf("want one line saying kubeadm-config is left alone, got:\n%s", o.err.String())
			}
			if !bytes.Equal(readFile(t, filepath.Join(root, manifestRel)), readFile(t, fixtures[0].manifest)) {
				t.Error("manifest not restored")
			}
		})
	}
}

// A later run that changes only the manifest (a new policy) leaves
// kubeadm-config as it was; reverting that run leaves it too, so the
// manifest and kubeadm-config keep saying the same thing.
func TestRevertPairsKubeadmConfigWithItsRun(t *testing.T) {
	ctx := context.Background()
	doc := clusterConfigurations(t)["v1beta3"]
	_, cs, options := kubeadmCluster(t, doc)
	var o outputs
	if err := Run(ctx, options(&o)); err != nil {
		t.Fatal(err)
	}
	first := clusterConfiguration(t, cs)
	o = outputs{}
	opts := options(&o)
	opts.Policy = "metadata"
	if err := Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(o.out.String(), "kubeadm-config already has these settings") {
		t.Fatalf("second run changed kubeadm-config:\n%s", o.out.String())
	}
	o = outputs{}
	opts = options(&o)
	opts.Revert = true
	if err := Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	// (The backup list names kubeadm-config as changed by the first run.)
	if clusterConfiguration(t, cs) != first || strings.Contains(o.out.String()+o.err.String(), "kube-system/kubeadm-config") {
		t.Errorf("revert of a manifest-only run touched kubeadm-config:\n%s%s", o.out.String(), o.err.String())
	}
}

// On a master with others, setup says how to read them all, and that
// nodes/proxy is a powerful grant.
func TestOtherControlPlanesReadersNote(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc", "kubernetes"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "kubernetes", "admin.conf"), []byte("x"), 0o600)
	cs := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-1", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp-2", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}},
	)
	var out strings.Builder
	o := &Options{Out: &out, Root: root, KubeadmConfig: true, Hostname: "cp-1",
		Clientset: func(string) (kubernetes.Interface, error) { return cs, nil }}
	o.otherControlPlanes(context.Background())
	for _, want := range []string{"other control-plane nodes: cp-2", "kauditui --pods", "nodes/proxy, a powerful grant", "exec"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
