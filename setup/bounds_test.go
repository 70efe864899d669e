package setup

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
)

// TestInputsHaveBounds: --policy names a device, a pipe, a folder or a huge
// file; the manifest names one as its policy; the manifest itself is huge.
// Each is refused at once (a FIFO never blocks, /dev/zero is never read to
// its end), nothing is written, and the error says what to give instead.
func TestInputsHaveBounds(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "policy.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	big := append([]byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n"), bytes.Repeat([]byte("# padding\n"), 2<<20/10)...)
	if err := os.WriteFile(huge, big, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		opts func(*Options)
		prep func(t *testing.T, root string)
		want string
	}{
		{"--policy /dev/zero", func(o *Options) { o.Policy = "/dev/zero" }, nil, "/dev/zero is not a regular file (a character device): give a file"},
		{"--policy a FIFO", func(o *Options) { o.Policy = fifo }, nil, "is not a regular file (a pipe)"},
		{"--policy a folder", func(o *Options) { o.Policy = dir }, nil, "is not a regular file (a folder)"},
		{"--policy 2 MiB", func(o *Options) { o.Policy = huge }, nil, "more than the 1048576 a policy or manifest may have"},
		{"huge manifest", nil, func(t *testing.T, root string) {
			mp := filepath.Join(root, manifestRel)
			b := readFile(t, mp)
			os.WriteFile(mp, append(b, bytes.Repeat([]byte("# padding\n"), 2<<20/10)...), 0o600)
		}, "more than the 1048576"},
		{"manifest names a FIFO as its policy", nil, func(t *testing.T, root string) {
			mp := filepath.Join(root, manifestRel)
			os.WriteFile(mp, []byte(afterProgram("--audit-policy-file=/etc/kubernetes/audit-policy.yaml", "--audit-log-path=/var/log/kubernetes/audit/audit.log")(string(readFile(t, mp)))), 0o600)
			if err := syscall.Mkfifo(filepath.Join(root, "etc/kubernetes/audit-policy.yaml"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "(the manifest's --audit-policy-file) is a pipe, not a file; move it away"},
	}
	for _, fx := range realFixtures {
		for _, c := range cases {
			t.Run(fx.name+"/"+c.name, func(t *testing.T) {
				root := newRoot(t, fx)
				if c.prep != nil {
					c.prep(t, root)
				}
				before := snapshotNoFIFO(t, root)
				start := time.Now()
				done := make(chan struct{})
				var out string
				var err error
				go func() {
					defer close(done)
					out, err = runSetup(t, root, c.opts)
				}()
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("setup blocked on its input")
				}
				took := time.Since(start)
				if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
					t.Errorf("got %v, want one line containing %q\n%s", err, c.want, out)
				}
				if took > 2*time.Second {
					t.Errorf("took %v", took)
				}
				if after := snapshotNoFIFO(t, root); !equality.Semantic.DeepEqual(before, after) {
					t.Error("files changed")
				}
			})
		}
	}
}

// snapshotNoFIFO is snapshot, with special files named but not read.
func snapshotNoFIFO(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !d.Type().IsRegular() {
			files[p] = d.Type().String()
			return nil
		}
		files[p] = string(readFile(t, p))
		return nil
	})
	return files
}

func TestReadBounded(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, []byte("12345"), 0o600)
	if b, err := readBounded(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("%q %v", b, err)
	}
	if _, err := readBounded(p, 4); err == nil {
		t.Error("a file over the limit was read")
	}
	if _, err := readBounded("/dev/zero", 1<<20); err == nil {
		t.Error("/dev/zero was read")
	}
}
