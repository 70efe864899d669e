package setup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
)

// TestDangerousPathsRefused: each path that would hurt the node is refused
// before anything is written, with one line saying why and what to choose.
func TestDangerousPathsRefused(t *testing.T) {
	cases := []struct {
		name  string
		opts  func(*Options)
		setup func(t *testing.T, root string)
		want  []string // in the one line
	}{
		{"log folder is /", func(o *Options) { o.LogPath = "/audit.log" }, nil,
			[]string{"its folder is /", "read-write", "choose e.g. --log-path " + DefaultLogPath}},
		{"policy in the manifests folder", func(o *Options) { o.PolicyPath = "/etc/kubernetes/manifests/audit-policy.yaml" }, nil,
			[]string{"the kubelet runs every file in /etc/kubernetes/manifests as a static pod", "choose e.g. --policy-path " + DefaultPolicyPath}},
		{"log in the manifests folder", func(o *Options) { o.LogPath = "/etc/kubernetes/manifests/audit.log" }, nil,
			[]string{"static pod", "choose e.g. --log-path"}},
		{"log is the policy", func(o *Options) { o.LogPath = "/etc/audit/p.yaml"; o.PolicyPath = "/etc/audit/p.yaml" }, nil,
			[]string{"is also the policy file", "choose e.g. --log-path"}},
		{"log is a folder", func(o *Options) { o.LogPath = "/var/log/kubernetes/audit" },
			func(t *testing.T, root string) { os.MkdirAll(filepath.Join(root, "var/log/kubernetes/audit"), 0o755) },
			[]string{"is a folder, not a file", "--log-path /var/log/kubernetes/audit/audit.log"}},
		{"log under pki", func(o *Options) { o.LogPath = "/etc/kubernetes/pki/audit.log" }, nil,
			[]string{"read-only mount of /etc/kubernetes/pki", "choose e.g. --log-path"}},
		{"log beside admin.conf", func(o *Options) { o.LogPath = "/etc/kubernetes/audit.log" }, nil,
			[]string{"/etc/kubernetes holds secrets", "choose"}},
		{"log folder above etcd's data", func(o *Options) { o.LogPath = "/var/lib/audit.log" }, nil,
			[]string{"/var/lib/etcd in it holds secrets"}},
		{"log folder is /var/log", func(o *Options) { o.LogPath = "/var/log/audit.log" }, nil,
			[]string{"all of /var/log read-write", "a folder of its own"}},
		{"log folder is a read-only mount", func(o *Options) { o.LogPath = "/etc/ssl/certs/audit.log" }, nil,
			[]string{`read-only mount "ca-certs"`, "replace it with a writable one"}},
		{"log folder above a mount", func(o *Options) { o.LogPath = "/etc/ssl/audit.log" }, nil,
			[]string{"/etc/ssl"}},
		{"log folder is a link to pki", func(o *Options) { o.LogPath = "/var/log/kubernetes/audit/audit.log" },
			func(t *testing.T, root string) {
				os.MkdirAll(filepath.Join(root, "var/log/kubernetes"), 0o755)
				os.MkdirAll(filepath.Join(root, "etc/kubernetes/pki"), 0o755)
				if err := os.Symlink("/etc/kubernetes/pki", filepath.Join(root, "var/log/kubernetes/audit")); err != nil {
					t.Fatal(err)
				}
			},
			[]string{"/etc/kubernetes/pki"}},
		{"policy over a certificate", func(o *Options) { o.PolicyPath = "/etc/kubernetes/pki/ca.crt" }, nil,
			[]string{"is the file --client-ca-file names", "choose e.g. --policy-path"}},
		{"policy over admin.conf", func(o *Options) { o.PolicyPath = "/etc/kubernetes/admin.conf" }, nil,
			[]string{"kubeconfigs with client keys"}},
		{"policy over another file", func(o *Options) { o.PolicyPath = "/etc/hosts" },
			func(t *testing.T, root string) {
				os.WriteFile(filepath.Join(root, "etc/hosts"), []byte("127.0.0.1 localhost\n"), 0o644)
			},
			[]string{"exists and is not an audit policy"}},
	}
	for _, fx := range realFixtures {
		for _, c := range cases {
			t.Run(fx.name+"/"+c.name, func(t *testing.T) {
				root := newRoot(t, fx)
				if c.setup != nil {
					c.setup(t, root)
				}
				before := snapshot(t, root)
				out, err := runSetup(t, root, c.opts)
				if err == nil {
					t.Fatalf("accepted:\n%s", out)
				}
				msg := err.Error()
				for _, w := range c.want {
					if !strings.Contains(msg, w) {
						t.Errorf("error does not say %q: %s", w, msg)
					}
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("not one line: %q", msg)
				}
				if after := snapshot(t, root); !equality.Semantic.DeepEqual(before, after) {
					t.Error("files changed although the path was refused")
				}
			})
		}
	}
}

// TestDangerousPathFromTheManifest: a re-run keeps the manifest's log path,
// and refuses it too when it is dangerous, naming where it came from.
func TestDangerousPathFromTheManifest(t *testing.T) {
	for _, fx := range realFixtures {
		root := variant(t, fx, afterProgram("--audit-policy-file=/etc/kubernetes/custom-policy.yaml", "--audit-log-path=/audit.log"),
			map[string]string{"etc/kubernetes/custom-policy.yaml": customPolicy})
		_, err := runSetup(t, root, nil)
		if err == nil || !strings.Contains(err.Error(), "log-path /audit.log (the manifest's --audit-log-path)") {
			t.Errorf("%s: %v", fx.name, err)
		}
		// Moving it to a safe place works.
		if out, err := runSetup(t, root, func(o *Options) { o.LogPath = DefaultLogPath }); err != nil {
			t.Errorf("%s: %v\n%s", fx.name, err, out)
		}
	}
}

