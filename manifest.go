package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/kauditui/kauditui/setup"
)

const defaultManifest = "/etc/kubernetes/manifests/kube-apiserver.yaml"

// defaultPodLogs is where the kubelet keeps the apiserver container's log
// files on a master (CRI format, rotated beside it).
const defaultPodLogs = "/var/log/pods/kube-system_kube-apiserver-*/kube-apiserver/*.log"

// auditLogFromManifest finds where this kubeadm master's apiserver writes its
// audit log, so `kauditui` with no SOURCE reads the right file. It reads the
// manifest leniently (setup.ParseManifest refuses unknown fields, as a writer
// must): a reader only needs the flag. The last occurrence wins, as in pflag.
func auditLogFromManifest(path string) (string, error) {
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
	// setup's reader, the one the whole program uses: command and args,
	// --flag=value and the two-item --flag value, the last one wins.
	logPath, found := setup.APIServerFlag(&pod, "audit-log-path")
	switch {
	case found && logPath == "-":
		return "-", nil // stdout mode: see stdoutModeSources
	case found:
		return logPath, nil
	}
	return "", fmt.Errorf("no SOURCE given and auditing is not enabled in %s: run 'kauditui setup' first, or name an audit log file", path)
}

// stdoutModeSources is what to read when the apiserver audits to its stdout:
// its container's log files on this node (they work when the API does not,
// the moment after a bad policy broke the apiserver). Each N.log (one per
// container start) is its own family, merged by time with the others.
func stdoutModeSources(manifest, podLogs string) ([]string, error) {
	paths, _ := filepath.Glob(podLogs)
	if len(paths) == 0 {
		return nil, fmt.Errorf("the apiserver writes its audit log to stdout (%s) and no container log matches %s: read its pod log, e.g. kubectl -n kube-system logs kube-apiserver-<node> | kauditui query -", manifest, podLogs)
	}
	return paths, nil
}
