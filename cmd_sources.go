package main

import (
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
	pods              *source.PodFlags
	nodes             *source.NodeFlags
	store             *source.StoreFlags
	manifest, podLogs string
}

// spec is the source.Spec of the flags: what to read, for the filter expr
// and the output (-o). With --explain, it prints the store's query instead
// (explained).
func (r reading) spec(expr string, now time.Time, output string) (spec source.Spec, explained bool, err error) {
	if err := r.store.Check(r.sources, r.pods, r.nodes, output); err != nil {
		return spec, false, err
	}
	if err := r.nodes.Check(); err != nil {
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
	if s.Given() {
		spec.Store = s.Spec(expr, now, r.nodes.Names, getenv)
	} else if r.nodes.Given() {
		spec.Nodes = &source.NodeOptions{Nodes: r.nodes.Names, Path: r.nodes.Path}
	}
	if s.Explain {
		lines, err := spec.Store.Explain()
		writeLines(r.ios.Out, lines)
		return spec, true, err
	}
	return spec, false, nil
}
