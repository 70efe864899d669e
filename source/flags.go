package source

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// The flags that say which of the cluster's inputs to read, shared by the
// explorer and query (main makes them a Spec with the files and the
// manifest's defaults).

// PodFlags are --pods and its flags: the apiserver pods' logs through the
// Kubernetes API.
type PodFlags struct {
	Pods       bool
	Kubeconfig string
	Context    string
	Tail       int64
}

// Register adds --pods, --kubeconfig, --context and --tail to fs.
func (p *PodFlags) Register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.Pods, "pods", false, "read the kube-apiserver pods' logs through the Kubernetes API (every master; the default in stdout mode)")
	fs.StringVar(&p.Kubeconfig, "kubeconfig", "", "kubeconfig for --pods, --nodes and --missing (default: $KUBECONFIG, ~/.kube/config, or /etc/kubernetes/admin.conf on a master)")
	fs.StringVar(&p.Context, "context", "", "kubeconfig context for --pods, --nodes and --missing")
	fs.Int64Var(&p.Tail, "tail", -1, "with --pods: lines of history per pod (-1: all the kubelet keeps)")
}

// NodeFlags are --nodes, --node and --node-log-path: other masters' audit
// log files through the API server's node proxy. They share --kubeconfig
// and --context with PodFlags; with --store,
// --node names the node stream field.
type NodeFlags struct {
	All   bool
	Names []string
	Path  string
}

// Register adds --nodes, --node and --node-log-path to fs.
func (n *NodeFlags) Register(fs *pflag.FlagSet) {
	fs.BoolVar(&n.All, "nodes", false, "read the audit log of every control-plane node (label "+ControlPlaneLabel+") through the API server's node proxy; needs get on nodes/proxy")
	fs.StringArrayVar(&n.Names, "node", nil, "read the audit log of node `NAME` through the API server's node proxy (repeatable)")
	fs.StringVar(&n.Path, "node-log-path", DefaultNodeLogPath, "with --nodes or --node: the audit log's path on the nodes (under /var/log, which the kubelet serves)")
}

// Given reports whether nodes are to be read.
func (n *NodeFlags) Given() bool { return n.All || len(n.Names) > 0 }

// Check refuses flags that do not go together (a usage error's line).
func (n *NodeFlags) Check() error {
	if n.Path == "" { // options made in code, not by the flag set
		n.Path = DefaultNodeLogPath
	}
	if !n.Given() {
		if n.Path != DefaultNodeLogPath {
			return fmt.Errorf("--node-log-path goes with --nodes or --node")
		}
		return nil
	}
	if n.All && len(n.Names) > 0 {
		return fmt.Errorf("--nodes reads every control-plane node and --node names nodes: give one or the other")
	}
	if _, err := NodeLogRel(n.Path); err != nil {
		return fmt.Errorf("--node-log-path %v", err)
	}
	return nil
}

// StoreFlags are --store and its flags: a VictoriaLogs store instead of
// files (README: Central store).
type StoreFlags struct {
	URL     string
	Account string
	Project string
	Cluster []string
	Explain bool
	CAFile  string
	Timeout time.Duration
}

// Register adds --store and its flags to fs.
func (s *StoreFlags) Register(fs *pflag.FlagSet) {
	fs.StringVar(&s.URL, "store", "", "read the audit events kept in the VictoriaLogs store at `URL` (http://[user:password@]host:9428; a front node in cluster mode) instead of files")
	fs.StringVar(&s.Account, "account", "", "with --store: the tenant's AccountID")
	fs.StringVar(&s.Project, "project", "", "with --store: the tenant's ProjectID")
	fs.StringArrayVar(&s.Cluster, "cluster", nil, "with --store: only events of cluster `NAME` (repeatable; with --node NAME: only that node's)")
	fs.StringVar(&s.CAFile, "store-ca", "", "with --store https://...: also trust the certificate authorities in this PEM `FILE` (the user's password is read from KAUDITUI_STORE_PASSWORD, a bearer token from KAUDITUI_STORE_TOKEN)")
	fs.DurationVar(&s.Timeout, "store-timeout", DefaultStoreTimeout, "with --store: give up on an answer (each page of a big one) the store has not finished within `DURATION`")
	fs.BoolVar(&s.Explain, "explain", false, "with --store: print the LogsQL query the filter becomes, and the terms kauditui checks itself, without running it")
}

// Given reports whether the store is read.
func (s *StoreFlags) Given() bool { return s.URL != "" }

// Check refuses flags that read something else than the store (a usage
// error's line): SOURCE files, pods, nodes, -o output klog.
func (s *StoreFlags) Check(sources []string, pf *PodFlags, nf *NodeFlags, output string) error {
	if !s.Given() {
		if s.Account != "" || s.Project != "" || len(s.Cluster) > 0 || s.Explain || s.CAFile != "" {
			return fmt.Errorf("--account, --project, --cluster, --store-ca and --explain go with --store URL")
		}
		return nil
	}
	switch {
	case len(sources) > 0:
		return fmt.Errorf("--store reads the store, not SOURCE files: give one or the other")
	case pf.Pods || nf.All:
		return fmt.Errorf("--store reads the store; --pods and --nodes read the cluster: give one or the other")
	case output == "klog":
		return fmt.Errorf("-o klog: the store holds audit events only, not the apiserver's own log")
	}
	return nil
}
