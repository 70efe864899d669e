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
			cmd = append(cmd, a.String())
		}
		cmd = RedactArgs(cmd)
		for i, a := range cmd {
			cmd[i] = quoteArg(a)
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

// ExecAuditIDEnv is the variable KEP-6035 (alpha in 1.37) has the
// apiserver put in an exec's environment: the exec's auditID, which the
// node's process-level audit records with what ran inside.
const ExecAuditIDEnv = "KUBERNETES_EXEC_AUDIT_ID"

// execCommand is the command of an exec or attach request, from the
// requestURI's command= query parameters ("sh -c date"), after the
// variables of its env= parameters (KEP-6035: "FOO=bar sh -c date"), or ""
// when there is none. Secrets are redacted (RedactArgs). The result comes
// from the log: Sanitize it before drawing.
func execCommand(requestURI string) string {
	_, query, ok := strings.Cut(requestURI, "?")
	if !ok {
		return ""
	}
	values, err := url.ParseQuery(query)
	if err != nil && len(values["command"]) == 0 && len(values["env"]) == 0 {
		return ""
	}
	var parts []string
	for _, e := range RedactArgs(values["env"]) {
		parts = append(parts, quoteArg(e))
	}
	if len(parts) > 0 && len(values["command"]) == 0 {
		return "env " + strings.Join(parts, " ")
	}
	for _, p := range RedactArgs(values["command"]) {
		parts = append(parts, quoteArg(p))
	}
	return strings.Join(parts, " ")
}

// ExecAuditID is the KUBERNETES_EXEC_AUDIT_ID an exec request carried in
// its env= parameters (KEP-6035), "" when none: what links the exec session
// to what ran inside it (the node's audit records the variable). When it
// differs from the request's own auditID, which the apiserver sets, a
// client chose it: ExecAuditIDNote says so.
func ExecAuditID(r *audit.Request) string {
	_, query, ok := strings.Cut(r.RequestURI(), "?")
	if !ok {
		return ""
	}
	values, _ := url.ParseQuery(query)
	for _, e := range values["env"] {
		if v, ok := strings.CutPrefix(e, ExecAuditIDEnv+"="); ok {
			return v
		}
	}
	return ""
}

// ExecAuditIDNote is Detail's line on an exec's KUBERNETES_EXEC_AUDIT_ID,
// sanitised; "" when it carried none.
func ExecAuditIDNote(r *audit.Request) string {
	id := ExecAuditID(r)
	switch {
	case id == "":
		return ""
	case id == r.AuditID:
		return Sanitize(id) + " (this request's auditID: what ran inside is recorded under it on the node)"
	}
	return Sanitize(id) + " (not this request's auditID " + Sanitize(r.AuditID) + ": chosen by the client, not the apiserver)"
}
