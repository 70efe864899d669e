package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// change is one write (create, update, patch, delete) of an object, and what
// it changed as far as the log tells.
type change struct {
	Req *Request
	// Patch is the body of a patch as sent (compact JSON): a JSON patch is
	// an array, a merge or strategic merge patch an object.
	Patch string
	// Diff is what changed from the version before, field by field; nil
	// with NoDiff set when the log cannot tell.
	Diff   []fieldChange
	NoDiff string
	// Admission is what admission did to the write (WhyRefused): which
	// mutating webhook patched it, which webhooks failed open, which
	// control refused it.
	Admission Refusal
}

// fieldChange is one field of an object that a write changed.
type fieldChange struct {
	Path     string // spec.template.spec.containers[web].image
	Old, New string // JSON values; Old "" when added, New "" when removed
}

// History is every write of one object found in the log, oldest first.
type History struct {
	Changes []change
	// Deleted is the last successful delete, or nil (also when the object
	// was created again after it).
	Deleted *Request
	// LastState is the object as last known before the delete (or now):
	// indented JSON without managedFields, resourceVersion, generation and
	// status; "" when no write logged a body.
	LastState string
	// Bodiless: writes whose level logged no body (Metadata), so no diff.
	Bodiless int
}

// historyNoise are annotations that controllers change or that repeat the
// object: the deployment controller's revision moves between two writes
// and would be blamed on the second; last-applied-configuration is the
// spec again, as one long string.
var historyNoise = []string{"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"}

// historySkip are subresources that do not change the object's spec or
// metadata (status is the controllers' noise) or are no write of it at all.
var historySkip = []string{"status", "exec", "attach", "portforward", "proxy", "log", "token"}

// isHistoryWrite reports whether r is a write that belongs in an object's
// history: create, update, patch or delete of it or of a subresource that
// changes it (scale, ephemeralcontainers, ...), not of its status.
func isHistoryWrite(r *Request) bool {
	switch r.Verb {
	case "create", "update", "patch", "delete":
	default:
		return false
	}
	return !slices.Contains(historySkip, r.Subresource)
}

// BuildHistory reads the bodies of the writes reqs (one object's, in time
// order) with raw and diffs each version against the one before. Failed
// writes are kept (a denied delete is part of the story) but change nothing.
func BuildHistory(reqs []*Request, raw func(Ref) ([]byte, error)) History {
	var h History
	var prev map[string]any // the object after the last write, cleaned; nil: unknown
	var beforeDelete map[string]any
	for _, r := range reqs {
		if !isHistoryWrite(r) {
			continue
		}
		c := change{Req: r}
		if raw != nil {
			c.Admission = WhyRefused(r, raw)
		}
		req, resp, level := bodies(r, raw)
		if r.Verb == "patch" && req.Exists() {
			c.Patch = compactJSON(req.Raw)
		}
		ok := r.Code >= 200 && r.Code < 300
		if ok && r.Verb == "create" {
			h.Deleted = nil // it exists again
		}
		switch {
		case !ok:
			c.NoDiff = "failed: nothing changed"
		case r.Verb == "delete":
			h.Deleted = r
			c.NoDiff = "deleted"
			beforeDelete, prev = prev, nil // a create after it starts afresh
		case level == "Metadata" || level == "" || !req.Exists() && !resp.Exists():
			h.Bodiless++
			c.NoDiff = "level " + orNone(level) + ": no body logged, so no diff"
			prev = nil
		default:
			next := nextVersion(r, prev, req, resp)
			switch {
			case next == nil:
				c.NoDiff = "level " + level + ": the object after this write is not logged (RequestResponse logs it)"
			case prev == nil && r.Verb != "create":
				c.NoDiff = "no earlier version in the log to compare with"
			default:
				c.Diff = diffObjects(prev, next)
			}
			prev = next
		}
		h.Changes = append(h.Changes, c)
	}
	last := prev
	if h.Deleted != nil {
		last = beforeDelete
	}
	if last != nil {
		b, _ := json.MarshalIndent(last, "", "  ")
		h.LastState = string(b)
	}
	return h
}

func orNone(level string) string {
	if level == "" {
		return "unknown"
	}
	return level
}

// bodies finds the requestObject and responseObject among r's stage events.
func bodies(r *Request, raw func(Ref) ([]byte, error)) (req, resp gjson.Result, level string) {
	level = r.Level
	if raw == nil {
		return
	}
	for i := len(r.Events) - 1; i >= 0; i-- {
		b, err := raw(r.Events[i].Ref)
		if err != nil {
			continue
		}
		v := gjson.GetManyBytes(b, "requestObject", "responseObject")
		if !req.Exists() && v[0].Exists() {
			req = v[0]
		}
		if !resp.Exists() && v[1].Exists() {
			resp = v[1]
		}
	}
	return
}

