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

// ParseHistoryTarget reads the object in any of kubectl's spellings
// (ParseObject, which the explorer's prompts read too); history needs a
// kind and one whole name.
func ParseHistoryTarget(s string) (HistoryTarget, error) {
	o, err := ParseObject(s)
	if err != nil {
		return HistoryTarget{}, err
	}
	if o.Resource == "" {
		return HistoryTarget{}, fmt.Errorf("%q: history needs the kind too, e.g. deploy %s -n NAMESPACE", s, o.Name)
	}
	if strings.Contains(o.Name, "*") {
		return HistoryTarget{}, fmt.Errorf("%q: history follows one object; give its whole name (a * matches many)", s)
	}
	return HistoryTarget{Resource: o.Resource, NS: o.Namespace, Name: o.Name}, nil
}

// Filter finds the object's writes (History: the explorer's History uses
// the same).
func (t HistoryTarget) Filter() string {
	expr, _ := History(t.Resource, t.NS, t.Name) // ParseHistoryTarget refused what it refuses
	return expr
}

func (t HistoryTarget) String() string {
	return Object{Resource: t.Resource, Namespace: t.NS, Name: t.Name}.String()
}
