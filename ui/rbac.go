package ui

import (
	"fmt"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// newRBACScreen is the RBAC of the identity a request was checked as,
// from every request of the store.
func newRBACScreen(env *Env, all []*audit.Request, read func(func()), r *audit.Request) (*historyScreen, error) {
	id := render.RBACIdentity(r)
	if id == "" {
		return nil, fmt.Errorf("this request was not authenticated: no user to grant anything")
	}
	var lines []string
	var err error
	read(func() {
		var reqs []*audit.Request
		for _, q := range all {
			if render.RBACIdentity(q) == id {
				reqs = append(reqs, q)
			}
		}
		lines, err = render.RBACText(reqs, env.Data.Raw)
	})
	if err != nil {
		return nil, err
	}
	return &historyScreen{env: env, lines: lines, expr: filter.With("", "user", id, false),
		back: "this user's requests on the Requests page",
		as:   historyExport{what: "the RBAC answer for " + sanitize(id), base: "kauditui-rbac-" + safeFileName(id), name: "YAML", exts: []string{".yaml", ".yml"}}}, nil
}
