package main

import (
	"bufio"
	"io"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/detect"
	"github.com/kauditui/kauditui/source"
)

// detectFlags is `query --detect`: was this cluster attacked? The findings
// of the rule pack (package detect) and of the Sigma rules in --rules.
type detectFlags struct {
	On    bool
	Rules string // a folder of Sigma rules
}

func (d *detectFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&d.On, "detect", false, "was this cluster attacked? findings of kauditui's rules (README: Findings), each with its MITRE ATT&CK technique, severity and why; -o json prints one object per finding; -q narrows the requests looked at")
	fs.StringVar(&d.Rules, "rules", "", "with --detect: a folder of Sigma rules (logsource product kubernetes, service audit) to run too")
}

func (d *detectFlags) validate(o *queryOptions) error {
	if d.Rules != "" && !d.On {
		return usageError("query: --rules goes with --detect: add --detect")
	}
	if !d.On {
		return nil
	}
	switch {
	case o.Answers.given() || o.Timeline.On:
		return usageError("query: --detect and the other answers (--exec, --history, --rbac, --coverage, --timeline) are separate questions: ask one")
	case o.Count || o.Top != "":
		return usageError("query: --detect prints its findings; it does not go with --count or --top (drop one)")
	case o.Store.Given():
		return usageError("query: --detect reads log files and pods, not yet --store")
	case o.Follow:
		return usageError("query: --detect answers from what is logged so far; it does not go with --follow")
	case o.Output != "table" && o.Output != "json":
		return usageError("query: --detect prints a table or, with -o json, one JSON object per finding; -o %s is for requests", o.Output)
	}
	return nil
}

// print runs the rules over the matching requests and writes the findings
// (detect.Print); none is exit status 1, as a query that matched nothing.
func (d *detectFlags) print(w *bufio.Writer, errw io.Writer, asJSON bool, set *source.Set, matched []*audit.Request) error {
	rules, err := detect.WithSigma(d.Rules)
	if err != nil {
		return usageError("query: %s", sanitize(err.Error()))
	}
	res := detect.Run(rules, matched, set.Raw)
	if err := detect.Print(w, errw, asJSON, res); err != nil {
		return err
	}
	return noneMatched(len(res.Findings))
}
