package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// Names of the volumes setup adds to the apiserver pod.
const (
	policyVolume = "audit-policy"
	logVolume    = "audit-log"
)

// Audit config the manifest is patched to.
type config struct {
	Mode       string // "file" or "stdout"
	LogPath    string // file mode only
	PolicyPath string
	MaxAge     int // days
	MaxSize    int // MB
	MaxBackup  int
	Compress   bool
	// Format is "json" when --audit-log-format is to be written (it was set:
	// legacy is switched to json); "" leaves the flag out (json by default).
	Format string
}

// manifest is a parsed static pod manifest of kube-apiserver: the typed pod
// for reading and patching, and the file's own text and YAML node tree for
// writing it back with its comments, order and line ends (rewrite.go).
type manifest struct {
	Pod *corev1.Pod
	idx int // index of the kube-apiserver container
	// nullCreationTimestamp: the file says `creationTimestamp: null`, as
	// kubeadm before v1.3x wrote it; today's ObjectMeta omits the zero time.
	nullCreationTimestamp bool
	raw                   []byte // the file as read
}

// maxManifestSize bounds what setup reads as a manifest (kubeadm's are 4 KiB).
const maxManifestSize = 1 << 20

// parseManifest reads a kube-apiserver static pod manifest.
func parseManifest(b []byte) (*manifest, error) {
	if len(b) > maxManifestSize {
		return nil, fmt.Errorf("%d bytes, more than a manifest ever has (at most %d)", len(b), maxManifestSize)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict(b, &pod); err != nil {
		// Unknown fields are kept by nobody: refuse rather than drop them.
		return nil, fmt.Errorf("not a pod manifest this version of kauditui understands: %v", err)
	}
	if pod.Kind != "Pod" {
		return nil, fmt.Errorf("kind is %q, want Pod", pod.Kind)
	}
	var raw struct {
		Metadata map[string]any `json:"metadata"`
	}
	_ = yaml.Unmarshal(b, &raw)
	v, hasTS := raw.Metadata["creationTimestamp"]
	for i, c := range pod.Spec.Containers {
		if c.Name == "kube-apiserver" {
			m := &manifest{Pod: &pod, idx: i, nullCreationTimestamp: hasTS && v == nil, raw: b}
			if err := m.cmdline().checkProgram(); err != nil {
				return nil, err
			}
			return m, nil
		}
	}
	return nil, errors.New("no container named kube-apiserver in the manifest")
}

// Marshal writes the pod as YAML the way kubeadm writes it (sigs.k8s.io/yaml:
// keys sorted, two-space indentation), ignoring the file's own text: it is
// what Rewrite falls back to, and the typed side of its three-way merge.
func (m *manifest) Marshal() ([]byte, error) {
	if !m.nullCreationTimestamp || !m.Pod.CreationTimestamp.IsZero() {
		return yaml.Marshal(m.Pod)
	}
	// Keep `creationTimestamp: null` so the diff shows only what setup changes.
	j, err := json.Marshal(m.Pod)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(j, &obj); err != nil {
		return nil, err
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		md["creationTimestamp"] = nil
	}
	return yaml.Marshal(obj)
}

func (m *manifest) container() *corev1.Container { return &m.Pod.Spec.Containers[m.idx] }

func (m *manifest) cmdline() *cmdline { return newCmdline(m.container()) }

// Version is the apiserver version from the image tag ("" if untagged).
func (m *manifest) Version() string {
	img := m.container().Image
	if i := strings.LastIndexByte(img, '@'); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		return img[i+1:]
	}
	return ""
}

// Flag returns a flag's value as the apiserver would read it (flags.go).
func (m *manifest) Flag(name string) (string, bool) {
	return m.cmdline().parse().last(name)
}

// Positional returns the items of the command line the apiserver would take
// as arguments: it refuses to start with any.
func (m *manifest) Positional() []string {
	cl := m.cmdline()
	var out []string
	for _, i := range cl.parse().positional {
		out = append(out, cl.items[i])
	}
	return out
}

// Clone returns a deep copy.
func (m *manifest) Clone() *manifest {
	c := *m
	c.Pod = m.Pod.DeepCopy()
	return &c
}

// Gate returns the value of one feature gate in --feature-gates.
func (m *manifest) Gate(gate string) (string, bool) { return m.cmdline().gate(gate) }

// retentionFlags apply to the log file only.
var retentionFlags = []string{"audit-log-maxage", "audit-log-maxsize", "audit-log-maxbackup", "audit-log-compress"}

