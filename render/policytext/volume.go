package policytext

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/setup"
)

// VolumeTable is the log's weight per user, verb and resource, the most
// lines first: the first volumeRows rows, then the rest in one (query
// --advise-policy's table), every name from the log escaped.
func VolumeTable(reqs []*audit.Request, volumeRows int) []string {
	rows, total := VolumeOf(reqs)
	out := []string{fmt.Sprintf("Volume by user, verb and resource: %d requests, %d lines, %s", total.Requests, total.Lines, Bytes(total.Bytes))}
	cells := [][]string{{"LINES", "%LINES", "BYTES", "REQUESTS", "USER", "VERB", "RESOURCE"}}
	add := func(v Volume) {
		cells = append(cells, []string{strconv.Itoa(v.Lines), Percent(v.Lines, total.Lines), Bytes(v.Bytes),
			strconv.Itoa(v.Requests), render.Sanitize(orNone(v.User)), render.Sanitize(orNone(v.Verb)), render.Sanitize(orNone(v.What))})
	}
	for i, v := range rows {
		if i == volumeRows {
			rest := Volume{User: fmt.Sprintf("(%d more)", len(rows)-volumeRows), Verb: "", What: ""}
			for _, v := range rows[volumeRows:] {
				rest.Lines += v.Lines
				rest.Bytes += v.Bytes
				rest.Requests += v.Requests
			}
			add(rest)
			break
		}
		add(v)
	}
	widths := make([]int, len(cells[0]))
	for _, r := range cells {
		for i, c := range r {
			widths[i] = max(widths[i], len([]rune(c)))
		}
	}
	for _, r := range cells {
		line := ""
		for i, c := range r {
			pad := widths[i] - len([]rune(c))
			switch {
			case i < 4: // numbers, right-aligned
				line += fmt.Sprintf("%*s%s  ", pad, "", c)
			case i == len(r)-1:
				line += c
			default:
				line += fmt.Sprintf("%s%*s  ", c, pad, "")
			}
		}
		out = append(out, line)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// EscapedYAML is a proposed policy as it may be printed: the names in its
// rules come from the log (a user is whatever a client certificate's CN
// says), so each is escaped as every log field on the way out; a quoted
// YAML string keeps its value (\u202e is an escape there too). escaped
// says whether anything was.
func EscapedYAML(y []byte) (text string, escaped bool) {
	var b strings.Builder
	for l := range strings.Lines(string(y)) {
		parts := strings.Split(strings.TrimSuffix(l, "\n"), "\t")
		for i := range parts {
			parts[i] = render.Sanitize(parts[i])
		}
		e := strings.Join(parts, "\t")
		escaped = escaped || e+"\n" != l
		b.WriteString(e + "\n")
	}
	return b.String(), escaped
}

// WriteProposal writes the policy proposed from base for reqs (Propose),
// escaped (EscapedYAML); escaped says whether anything was. When there is
// nothing to propose it says so, unless yamlOnly (the policy alone, for a
// file), and returns ErrNothingToPropose.
func WriteProposal(w io.Writer, base *setup.PolicyReport, reqs []*audit.Request, yamlOnly bool) (escaped bool, err error) {
	p, err := Propose(base, reqs)
	if err != nil {
		if errors.Is(err, ErrNothingToPropose) && !yamlOnly {
			fmt.Fprintf(w, "No policy proposed: %s.\n", err)
		}
		return false, err
	}
	text, escaped := EscapedYAML(p.YAML)
	io.WriteString(w, text) // a failed write is the writer's to report (bufio)
	return escaped, nil
}
