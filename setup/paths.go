package setup

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Limits on what setup reads: a policy or manifest larger than this is not
// one (kubeadm's manifest is 4 KiB, the presets 1 to 2 KiB).
const (
	maxPolicySize = 1 << 20
	maxReadSize   = 1 << 20
)

// readBounded reads a regular file of at most limit bytes. It refuses
// devices, pipes, sockets and folders without blocking on them (a FIFO
// opened for reading waits for a writer; /dev/zero never ends).
func readBounded(name string, limit int64) ([]byte, error) {
	f, fi, err := openRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d a policy or manifest may have", name, fi.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s grew past %d bytes while being read", name, limit)
	}
	return b, nil
}

// openRegular opens name for reading if it is a regular file, without
// blocking on anything else.
func openRegular(name string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("%s is not a regular file (%s): give a file", name, fileKind(fi.Mode()))
	}
	return f, fi, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}

// Folders of a control-plane node that hold secrets: a writable mount of
// any of them, or of a folder above them, hands the apiserver (a process
// facing the network) the keys of the cluster.
var secretDirs = []string{
	"/etc/kubernetes", // admin.conf, super-admin.conf, the components' kubeconfigs, pki/
	"/var/lib/etcd",
	"/var/lib/kubelet", // the kubelet's client and serving keys
	"/root",
	"/etc/ssh",
	"/etc/ssl/private",
}

// systemDirs are folders a log never gets to itself: a writable mount of one
// gives the apiserver every file in it.
var systemDirs = []string{
	"/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt", "/opt",
	"/proc", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/var/lib", "/var/log", "/var/run",
}

const (
	manifestsDir = "/etc/kubernetes/manifests"
	pkiDir       = "/etc/kubernetes/pki"
)

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// resolveInRoot follows the symbolic links of p's existing part inside root
// (absolute links point into root, as on the node) and returns the path on
// the node; a hostPath mount follows them the same way.
func resolveInRoot(root, p string) string {
	parts := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for hops := 0; len(parts) > 0; {
		if parts[0] == "" || parts[0] == "." {
			parts = parts[1:]
			continue
		}
		next := path.Join(cur, parts[0])
		fi, err := os.Lstat(filepath.Join(root, next))
		if err != nil || fi.Mode()&os.ModeSymlink == 0 || hops >= 40 {
			if err != nil || hops >= 40 {
				return path.Join(append([]string{next}, parts[1:]...)...)
			}
			cur, parts = next, parts[1:]
			continue
		}
		target, err := os.Readlink(filepath.Join(root, next))
		if err != nil {
			return path.Join(append([]string{next}, parts[1:]...)...)
		}
		hops++
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		parts = append(strings.Split(strings.TrimPrefix(path.Clean(target), "/"), "/"), parts[1:]...)
		cur = "/"
	}
	return cur
}

// inRoot is where p of the node whose filesystem is at root lies on this
// host: root joined with p after p's symbolic links were followed inside
// root (resolveInRoot). Every file setup reads or writes under --root goes
// through it: an absolute link in root names a path of the node, so
// root/etc/x -> /etc/y is root/etc/y, never this host's /etc/y, which the
// kernel would follow to. At root / the kernel's resolution is the node's.
func inRoot(root, p string) string {
	if root == "" || filepath.Clean(root) == "/" {
		return filepath.Join(root, p)
	}
	return filepath.Join(root, resolveInRoot(root, p))
}

// flagPaths are the absolute paths the apiserver's other flags name
// (certificates, keys, kubeconfigs, encryption config): files it reads.
func flagPaths(m *manifest) map[string]string {
	out := map[string]string{}
	for _, u := range m.cmdline().parse().uses {
		if strings.HasPrefix(u.name, "audit-") {
			continue
		}
		for _, part := range strings.Split(u.value, ",") {
			part, _, _ = strings.Cut(part, ":")
			if path.IsAbs(part) {
				out[path.Clean(part)] = "--" + u.name
			}
		}
	}
	return out
}

// pathLabel names where a path came from, for messages.
type pathLabel struct{ flag, manifestFlag string }

func (l pathLabel) say(p string, fromFlag bool) string {
	if fromFlag {
		return l.flag + " " + p
	}
	return fmt.Sprintf("%s %s (the manifest's --%s)", strings.TrimPrefix(l.flag, "--"), p, l.manifestFlag)
}

