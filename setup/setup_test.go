package setup

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/klog/v2"

	"github.com/kauditui/kauditui/audit/audittest"
)

// goldenDir holds the golden outputs (go test ./setup -update rewrites them).
const goldenDir = "../testdata/setup/golden"

// Real manifests: kubeadm v1.37.2's own output (the harness, issue #2), a
// kubeadm v1.27 (kubeadm.k8s.io/v1beta3 era) one, and one hand-patched by
// the 2019 recipe (see testdata/setup/README.md).
type fixture struct {
	name     string
	manifest string
	extra    map[string]string // files to put in the root, root-relative path -> testdata path
}

var fixtures = []fixture{
	{name: "kubeadm-v1.37", manifest: "../testdata/kubeadm/kube-apiserver.yaml"},
	{name: "v1beta3-era", manifest: "../testdata/setup/v1beta3-era/kube-apiserver.yaml"},
	{name: "recipe-2019", manifest: "../testdata/setup/recipe-2019/kube-apiserver.yaml",
		extra: map[string]string{"etc/kubernetes/audit-policy.yaml": "../testdata/setup/recipe-2019/audit-policy.yaml"}},
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newRoot builds a node filesystem in a temp folder with the fixture's files.
func newRoot(t testing.TB, fx fixture) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{manifestRel: fx.manifest}
	for k, v := range fx.extra {
		files[k] = v
	}
	for rel, src := range files {
		dst := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, readFile(t, src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type outputs struct{ out, err bytes.Buffer }

// testOptions: --root ROOT --yes --no-wait, a fixed clock, no kubeadm-config.
func testOptions(root string, o *outputs) *Options {
	opts := NewOptions(&o.out, &o.err)
	opts.Root = root
	opts.Yes = true
	opts.NoWait = true
	opts.KubeadmConfig = false
	opts.Hostname = "cp-1"
	now := time.Date(2026, 11, 26, 3, 4, 5, 0, time.UTC)
	opts.Now = func() time.Time { now = now.Add(time.Second); return now }
	opts.Interval = time.Millisecond
	return opts
}

func TestRoundTripKeepsEveryField(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			orig := readFile(t, fx.manifest)
			m, err := parseManifest(orig)
			if err != nil {
				t.Fatal(err)
			}
			out, err := m.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			again, err := parseManifest(out)
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(m.Pod, again.Pod) {
				t.Fatalf("round trip changed the pod")
			}
			// Parsed into a generic tree too: no field of the file was dropped
			// by the typed Pod (UnmarshalStrict would refuse unknown ones anyway).
			if !bytes.Equal(orig, out) && fx.name != "recipe-2019" {
				t.Errorf("kubeadm's manifest is not byte-identical after a round trip:\n%s", unifiedDiff("orig", "again", orig, out))
			}
		})
	}
}

func runDry(t *testing.T, root string, edit func(*Options)) string {
	t.Helper()
	var o outputs
	opts := testOptions(root, &o)
	opts.DryRun = true
	if edit != nil {
		edit(opts)
	}
	if err := Run(context.Background(), opts); err != nil {
		t.Fatalf("dry run: %v\n%s", err, o.err.String())
	}
	return o.out.String()
}

// snapshot is every file under root with its bytes.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			files[strings.TrimPrefix(p, root)] = "symlink to " + target
			return err
		}
		b, err := os.ReadFile(p)
		files[strings.TrimPrefix(p, root)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestDryRunGolden(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Options)
	}{
		{"default", nil},
		{"stdout-security", func(o *Options) { o.Mode = "stdout"; o.Policy = "security" }},
		{"file-compress-metadata", func(o *Options) {
			o.Policy = "metadata"
			yes := true
			o.Compress = &yes
			o.MaxAge, o.MaxSize, o.MaxBackup = 7, 50, 3
		}},
	}
	for _, fx := range fixtures {
		for _, c := range cases {
			t.Run(fx.name+"/"+c.name, func(t *testing.T) {
				root := newRoot(t, fx)
				before := snapshot(t, root)
				got := runDry(t, root, c.edit)
				if after := snapshot(t, root); !equality.Semantic.DeepEqual(before, after) {
					t.Fatal("--dry-run changed files")
				}
				audittest.Golden(t, filepath.Join(goldenDir, fx.name+"."+c.name+".txt"), got)
			})
		}
	}
}

