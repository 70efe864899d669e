package main

import (
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
)

// The flags that say what to read, shared by the explorer and query, and
// the one place they become a source.Spec (reading.spec). What the Spec
// then reads, and how, is package source's (spec.go, kind.go).

const defaultManifest = setup.DefaultManifest

// podFlags: the apiserver pods' logs through the Kubernetes API.
type podFlags struct {
	Pods       bool
	Kubeconfig string
	Context    string
	Tail       int64
}

func (p *podFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.Pods, "pods", false, "read the kube-apiserver pods' logs through the Kubernetes API (every master; the default in stdout mode)")
	fs.StringVar(&p.Kubeconfig, "kubeconfig", "", "kubeconfig for --pods, --nodes and --missing (default: $KUBECONFIG, ~/.kube/config, or /etc/kubernetes/admin.conf on a master)")
	fs.StringVar(&p.Context, "context", "", "kubeconfig context for --pods, --nodes and --missing")
	fs.Int64Var(&p.Tail, "tail", -1, "with --pods: lines of history per pod (-1: all the kubelet keeps)")
}

// nodeFlags: other masters' audit log files through the API server's node
// proxy. They share --kubeconfig and --context with podFlags; with --store,
// --node names the node stream field.
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

// check refuses flags that do not go together.
func (n *nodeFlags) check() error {
	if n.Path == "" { // options made in code, not by the flag set
		n.Path = source.DefaultNodeLogPath
	}
	if !n.given() {
		if n.Path != source.DefaultNodeLogPath {
			return fmt.Errorf("--node-log-path goes with --nodes or --node")
		}
		return nil
	}
	if n.All && len(n.Names) > 0 {
		return fmt.Errorf("--nodes reads every control-plane node and --node names nodes: give one or the other")
	}
	if _, err := source.NodeLogRel(n.Path); err != nil {
		return fmt.Errorf("--node-log-path %v", err)
	}
	return nil
}

// storeFlags: a VictoriaLogs store instead of files (README: Central store).
type storeFlags struct {
	URL     string
	Account string
	Project string
	Cluster []string
	Explain bool
	CAFile  string
	Timeout time.Duration
}

func (s *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.URL, "store", "", "read the audit events kept in the VictoriaLogs store at `URL` (http://[user:password@]host:9428; a front node in cluster mode) instead of files")
	fs.StringVar(&s.Account, "account", "", "with --store: the tenant's AccountID")
	fs.StringVar(&s.Project, "project", "", "with --store: the tenant's ProjectID")
	fs.StringArrayVar(&s.Cluster, "cluster", nil, "with --store: only events of cluster `NAME` (repeatable; with --node NAME: only that node's)")
	fs.StringVar(&s.CAFile, "store-ca", "", "with --store https://...: also trust the certificate authorities in this PEM `FILE` (the user's password is read from KAUDITUI_STORE_PASSWORD, a bearer token from KAUDITUI_STORE_TOKEN)")
	fs.DurationVar(&s.Timeout, "store-timeout", source.DefaultStoreTimeout, "with --store: give up on an answer (each page of a big one) the store has not finished within `DURATION`")
	fs.BoolVar(&s.Explain, "explain", false, "with --store: print the LogsQL query the filter becomes, and the terms kauditui checks itself, without running it")
}

func (s *storeFlags) given() bool { return s.URL != "" }

// check refuses flags that read something else than the store.
func (s *storeFlags) check(sources []string, pf *podFlags, nf *nodeFlags, output string) error {
	if !s.given() {
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

// credFlags name client certificates after the kubeconfigs that hold them
// (setup.Credentials).
type credFlags setup.Credentials

func (c *credFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&c.Paths, "kubeconfig-dir", nil, "name client certificates (cred=) after the kubeconfig `PATH` (a file or a folder of them) holding them (repeatable; "+setup.DefaultKubeconfigDir+"/*.conf is always read when readable)")
}

// apply reads the kubeconfigs and sets the names of their certificates.
// Every command that draws a credential (the explorer, query) calls it
// first: no name is set behind its back (no init).
func (c *credFlags) apply(warn func(string)) {
	audit.SetCredentialNames((*setup.Credentials)(c).Names(warn))
}

// reading is what the explorer and query share of what to read.
type reading struct {
	ios               *IO
	sources           []string
	follow            bool
	pods              *podFlags
	nodes             *nodeFlags
	store             *storeFlags
	manifest, podLogs string
}

// spec is the source.Spec of the flags: what to read, for the filter expr
// and the output (-o). With --explain, it prints the store's query instead
// (explained).
func (r reading) spec(expr string, now time.Time, output string) (spec source.Spec, explained bool, err error) {
	if err := r.store.check(r.sources, r.pods, r.nodes, output); err != nil {
		return spec, false, err
	}
	if err := r.nodes.check(); err != nil {
		return spec, false, err
	}
	getenv := r.ios.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	spec = source.Spec{
		Paths:  r.sources,
		Stdin:  r.ios.In,
		Follow: r.follow,
		Pods:   r.pods.Pods,
		Client: setup.ClientConfig{Kubeconfig: r.pods.Kubeconfig, Context: r.pods.Context, UserAgent: "kauditui/" + version, Getenv: getenv}.Client,
		Local: &source.Local{
			AuditLog: func() (string, error) { return setup.AuditLogFromManifest(r.manifest) },
			PodLogs:  func() ([]string, error) { return setup.StdoutModeLogs(r.manifest, r.podLogs) },
		},
	}
	if r.pods.Tail >= 0 {
		spec.PodTail = &r.pods.Tail
	}
	s := r.store
	if s.given() {
		spec.Store = &source.StoreSpec{Filter: expr, Now: now, StoreOptions: source.StoreOptions{
			URL: s.URL, AccountID: s.Account, ProjectID: s.Project, Cluster: s.Cluster, Node: r.nodes.Names, // the node stream field
			CAFile: s.CAFile, Password: getenv("KAUDITUI_STORE_PASSWORD"), Token: getenv("KAUDITUI_STORE_TOKEN"), Timeout: s.Timeout}}
	} else if r.nodes.given() {
		spec.Nodes = &source.NodeOptions{Nodes: r.nodes.Names, Path: r.nodes.Path}
	}
	if s.Explain {
		lines, err := spec.Store.Explain()
		writeLines(r.ios.Out, lines)
		return spec, true, err
	}
	return spec, false, nil
}
