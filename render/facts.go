package render

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
)

// Fact is a labelled line of what newer apiservers (1.34–1.37) log about a
// request beyond the model's fields, sanitised.
type Fact struct {
	Label, Text string
}

// tokenWords are the token annotations the service account authenticator
// writes on a request made with a token it accepted but warns about; any
// other authentication.k8s.io/*token* annotation is shown as logged.
var tokenWords = map[string]string{
	"authentication.k8s.io/stale-token":              "stale token (past its warning threshold)",
	"authentication.k8s.io/legacy-token":             "legacy service account token (from a Secret)",
	"authentication.k8s.io/legacy-token-invalidated": "invalidated legacy token",
}

// IsTokenAnnotation reports whether an annotation key is one of the
// token warnings Facts shows.
func IsTokenAnnotation(key string) bool {
	rest, ok := strings.CutPrefix(key, "authentication.k8s.io/")
	return ok && strings.Contains(rest, "token")
}

// Facts reads the last event of r that has them with raw: the constrained
// impersonation that let a request through (authenticationMetadata, 1.35+),
// the stale and legacy token annotations. Detail shows them.
func Facts(r *audit.Request, raw func(audit.Ref) ([]byte, error)) []Fact {
	if raw == nil {
		return nil
	}
	var out []Fact
	for i := len(r.Events) - 1; i >= 0; i-- {
		b, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		if am := gjson.GetBytes(b, "authenticationMetadata"); am.IsObject() {
			var parts []string
			am.ForEach(func(k, v gjson.Result) bool {
				switch k.String() {
				case "impersonationConstraint":
					parts = append(parts, "allowed by constrained impersonation, verb "+v.String())
				default:
					parts = append(parts, k.String()+" "+v.String())
				}
				return true
			})
			out = append(out, Fact{"Imperson.", Sanitize(strings.Join(parts, "; "))})
		}
		gjson.GetBytes(b, "annotations").ForEach(func(k, v gjson.Result) bool {
			if key := k.String(); IsTokenAnnotation(key) {
				words := tokenWords[key]
				if words == "" {
					words = "token"
				}
				out = append(out, Fact{"Token", Sanitize(words + ": " + key + "=" + v.String())})
			}
			return true
		})
		return out
	}
	return nil
}
