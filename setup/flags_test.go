package setup

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
)

// realFixtures are the real kubeadm manifests: v1.37.2's and v1.27's.
var realFixtures = []fixture{fixtures[0], fixtures[1]}

// variant is a real manifest with a change applied to its text, put in a
// new node root with extra files (root-relative path -> content).
func variant(t *testing.T, fx fixture, edit func(string) string, files map[string]string) string {
	t.Helper()
	root := newRoot(t, fx)
	mp := filepath.Join(root, manifestRel)
	b := readFile(t, mp)
	if edit != nil {
		if err := os.WriteFile(mp, []byte(edit(string(b))), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for rel, body := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// afterProgram inserts lines after `- kube-apiserver` in command.
func afterProgram(lines ...string) func(string) string {
	return func(s string) string {
		return strings.Replace(s, "    - kube-apiserver\n", "    - kube-apiserver\n    - "+strings.Join(lines, "\n    - ")+"\n", 1)
	}
}

const customPolicy = "# our own policy, kept by setup\napiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n  resources:\n  - group: rbac.authorization.k8s.io\n- level: Metadata\n"

func parseRoot(t *testing.T, root string) *manifest {
	t.Helper()
	m, err := parseManifest(readFile(t, filepath.Join(root, manifestRel)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runSetup runs setup on root (--yes --no-wait) with edit applied to the options.
func runSetup(t *testing.T, root string, edit func(*Options)) (string, error) {
	t.Helper()
	var o outputs
	opts := testOptions(root, &o)
	if edit != nil {
		edit(opts)
	}
	err := Run(context.Background(), opts)
	return o.out.String() + o.err.String(), err
}

func TestParseArgsAsTheAPIServer(t *testing.T) {
	for _, c := range []struct {
		name  string
		items []string
		flag  string
		want  string
		found bool
		pos   []string
	}{
		{"two items", []string{"--audit-log-path", "/var/log/a.log"}, "audit-log-path", "/var/log/a.log", true, nil},
		{"two items, stdout", []string{"--audit-log-path", "-", "--v=2"}, "audit-log-path", "-", true, nil},
		{"value that looks like a flag", []string{"--audit-log-path", "--audit-log-maxage=3"}, "audit-log-maxage", "", false, nil},
		{"last one wins across forms", []string{"--audit-log-path=/a.log", "--audit-log-path", "/b.log"}, "audit-log-path", "/b.log", true, nil},
		{"bool takes no value", []string{"--allow-privileged", "--audit-log-path=/a.log"}, "audit-log-path", "/a.log", true, nil},
		{"bool then a stray", []string{"--audit-log-compress", "true"}, "audit-log-compress", "true", true, []string{"true"}},
		{"underscores", []string{"--audit_log_path=/u.log"}, "audit-log-path", "/u.log", true, nil},
		{"klog -v", []string{"-v", "2", "--audit-log-path=/a.log"}, "audit-log-path", "/a.log", true, nil},
		{"-- ends flags", []string{"--audit-log-path=/a.log", "--", "--audit-log-path=/b.log"}, "audit-log-path", "/a.log", true, []string{"--audit-log-path=/b.log"}},
		{"stray argument", []string{"/var/log/old/audit.log", "--audit-log-path=/a.log"}, "audit-log-path", "/a.log", true, []string{"/var/log/old/audit.log"}},
	} {
		p := parseArgs(c.items)
		got, found := p.last(c.flag)
		var pos []string
		for _, i := range p.positional {
			pos = append(pos, c.items[i])
		}
		if got != c.want || found != c.found || !slices.Equal(pos, c.pos) {
			t.Errorf("%s: --%s = %q, %v, positional %q; want %q, %v, %q", c.name, c.flag, got, found, pos, c.want, c.found, c.pos)
		}
	}
}

// TestTwoItemFlagForm: a real manifest with the audit flags as two list
// items (valid for kube-apiserver) is read right, kept in its form, and
// rewritten without stray positional arguments, in command or in args.
func TestTwoItemFlagForm(t *testing.T) {
	twoItems := []string{
		"--audit-policy-file", "/etc/kubernetes/custom-policy.yaml",
		"--audit-log-path", "/var/log/old/audit.log",
		"--audit-log-maxage", `"7"`,
		"--audit-log-maxbackup", `"3"`,
	}
	for _, fx := range realFixtures {
		for _, where := range []string{"command", "args"} {
			t.Run(fx.name+"/"+where, func(t *testing.T) {
				edit := afterProgram(twoItems...)
				if where == "args" {
					edit = func(s string) string {
						// The flags move to args after command: [kube-apiserver].
						lines := strings.Split(s, "\n")
						var out, flags []string
						for _, l := range lines {
							if strings.HasPrefix(l, "    - --") {
								flags = append(flags, l)
								continue
							}
							out = append(out, l)
							if l == "    - kube-apiserver" {
								out = append(out, "    args:")
								for _, f := range twoItems {
									out = append(out, "    - "+f)
								}
								out = append(out, "FLAGS")
							}
						}
						return strings.Replace(strings.Join(out, "\n"), "FLAGS", strings.Join(flags, "\n"), 1)
					}
				}
				root := variant(t, fx, edit, map[string]string{"etc/kubernetes/custom-policy.yaml": customPolicy})
				m := parseRoot(t, root)
				if where == "args" && (len(m.container().Command) != 1 || len(m.container().Args) < 10) {
					t.Fatalf("variant: command %q", m.container().Command)
				}
				if v, _ := m.Flag("audit-log-path"); v != "/var/log/old/audit.log" {
					t.Fatalf("read --audit-log-path = %q", v)
				}
				if v, ok := APIServerFlag(m.Pod, "audit-policy-file"); v != "/etc/kubernetes/custom-policy.yaml" || !ok {
					t.Fatalf("APIServerFlag --audit-policy-file = %q", v)
				}

				// A re-run keeps everything: the paths, 7 days and 3 files, the policy.
				out, err := runSetup(t, root, nil)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if !strings.Contains(out, "audit flags already set: --audit-policy-file=/etc/kubernetes/custom-policy.yaml --audit-log-path=/var/log/old/audit.log") {
					t.Errorf("findings do not read the two-item flags:\n%s", out)
				}
				m = parseRoot(t, root)
				if pos := m.Positional(); len(pos) > 0 {
					t.Fatalf("stray positional arguments the apiserver refuses: %q", pos)
				}
				for f, want := range map[string]string{"audit-log-path": "/var/log/old/audit.log", "audit-log-maxage": "7",
					"audit-log-maxbackup": "3", "audit-policy-file": "/etc/kubernetes/custom-policy.yaml", "audit-log-maxsize": "100"} {
					if got, _ := m.Flag(f); got != want {
						t.Errorf("--%s = %q, want %q", f, got, want)
					}
				}
				if got := readFile(t, filepath.Join(root, "etc/kubernetes/custom-policy.yaml")); string(got) != customPolicy {
					t.Error("the custom policy was replaced")
				}
				if !strings.Contains(string(readFile(t, filepath.Join(root, manifestRel))), "    - --audit-log-path\n    - /var/log/old/audit.log\n") {
					t.Error("the two-item form was not kept")
				}

				// A new log path replaces the value item: no trace of the old one.
				if out, err := runSetup(t, root, func(o *Options) { o.LogPath = "/var/log/new/audit.log" }); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				m = parseRoot(t, root)
				items := newCmdline(m.container()).items
				if pos := m.Positional(); len(pos) > 0 || slices.Contains(items, "/var/log/old/audit.log") {
					t.Errorf("old value left behind: positional %q", pos)
				}
				if v, _ := m.Flag("audit-log-path"); v != "/var/log/new/audit.log" {
					t.Errorf("--audit-log-path = %q", v)
				}
				for _, vm := range m.container().VolumeMounts {
					if vm.MountPath == "/var/log/old" {
						t.Error("the old log folder is still mounted")
					}
				}
				// Every audit flag once.
				count := map[string]int{}
				for _, u := range newCmdline(m.container()).parse().uses {
					count[u.name]++
				}
				for _, f := range auditFlagNames {
					if count[f] > 1 {
						t.Errorf("--%s appears %d times", f, count[f])
					}
				}
			})
		}
	}
}

// TestLastOneWins: the same flag twice in two forms: setup reads the last,
// and leaves one.
func TestLastOneWins(t *testing.T) {
	for _, fx := range realFixtures {
		t.Run(fx.name, func(t *testing.T) {
			root := variant(t, fx, afterProgram("--audit-log-path=/var/log/first/audit.log", "--audit-policy-file",
				"/etc/kubernetes/custom-policy.yaml", "--audit-log-path", "/var/log/last/audit.log"),
				map[string]string{"etc/kubernetes/custom-policy.yaml": customPolicy})
			out, err := runSetup(t, root, nil)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(out, "--audit-log-path appears 2 times (the apiserver takes the last one): one is left") {
				t.Errorf("the repeat is not said:\n%s", out)
			}
			m := parseRoot(t, root)
			if v, _ := m.Flag("audit-log-path"); v != "/var/log/last/audit.log" {
				t.Errorf("--audit-log-path = %q, want the last one", v)
			}
			n := 0
			for _, u := range newCmdline(m.container()).parse().uses {
				if u.name == "audit-log-path" {
					n++
				}
			}
			if n != 1 || len(m.Positional()) > 0 {
				t.Errorf("%d --audit-log-path left, positional %q", n, m.Positional())
			}
		})
	}
}

// TestRoundTripUnchangedByReader: on kubeadm's own manifests the reader sees
// every flag kubeadm wrote, none positional.
func TestReaderOnKubeadmManifests(t *testing.T) {
	for _, fx := range fixtures {
		m, err := parseManifest(readFile(t, fx.manifest))
		if err != nil {
			t.Fatal(err)
		}
		p := m.cmdline().parse()
		if len(p.positional) > 0 || len(p.uses) != len(m.container().Command)-1 {
			t.Errorf("%s: %d flags of %d items, positional %v", fx.name, len(p.uses), len(m.container().Command)-1, p.positional)
		}
		again := m.Clone()
		cl := again.cmdline()
		cl.store()
		if !equality.Semantic.DeepEqual(m.Pod, again.Pod) {
			t.Errorf("%s: storing the command line changed it", fx.name)
		}
	}
}

// TestNoValueFlagsMatchTheBinary holds noValueFlags to `kube-apiserver -h`
// of the real binary (KAUDITUI_APISERVER; hack/setup-e2e.sh sets it).
func TestNoValueFlagsMatchTheBinary(t *testing.T) {
	bin := os.Getenv("KAUDITUI_APISERVER")
	if bin == "" {
		t.Skip("KAUDITUI_APISERVER is not set")
	}
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	// pflag's usage: "  -h, --name type   text"; no type: a bool (or name[=default]).
	line := regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)(\[=[^\]]*\])?( [a-zA-Z0-9.=,]+(?:\[=[^\]]*\])?)?\s{2,}`)
	got := map[string]bool{}
	all := 0
	for _, m := range line.FindAllStringSubmatch(string(out), -1) {
		all++
		if m[3] == "" || m[2] != "" || strings.Contains(m[3], "[=") {
			got[m[1]] = true
		}
	}
	if all < 100 {
		t.Fatalf("only %d flags in %s -h", all, bin)
	}
	for n := range got {
		if !noValueFlags[n] {
			t.Errorf("--%s takes no value in %s but is not in noValueFlags", n, bin)
		}
	}
	for n := range noValueFlags {
		if !got[n] {
			t.Errorf("noValueFlags has --%s, which %s does not have as a no-value flag", n, bin)
		}
	}
}
