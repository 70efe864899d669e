package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRelease runs hack/release.sh as a maintainer would and checks what a
// user downloads: an archive per target, checksums that sha256sum -c
// accepts, binaries that `file` calls statically linked, the same bytes from
// a second run, and a binary that starts in an empty root (no libc, no
// PATH, no /etc) and says the version it was stamped with. It builds
// linux/amd64 only (about two minutes on a cold cache, seconds after);
// RELEASE_TARGETS="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64"
// checks the whole matrix.
func TestRelease(t *testing.T) {
	for _, tool := range []string{"bash", "git", "tar", "gzip", "sha256sum", "file"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (.ci/run installs it): the release cannot be checked", tool)
		}
	}
	if err := exec.Command("git", "rev-parse", "HEAD").Run(); err != nil {
		t.Skip("not a git checkout: hack/release.sh stamps the commit")
	}
	targets := os.Getenv("RELEASE_TARGETS")
	if targets == "" {
		targets = "linux/" + runtime.GOARCH
	}
	const version = "v9.8.7-test.1"
	tmp := t.TempDir()
	build := func(name string) string {
		dist := filepath.Join(tmp, name)
		cmd := exec.Command("bash", "hack/release.sh", version)
		cmd.Env = append(os.Environ(), "DIST="+dist, "RELEASE_TARGETS="+targets)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("hack/release.sh %s: %v\n%s", version, err, out)
		}
		return dist
	}
	a, b := build("a"), build("b")

	sums, err := os.ReadFile(filepath.Join(a, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command("sha256sum", "-c", "checksums.txt")
	check.Dir = a
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c checksums.txt: %v\n%s", err, out)
	}
	krew, err := os.ReadFile(filepath.Join(a, "audit.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(krew, []byte("@")) {
		t.Errorf("the krew manifest has a placeholder left:\n%s", krew)
	}

	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range strings.Fields(targets) {
		goos, goarch, _ := strings.Cut(target, "/")
		archive := "kauditui_" + version + "_" + goos + "_" + goarch + ".tar.gz"
		t.Run(goos+"_"+goarch, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(a, archive))
			if err != nil {
				t.Fatalf("no %s: %v", archive, err)
			}
			again, err := os.ReadFile(filepath.Join(b, archive))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Errorf("%s differs between two builds of the same commit: the release is not reproducible", archive)
			}
			if !bytes.Contains(sums, []byte("  "+archive+"\n")) {
				t.Errorf("checksums.txt does not list %s:\n%s", archive, sums)
			}
			if goos == "linux" && !containerfileAdds(t, version, goos, goarch, archive) {
				t.Errorf("the Containerfile's ADD does not name %s: the image would not build from this release", archive)
			}
			if krewOS := "os: " + goos + "\n        arch: " + goarch; !bytes.Contains(krew, []byte(krewOS)) {
				t.Errorf("the krew manifest has no %s platform:\n%s", target, krew)
			}

			dir := t.TempDir()
			list, err := exec.Command("tar", "-xvzf", filepath.Join(a, archive), "-C", dir).Output()
			if err != nil {
				t.Fatalf("tar -xzf %s: %v", archive, err)
			}
			if got := strings.Fields(string(list)); strings.Join(got, " ") != "README.md kauditui" {
				t.Errorf("%s holds %q, want README.md and kauditui", archive, got)
			}
			bin := filepath.Join(dir, "kauditui")
			desc, err := exec.Command("file", "-b", bin).Output()
			if err != nil {
				t.Fatal(err)
			}
			if goos == "linux" && !bytes.Contains(desc, []byte("statically linked")) {
				t.Errorf("file says %q, want statically linked", bytes.TrimSpace(desc))
			}
			if !bytes.Contains(desc, []byte("stripped")) || bytes.Contains(desc, []byte("not stripped")) {
				if goos == "linux" {
					t.Errorf("file says %q, want stripped", bytes.TrimSpace(desc))
				}
			}
			if goos != runtime.GOOS || goarch != runtime.GOARCH {
				return // cannot run here
			}
			out := versionInEmptyRoot(t, bin)
			for _, want := range []string{"kauditui " + version + "\n", "commit:     " + strings.TrimSpace(string(head)), "go:         " + runtime.Version(), "platform:   " + target} {
				if !strings.Contains(out, want) {
					t.Errorf("kauditui version in an empty root says\n%s\nwant %q in it", out, want)
				}
			}
		})
	}
}

// containerfileAdds reports whether the Containerfile's ADD, its build
// arguments given, names archive in dist/. (No container runtime here to
// build the image: this holds its one tie to the release.)
func containerfileAdds(t *testing.T, version, goos, goarch, archive string) bool {
	b, err := os.ReadFile("Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if src, ok := strings.CutPrefix(line, "ADD "); ok {
			src = strings.NewReplacer("${VERSION}", version, "${TARGETOS}", goos, "${TARGETARCH}", goarch).Replace(strings.Fields(src)[0])
			return src == "dist/"+archive
		}
	}
	return false
}

// versionInEmptyRoot runs `kauditui version` with nothing else around it: in
// a chroot holding only the binary when this runs as root (as .ci/run
// does), else in an empty folder with an empty environment.
func versionInEmptyRoot(t *testing.T, bin string) string {
	root := t.TempDir()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "kauditui"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if chroot, err := exec.LookPath("chroot"); err == nil && os.Geteuid() == 0 {
		cmd = exec.Command(chroot, root, "/kauditui", "version")
	} else {
		t.Logf("not root: running kauditui version with env -i in an empty folder, not in a chroot")
		cmd = exec.Command(filepath.Join(root, "kauditui"), "version")
		cmd.Dir = root
	}
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, out)
	}
	return string(out)
}
