package render

import (
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
)

// ExecText lists who got into which container and how, in the order given
// (oldest first): a header, then a row a request, aligned, sanitised,
// without tabs. No requests: no lines. `kauditui query --exec` prints it.
func ExecText(reqs []*audit.Request, raw func(audit.Ref) ([]byte, error)) []string {
	if len(reqs) == 0 {
		return nil
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tUSER\tCRED\tVERB\tRESOURCE\tNAMESPACE/NAME\tCODE\tCOMMAND")
	for _, r := range reqs {
		obj := r.Name
		if r.Namespace != "" {
			obj = r.Namespace + "/" + r.Name
		}
		cred := r.Credential()
		if cred == "" {
			cred = "-"
		}
		cmd := ExecDetail(r, raw)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", FormatTime(r.First(), TimeFull),
			tabless(r.Actor()), tabless(cred), tabless(r.Verb), tabless(r.ResourcePath()), tabless(obj), r.Code, tabless(cmd))
	}
	tw.Flush()
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// tabless sanitises log text for the terminal and keeps tabs out of the
// tabwriter's columns.
func tabless(s string) string {
	return strings.ReplaceAll(Sanitize(s), "\t", " ")
}

// ExecDetail is what an exec answer shows of a request: the command from the
// URI, or for an ephemeral container its name, image and command from the
// logged patch (RequestResponse or Request level), read with raw. The
// result comes from the log: Sanitize it before drawing.
func ExecDetail(r *audit.Request, raw func(audit.Ref) ([]byte, error)) string {
	switch r.Subresource {
	case "proxy":
		// the kubelet path asked for, and a command if it is an exec
		path, _, _ := strings.Cut(r.RequestURI(), "?")
		if _, after, ok := strings.Cut(path, "/proxy"); ok {
			path = after
		}
		return strings.TrimSpace(path + " " + execCommand(r.RequestURI()))
	case "portforward", "attach":
		// what was reached: the ports, the container
		_, query, _ := strings.Cut(r.RequestURI(), "?")
		v, _ := url.ParseQuery(query)
		if p := v["ports"]; len(p) > 0 {
			return "ports " + strings.Join(p, ",")
		}
		if c := v.Get("container"); c != "" {
			return "container " + c
		}
		return ""
	}
	if c := execCommand(r.RequestURI()); c != "" || r.Subresource != "ephemeralcontainers" || raw == nil {
		return c
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		b, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		ecs := gjson.GetBytes(b, "requestObject.spec.ephemeralContainers").Array()
		if len(ecs) == 0 {
			continue
		}
		ec := ecs[len(ecs)-1] // kubectl debug appends its container
		d := "debug container " + ec.Get("name").String() + " (" + ec.Get("image").String() + ")"
		var cmd []string
		for _, a := range append(ec.Get("command").Array(), ec.Get("args").Array()...) {
			cmd = append(cmd, quoteArg(a.String()))
		}
		if len(cmd) > 0 {
			d += ": " + strings.Join(cmd, " ")
		}
		return d
	}
	return ""
}

func quoteArg(p string) string {
	if p == "" || strings.ContainsAny(p, " \t\"'") {
		return fmt.Sprintf("%q", p)
	}
	return p
}

// execCommand is the command of an exec or attach request, from the
// requestURI's command= query parameters ("sh -c date"), or "" when there is
// none. The result comes from the log: Sanitize it before drawing.
func execCommand(requestURI string) string {
	_, query, ok := strings.Cut(requestURI, "?")
	if !ok {
		return ""
	}
	values, err := url.ParseQuery(query)
	if err != nil && len(values["command"]) == 0 {
		return ""
	}
	parts := values["command"]
	for i, p := range parts {
		parts[i] = quoteArg(p)
	}
	return strings.Join(parts, " ")
}