// TestMountsAreNarrow: the log's mount is its own folder, read-write; the
// policy's is the file, read-only; no other mount changes.
func TestMountsAreNarrow(t *testing.T) {
	for _, fx := range realFixtures {
		root := newRoot(t, fx)
		before := parseRoot(t, root).container().VolumeMounts
		if out, err := runSetup(t, root, nil); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		m := parseRoot(t, root)
		for _, vm := range m.container().VolumeMounts {
			switch vm.Name {
			case logVolume:
				if vm.MountPath != "/var/log/kubernetes/audit" || vm.ReadOnly {
					t.Errorf("log mount %+v", vm)
				}
			case policyVolume:
				if vm.MountPath != DefaultPolicyPath || !vm.ReadOnly {
					t.Errorf("policy mount %+v", vm)
				}
			default:
				found := false
				for _, b := range before {
					found = found || equality.Semantic.DeepEqual(b, vm)
				}
				if !found {
					t.Errorf("mount %s changed", vm.Name)
				}
			}
		}
		if len(m.container().VolumeMounts) != len(before)+2 {
			t.Errorf("%d mounts, want %d", len(m.container().VolumeMounts), len(before)+2)
		}
	}
}

// --root R where the node's folders are absolute symbolic links (as on a
// node: /var/log -> /data/log): every path setup reads or writes is
// followed inside R, so R/etc/kubernetes/manifests -> /etc/... is
// R/etc/..., never this host's. host is an absolute folder of this host
// that holds a decoy manifest and must stay untouched; R holds the real one
// at the same path.
func TestRootSymlinksResolveInsideTheRoot(t *testing.T) {
	for _, fx := range realFixtures {
		t.Run(fx.name, func(t *testing.T) {
			root := newRoot(t, fx)
			host := t.TempDir() // absolute: on this host, and named by links in root
			decoy := []byte("# this host's file: setup --root must not read or change it\n")
			for _, d := range []string{"manifests", "log"} {
				os.MkdirAll(filepath.Join(host, d), 0o755)
			}
			os.WriteFile(filepath.Join(host, "manifests", "kube-apiserver.yaml"), decoy, 0o600)
			// root/etc/kubernetes/manifests -> <host>/manifests, the real manifest at root/<host>/manifests
			inside := filepath.Join(root, host)
			os.MkdirAll(filepath.Join(inside, "log"), 0o755)
			if err := os.Rename(filepath.Join(root, "etc/kubernetes/manifests"), filepath.Join(inside, "manifests")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(host, "manifests"), filepath.Join(root, "etc/kubernetes/manifests")); err != nil {
				t.Fatal(err)
			}
			// root/var/log/kubernetes -> <host>/log: the log folder, made by setup's checks and the wait
			os.MkdirAll(filepath.Join(root, "var/log"), 0o755)
			if err := os.Symlink(filepath.Join(host, "log"), filepath.Join(root, "var/log/kubernetes")); err != nil {
				t.Fatal(err)
			}
			hostBefore := snapshot(t, host)
			out, err := runSetup(t, root, nil)
			if err != nil {
				t.Fatalf("setup --root with links in it: %v\n%s", err, out)
			}
			if got := snapshot(t, host); !equality.Semantic.DeepEqual(got, hostBefore) {
				t.Fatalf("setup --root changed this host's files behind an absolute link:\nbefore %v\nafter  %v", hostBefore, got)
			}
			m := string(readFile(t, filepath.Join(inside, "manifests", "kube-apiserver.yaml")))
			if !strings.Contains(m, "--audit-log-path=") {
				t.Errorf("the manifest inside the root was not changed:\n%s", m)
			}
		})
	}
}

// A link in the root to /etc/... is R/etc/..., through chains of links and
// ../ that would climb out of R; at root / paths are the kernel's.
func TestInRootFollowsLinksInsideTheRoot(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc/kubernetes"), 0o755)
	os.MkdirAll(filepath.Join(root, "etc/audit-policies"), 0o755)
	os.Symlink("/etc/audit-policies", filepath.Join(root, "etc/kubernetes/audit"))
	os.Symlink("../../../../../../etc/passwd", filepath.Join(root, "etc/kubernetes/up"))
	os.Symlink("/etc/kubernetes/audit", filepath.Join(root, "etc/kubernetes/chain"))
	for p, want := range map[string]string{
		"/etc/kubernetes/audit/policy.yaml": "etc/audit-policies/policy.yaml",
		"/etc/kubernetes/chain/policy.yaml": "etc/audit-policies/policy.yaml",
		"/etc/kubernetes/up":                "etc/passwd",
		"etc/kubernetes/manifests/x.yaml":   "etc/kubernetes/manifests/x.yaml",
	} {
		if got := inRoot(root, p); got != filepath.Join(root, want) {
			t.Errorf("inRoot(R, %s) = %s, want R/%s", p, got, want)
		}
	}
	if got := inRoot("/", "/etc/kubernetes/audit/policy.yaml"); got != "/etc/kubernetes/audit/policy.yaml" {
		t.Errorf("at root /: %s", got)
	}
}
