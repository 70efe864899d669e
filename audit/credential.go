package audit

import (
	"strings"
	"sync/atomic"
)

// credNames names client certificates by their SHA-256 fingerprint
// (lower-case hex, as the apiserver logs it). It is set once by main from
// the kubeconfigs it read, and read by every goroutine that draws or filters.
var credNames atomic.Pointer[map[string]string]

// SetCredentialNames sets the names of known client certificates, keyed by
// fingerprint: "admin.conf on this node", "super-admin.conf on this node".
func SetCredentialNames(names map[string]string) {
	m := make(map[string]string, len(names))
	for fp, n := range names {
		m[strings.ToLower(fp)] = n
	}
	credNames.Store(&m)
}

// CredentialLabel says which credential an id names, for people: the
// kubeconfig a certificate fingerprint belongs to, "unknown certificate
// <short fingerprint>", "token <short id>" for a service-account token, or
// the id itself. The id comes from the log: sanitise the label before drawing.
func CredentialLabel(id string) string {
	switch {
	case id == "":
		return ""
	case strings.HasPrefix(id, "X509SHA256="):
		fp := strings.ToLower(id[len("X509SHA256="):])
		if m := credNames.Load(); m != nil {
			if n, ok := (*m)[fp]; ok {
				return n
			}
		}
		return "unknown certificate " + short(fp)
	case strings.HasPrefix(id, "JTI="):
		return "token " + short(id[len("JTI="):])
	}
	return id
}

// Credential is CredentialLabel of the request's credential id.
func (r *Request) Credential() string { return CredentialLabel(r.CredentialID) }

// short is the first 12 characters: enough to tell certificates apart.
func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
