package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/detect"
	"github.com/kauditui/kauditui/render"
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
	case o.Store.given():
		return usageError("query: --detect reads log files and pods, not yet --store")
	case o.Follow:
		return usageError("query: --detect answers from what is logged so far; it does not go with --follow")
	case o.Output != "table" && o.Output != "json":
		return usageError("query: --detect prints a table or, with -o json, one JSON object per finding; -o %s is for requests", o.Output)
	}
	return nil
}

// rules is the rule pack with the --rules folder's Sigma rules.
func (d *detectFlags) rules() ([]*detect.Rule, error) {
	rules := detect.Builtin()
	if d.Rules != "" {
		sigma, err := detect.LoadSigmaDir(d.Rules)
		if err != nil {
			return nil, usageError("query: %s", sanitize(err.Error()))
		}
		rules = append(rules, sigma...)
	}
	return rules, nil
}

// print runs the rules over the matching requests and writes the findings;
// none is exit status 1, as a query that matched nothing.
func (d *detectFlags) print(w *bufio.Writer, errw io.Writer, asJSON bool, set *source.Set, matched []*audit.Request) error {
	rules, err := d.rules()
	if err != nil {
		return err
	}
	res := detect.Run(rules, matched, set.Raw)
	for _, u := range res.Unchecked {
		fmt.Fprintf(errw, "kauditui: warning: %s: %d %s logged without a body (level Metadata, or a JSON patch): the rule could not look into them (log them at level Request)\n",
			sanitize(u.Rule.ID), u.Count, u.Rule.BodyWhat())
	}
	if asJSON {
		err = writeFindingsJSON(w, res.Findings)
	} else {
		writeLines(w, findingsTable(res.Findings))
	}
	if err != nil {
		return err
	}
	if len(res.Findings) == 0 {
		return &exitError{code: exitNoMatch}
	}
	return nil
}

// findingJSON is one finding as `-o json` prints it.
type findingJSON struct {
	Time          string   `json:"time"`
	Rule          string   `json:"rule"`
	Title         string   `json:"title"`
	Severity      string   `json:"severity"`
	Technique     string   `json:"technique"`
	TechniqueName string   `json:"techniqueName,omitempty"`
	Why           string   `json:"why"`
	User          string   `json:"user"`
	SourceIP      string   `json:"sourceIP,omitempty"`
	Detail        string   `json:"detail,omitempty"`
	AuditID       string   `json:"auditID,omitempty"`
	AuditIDs      []string `json:"auditIDs,omitempty"`
	Source        string   `json:"source"`
}

func writeFindingsJSON(w *bufio.Writer, findings []detect.Finding) error {
	enc := json.NewEncoder(w)
	for _, f := range findings {
		j := findingJSON{
			Time: render.FormatTime(f.Time(), render.TimeExact), Rule: f.Rule.ID, Title: f.Rule.Title,
			Severity: f.Rule.Severity, Technique: f.Rule.Technique, TechniqueName: f.Rule.TechniqueName,
			Why: f.Rule.Why, User: f.User(), SourceIP: f.Requests[0].SourceIP(), Detail: f.Detail, Source: f.Rule.Source,
		}
		if ids := f.AuditIDs(); len(ids) == 1 {
			j.AuditID = ids[0]
		} else {
			j.AuditIDs = ids
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

// findingsTable is one finding per line (time, severity, rule, technique,
// user, auditID, what), then each rule that fired with why it matters.
func findingsTable(findings []detect.Finding) []string {
	if len(findings) == 0 {
		return []string{"no findings"}
	}
	rows := [][]string{{"TIME", "SEVERITY", "RULE", "TECHNIQUE", "USER", "AUDITID", "WHAT"}}
	var fired []*detect.Rule
	for _, f := range findings {
		ids := f.AuditIDs()
		id := ids[0]
		if len(ids) > 1 {
			id = fmt.Sprintf("%s (+%d)", ids[0], len(ids)-1)
		}
		rows = append(rows, []string{render.FormatTime(f.Time(), render.TimeFull), sanitize(f.Rule.Severity), sanitize(f.Rule.ID),
			sanitize(f.Rule.Technique), sanitize(f.User()), sanitize(id), sanitize(f.Detail)})
		if !slices.Contains(fired, f.Rule) {
			fired = append(fired, f.Rule)
		}
	}
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r[:len(r)-1] {
			widths[i] = max(widths[i], min(len([]rune(c)), 48))
		}
	}
	var out []string
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
				break
			}
			if n := len([]rune(c)); n > widths[i] {
				c = string([]rune(c)[:widths[i]-1]) + "…"
			}
			b.WriteString(c + strings.Repeat(" ", widths[i]-len([]rune(c))+2))
		}
		out = append(out, b.String())
	}
	out = append(out, "")
	for _, r := range fired {
		tech := r.Technique
		if r.TechniqueName != "" {
			tech += " " + r.TechniqueName
		}
		if tech == "" {
			tech = "no technique"
		}
		out = append(out, sanitize(fmt.Sprintf("%s (%s, %s): %s", r.ID, tech, r.Severity, r.Why)))
	}
	return out
}
