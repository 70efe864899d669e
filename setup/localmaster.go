package setup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// What a reader needs to know of this node when it is a kubeadm master:
// where its apiserver writes the audit log (the manifest's flag), and in
// stdout mode where the kubelet keeps that container's log files. The
// source package reads them (source.Local) when no SOURCE is named.

// DefaultPodLogs is where the kubelet keeps the apiserver container's log
// files on a master (CRI format, rotated beside it).
const DefaultPodLogs = "/var/log/pods/kube-system_kube-apiserver-*/kube-apiserver/*.log"

// AuditLogFromManifest finds where this kubeadm master's apiserver writes its
// audit log, so `kauditui` with no SOURCE reads the right file. It reads the
// manifest leniently (ParseManifest refuses unknown fields, as a writer
// must): a reader only needs the flag. The last occurrence wins, as in pflag.
// "-" is stdout mode (see StdoutModeLogs).
func AuditLogFromManifest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no SOURCE given and no kubeadm apiserver manifest at %s: name an audit log file, or - for standard input", path)
	}
	if err != nil {
		return "", fmt.Errorf("no SOURCE given and %v: name an audit log file, or run as root", err)
	}
	var pod corev1.Pod
	if err := yaml.Unmarshal(b, &pod); err != nil {
		return "", fmt.Errorf("no SOURCE given and %s does not parse (%v): name an audit log file", path, err)
	}
	// the one reader of the apiserver's flags: command and args,
	// --flag=value and the two-item --flag value, the last one wins.
	logPath, found := APIServerFlag(&pod, "audit-log-path")
	switch {
	case found && logPath == "-":
		return "-", nil
	case found:
		return logPath, nil
	}
	return "", fmt.Errorf("no SOURCE given and auditing is not enabled in %s: run 'kauditui setup' first, or name an audit log file", path)
}

// StdoutModeLogs is what to read when the apiserver audits to its stdout:
// its container's log files on this node (they work when the API does not,
// the moment after a bad policy broke the apiserver). Each N.log (one per
// container start) is its own family, merged by time with the others.
func StdoutModeLogs(manifest, podLogs string) ([]string, error) {
	paths, _ := filepath.Glob(podLogs)
	if len(paths) == 0 {
		return nil, fmt.Errorf("the apiserver writes its audit log to stdout (%s) and no container log matches %s: read its pod log, e.g. kubectl -n kube-system logs kube-apiserver-<node> | kauditui query -", manifest, podLogs)
	}
	return paths, nil
}
