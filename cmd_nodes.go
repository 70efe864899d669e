package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/source"
)

// nodeFlags are the flags of the commands that can read other masters'
// audit log files through the API server's node proxy (source.NodeOptions).
// They share --kubeconfig and --context with podFlags.
type nodeFlags struct {
	All   bool
	Names []string
	Path  string
}

func (n *nodeFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&n.All, "nodes", false, "read the audit log of every control-plane node (label "+source.ControlPlaneLabel+") through the API server's node proxy; needs get on nodes/proxy")
	fs.StringArrayVar(&n.Names, "node", nil, "read the audit log of node `NAME` through the API server's node proxy (repeatable)")
	fs.StringVar(&n.Path, "node-log-path", source.DefaultNodeLogPath, "with --nodes or --node: the audit log's path on the nodes (under /var/log, which the kubelet serves)")
}

func (n *nodeFlags) given() bool { return n.All || len(n.Names) > 0 }

// options is the source.NodeOptions for these flags (nil without --nodes
// or --node), with a client built as --pods builds it.
func (n *nodeFlags) options(pf *podFlags, getenv func(string) string) (*source.NodeOptions, error) {
	if n.Path == "" { // options made in code, not by the flag set
		n.Path = source.DefaultNodeLogPath
	}
	if !n.given() {
		if n.Path != source.DefaultNodeLogPath {
			return nil, fmt.Errorf("--node-log-path goes with --nodes or --node")
		}
		return nil, nil
	}
	if n.All && len(n.Names) > 0 {
		return nil, fmt.Errorf("--nodes reads every control-plane node and --node names nodes: give one or the other")
	}
	if _, err := source.NodeLogRel(n.Path); err != nil {
		return nil, fmt.Errorf("--node-log-path %v", err)
	}
	cs, _, err := pf.client(getenv)
	if err != nil {
		return nil, fmt.Errorf("%s", strings.Replace(err.Error(), "for --pods", "for --nodes", 1))
	}
	return &source.NodeOptions{Client: cs, Nodes: n.Names, Path: n.Path}, nil
}

// planSources is the package's planSources, except that --nodes or --node
// alone reads the nodes only: not the local audit log a master's manifest
// names (that master is a node too).
func (n *nodeFlags) planSources(sources []string, pf *podFlags, manifest, podLogs string, follow bool,
	getenv func(string) string, warn func(string), state func(source.PodState)) (sourcePlan, error) {
	if n.given() && len(sources) == 0 && !pf.Pods {
		return sourcePlan{}, nil
	}
	return planSources(sources, pf, manifest, podLogs, follow, getenv, warn, state)
}

// describe names what the flags read, for the explorer's list of sources.
func (n *nodeFlags) describe() []string {
	switch {
	case n.All:
		return []string{"audit logs of the control-plane nodes"}
	case len(n.Names) > 0:
		return []string{"audit logs of " + strings.Join(n.Names, ", ")}
	}
	return nil
}
