package main

import (
	"bufio"
	"bytes"
	"errors"
	"sync/atomic"

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
// names), drawn by policytext.Text.

// truncatedMark is the annotation the apiserver sets on an event it cut.
var truncatedMark = []byte(`"audit.k8s.io/truncated":"true"`)

// truncatedCounter counts event lines that carry truncatedMark, as a
// source.Options.Keep that keeps every line.
type truncatedCounter struct{ n atomic.Int64 }

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

// report finds and describes the policy; on a machine that is not a
// master, without --policy, the error wraps setup.ErrNotMaster.
func (p *policyFlags) report() (*setup.PolicyReport, error) {
	return setup.FindPolicy(setup.PolicySource{Root: p.Root, File: p.File, ReadFile: p.read})
}

// notMasterHint is the coverage report's last line on a machine that is not
// a control-plane node, when no --policy was given.
const notMasterHint = "(Not a control-plane node: --policy FILE adds what the audit policy does not log.)"

// text is what the policy does not log, with how many of reqs it would
// drop; on a machine that is not a master, the hint that --policy adds it.
// The explorer's coverage report ends with it too.
func (p *policyFlags) text(reqs []*audit.Request) []string {
	rep, err := p.report()
	var drops *policytext.Drops
	if rep != nil {
		d := policytext.CountDrops(rep, reqs)
		drops = &d
	}
	if pl := policytext.Text(rep, err, drops); len(pl) > 0 {
		return pl
	}
	if errors.Is(err, setup.ErrNotMaster) {
		return []string{notMasterHint}
	}
	return nil
}

// storePolicyHint ends the coverage report of a store without --policy.
const storePolicyHint = "(--policy FILE adds what the audit policy of the store's cluster does not log.)"

func (c *truncatedCounter) keep(line []byte) bool {
	if bytes.Contains(line, truncatedMark) {
		c.n.Add(1)
	}
	return true
}

func (a *answerFlags) printCoverage(w *bufio.Writer, set *source.Set, snap audit.Snapshot, reqs []*audit.Request) {
	inputs := set.Inputs()
	name := func(i int32) string {
		if a.storeName != "" {
			return a.storeName // the store's answer, read as one input
		}
		if i >= 0 && int(i) < len(inputs) {
			return inputs[i].Name
		}
		return "?"
	}
	facts := render.CoverageFacts{Gap: a.Gap, Truncated: a.truncated.n.Load(), SharedIDs: snap.SharedIDs, Repeated: snap.Duplicates}
	lines := render.CoverageText(audit.CoverageOf(reqs, a.Gap), facts, name)
	if a.storeName != "" && a.Policy.File == "" {
		// this machine's apiserver manifest says nothing of the store's clusters
		lines = append(lines, "", storePolicyHint)
	} else {
		lines = append(append(lines, ""), a.Policy.text(reqs)...)
	}
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
}