func TestPatchedManifestIsWhatWasAsked(t *testing.T) {
	root := newRoot(t, fixtures[1])
	var o outputs
	opts := testOptions(root, &o)
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	m, err := parseManifest(readFile(t, filepath.Join(root, manifestRel)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"audit-policy-file": DefaultPolicyPath, "audit-log-path": DefaultLogPath,
		"audit-log-maxage": "30", "audit-log-maxsize": "100", "audit-log-maxbackup": "10",
	}
	for f, v := range want {
		if got, _ := m.Flag(f); got != v {
			t.Errorf("--%s = %q, want %q", f, got, v)
		}
	}
	var policyVol, logVol bool
	for _, v := range m.Pod.Spec.Volumes {
		switch v.Name {
		case policyVolume:
			policyVol = v.HostPath.Path == DefaultPolicyPath && string(*v.HostPath.Type) == "File"
		case logVolume:
			logVol = v.HostPath.Path == "/var/log/kubernetes/audit" && string(*v.HostPath.Type) == "DirectoryOrCreate"
		}
	}
	if !policyVol || !logVol {
		t.Errorf("volumes: policy ok %v, log ok %v", policyVol, logVol)
	}
	for _, vm := range m.container().VolumeMounts {
		if vm.Name == policyVolume && !vm.ReadOnly || vm.Name == logVolume && vm.ReadOnly {
			t.Errorf("mount %s readOnly=%v", vm.Name, vm.ReadOnly)
		}
	}
	policy := readFile(t, filepath.Join(root, DefaultPolicyPath))
	if preset, _ := presetPolicy(defaultPreset); !bytes.Equal(policy, preset) {
		t.Error("the policy file is not the default preset")
	}
	if fi, _ := os.Stat(filepath.Join(root, manifestRel)); fi.Mode().Perm() != 0o600 {
		t.Errorf("manifest mode %v, want 0600 as kubeadm writes it", fi.Mode().Perm())
	}
	// Only the manifest in the manifests folder: the kubelet runs every file there.
	entries, _ := os.ReadDir(filepath.Join(root, "etc/kubernetes/manifests"))
	if len(entries) != 1 {
		t.Errorf("manifests folder holds %d entries, want only kube-apiserver.yaml", len(entries))
	}
	backups, _ := filepath.Glob(filepath.Join(root, backupRel, "*", "*-kube-apiserver.yaml"))
	if len(backups) != 1 || !bytes.Equal(readFile(t, backups[0]), readFile(t, fixtures[1].manifest)) {
		t.Errorf("want one backup equal to the original, got %v", backups)
	}
	if !strings.Contains(o.out.String(), "backup: "+backups[0]) {
		t.Errorf("the backup's path is not printed:\n%s", o.out.String())
	}
}

func TestSecondRunChangesNothing(t *testing.T) {
	for _, fx := range fixtures {
		for _, mode := range []string{"file", "stdout"} {
			t.Run(fx.name+"/"+mode, func(t *testing.T) {
				root := newRoot(t, fx)
				var o outputs
				opts := testOptions(root, &o)
				opts.Mode = mode
				if err := Run(context.Background(), opts); err != nil {
					t.Fatal(err)
				}
				first := snapshot(t, root)
				o = outputs{}
				opts = testOptions(root, &o)
				if err := Run(context.Background(), opts); err != nil { // mode now comes from the manifest
					t.Fatal(err)
				}
				if !strings.Contains(o.out.String(), "Nothing to change") {
					t.Errorf("second run did not say nothing changes:\n%s", o.out.String())
				}
				if second := snapshot(t, root); !equality.Semantic.DeepEqual(first, second) {
					t.Error("second run changed files")
				}
			})
		}
	}
}

func TestRevertIsByteIdentical(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			root := newRoot(t, fx)
			orig := snapshot(t, root)
			var o outputs
			if err := Run(context.Background(), testOptions(root, &o)); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(readFile(t, filepath.Join(root, manifestRel)), readFile(t, fx.manifest)) {
				t.Fatal("setup did not change the manifest")
			}
			opts := testOptions(root, &o)
			opts.Revert = true
			if err := Run(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if got := readFile(t, filepath.Join(root, manifestRel)); !bytes.Equal(got, []byte(orig["/"+manifestRel])) {
				t.Errorf("revert is not byte-identical:\n%s", unifiedDiff("orig", "reverted", []byte(orig["/"+manifestRel]), got))
			}
			// A policy setup replaced comes back too (the 2019 one).
			for rel := range fx.extra {
				if got := readFile(t, filepath.Join(root, rel)); string(got) != orig["/"+rel] {
					t.Errorf("%s not restored", rel)
				}
			}
		})
	}
}

