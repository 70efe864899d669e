package setup

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aymanbagabas/go-udiff/lcs"
)

// commented is a real manifest as people edit them: comments above, beside
// and between items, blank lines, a hand-indented list.
func commented(s string) string {
	s = "# kube-apiserver of cp-1; edited by hand, see the runbook\n" + s
	s = strings.Replace(s, "  labels:\n", "\n  labels: # keep these\n", 1)
	s = strings.Replace(s, "    - kube-apiserver\n", "    - kube-apiserver\n    # networking\n", 1)
	s = strings.Replace(s, "    - --allow-privileged=true\n", "    - --allow-privileged=true # needed by the CNI\n", 1)
	s = strings.Replace(s, "  volumes:\n", "\n  # host folders\n  volumes:\n", 1)
	s = strings.Replace(s, "  hostNetwork: true\n", "  hostNetwork: true   # as kubeadm has it\n", 1)
	return s
}

func lines(b []byte) []string { return strings.SplitAfter(string(b), "\n") }

// deletedLines: the lines of a that b lost (a line-level diff).
func deletedLines(a, b []byte) []string {
	al, bl := lines(a), lines(b)
	var out []string
	for _, d := range lcs.DiffLines(al, bl) {
		out = append(out, al[d.Start:d.End]...)
	}
	return out
}

// TestCommentsAndLineEndsKept: setup on a commented manifest, with LF and
// with CRLF line ends, only adds lines: every comment, blank line and line
// end stays; --revert brings back the exact bytes.
func TestCommentsAndLineEndsKept(t *testing.T) {
	for _, fx := range realFixtures {
		for _, crlf := range []bool{false, true} {
			name := fx.name + "/LF"
			if crlf {
				name = fx.name + "/CRLF"
			}
			t.Run(name, func(t *testing.T) {
				edit := commented
				if crlf {
					edit = func(s string) string { return strings.ReplaceAll(commented(s), "\n", "\r\n") }
				}
				root := variant(t, fx, edit, nil)
				before := readFile(t, filepath.Join(root, manifestRel))
				out, err := runSetup(t, root, nil)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				after := readFile(t, filepath.Join(root, manifestRel))
				if del := deletedLines(before, after); len(del) > 0 {
					t.Errorf("lines lost or changed: %q\n%s", del, out)
				}
				if strings.Contains(out, "will be lost") || strings.Contains(out, "comment(s)") {
					t.Errorf("says something is lost:\n%s", out)
				}
				if crlf && bytes.Count(after, []byte("\r\n")) != bytes.Count(after, []byte("\n")) {
					t.Error("not every line ends in CRLF")
				}
				m := parseRoot(t, root)
				if v, _ := m.Flag("audit-log-path"); v != DefaultLogPath {
					t.Errorf("--audit-log-path = %q", v)
				}
				if _, err := runSetup(t, root, func(o *Options) { o.Revert = true }); err != nil {
					t.Fatal(err)
				}
				if got := readFile(t, filepath.Join(root, manifestRel)); !bytes.Equal(got, before) {
					t.Error("revert is not byte-identical")
				}
			})
		}
	}
}

// TestLostCommentSaid: a comment on a line setup removes goes with it, and
// setup says so in one line before writing.
func TestLostCommentSaid(t *testing.T) {
	for _, fx := range realFixtures {
		root := variant(t, fx, afterProgram("--audit-policy-file=/etc/kubernetes/custom-policy.yaml",
			"--audit-log-path=/var/log/kubernetes/audit/audit.log", "--audit-log-maxage=7 # a week, by policy"),
			map[string]string{"etc/kubernetes/custom-policy.yaml": customPolicy})
		out, err := runSetup(t, root, func(o *Options) { o.Mode = "stdout" })
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		note := `1 comment(s) of the manifest go with the lines they belong to: "# a week, by policy"`
		i, j := strings.Index(out, note), strings.Index(out, "wrote ")
		if i < 0 || j < 0 || i > j {
			t.Errorf("%s: the lost comment is not said before writing:\n%s", fx.name, out)
		}
	}
}

// TestRewriteFallsBack: an edit the node tree cannot carry safely (a YAML
// alias shares the mounts with an init container) falls back to kubeadm's
// marshalling, and says in one line what is lost.
func TestRewriteFallsBack(t *testing.T) {
	for _, fx := range realFixtures {
		root := variant(t, fx, func(s string) string {
			s = "# a comment that goes\n" + strings.Replace(s, "    volumeMounts:\n", "    volumeMounts: &mounts\n", 1)
			return strings.Replace(s, "  hostNetwork: true\n", "  hostNetwork: true\n  initContainers:\n  - name: init\n    image: busybox\n    volumeMounts: *mounts\n", 1)
		}, nil)
		out, err := runSetup(t, root, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, "comment line(s), blank lines and key order will be lost") {
			t.Errorf("%s: the fallback is not said:\n%s", fx.name, out)
		}
		m := parseRoot(t, root)
		if got := len(m.Pod.Spec.InitContainers[0].VolumeMounts); got != len(m.container().VolumeMounts)-2 {
			t.Errorf("%s: the init container's mounts changed with the apiserver's (%d)", fx.name, got)
		}
	}
}
