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
