package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render/policytext"
	"github.com/kauditui/kauditui/setup"
)

// adviseFlags is `query --advise-policy`: the audit policy that fits this
// cluster. The volume per user, verb and resource, then the policy in force
// (--policy FILE, or on a master the one its manifest names) with rules put
// first that drop the noisiest reads, dry-run over the log
// (policytext.Propose); -o yaml prints the policy alone, for a file that
// `kauditui setup --policy FILE` applies.
type adviseFlags struct {
	On bool
}

// volumeRows is how many rows of the volume table are printed.
const volumeRows = 20

func (a *adviseFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&a.On, "advise-policy", false, "the audit policy that fits this cluster: the log's volume per user, verb and resource, then the policy in force (--policy FILE, or the master's) with rules that drop the noisiest reads of the control plane and service accounts, dry-run over the log; -o yaml prints the policy alone (for kauditui setup --policy FILE)")
}

func (a *adviseFlags) validate(o *queryOptions) error {
	if !a.On {
		return nil
	}
	switch {
	case o.Answers.given() || o.Timeline.On || o.Detect.On:
		return usageError("query: --advise-policy and the other answers (--exec, --history, --rbac, --coverage, --timeline, --detect) are separate questions: ask one")
	case o.Count || o.Top != "":
		return usageError("query: --advise-policy prints its own answer; it does not go with --count or --top (drop one)")
	case o.Filter != "":
		return usageError("query: --advise-policy weighs the whole log, and its dry run is over all of it: drop -q")
	case o.Store.Given():
		return usageError("query: --advise-policy reads log files and pods, not yet --store")
	case o.Follow:
		return usageError("query: --advise-policy answers from what is logged so far; it does not go with --follow")
	case o.Output != "table" && o.Output != "yaml":
		return usageError("query: --advise-policy prints the volume and the policy, or with -o yaml the policy alone; -o %s is for requests", o.Output)
	}
	return nil
}

// print writes the volume table (unless yamlOnly) and the proposed policy.
func (a *adviseFlags) print(w *bufio.Writer, errw io.Writer, pf *policyFlags, reqs []*audit.Request, yamlOnly bool) error {
	if !yamlOnly {
		writeLines(w, policytext.VolumeTable(reqs, volumeRows))
		w.WriteString("\n")
	}
	base, err := pf.report()
	switch {
	case errors.Is(err, setup.ErrNotMaster):
		return usageError("query: --advise-policy starts from the policy the log was written under: pass --policy FILE (the one in force), or run it on the control-plane node")
	case err != nil:
		return usageError("query: --advise-policy: %s", sanitize(err.Error()))
	}
	// Names in the rules come from the log: escaped, as every log field on
	// the way out (policytext.WriteProposal).
	escaped, err := policytext.WriteProposal(w, base, reqs, yamlOnly)
	switch {
	case errors.Is(err, policytext.ErrNothingToPropose):
		if yamlOnly {
			return &exitError{code: exitNoMatch, msg: "query: --advise-policy: " + err.Error()}
		}
		return &exitError{code: exitNoMatch}
	case err != nil:
		return &exitError{code: exitFailed, msg: "query: --advise-policy: " + sanitize(err.Error())}
	}
	if escaped {
		fmt.Fprintln(errw, "kauditui: warning: --advise-policy: the policy holds characters a terminal would act on (from the log or the policy file); they are printed escaped: read the rules before applying them")
	}
	return nil
}