// checkPaths refuses audit paths that would hurt the node. Each error is one
// line: what is wrong, why, and what to choose instead.
func checkPaths(root string, m *manifest, cfg config, oldLogPath string, fromFlag map[string]bool) error {
	pol := path.Clean(cfg.PolicyPath)
	polName := pathLabel{"--policy-path", "audit-policy-file"}.say(pol, fromFlag["policy-path"])
	others := flagPaths(m)
	suggestPolicy := "choose e.g. --policy-path " + DefaultPolicyPath
	if pol == DefaultPolicyPath {
		suggestPolicy = "move it away, or choose another --policy-path, e.g. /etc/kubernetes/audit/policy.yaml"
	}
	suggestLog := "choose e.g. --log-path " + DefaultLogPath
	if path.Clean(cfg.LogPath) == DefaultLogPath {
		suggestLog = "move it away, or choose another --log-path, e.g. /var/log/kubernetes/apiserver-audit/audit.log"
	}

	for _, p := range uniq(pol, resolveInRoot(root, pol)) {
		switch {
		case within(p, manifestsDir):
			return fmt.Errorf("%s: the kubelet runs every file in %s as a static pod; %s", polName, manifestsDir, suggestPolicy)
		case others[p] != "":
			return fmt.Errorf("%s is the file %s names: setup would overwrite it; %s", polName, others[p], suggestPolicy)
		case path.Dir(p) == "/etc/kubernetes" && strings.HasSuffix(p, ".conf"):
			return fmt.Errorf("%s: /etc/kubernetes/*.conf are kubeconfigs with client keys; %s", polName, suggestPolicy)
		}
	}
	if fi, err := os.Stat(inRoot(root, pol)); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a file; %s", polName, fileKind(fi.Mode()), suggestPolicy)
	}
	if cfg.Mode == "stdout" {
		return nil
	}

	lp := path.Clean(cfg.LogPath)
	logName := pathLabel{"--log-path", "audit-log-path"}.say(lp, fromFlag["log-path"])
	if lp == pol {
		return fmt.Errorf("%s is also the policy file: the apiserver would write its log over its policy; %s", logName, suggestLog)
	}
	if fi, err := os.Stat(inRoot(root, lp)); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is %s, not a file: name a file in it, e.g. --log-path %s", logName, fileKind(fi.Mode()), path.Join(lp, "audit.log"))
	}
	// The folder is mounted read-write into the apiserver: the narrowest one,
	// never /, never one holding secrets, never one mounted for something else.
	// Mounts of the audit files the manifest has now are setup's to move
	// (the 2019 recipe typed them under other names).
	auditMounts := map[string]bool{}
	if old, ok := m.Flag("audit-policy-file"); ok && path.IsAbs(old) {
		auditMounts[path.Clean(old)] = true
	}
	if oldLogPath != "" && oldLogPath != "-" && path.IsAbs(oldLogPath) {
		auditMounts[path.Dir(path.Clean(oldLogPath))] = true
	}
	dir := path.Dir(lp)
	for _, d := range uniq(dir, resolveInRoot(root, dir)) {
		if err := checkLogDir(d, logName, suggestLog, m, others, auditMounts); err != nil {
			return err
		}
	}
	// Moving the log away from a folder the apiserver also reads its keys
	// from would unmount them.
	if oldLogPath != "" && oldLogPath != "-" && path.IsAbs(oldLogPath) {
		if old := path.Dir(path.Clean(oldLogPath)); old != dir {
			for p, flag := range others {
				if within(p, old) && !mountedElsewhere(m, p, old) {
					return fmt.Errorf("the manifest mounts its audit log folder %s read-write and the apiserver reads %s (%s) from it: moving the log would unmount it; restore kubeadm's own mount of %s first (kubeadm init phase control-plane apiserver)", old, p, flag, old)
				}
			}
		}
	}
	return nil
}

func checkLogDir(d, logName, suggest string, m *manifest, others map[string]string, auditMounts map[string]bool) error {
	switch {
	case d == "/":
		return fmt.Errorf("%s: its folder is /, and setup mounts the log's folder read-write: the apiserver could write anywhere on the host; %s", logName, suggest)
	case within(d, manifestsDir):
		return fmt.Errorf("%s: the kubelet runs every file in %s as a static pod; %s", logName, manifestsDir, suggest)
	case within(d, pkiDir):
		return fmt.Errorf("%s: its folder would be mounted read-write over kubeadm's read-only mount of %s, the cluster's keys; %s", logName, pkiDir, suggest)
	}
	for _, s := range secretDirs {
		if within(d, s) {
			return fmt.Errorf("%s: setup would mount %s read-write into the apiserver, and %s holds secrets; %s", logName, d, s, suggest)
		}
		if within(s, d) {
			return fmt.Errorf("%s: setup would mount %s read-write into the apiserver, and %s in it holds secrets; %s", logName, d, s, suggest)
		}
	}
	for _, s := range systemDirs {
		if d == s {
			return fmt.Errorf("%s: setup would mount all of %s read-write into the apiserver; give the log a folder of its own; %s", logName, d, suggest)
		}
	}
	for p, flag := range others {
		if within(p, d) {
			return fmt.Errorf("%s: setup would mount %s read-write into the apiserver, and it holds %s (%s); %s", logName, d, p, flag, suggest)
		}
	}
	for _, vm := range m.container().VolumeMounts {
		mp := path.Clean(vm.MountPath)
		if vm.Name == logVolume || vm.Name == policyVolume || auditMounts[mp] {
			continue
		}
		switch {
		case mp == d:
			ro := ""
			if vm.ReadOnly {
				ro = "read-only "
			}
			return fmt.Errorf("%s: %s is already the apiserver's %smount %q; setup would replace it with a writable one; %s", logName, d, ro, vm.Name, suggest)
		case within(mp, d):
			return fmt.Errorf("%s: setup would mount %s read-write, over the apiserver's mount %q at %s; %s", logName, d, vm.Name, mp, suggest)
		}
	}
	return nil
}

// mountedElsewhere: the apiserver sees p through a mount other than the
// log's (at old).
func mountedElsewhere(m *manifest, p, old string) bool {
	for _, vm := range m.container().VolumeMounts {
		if mp := path.Clean(vm.MountPath); vm.Name != logVolume && mp != old && within(p, mp) {
			return true
		}
	}
	return false
}

func uniq(a, b string) []string {
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}