// Patch sets the audit flags, volumes and mounts for cfg. It never writes
// --feature-gates=AdvancedAuditing (removed in 1.24; an unknown gate stops
// the apiserver) and removes one that is there.
func (m *manifest) Patch(cfg config) {
	oldLog, _ := m.Flag("audit-log-path")
	oldPolicy, _ := m.Flag("audit-policy-file")
	cl := m.cmdline()
	cl.removeGate("AdvancedAuditing")
	cl.set("audit-policy-file", cfg.PolicyPath)
	if cfg.Format != "" {
		cl.set("audit-log-format", cfg.Format)
	}
	if cfg.Mode == "stdout" {
		cl.set("audit-log-path", "-")
		// Rotation does not apply to stdout.
		for _, f := range retentionFlags {
			cl.unset(f)
		}
	} else {
		cl.set("audit-log-path", cfg.LogPath)
		cl.set("audit-log-maxage", fmt.Sprint(cfg.MaxAge))
		cl.set("audit-log-maxsize", fmt.Sprint(cfg.MaxSize))
		cl.set("audit-log-maxbackup", fmt.Sprint(cfg.MaxBackup))
		if cfg.Compress {
			cl.set("audit-log-compress", "true")
		} else {
			cl.unset("audit-log-compress")
		}
	}
	cl.store()

	// The mounts of the audit files the manifest named before, under other
	// names (the 2019 recipe's hand-typed ones), would be left dangling.
	if oldPolicy != "" && path.Clean(oldPolicy) != path.Clean(cfg.PolicyPath) {
		m.removeMountsAt(oldPolicy, policyVolume)
	}
	file := corev1.HostPathFile
	m.setVolume(policyVolume, cfg.PolicyPath, &file, true)
	oldLogDir := ""
	if oldLog != "" && oldLog != "-" && path.IsAbs(oldLog) {
		oldLogDir = path.Dir(oldLog)
	}
	if cfg.Mode == "stdout" {
		m.removeVolume(logVolume)
		if oldLogDir != "" {
			m.removeMountsAt(oldLogDir)
		}
	} else {
		if oldLogDir != "" && oldLogDir != path.Dir(cfg.LogPath) {
			m.removeMountsAt(oldLogDir, logVolume)
		}
		dir := corev1.HostPathDirectoryOrCreate
		m.setVolume(logVolume, path.Dir(cfg.LogPath), &dir, false)
	}
}

// setVolume adds or replaces a hostPath volume and its mount (same path in
// the container). A mount of another name at the same path is removed:
// two mounts at one path make the pod invalid.
func (m *manifest) setVolume(name, hostPath string, typ *corev1.HostPathType, readOnly bool) {
	m.removeMountsAt(hostPath, name)
	spec := &m.Pod.Spec
	vol := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostPath, Type: typ}}}
	if i := volumeIndex(spec.Volumes, name); i >= 0 {
		// The same folder written with a trailing slash is left as it is.
		if h := spec.Volumes[i].HostPath; h == nil || path.Clean(h.Path) != path.Clean(hostPath) || h.Type == nil || *h.Type != *typ {
			spec.Volumes[i] = vol
		}
	} else {
		at := sort.Search(len(spec.Volumes), func(i int) bool { return spec.Volumes[i].Name > name })
		if !sort.SliceIsSorted(spec.Volumes, func(i, j int) bool { return spec.Volumes[i].Name < spec.Volumes[j].Name }) {
			at = len(spec.Volumes)
		}
		spec.Volumes = append(spec.Volumes[:at:at], append([]corev1.Volume{vol}, spec.Volumes[at:]...)...)
	}
	c := m.container()
	mount := corev1.VolumeMount{Name: name, MountPath: hostPath, ReadOnly: readOnly}
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			if vm := c.VolumeMounts[i]; path.Clean(vm.MountPath) != path.Clean(hostPath) || vm.ReadOnly != readOnly || vm.SubPath != "" || vm.SubPathExpr != "" {
				c.VolumeMounts[i] = mount
			}
			return
		}
	}
	mounts := c.VolumeMounts
	at := len(mounts)
	if sort.SliceIsSorted(mounts, func(i, j int) bool { return mounts[i].Name < mounts[j].Name }) {
		at = sort.Search(len(mounts), func(i int) bool { return mounts[i].Name > name })
	}
	c.VolumeMounts = append(mounts[:at:at], append([]corev1.VolumeMount{mount}, mounts[at:]...)...)
}

func volumeIndex(vols []corev1.Volume, name string) int {
	for i, v := range vols {
		if v.Name == name {
			return i
		}
	}
	return -1
}

func (m *manifest) removeVolume(name string) {
	spec := &m.Pod.Spec
	if i := volumeIndex(spec.Volumes, name); i >= 0 {
		spec.Volumes = append(spec.Volumes[:i:i], spec.Volumes[i+1:]...)
	}
	c := m.container()
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == name {
			c.VolumeMounts = append(c.VolumeMounts[:i:i], c.VolumeMounts[i+1:]...)
			break
		}
	}
}

// removeMountsAt removes the container's mounts at mountPath (except the
// one named keep) and their volumes when nothing else mounts them.
func (m *manifest) removeMountsAt(mountPath string, keep ...string) {
	c := m.container()
	clean := func(p string) string { return strings.TrimSuffix(path.Clean(p), "/") }
	var gone []string
	out := c.VolumeMounts[:0:0]
	for _, vm := range c.VolumeMounts {
		if clean(vm.MountPath) == clean(mountPath) && (len(keep) == 0 || vm.Name != keep[0]) {
			gone = append(gone, vm.Name)
			continue
		}
		out = append(out, vm)
	}
	c.VolumeMounts = out
	for _, name := range gone {
		used := false
		for _, ct := range append(append([]corev1.Container{}, m.Pod.Spec.InitContainers...), m.Pod.Spec.Containers...) {
			for _, vm := range ct.VolumeMounts {
				used = used || vm.Name == name
			}
		}
		if !used {
			if i := volumeIndex(m.Pod.Spec.Volumes, name); i >= 0 {
				m.Pod.Spec.Volumes = append(m.Pod.Spec.Volumes[:i:i], m.Pod.Spec.Volumes[i+1:]...)
			}
		}
	}
}
