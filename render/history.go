package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
)

// historyValueMax bounds a value in a diff line: an image or a label fits,
// a whole embedded document does not need to.
const historyValueMax = 160

// HistoryText is an object's history as lines of text, sanitised: a
// summary, then each write (when, who with which credential, the verb, the
// code), its patch, what changed field by field or why the log cannot say,
// and after a delete the last known state. The explorer's History screen
// and `kauditui query --history` both print it.
func HistoryText(object string, h audit.History) []string {
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	failed := 0
	for _, c := range h.Changes {
		if c.Req.Code < 200 || c.Req.Code >= 300 {
			failed++
		}
	}
	head := fmt.Sprintf("History of %s: %d writes", Sanitize(object), len(h.Changes))
	if len(h.Changes) == 1 {
		head = "History of " + Sanitize(object) + ": 1 write"
	}
	if failed > 0 {
		head += fmt.Sprintf(" (%d failed)", failed)
	}
	if d := h.Deleted; d != nil {
		head += "; deleted " + historyTime(d.First()) + " by " + historyWho(d)
	}
	out = append(out, head)
	if len(h.Changes) > 0 && h.Changes[0].Req.Verb != "create" {
		out = append(out, "(its create is not in the loaded logs: older than them, or logged without a name)")
	}
	ruleShown := false
	for _, c := range h.Changes {
		r := c.Req
		out = append(out, "")
		code := "-"
		if r.Code != 0 {
			code = strconv.Itoa(r.Code)
		}
		add("%s  %s %s  by %s  %s", historyTime(r.First()), Sanitize(r.Verb), Sanitize(r.ResourcePath()), historyWho(r), code)
		if c.Admission.Admission() {
			add("    refused by %s", Sanitize(c.Admission.Who()))
		}
		for _, l := range AdmissionChanges(c.Admission) {
			out = append(out, "    admission: "+l)
		}
		if c.Patch != "" {
			add("    patch: %s", TruncateCells(Sanitize(c.Patch), 4*historyValueMax))
		}
		for _, f := range c.Diff {
			switch {
			case f.Old == "":
				add("    + %s: %s", Sanitize(f.Path), historyValue(f.New))
			case f.New == "":
				add("    - %s: %s", Sanitize(f.Path), historyValue(f.Old))
			default:
				add("    ~ %s: %s → %s", Sanitize(f.Path), historyValue(f.Old), historyValue(f.New))
			}
		}
		switch {
		case c.Diff != nil && len(c.Diff) == 0:
			out = append(out, "    (no change to spec or metadata)")
		case c.NoDiff == "deleted":
			out = append(out, "    deleted")
		case c.NoDiff != "":
			out = append(out, "    "+c.NoDiff)
			if strings.HasPrefix(c.NoDiff, "level Metadata") && !ruleShown {
				ruleShown = true
				out = append(out, "    a policy rule that logs the bodies (before the rule that matched this request):")
				for _, l := range strings.Split(strings.TrimRight(audit.PolicyRule(r), "\n"), "\n") {
					out = append(out, "      "+Sanitize(l))
				}
				if r.Resource == "secrets" {
					out = append(out, "      (for secrets it logs their data: think twice)")
				}
			}
		}
	}
	if h.Deleted != nil {
		out = append(out, "")
		if h.LastState == "" {
			out = append(out, "Last known state before the delete: not logged (no write of it logged a body)")
		} else {
			out = append(out, "Last known state before the delete (without managedFields, resourceVersion, generation, status):")
			for _, l := range strings.Split(h.LastState, "\n") {
				out = append(out, "    "+Sanitize(l))
			}
		}
	}
	return out
}

func historyTime(t time.Time) string { return FormatTime(t, TimeMillis) }

// historyWho is the actor and, when the log names it, the credential.
func historyWho(r *audit.Request) string {
	s := Sanitize(r.Actor())
	if c := r.Credential(); c != "" {
		s += " [" + Sanitize(c) + "]"
	}
	return s
}

func historyValue(v string) string {
	return TruncateCells(Sanitize(v), historyValueMax)
}

// TruncateCells cuts s to at most w terminal cells, ending in "…" when cut
// (a line of several lines: its widest line).
func TruncateCells(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if textWidth(s) <= w {
		return s
	}
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := textWidth(string(r))
		if used+rw > w-1 {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	return b.String() + "…"
}

// textWidth is the width of s in terminal cells: its widest line's (as
// lipgloss.Width counts it).
func textWidth(s string) (width int) {
	for l := range strings.SplitSeq(s, "\n") {
		width = max(width, ansi.StringWidth(l))
	}
	return width
}
