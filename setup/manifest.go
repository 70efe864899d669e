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
type Config struct {
	Mode       string // "file" or "stdout"
	LogPath    string // file mode only
	PolicyPath string
	MaxAge     int // days
	MaxSize    int // MB
	MaxBackup  int
	Compress   bool
}

// Manifest is a parsed static pod manifest of kube-apiserver.
type Manifest struct {
	Pod *corev1.Pod
	idx int // index of the kube-apiserver container
	// nullCreationTimestamp: the file says `creationTimestamp: null`, as
	// kubeadm before v1.3x wrote it; today's ObjectMeta omits the zero time.
	nullCreationTimestamp bool
}

// ParseManifest reads a kube-apiserver static pod manifest.
func ParseManifest(b []byte) (*Manifest, error) {
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
			return &Manifest{Pod: &pod, idx: i, nullCreationTimestamp: hasTS && v == nil}, nil
		}
	}
	return nil, errors.New("no container named kube-apiserver in the manifest")
}

// Marshal writes the pod back as YAML, the way kubeadm writes it
// (sigs.k8s.io/yaml: keys sorted, two-space indentation).
func (m *Manifest) Marshal() ([]byte, error) {
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

func (m *Manifest) container() *corev1.Container { return &m.Pod.Spec.Containers[m.idx] }

// Version is the apiserver version from the image tag ("" if untagged).
func (m *Manifest) Version() string {
	img := m.container().Image
	if i := strings.LastIndexByte(img, '@'); i >= 0 {
		img = img[:i]
	}
	if i := strings.LastIndexByte(img, ':'); i > strings.LastIndexByte(img, '/') {
		return img[i+1:]
	}
	return ""
}

// argv is the list holding the apiserver's flags: kubeadm puts them in
// command after "kube-apiserver"; other tools use args.
func (m *Manifest) argv() *[]string {
	c := m.container()
	for _, a := range c.Command {
		if strings.HasPrefix(a, "--") {
			return &c.Command
		}
	}
	if len(c.Args) > 0 {
		return &c.Args
	}
	return &c.Command
}

// Flag returns a flag's value as the apiserver would read it.
func (m *Manifest) Flag(name string) (string, bool) {
	v, ok := "", false
	for _, a := range *m.argv() {
		if n, val, isFlag := splitFlag(a); isFlag && n == name {
			v, ok = val, true // the last one wins, as in pflag
		}
	}
	return v, ok
}

// Clone returns a deep copy.
func (m *Manifest) Clone() *Manifest {
	c := *m
	c.Pod = m.Pod.DeepCopy()
	return &c
}

func splitFlag(a string) (name, value string, ok bool) {
	if !strings.HasPrefix(a, "--") {
		return "", "", false
	}
	name, value, _ = strings.Cut(a[2:], "=")
	return name, value, true
}

// setFlag replaces the flag where it is (dropping repeats) or inserts it in
// name order, which is how kubeadm writes them.
func setFlag(argv []string, name, value string) []string {
	want := "--" + name + "=" + value
	out := argv[:0:0]
	done := false
	for _, a := range argv {
		if n, _, ok := splitFlag(a); ok && n == name {
			if !done {
				out = append(out, want)
				done = true
			}
			continue
		}
		out = append(out, a)
	}
	if done {
		return out
	}
	at := len(out)
	for i, a := range out {
		if n, _, ok := splitFlag(a); ok && n > name {
			at = i
			break
		}
	}
	return append(out[:at:at], append([]string{want}, out[at:]...)...)
}

func removeFlag(argv []string, name string) []string {
	out := argv[:0:0]
	for _, a := range argv {
		if n, _, ok := splitFlag(a); ok && n == name {
			continue
		}
		out = append(out, a)
	}
	return out
}

// removeGate drops one gate from --feature-gates, and the flag if it empties.
func removeGate(argv []string, gate string) []string {
	out := argv[:0:0]
	for _, a := range argv {
		if n, v, ok := splitFlag(a); ok && n == "feature-gates" {
			var keep []string
			for _, g := range strings.Split(v, ",") {
				if k, _, _ := strings.Cut(strings.TrimSpace(g), "="); k != gate {
					keep = append(keep, g)
				}
			}
			if len(keep) == 0 {
				continue
			}
			a = "--feature-gates=" + strings.Join(keep, ",")
		}
		out = append(out, a)
	}
	return out
}

// Gate returns the value of one feature gate in --feature-gates.
func (m *Manifest) Gate(gate string) (string, bool) {
	v, _ := m.Flag("feature-gates")
	for _, g := range strings.Split(v, ",") {
		if k, val, _ := strings.Cut(strings.TrimSpace(g), "="); k == gate {
			return val, true
		}
	}
	return "", false
}

// Patch sets the audit flags, volumes and mounts for cfg. It never writes
// --feature-gates=AdvancedAuditing (removed in 1.24; an unknown gate stops
// the apiserver) and removes one that is there.
func (m *Manifest) Patch(cfg Config) {
	argv := m.argv()
	oldLog, _ := m.Flag("audit-log-path")
	a := *argv
	a = removeGate(a, "AdvancedAuditing")
	a = setFlag(a, "audit-policy-file", cfg.PolicyPath)
	retention := []string{"audit-log-maxage", "audit-log-maxsize", "audit-log-maxbackup", "audit-log-compress"}
	if cfg.Mode == "stdout" {
		a = setFlag(a, "audit-log-path", "-")
		// Rotation does not apply to stdout.
		for _, f := range retention {
			a = removeFlag(a, f)
		}
	} else {
		a = setFlag(a, "audit-log-path", cfg.LogPath)
		a = setFlag(a, "audit-log-maxage", fmt.Sprint(cfg.MaxAge))
		a = setFlag(a, "audit-log-maxsize", fmt.Sprint(cfg.MaxSize))
		a = setFlag(a, "audit-log-maxbackup", fmt.Sprint(cfg.MaxBackup))
		if cfg.Compress {
			a = setFlag(a, "audit-log-compress", "true")
		} else {
			a = removeFlag(a, "audit-log-compress")
		}
	}
	*argv = a

	file := corev1.HostPathFile
	m.setVolume(policyVolume, cfg.PolicyPath, &file, true)
	if cfg.Mode == "stdout" {
		m.removeVolume(logVolume)
		if oldLog != "" && oldLog != "-" {
			m.removeMountsAt(path.Dir(oldLog))
		}
	} else {
		dir := corev1.HostPathDirectoryOrCreate
		m.setVolume(logVolume, path.Dir(cfg.LogPath), &dir, false)
	}
}

// setVolume adds or replaces a hostPath volume and its mount (same path in
// the container). A mount of another name at the same path is removed:
// two mounts at one path make the pod invalid.
func (m *Manifest) setVolume(name, hostPath string, typ *corev1.HostPathType, readOnly bool) {
	m.removeMountsAt(hostPath, name)
	spec := &m.Pod.Spec
	vol := corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostPath, Type: typ}}}
	if i := volumeIndex(spec.Volumes, name); i >= 0 {
		spec.Volumes[i] = vol
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
			c.VolumeMounts[i] = mount
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

func (m *Manifest) removeVolume(name string) {
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
func (m *Manifest) removeMountsAt(mountPath string, keep ...string) {
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
