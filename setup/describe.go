package setup

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// describeChanges says each change of a plan in words (shown before the diffs).
func describeChanges(st *current, cfg config, m, patched *manifest, p *plan) []string {
	var out []string
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	oldMode := ""
	switch {
	case st.hasLog && st.logPath == "-":
		oldMode = "stdout"
	case st.hasLog:
		oldMode = "file"
	}
	switch {
	case !st.hasPolicy && !st.hasLog && cfg.Mode == "file":
		out = append(out, fmt.Sprintf("turns auditing on: events go to %s, rotated at %d MB, %d rotated files kept at most %d days, gzip %s",
			cfg.LogPath, cfg.MaxSize, cfg.MaxBackup, cfg.MaxAge, yesNo(cfg.Compress)))
	case !st.hasPolicy && !st.hasLog:
		out = append(out, "turns auditing on: events go to the apiserver's standard output (its container log)")
	case oldMode != cfg.Mode && cfg.Mode == "stdout":
		out = append(out, fmt.Sprintf("mode %s -> stdout: events go to the apiserver's standard output; the log file's flags and mount go", orNone(oldMode)))
	case oldMode != cfg.Mode:
		out = append(out, fmt.Sprintf("mode %s -> file: events go to %s", orNone(oldMode), cfg.LogPath))
	}
	if (st.hasPolicy || st.hasLog) && cfg.Mode == "file" {
		if oldMode == "file" && st.logPath != cfg.LogPath {
			out = append(out, fmt.Sprintf("log file %s -> %s", st.logPath, cfg.LogPath))
		}
		for _, r := range []struct {
			flag, what, unit string
			want             int
		}{
			{"audit-log-maxage", "keep rotated logs", " days", cfg.MaxAge},
			{"audit-log-maxsize", "rotate at", " MB", cfg.MaxSize},
			{"audit-log-maxbackup", "rotated files kept", "", cfg.MaxBackup},
		} {
			have, ok := st.values[r.flag]
			if !ok {
				have = "unset (the apiserver's default)"
			} else {
				have += r.unit
			}
			if want := fmt.Sprint(r.want) + r.unit; have != want {
				out = append(out, fmt.Sprintf("%s: %s -> %s (--%s)", r.what, have, want, r.flag))
			}
		}
		if st.compress != cfg.Compress {
			out = append(out, fmt.Sprintf("gzip rotated logs: %s -> %s (--audit-log-compress)", yesNo(st.compress), yesNo(cfg.Compress)))
		}
	}
	if st.hasPolicy && st.policyPath != cfg.PolicyPath {
		out = append(out, fmt.Sprintf("policy file %s -> %s", st.policyPath, cfg.PolicyPath))
	}
	if v, ok := st.values["audit-log-format"]; ok && v != "json" {
		out = append(out, fmt.Sprintf("--audit-log-format=%s -> json: kauditui reads JSON audit events; the %s format writes a line of text per event, which it cannot read", v, v))
	}
	for _, f := range auditFlagNames {
		if n := st.counts[f]; n > 1 {
			out = append(out, fmt.Sprintf("--%s appears %d times (the apiserver takes the last one): one is left", f, n))
		}
	}
	if _, ok := m.Gate("AdvancedAuditing"); ok {
		out = append(out, "removes AdvancedAuditing from --feature-gates: the gate is gone since Kubernetes 1.24 and an unknown gate stops the apiserver")
	}
	switch {
	case !p.PolicyChanged():
		out = append(out, fmt.Sprintf("policy %s stays as it is (%s)", cfg.PolicyPath, p.PolicyAbout))
	case !p.oldExists:
		out = append(out, fmt.Sprintf("writes the policy (%s) to %s", p.PolicyAbout, cfg.PolicyPath))
	case strings.Contains(p.PolicyAbout, "converted"):
		out = append(out, fmt.Sprintf("converts the policy in %s to audit.k8s.io/v1, keeping its rules", cfg.PolicyPath))
	default:
		out = append(out, fmt.Sprintf("replaces the policy in %s with %s (the old one is backed up)", cfg.PolicyPath, p.PolicyAbout))
	}
	out = append(out, describeMounts(m, patched)...)
	if a, b := m.Pod.Annotations[policyHashAnnotation], patched.Pod.Annotations[policyHashAnnotation]; a != b {
		out = append(out, fmt.Sprintf("annotation %s=%s: the apiserver reads its policy only when it starts, so a new policy restarts it", policyHashAnnotation, b))
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// mountView is one volume of the apiserver container as a sentence needs it.
type mountView struct {
	hostPath, mountPath, typ string
	readOnly, mounted        bool
}

func mountViews(m *manifest) map[string]mountView {
	out := map[string]mountView{}
	for _, v := range m.Pod.Spec.Volumes {
		mv := mountView{}
		if v.HostPath != nil {
			mv.hostPath = v.HostPath.Path
			if v.HostPath.Type != nil {
				mv.typ = string(*v.HostPath.Type)
			}
		}
		out[v.Name] = mv
	}
	for _, vm := range m.container().VolumeMounts {
		mv := out[vm.Name]
		mv.mountPath, mv.readOnly, mv.mounted = vm.MountPath, vm.ReadOnly, true
		out[vm.Name] = mv
	}
	return out
}

func (v mountView) String() string {
	kind := "folder"
	if v.typ == string(corev1.HostPathFile) {
		kind = "file"
	}
	rw := "read-write"
	if v.readOnly {
		rw = "read-only"
	}
	return fmt.Sprintf("%s %s %s", kind, v.hostPath, rw)
}

func describeMounts(m, patched *manifest) []string {
	before, after := mountViews(m), mountViews(patched)
	var names []string
	for n := range before {
		names = append(names, n)
	}
	for n := range after {
		if _, ok := before[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		a, hadA := before[n]
		b, hasB := after[n]
		switch {
		case !hadA:
			out = append(out, fmt.Sprintf("mounts %s into the apiserver (volume %s)", b, n))
		case !hasB:
			out = append(out, fmt.Sprintf("unmounts %s (volume %s)", a, n))
		case a != b:
			out = append(out, fmt.Sprintf("volume %s: %s -> %s", n, a, b))
		}
	}
	return out
}
