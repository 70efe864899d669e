package setup

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

// The ConfigMap round trip runs on client-go's fake clientset: no cluster
// with a kubeadm-config ConfigMap (made by kubeadm init, which needs a
// kubelet) runs here. hack/setup-e2e.sh does the same against a real
// kube-apiserver.

var fileCfg = Config{Mode: "file", LogPath: DefaultLogPath, PolicyPath: DefaultPolicyPath, MaxAge: 30, MaxSize: 100, MaxBackup: 10}

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
			out, err := PatchClusterConfiguration(doc, fileCfg)
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
			again, err := PatchClusterConfiguration(out, fileCfg)
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
			diff, err := UpdateKubeadmConfig(ctx, cs, fileCfg, true)
			if err != nil || diff == "" {
				t.Fatalf("dry run: diff %q, err %v", diff, err)
			}
			cm, _ := cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
			if cm.Data[kubeadmConfigKey] != string(doc) {
				t.Fatal("dry run changed the ConfigMap")
			}
			if _, err := UpdateKubeadmConfig(ctx, cs, fileCfg, false); err != nil {
				t.Fatal(err)
			}
			cm, _ = cs.CoreV1().ConfigMaps(kubeadmConfigNamespace).Get(ctx, kubeadmConfigName, metav1.GetOptions{})
			if !strings.Contains(cm.Data[kubeadmConfigKey], "audit-policy-file") {
				t.Error("ConfigMap not updated")
			}
			if diff, err := UpdateKubeadmConfig(ctx, cs, fileCfg, false); err != nil || diff != "" {
				t.Errorf("second update: diff %q err %v", diff, err)
			}
			others, err := OtherControlPlanes(ctx, cs, "cp-1")
			if err != nil || strings.Join(others, ",") != "cp-2" {
				t.Errorf("other control planes %v %v", others, err)
			}
		})
	}
}

func TestKubeadmSnippetStdout(t *testing.T) {
	b, err := KubeadmSnippet(Config{Mode: "stdout", PolicyPath: DefaultPolicyPath}, "kubeadm.k8s.io/v1beta4")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kubeadm-snippet.stdout.txt", string(b))
	if strings.Contains(string(b), "audit-log-max") || strings.Contains(string(b), "name: "+logVolume+"\n") {
		t.Error("stdout mode snippet has retention flags or a log volume")
	}
}
