package main

import (
	"bufio"
	"cmp"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/render/policytext"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
)

// What the log cannot see (`query --coverage`): audit.CoverageOf, drawn by
// render.CoverageText (as in the explorer's Answers), with the truncated
// events counted while the lines were read; then what the audit policy does
// not log (--policy, or on a master the policy its apiserver manifest
// names), drawn by policytext.Text (policytext.Coverage).

// policyFlags are where --coverage finds the audit policy: --policy FILE,
// else the apiserver manifest of this node, if it is a master.
type policyFlags struct {
	File string // --policy
	Root string // the node's filesystem root holding the manifest and its hostPath volumes; "" = "/" (tests set a folder)
	// read reads the manifest and the policy (nil: setup's bounded read);
	// tests stand in for files only root may read.
	read func(string) ([]byte, error)
}

func (p *policyFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&p.File, "policy", "", "with --coverage or --advise-policy: the audit policy `FILE` the log was written under (default: the one "+setup.DefaultManifest+" names, on a master)")
}

// report reads the policy in force (--policy, else the manifest's).
func (p *policyFlags) report() (*setup.PolicyReport, error) {
	return setup.FindPolicy(p.source())
}

func (p *policyFlags) source() setup.PolicySource {
	return setup.PolicySource{Root: p.Root, File: p.File, ReadFile: p.read}
}

// text is what the policy does not log, with how many of reqs it would
// drop (policytext.OfNode).
func (p *policyFlags) text(reqs []*audit.Request) []string {
	return policytext.OfNode(p.source(), reqs)
}

func (a *answerFlags) printCoverage(w *bufio.Writer, set *source.Set, snap audit.Snapshot, reqs []*audit.Request) {
	name := func(i int32) string { return cmp.Or(set.InputName(i), "?") }
	facts := render.CoverageFacts{Gap: a.Gap, Truncated: a.truncated.N(), SharedIDs: snap.SharedIDs, Repeated: snap.Duplicates}
	writeLines(w, policytext.Coverage(reqs, facts, name, a.Policy.source(), a.onStore))
}