func TestBrokenPolicyRefusedBeforeAnyWrite(t *testing.T) {
	bad := map[string]string{
		"unknown level":  "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Everything\n",
		"no rules":       "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n",
		"v1beta1":        "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: Metadata\n",
		"not yaml":       "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [\n",
		"bad stage":      "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Sometimes]\nrules:\n- level: Metadata\n",
		"resource names": "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  resources:\n  - group: \"\"\n    resourceNames: [x]\n",
	}
	for name, policy := range bad {
		t.Run(name, func(t *testing.T) {
			root := newRoot(t, fixtures[1])
			pf := filepath.Join(t.TempDir(), "policy.yaml")
			if err := os.WriteFile(pf, []byte(policy), 0o644); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, root)
			var o outputs
			opts := testOptions(root, &o)
			opts.Policy = pf
			err := Run(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), "refused, nothing written") {
				t.Fatalf("want a refusal, got %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if after := snapshot(t, root); !equality.Semantic.DeepEqual(before, after) {
				t.Error("files changed although the policy was refused")
			}
		})
	}
}

func TestLenientPolicyWarns(t *testing.T) {
	warning, err := validatePolicy([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  namepsaces: [kube-system]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warning, "namepsaces") {
		t.Errorf("warning %q does not name the misspelt field", warning)
	}
}

func TestRecipe2019IsFixed(t *testing.T) {
	fx := fixtures[2]
	root := newRoot(t, fx)
	var o outputs
	if err := Run(context.Background(), testOptions(root, &o)); err != nil {
		t.Fatal(err)
	}
	out := o.out.String()
	for _, want := range []string{"2019 recipe: /etc/kubernetes/audit-policy.yaml is an audit.k8s.io/v1beta1 policy", "2019 recipe: --feature-gates=AdvancedAuditing=false"} {
		if !strings.Contains(out, want) {
			t.Errorf("output does not say %q", want)
		}
	}
	manifest := readFile(t, filepath.Join(root, manifestRel))
	if bytes.Contains(manifest, []byte("AdvancedAuditing")) {
		t.Error("AdvancedAuditing is still in the manifest")
	}
	m, _ := parseManifest(manifest)
	if fg, _ := m.Flag("feature-gates"); fg != "AllAlpha=false" {
		t.Errorf("the other feature gates were not kept: %q", fg)
	}
	if lp, _ := m.Flag("audit-log-path"); lp != "/var/log/kubernetes/apiserver/audit.log" {
		t.Errorf("the recipe's log path was not kept: %q", lp)
	}
	var mounts []string
	for _, vm := range m.container().VolumeMounts {
		mounts = append(mounts, vm.MountPath)
	}
	seen := map[string]bool{}
	for _, p := range mounts {
		if seen[strings.TrimSuffix(p, "/")] {
			t.Errorf("two mounts at %s", p)
		}
		seen[strings.TrimSuffix(p, "/")] = true
	}
	policy := readFile(t, filepath.Join(root, "etc/kubernetes/audit-policy.yaml"))
	if _, err := validatePolicy(policy); err != nil {
		t.Errorf("the new policy does not load: %v", err)
	}
	// --policy existing keeps the rules, converted.
	root = newRoot(t, fx)
	opts := testOptions(root, &o)
	opts.Policy = keepExisting
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, filepath.Join(root, "etc/kubernetes/audit-policy.yaml"))
	old := readFile(t, fx.extra["etc/kubernetes/audit-policy.yaml"])
	if !bytes.Equal(got, convertToV1(old)) || bytes.Equal(got, old) {
		t.Error("--policy existing did not convert the v1beta1 policy in place")
	}
}

