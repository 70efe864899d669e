package render

import (
	"encoding/json"

	"github.com/tidwall/gjson"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
)

// A command line put in a requestURI (exec's command= parameters, and
// env= since KEP-6035) is logged at every level, Metadata too
// (kubernetes#97795): `kubectl exec db -- mysql -p hunter2` leaves the
// password in the audit log. Every view redacts what looks like a secret
// there; --show-secrets (query) and a key (the explorer) show them.

// Redacted stands in for a secret a command line carried.
const Redacted = "‹redacted›"

var showSecrets atomic.Bool

// SetShowSecrets says whether the views show the secrets of command lines
// as logged (query --show-secrets, the explorer's key) or redact them
// (the default).
func SetShowSecrets(show bool) { showSecrets.Store(show) }

// ShowSecrets reports whether secrets are shown.
func ShowSecrets() bool { return showSecrets.Load() }

// secretName matches the name of a flag or variable that holds a secret:
// --password, --db-pass, TOKEN, API_KEY, --client-secret, PGPASSWORD, ...
var secretName = regexp.MustCompile(`(?i)(pass(word|wd|phrase)?|pwd|token|secret|api[-_]?key|access[-_]?key|private[-_]?key|credential|auth)$|^(pass(word|wd)?|pwd|token|secret)`)

// secretFlag are the short flags whose next argument is a password (mysql
// -p x, and the like) or a token.
var secretFlag = map[string]bool{"-p": true, "--password": true, "--passwd": true, "--token": true, "--pass": true, "--secret": true}

// bearer matches "bearer X" / "Basic X" anywhere in an argument.
var bearer = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+|:|=)([^\s"',;]+)`)

// userinfo matches the password of a URL's userinfo (scheme://user:pass@).
var userinfo = regexp.MustCompile(`(://[^/\s:@]*:)([^/\s@]+)(@)`)

// RedactArgs is a command line with what looks like a secret replaced by
// Redacted, unless ShowSecrets: the value of NAME=VALUE and --name=VALUE
// when the name says secret (password, token, secret, api key, ...), the
// argument after -p, --password or --token, the word after "bearer" or
// "basic", a password in a URL. It returns a new slice.
func RedactArgs(args []string) []string {
	out := append([]string(nil), args...)
	if ShowSecrets() {
		return out
	}
	for i := 0; i < len(out); i++ {
		a := out[i]
		if secretFlag[a] && i+1 < len(out) {
			out[i+1] = Redacted
			i++
			continue
		}
		out[i] = redactArg(a)
	}
	return out
}

func redactArg(a string) string {
	if name, val, ok := strings.Cut(a, "="); ok && val != "" {
		n := strings.TrimLeft(name, "-")
		if n != "" && !strings.ContainsAny(n, " /") && secretName.MatchString(n) {
			return name + "=" + Redacted
		}
	}
	a = bearer.ReplaceAllString(a, "${1}${2}"+Redacted)
	return userinfo.ReplaceAllString(a, "${1}"+Redacted+"${3}")
}

// RedactURI is a requestURI with the secrets of its command= and env=
// parameters redacted (RedactArgs over each parameter's values in order),
// the rest as logged; as logged when ShowSecrets or nothing is redacted.
func RedactURI(uri string) string {
	if ShowSecrets() {
		return uri
	}
	path, query, ok := strings.Cut(uri, "?")
	if !ok || !strings.Contains(query, "command=") && !strings.Contains(query, "env=") {
		return uri
	}
	parts := strings.Split(query, "&")
	for _, key := range []string{"command", "env"} {
		var idx []int
		var vals []string
		for i, p := range parts {
			k, v, _ := strings.Cut(p, "=")
			if k != key {
				continue
			}
			dv, err := url.QueryUnescape(v)
			if err != nil {
				dv = v
			}
			idx, vals = append(idx, i), append(vals, dv)
		}
		red := RedactArgs(vals)
		for j, i := range idx {
			if red[j] != vals[j] {
				parts[i] = key + "=" + url.QueryEscape(red[j])
			}
		}
	}
	return path + "?" + strings.Join(parts, "&")
}

// RedactEvent is a raw event line with its requestURI redacted (RedactURI),
// for a view that shows the event's JSON; the line itself when nothing is
// redacted. The evidence (-o json, exports of events) stays as logged.
func RedactEvent(line []byte) []byte {
	if ShowSecrets() {
		return line
	}
	u := gjson.GetBytes(line, "requestURI")
	if u.Type != gjson.String || u.Index <= 0 {
		return line
	}
	red := RedactURI(u.Str)
	if red == u.Str {
		return line
	}
	enc, _ := json.Marshal(red)
	out := make([]byte, 0, len(line)+len(enc))
	out = append(out, line[:u.Index]...)
	out = append(out, enc...)
	return append(out, line[u.Index+len(u.Raw):]...)
}

// uriInText finds the request URIs with a query in free text (the
// apiserver's httplog lines: URI="/api/v1/.../exec?command=...").
var uriInText = regexp.MustCompile(`/[^\s"'?]*\?[^\s"']+`)

// RedactText is free text (an apiserver log line) with the URIs in it
// redacted (RedactURI).
func RedactText(s string) string {
	if ShowSecrets() || !strings.Contains(s, "command=") && !strings.Contains(s, "env=") {
		return s
	}
	return uriInText.ReplaceAllStringFunc(s, RedactURI)
}
