package setup

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// node is a node root with a cluster (client-go's fake clientset) whose
// kubeadm-config holds doc, and one clock for every run on it.
type node struct {
	root string
	cs   *fake.Clientset
	now  time.Time
}

func newNode(t *testing.T, fx fixture, doc []byte) *node {
	t.Helper()
	n := &node{root: newRoot(t, fx), now: time.Date(2026, 11, 26, 3, 4, 5, 0, time.UTC)}
	if err := os.WriteFile(filepath.Join(n.root, adminConf), []byte("# the fake clientset needs none\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	n.cs = fake.NewClientset(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: kubeadmConfigName, Namespace: kubeadmConfigNamespace},
		Data:       map[string]string{kubeadmConfigKey: string(doc)},
	})
	return n
}

func (n *node) options(o *outputs) *Options {
	opts := testOptions(n.root, o)
	opts.Now = func() time.Time { n.now = n.now.Add(time.Second); return n.now }
	opts.KubeadmConfig = true
	opts.Clientset = func(string) (kubernetes.Interface, error) { return n.cs, nil }
	return opts
}

func (n *node) run(t *testing.T, edit func(*Options)) (string, error) {
	t.Helper()
	var o outputs
	opts := n.options(&o)
	if edit != nil {
		edit(opts)
	}
	err := Run(context.Background(), opts)
	return o.out.String() + o.err.String(), err
}

// state is every file of the node but the backups, and the ClusterConfiguration.
type state struct {
	files   map[string]string
	kubeadm string
}

func (n *node) state(t *testing.T) state {
	t.Helper()
	files := snapshot(t, n.root)
	for p := range files {
		if strings.HasPrefix(p, "/"+backupRel+"/") {
			delete(files, p)
		}
	}
	return state{files, clusterConfiguration(t, n.cs)}
}

func (s state) equal(o state) bool {
	if s.kubeadm != o.kubeadm || len(s.files) != len(o.files) {
		return false
	}
	for p, b := range s.files {
		if ob, ok := o.files[p]; !ok || ob != b {
			return false
		}
	}
	return true
}

