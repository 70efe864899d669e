package detect

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kauditui/kauditui/render"
)

// The findings as `query --detect` prints them (the explorer draws its own
// Findings screen): a warning for each rule that could not look into the
// requests' bodies, then the table or, with -o json, one object a finding.

// Print writes res: its unchecked rules as warnings on errw, its findings
// as a table (Table) or, asJSON, one JSON object a line (WriteJSON) on w.
func Print(w, errw io.Writer, asJSON bool, res Result) error {
	for _, u := range res.Unchecked {
		fmt.Fprintf(errw, "kauditui: warning: %s: %d %s logged without a body (level Metadata, or a JSON patch): the rule could not look into them (log them at level Request)\n",
			render.Sanitize(u.Rule.ID), u.Count, u.Rule.BodyWhat())
	}
	if asJSON {
		return WriteJSON(w, res.Findings)
	}
	for _, l := range Table(res.Findings) {
		io.WriteString(w, l+"\n") // a failed write is the output's to report, as for every table
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

// WriteJSON writes findings as `query --detect -o json` prints them: one
// JSON object a line.
func WriteJSON(w io.Writer, findings []Finding) error {
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

// Table is `query --detect`'s text: one finding per line (time, severity, rule, technique,
// user, auditID, what), then each rule that fired with why it matters.
func Table(findings []Finding) []string {
	if len(findings) == 0 {
		return []string{"no findings"}
	}
	rows := [][]string{{"TIME", "SEVERITY", "RULE", "TECHNIQUE", "USER", "AUDITID", "WHAT"}}
	var fired []*Rule
	for _, f := range findings {
		ids := f.AuditIDs()
		id := ids[0]
		if len(ids) > 1 {
			id = fmt.Sprintf("%s (+%d)", ids[0], len(ids)-1)
		}
		rows = append(rows, []string{render.FormatTime(f.Time(), render.TimeFull), render.Sanitize(f.Rule.Severity), render.Sanitize(f.Rule.ID),
			render.Sanitize(f.Rule.Technique), render.Sanitize(f.User()), render.Sanitize(id), render.Sanitize(f.Detail)})
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
		out = append(out, render.Sanitize(fmt.Sprintf("%s (%s, %s): %s", r.ID, tech, r.Severity, r.Why)))
	}
	return out
}
