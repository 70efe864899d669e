package audit

import (
	"strings"
	"sync"
	"sync/atomic"
)

// credNames names client certificates by their SHA-256 fingerprint
// (lower-case hex, as the apiserver logs it). It is set once by main from
// the kubeconfigs it read, and read by every goroutine that draws or filters.
var credNames atomic.Pointer[map[string]string]

// credLoad reads the names when a label is first asked for and none were
// set: the explorer and query on a master name this node's kubeconfigs
// without a flag, and a run that draws no credential reads no file.
var credLoad struct {
	once sync.Once
	fn   func() map[string]string
}

// SetCredentialLoader sets the function that reads the names on first use
// (main sets it in an init, before any goroutine starts).
func SetCredentialLoader(fn func() map[string]string) { credLoad.fn = fn }

func loadCredNames() *map[string]string {
	if m := credNames.Load(); m != nil || credLoad.fn == nil {
		return m
	}
	credLoad.once.Do(func() {
		credNames.CompareAndSwap(nil, lowerKeys(credLoad.fn())) // names set meanwhile win
	})
	return credNames.Load()
}

// SetCredentialNames sets the names of known client certificates, keyed by
// fingerprint: "admin.conf on this node", "super-admin.conf on this node".
func SetCredentialNames(names map[string]string) { credNames.Store(lowerKeys(names)) }

// lowerKeys copies names with lower-case fingerprints, as they are logged.
func lowerKeys(names map[string]string) *map[string]string {
	m := make(map[string]string, len(names))
	for fp, n := range names {
		m[strings.ToLower(fp)] = n
	}
	return &m
}

// credentialLabel says which credential an id names, for people: the
// kubeconfig a certificate fingerprint belongs to, "unknown certificate
// <short fingerprint>", "token <short id>" for a service-account token, or
// the id itself. The id comes from the log: sanitise the label before drawing.
func credentialLabel(id string) string {
	switch {
	case id == "":
		return ""
	case strings.HasPrefix(id, "X509SHA256="):
		fp := strings.ToLower(id[len("X509SHA256="):])
		if m := loadCredNames(); m != nil {
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
func (r *Request) Credential() string { return credentialLabel(r.CredentialID) }

// short is the first 12 characters: enough to tell certificates apart.
func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
