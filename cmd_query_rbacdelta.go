package main

import (
	"bufio"
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/rbacdelta"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
)

// missingFlags is `query --rbac FILTER --missing`: RBAC as a delta. The
// cluster's Roles and bindings are read with the client of --pods
// (--kubeconfig, --context), and only the permissions they do not grant
// yet are proposed (rbacdelta.Objects.Text).
type missingFlags struct {
	On bool
}

func (m *missingFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&m.On, "missing", false, "with --rbac: only what the user still lacks, compared with the Roles, ClusterRoles and bindings of the cluster (--kubeconfig, --context; needs list on them)")
}

func (m *missingFlags) validate(o *queryOptions) error {
	if m.On && o.Answers.RBAC == "" {
		return usageError("query: --missing goes with --rbac FILTER (what a user still lacks): add --rbac 'user=NAME'")
	}
	return nil
}

// print writes the RBAC answer for matched, less what the cluster grants.
func (m *missingFlags) print(ctx context.Context, w *bufio.Writer, o *queryOptions, set *source.Set, matched []*audit.Request) error {
	cs, host, err := setup.ClientConfig{Kubeconfig: o.Pods.Kubeconfig, Context: o.Pods.Context, UserAgent: "kauditui/" + version, Getenv: o.IO.Getenv}.Client()
	if err != nil {
		return usageError("query: --missing: %s", sanitize(err.Error()))
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	objs, err := rbacdelta.Read(ctx, cs)
	if err != nil {
		return &exitError{code: exitFailed, msg: "query: --missing: reading the RBAC of " + sanitize(host) + ": " + sanitize(setup.FirstError(err)) + " (the kubeconfig's user needs list on roles, clusterroles, rolebindings and clusterrolebindings)"}
	}
	lines, err := objs.Text(matched, set.Raw, host)
	if err != nil {
		return &exitError{code: 1, msg: "query: --rbac: " + err.Error()}
	}
	writeLines(w, lines)
	return nil
}