// nextVersion is the object after write r: its responseObject when that is
// the object, else what can be made of the request: a create or update's
// requestObject, a scale's replicas applied to the version before.
func nextVersion(r *Request, prev map[string]any, req, resp gjson.Result) map[string]any {
	if r.Subresource == "scale" {
		n := resp.Get("spec.replicas")
		if !n.Exists() {
			n = req.Get("spec.replicas")
		}
		if prev == nil || !n.Exists() {
			return nil
		}
		next := cloneJSON(prev)
		spec, _ := next["spec"].(map[string]any)
		if spec == nil {
			spec = map[string]any{}
			next["spec"] = spec
		}
		spec["replicas"] = json.Number(n.Raw)
		return next
	}
	if resp.IsObject() && resp.Get("kind").String() != "Status" {
		return cleanObject(resp.Raw)
	}
	if (r.Verb == "create" || r.Verb == "update") && req.IsObject() {
		return cleanObject(req.Raw)
	}
	return nil
}

// cleanObject decodes an object without what changes on every write or is
// the controllers' to change: managedFields, resourceVersion, generation,
// status.
func cleanObject(raw string) map[string]any {
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil {
		return nil
	}
	delete(m, "status")
	if md, ok := m["metadata"].(map[string]any); ok {
		for _, k := range []string{"managedFields", "resourceVersion", "generation"} {
			delete(md, k)
		}
		if an, ok := md["annotations"].(map[string]any); ok {
			for _, k := range historyNoise {
				delete(an, k)
			}
			if len(an) == 0 {
				delete(md, "annotations")
			}
		}
	}
	return m
}

func cloneJSON(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	return cleanObject(string(b))
}

func compactJSON(raw string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(raw)) != nil {
		return raw
	}
	return b.String()
}

// diffObjects lists the leaves that differ between two versions, in path order.
func diffObjects(a, b map[string]any) []fieldChange {
	fa, fb := map[string]string{}, map[string]string{}
	var order []string
	if a != nil {
		flatten("", a, fa, nil)
	}
	flatten("", b, fb, &order)
	var out []fieldChange
	for _, p := range order {
		if fa[p] != fb[p] {
			out = append(out, fieldChange{Path: p, Old: fa[p], New: fb[p]})
		}
	}
	var gone []string
	for p := range fa {
		if _, ok := fb[p]; !ok {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		out = append(out, fieldChange{Path: p, Old: fa[p]})
	}
	return out
}

// flatten writes every leaf of v under its path: maps as a.b, lists of
// named objects (containers, env, ports) by name as a[web], other lists by
// index as a[0]. An empty map or list is a leaf of its own.
func flatten(path string, v any, out map[string]string, order *[]string) {
	leaf := func(s string) {
		out[path] = s
		if order != nil {
			*order = append(*order, path)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			leaf("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if strings.ContainsAny(k, ".[]") {
				p = strconv.Quote(k)
			}
			if path != "" {
				p = path + "." + p
			}
			flatten(p, x[k], out, order)
		}
	case []any:
		if len(x) == 0 {
			leaf("[]")
			return
		}
		named := true
		for _, e := range x {
			m, ok := e.(map[string]any)
			_, isStr := m["name"].(string)
			named = named && ok && isStr
		}
		for i, e := range x {
			key := strconv.Itoa(i)
			if named {
				key = e.(map[string]any)["name"].(string)
			}
			flatten(fmt.Sprintf("%s[%s]", path, key), e, out, order)
		}
	default:
		b, _ := json.Marshal(x)
		leaf(string(b))
	}
}

// PolicyRule is the audit policy rule that would log r's object with its
// bodies, so a diff of its writes is possible: first match wins, so it goes
// before the rule that matched r.
func PolicyRule(r *Request) string {
	res := r.Resource
	if r.Subresource != "" && r.Subresource != "scale" {
		res += "/" + r.Subresource
	}
	rule := fmt.Sprintf("- level: RequestResponse\n  omitManagedFields: true\n  resources:\n  - group: %q\n    resources: [%q]\n", r.APIGroup, res)
	if r.Subresource == "scale" {
		rule = fmt.Sprintf("- level: RequestResponse\n  omitManagedFields: true\n  resources:\n  - group: %q\n    resources: [%q, %q]\n", r.APIGroup, r.Resource, r.Resource+"/scale")
	}
	if r.Namespace != "" {
		rule += fmt.Sprintf("  namespaces: [%q]\n", r.Namespace)
	}
	return rule
}