// diffStates names what differs, for a failure message.
func diffStates(a, b state) string {
	var out []string
	for p := range a.files {
		if b.files[p] != a.files[p] {
			out = append(out, p)
		}
	}
	for p := range b.files {
		if _, ok := a.files[p]; !ok {
			out = append(out, p+" (extra)")
		}
	}
	if a.kubeadm != b.kubeadm {
		out = append(out, "kubeadm-config")
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func backupCount(t *testing.T, root string) int {
	t.Helper()
	sets, err := backupSets(&Options{Root: root}, true)
	if err != nil {
		t.Fatal(err)
	}
	return len(sets)
}

// The second run of the fault test changes all three: the policy, the
// manifest (retention) and kubeadm-config.
func secondRun(o *Options) { o.Policy = "metadata"; o.MaxAge = 7 }

var txnSteps = []string{
	stepBackup,
	stepStage + " " + DefaultPolicyPath,
	stepStage + " /" + manifestRel,
	stepKubeadm,
	stepCommit + " " + DefaultPolicyPath,
	stepCommit + " /" + manifestRel,
	stepDone,
}

// TestFaultAtEveryWrite: for every write of a run that changes the policy,
// the manifest and kubeadm-config, that write fails (an error, as a full disk
// or a read-only folder gives) or the process dies there. After an error every
// file is all old; after a death each is all old or all new, and the next run
// puts back the old ones. Either way --revert then brings back the exact
// bytes the node had before setup, kubeadm-config included.
func TestFaultAtEveryWrite(t *testing.T) {
	doc := clusterConfigurations(t)["v1beta4"]
	for _, fx := range realFixtures {
		// orig -> s1 (setup) -> s2 (second run), done for real once.
		ref := newNode(t, fx, doc)
		orig := ref.state(t)
		if out, err := ref.run(t, nil); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		s1 := ref.state(t)
		if out, err := ref.run(t, secondRun); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		s2 := ref.state(t)
		for _, p := range []string{DefaultPolicyPath, "/" + manifestRel} {
			if s1.files[p] == s2.files[p] {
				t.Fatalf("the second run does not change %s", p)
			}
		}
		if s1.kubeadm == s2.kubeadm {
			t.Fatal("the second run does not change kubeadm-config")
		}

		for _, step := range txnSteps {
			for _, kind := range []string{"error", "killed"} {
				t.Run(fx.name+"/"+kind+" at "+step, func(t *testing.T) {
					n := newNode(t, fx, doc)
					if out, err := n.run(t, nil); err != nil {
						t.Fatalf("%v\n%s", err, out)
					}
					if !n.state(t).equal(s1) {
						t.Fatalf("first run: %s differ", diffStates(s1, n.state(t)))
					}
					hit := false
					out, err := n.run(t, func(o *Options) {
						secondRun(o)
						o.failAt = func(s string) error {
							if s != step {
								return nil
							}
							hit = true
							if kind == "killed" {
								return errKilled
							}
							return errors.New("injected: no space left on device")
						}
					})
					if !hit || err == nil {
						t.Fatalf("step not reached (hit %v, err %v)\n%s", hit, err, out)
					}
					got := n.state(t)
					if kind == "error" {
						if !got.equal(s1) {
							t.Errorf("after a failed %s, not all old: %s differ\n%s", step, diffStates(s1, got), out)
						}
						if !strings.Contains(err.Error(), "nothing changed") || strings.Contains(err.Error(), "\n") {
							t.Errorf("error: %q", err)
						}
						if c := backupCount(t, n.root); c != 1 {
							t.Errorf("%d backup sets, want the first run's only", c)
						}
					} else {
						// Each file all old or all new; nothing the kubelet would run.
						for p, b := range got.files {
							if strings.HasPrefix(filepath.Base(p), ".") && strings.HasSuffix(p, ".kauditui-new") {
								continue // a staged dotfile: the kubelet ignores it; recovery removes it
							}
							if b != s1.files[p] && b != s2.files[p] {
								t.Errorf("killed at %s: %s is neither old nor new", step, p)
							}
						}
						if got.kubeadm != s1.kubeadm && got.kubeadm != s2.kubeadm {
							t.Errorf("killed at %s: kubeadm-config is neither old nor new", step)
						}
						entries, _ := os.ReadDir(filepath.Join(n.root, "etc/kubernetes/manifests"))
						for _, e := range entries {
							if e.Name() != "kube-apiserver.yaml" && !strings.HasPrefix(e.Name(), ".") {
								t.Errorf("the kubelet would run %s", e.Name())
							}
						}
					}
					// --revert (after putting back a run that died) brings back the exact bytes.
					out, err = n.run(t, func(o *Options) { o.Revert = true })
					if err != nil {
						t.Fatalf("revert: %v\n%s", err, out)
					}
					if kind == "killed" && step != stepBackup && !strings.Contains(out, "an earlier run of setup stopped midway") {
						t.Errorf("the run that died is not put back first:\n%s", out)
					}
					if got := n.state(t); !got.equal(orig) {
						t.Errorf("after --revert: %s differ from before setup\n%s", diffStates(orig, got), out)
					}
				})
			}
		}
	}
}

// chattr makes a folder immutable (read-only even for root), undone at the
// end of the test; it skips the test where that is not possible.
func chattr(t *testing.T, dir string) {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("chattr +i %s: %v %s (needs root and a file system that has it)", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

// TestReadOnlyFolders: the case, for real: the manifests folder (or
// the policy's, or the backups') cannot be written. Nothing changes, the
// backups are not left half made, and --revert afterwards restores the exact
// bytes of before setup.
func TestReadOnlyFolders(t *testing.T) {
	doc := clusterConfigurations(t)["v1beta4"]
	for _, fx := range realFixtures {
		for _, dir := range []string{"etc/kubernetes/manifests", "etc/kubernetes", backupRel} {
			t.Run(fx.name+"/"+dir, func(t *testing.T) {
				n := newNode(t, fx, doc)
				orig := n.state(t)
				if out, err := n.run(t, nil); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				s1 := n.state(t)
				chattr(t, filepath.Join(n.root, dir))
				out, err := n.run(t, secondRun)
				if err == nil {
					t.Fatalf("setup wrote into a read-only %s:\n%s", dir, out)
				}
				exec.Command("chattr", "-i", filepath.Join(n.root, dir)).Run()
				if got := n.state(t); !got.equal(s1) {
					t.Errorf("read-only %s: %s changed (%v)", dir, diffStates(s1, got), err)
				}
				if c := backupCount(t, n.root); c != 1 {
					t.Errorf("%d backup sets after the failed run, want 1", c)
				}
				if out, err := n.run(t, func(o *Options) { o.Revert = true }); err != nil {
					t.Fatalf("revert: %v\n%s", err, out)
				}
				if got := n.state(t); !got.equal(orig) {
					t.Errorf("after --revert: %s differ from before setup", diffStates(orig, got))
				}
			})
		}
	}
}

// TestKubeadmConfigUpdateFails: the apiserver refuses the ConfigMap update:
// the node's files stay as they were.
func TestKubeadmConfigUpdateFails(t *testing.T) {
	for _, fx := range realFixtures {
		n := newNode(t, fx, clusterConfigurations(t)["v1beta3"])
		orig := n.state(t)
		n.cs.PrependReactor("update", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, errors.New("etcdserver: request timed out")
		})
		out, err := n.run(t, nil)
		if err == nil || !strings.Contains(err.Error(), "kubeadm-config") || !strings.Contains(err.Error(), "nothing changed") {
			t.Errorf("%s: %v\n%s", fx.name, err, out)
		}
		if got := n.state(t); !got.equal(orig) {
			t.Errorf("%s: %s changed", fx.name, diffStates(orig, got))
		}
	}
}

// TestApiserverNotBackRestoresAll: the apiserver does not come back with the
// new files: policy, manifest and kubeadm-config all go back.
func TestApiserverNotBackRestoresAll(t *testing.T) {
	for _, fx := range realFixtures {
		n := newNode(t, fx, clusterConfigurations(t)["v1beta4"])
		if out, err := n.run(t, nil); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		s1 := n.state(t)
		out, err := n.run(t, func(o *Options) {
			secondRun(o)
			o.NoWait = false
			o.Timeout = 50 * time.Millisecond
			o.Probe = probeSequence(nil) // ready, but never restarted
		})
		if err == nil || !strings.Contains(err.Error(), "the previous manifest is restored") {
			t.Errorf("%s: %v\n%s", fx.name, err, out)
		}
		if got := n.state(t); !got.equal(s1) {
			t.Errorf("%s: %s not restored", fx.name, diffStates(s1, got))
		}
		if c := backupCount(t, n.root); c != 1 {
			t.Errorf("%s: %d backup sets, want 1", fx.name, c)
		}
	}
}

// TestRevertIsATransaction: --revert failing at any step leaves the node as
// it was; a revert that dies midway is put back by the next run.
func TestRevertIsATransaction(t *testing.T) {
	doc := clusterConfigurations(t)["v1beta4"]
	fx := realFixtures[1]
	// Going back to before setup: the manifest is written, the policy removed.
	for _, step := range []string{stepBackup, stepStage + " /" + manifestRel, stepKubeadm,
		stepCommit + " /" + manifestRel, stepCommit + " " + DefaultPolicyPath, stepDone} {
		t.Run(step, func(t *testing.T) {
			n := newNode(t, fx, doc)
			orig := n.state(t)
			n.run(t, nil)
			n.run(t, secondRun)
			s2 := n.state(t)
			hit := false
			_, err := n.run(t, func(o *Options) {
				o.Revert = true
				o.RevertTo = 2
				o.failAt = func(s string) error {
					if s == step {
						hit = true
						return errors.New("injected")
					}
					return nil
				}
			})
			if !hit || err == nil {
				t.Fatalf("hit %v err %v", hit, err)
			}
			if got := n.state(t); !got.equal(s2) {
				t.Errorf("failed revert changed %s", diffStates(s2, got))
			}
			if out, err := n.run(t, func(o *Options) { o.Revert = true; o.RevertTo = 2 }); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if got := n.state(t); !got.equal(orig) {
				t.Errorf("revert --to 2: %s differ from before setup", diffStates(orig, got))
			}
		})
	}
}
