package filter

import (
	"fmt"
	"strings"
)

// The expressions of the answers that are a filter of their own: the
// explorer's Answers page and `kauditui query --exec` / `--history` use
// these, so both find the same requests.

// Exec finds every way into a running container: exec, attach and
// port-forward with any verb (kubectl 1.30+ sends them as get over
// WebSockets, 1.35 also checks create), ephemeral containers (kubectl debug
// patches pods/ephemeralcontainers) and nodes/proxy, which reaches the
// kubelet's own exec and run endpoints, where nothing further is audited.
const Exec = "resource=pods/exec,pods/attach,pods/portforward,pods/ephemeralcontainers,nodes/proxy"

// History finds the writes of one object, its subresources' included
// (scale, ephemeral containers); audit.IsHistoryWrite then drops its status.
// resource is as resource= takes it (deploy, apps/deployments); ns "" for a
// cluster-scoped object.
func History(resource, ns, name string) (string, error) {
	if resource == "" || strings.ContainsAny(resource, "*, \t\"'\\") {
		return "", fmt.Errorf("%q is not a kind: name one like deploy, cm or apps/deployments", resource)
	}
	expr := "verb=create,update,patch,delete resource=" + resource + "," + resource + "/*"
	if ns != "" {
		expr = With(expr, "ns", ns, false)
	}
	return With(expr, "name", name, false), nil
}

// HistoryTarget is the object of `query --history`.
type HistoryTarget struct {
	Resource string // as resource= takes it: deploy, apps/deployments
	NS, Name string
}

// ParseHistoryTarget reads RESOURCE/NAMESPACE/NAME, RESOURCE/NAME (cluster
// scoped) or GROUP/RESOURCE/NAMESPACE/NAME.
func ParseHistoryTarget(s string) (HistoryTarget, error) {
	bad := fmt.Errorf("%q: name one object as RESOURCE/NAMESPACE/NAME, e.g. deploy/shop/web (RESOURCE/NAME when cluster-scoped)", s)
	parts := strings.Split(s, "/")
	for _, p := range parts {
		if p == "" || strings.ContainsAny(p, "*, \t\"'\\") {
			return HistoryTarget{}, bad
		}
	}
	switch len(parts) {
	case 2:
		return HistoryTarget{Resource: parts[0], Name: parts[1]}, nil
	case 3:
		return HistoryTarget{Resource: parts[0], NS: parts[1], Name: parts[2]}, nil
	case 4:
		return HistoryTarget{Resource: parts[0] + "/" + parts[1], NS: parts[2], Name: parts[3]}, nil
	}
	return HistoryTarget{}, bad
}

// Filter finds the object's writes (History: the explorer's History uses
// the same).
func (t HistoryTarget) Filter() string {
	expr, _ := History(t.Resource, t.NS, t.Name) // ParseHistoryTarget refused what it refuses
	return expr
}

func (t HistoryTarget) String() string {
	if t.NS == "" {
		return t.Resource + " " + t.Name
	}
	return t.Resource + " " + t.NS + "/" + t.Name
}