func TestReplacesFlagsInsteadOfDuplicating(t *testing.T) {
	m, err := parseManifest(readFile(t, fixtures[2].manifest))
	if err != nil {
		t.Fatal(err)
	}
	m.Patch(config{Mode: "file", LogPath: "/var/log/a/audit.log", PolicyPath: "/etc/p.yaml", MaxAge: 1, MaxSize: 2, MaxBackup: 3})
	count := map[string]int{}
	for _, u := range m.cmdline().parse().uses {
		count[u.name]++
	}
	for n, c := range count {
		if c > 1 {
			t.Errorf("--%s appears %d times", n, c)
		}
	}
	if v, _ := m.Flag("audit-log-path"); v != "/var/log/a/audit.log" {
		t.Errorf("audit-log-path = %q", v)
	}
}

func TestStdoutModeHasNoLogVolume(t *testing.T) {
	root := newRoot(t, fixtures[2]) // had a log volume and retention flags
	var o outputs
	opts := testOptions(root, &o)
	opts.Mode = "stdout"
	if err := Run(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	m, _ := parseManifest(readFile(t, filepath.Join(root, manifestRel)))
	if v, _ := m.Flag("audit-log-path"); v != "-" {
		t.Errorf("--audit-log-path=%q, want -", v)
	}
	for _, f := range []string{"audit-log-maxage", "audit-log-maxsize", "audit-log-maxbackup"} {
		if _, ok := m.Flag(f); ok {
			t.Errorf("--%s left in stdout mode", f)
		}
	}
	for _, vm := range m.container().VolumeMounts {
		if strings.HasPrefix(vm.MountPath, "/var/log/kubernetes") {
			t.Errorf("log mount %s left in stdout mode", vm.MountPath)
		}
	}
}

func TestNotAMaster(t *testing.T) {
	var o outputs
	err := Run(context.Background(), testOptions(t.TempDir(), &o))
	if err == nil || !regexp.MustCompile(`^no .*kube-apiserver.yaml: run kauditui setup on a kubeadm control-plane node`).MatchString(err.Error()) {
		t.Errorf("got %v", err)
	}
	opts := testOptions("/", &o)
	opts.Root = t.TempDir()
	opts.Revert = true
	if err := Run(context.Background(), opts); err == nil {
		t.Error("revert without a manifest did not fail")
	}
}

func TestNotRoot(t *testing.T) {
	var o outputs
	opts := testOptions("/", &o)
	opts.Geteuid = func() int { return 1000 }
	err := opts.checkRoot()
	if err == nil || !strings.Contains(err.Error(), "run it as root (sudo kauditui setup)") {
		t.Errorf("got %v", err)
	}
	opts.DryRun = true
	if err := opts.checkRoot(); err != nil {
		t.Errorf("--dry-run needs no root: %v", err)
	}
}

func TestMain(m *testing.M) {
	// The apiserver's policy loader warns through klog; setup reports it itself.
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	flag.Parse()
	os.Exit(m.Run())
}

// BenchmarkPlan: read, parse, validate the policy, patch, marshal and diff
// one real manifest (what --dry-run does before printing).
func BenchmarkPlan(b *testing.B) {
	root := newRoot(b, fixtures[1])
	var o outputs
	opts := testOptions(root, &o)
	opts.DryRun = true
	for b.Loop() {
		p, err := makePlan(opts)
		if err != nil {
			b.Fatal(err)
		}
		_ = p.Summary(opts)
	}
}
