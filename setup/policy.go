package setup

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit"
	auditpolicy "k8s.io/apiserver/pkg/audit/policy"
)

//go:embed policies/*.yaml
var presetFiles embed.FS

// defaultPreset is the policy used when none is asked for.
const defaultPreset = "default"

// keepExisting as --policy keeps the policy file the manifest already names,
// converting an audit.k8s.io/v1beta1 file to v1.
const keepExisting = "existing"

// presets lists the built-in policy names with a one-line description.
var presets = []struct{ Name, About string }{
	{"default", "the classic noise-reducing policy in audit.k8s.io/v1, probes dropped (Request level)"},
	{"metadata", "every request at Metadata level"},
	{"security", "RBAC changes and exec/attach/port-forward with bodies, secrets at Metadata, one event per request"},
}

// presetPolicy returns the bytes of a built-in policy.
func presetPolicy(name string) ([]byte, bool) {
	b, err := presetFiles.ReadFile("policies/" + name + ".yaml")
	return b, err == nil
}

func presetNames() string {
	var names []string
	for _, p := range presets {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// validatePolicy checks a policy the way kube-apiserver loads it
// (k8s.io/apiserver/pkg/audit/policy). It also returns a warning when the
// policy only passes the apiserver's lenient decoding (unknown or duplicate
// fields): the apiserver starts, but a misspelt field silently widens a rule.
func validatePolicy(b []byte) (warning string, err error) {
	if isV1beta1Policy(b) {
		return "", errors.New("audit.k8s.io/v1beta1 policies were removed in Kubernetes 1.24: use apiVersion audit.k8s.io/v1")
	}
	p, err := auditpolicy.LoadPolicyFromBytes(b)
	if err != nil {
		return "", err
	}
	_ = p
	strict := serializer.NewCodecFactory(audit.Scheme, serializer.EnableStrict).UniversalDecoder()
	if _, _, serr := strict.Decode(b, nil, &auditinternal.Policy{}); serr != nil && runtime.IsStrictDecodingError(serr) {
		warning = fmt.Sprintf("the apiserver accepts this policy only leniently: %v", serr)
	}
	return warning, nil
}

var v1beta1APIVersion = regexp.MustCompile(`(?m)^apiVersion:[ \t]*["']?audit\.k8s\.io/v1(alpha1|beta1)["']?[ \t]*$`)

// isV1beta1Policy reports whether a policy file is from before audit.k8s.io/v1
// (the 2019 recipe wrote v1beta1).
func isV1beta1Policy(b []byte) bool { return v1beta1APIVersion.Match(b) }

// convertToV1 rewrites the apiVersion line of an old policy, keeping its rules
// and comments; the fields of Policy did not change between v1beta1 and v1.
func convertToV1(b []byte) []byte {
	return v1beta1APIVersion.ReplaceAll(b, []byte("apiVersion: audit.k8s.io/v1"))
}

// choosePolicy resolves Options.Policy: a preset name, "existing", or a file.
// existing is the current policy file's content (nil if there is none).
func choosePolicy(name string, existing []byte) ([]byte, string, error) {
	if name == "" {
		name = defaultPreset
	}
	if b, ok := presetPolicy(name); ok {
		return b, "preset " + name, nil
	}
	if name == keepExisting {
		if existing == nil {
			return nil, "", errors.New("--policy existing: the manifest names no policy file that exists; choose a preset (" + presetNames() + ") or a file")
		}
		if isV1beta1Policy(existing) {
			return convertToV1(existing), "the existing policy, converted to audit.k8s.io/v1", nil
		}
		return existing, "the existing policy", nil
	}
	b, err := readBounded(name, maxPolicySize)
	if err != nil {
		if os.IsNotExist(err) && !strings.ContainsAny(name, "/.") {
			return nil, "", fmt.Errorf("--policy %q: no such preset (%s) or file", name, presetNames())
		}
		return nil, "", fmt.Errorf("--policy: %v", err)
	}
	return b, "file " + name, nil
}
