package ui

import (
	"fmt"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// newRBACScreen is the RBAC of the identity a request was checked as,
// from every request of the store.
func newRBACScreen(env *Env, all Rows, read func(func()), r *audit.Request) (*historyScreen, error) {
	id := render.RBACIdentity(r)
	if id == "" {
		return nil, fmt.Errorf("this request was not authenticated: no user to grant anything")
	}
	// The identity's rows, from the columns; then its requests read whole
	// (a refusal's annotations are in its events).
	var rows []int32
	eachRow(all, false, func(i int, q *audit.Request) bool {
		if render.RBACIdentity(q) == id {
			rows = append(rows, int32(all.Key(i)))
		}
		return true
	})
	reqs, err := env.src.whole(&indexRows{src: env.src, rows: rows, n: len(rows)}, "--rbac")
	if err != nil {
		return nil, err
	}
	var lines []string
	read(func() { lines, err = render.RBACText(reqs, env.Data.Raw) })
	if err != nil {
		return nil, err
	}
	return &historyScreen{env: env, lines: lines, expr: filter.With("", "user", id, false),
		back: "this user's requests on the Requests page",
		as:   historyExport{what: "the RBAC answer for " + sanitize(id), base: "kauditui-rbac-" + safeFileName(id), name: "YAML", exts: []string{".yaml", ".yml"}}}, nil
}
