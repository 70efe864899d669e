package detect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"sigs.k8s.io/yaml"

	"github.com/kauditui/kauditui/audit"
)

// Sigma rules (https://sigmahq.io) for Kubernetes audit logs: the subset the
// public rules use. A detection is named selections, each a map of
// field|modifier: value(s) (every field must match; a list of values is any
// of them, or every one with |all) or a list of such maps (any of them), and
// a condition over the selections: and, or, not, parentheses, "1 of x*",
// "all of x*", "1 of them", "all of them". Modifiers: contains, startswith,
// endswith, re (Go's RE2 syntax; re|i, re|m, re|s), all, exists, cased.
// Plain values compare whole and ignoring case, with * and ? as wildcards
// (\* \? \\ for the characters). Anything else is refused with the file and
// the construct named.
//
// A rule is matched per request against its last stage's event (the one
// whose responseStatus is the request's): the fields of the request model
// where it has them (sigmaFields), the raw event (gjson) for the rest.

// maxSigmaSize bounds one rule file.
const maxSigmaSize = 1 << 20

type sigmaRule struct {
	cond   sigmaCond
	needEv bool // some field is read from the raw event
}

// sigmaCond is a compiled condition.
type sigmaCond interface {
	eval(r *audit.Request, ev *eventCache) bool
}

type (
	condAnd []sigmaCond
	condOr  []sigmaCond
	condNot struct{ c sigmaCond }
	// selection: any of the maps (one for a map selection)
	selection [][]fieldTest
)

func (c condAnd) eval(r *audit.Request, ev *eventCache) bool {
	for _, x := range c {
		if !x.eval(r, ev) {
			return false
		}
	}
	return true
}

func (c condOr) eval(r *audit.Request, ev *eventCache) bool {
	for _, x := range c {
		if x.eval(r, ev) {
			return true
		}
	}
	return false
}

func (c condNot) eval(r *audit.Request, ev *eventCache) bool { return !c.c.eval(r, ev) }

func (s selection) eval(r *audit.Request, ev *eventCache) bool {
	for _, m := range s {
		ok := true
		for _, t := range m {
			if !t.eval(r, ev) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (s *sigmaRule) match(r *audit.Request, ev *eventCache) bool { return s.cond.eval(r, ev) }

// fieldTest is one field|modifiers: values.
type fieldTest struct {
	get    func(r *audit.Request, ev *eventCache) []string // nil slice: absent
	all    bool
	exists *bool
	null   bool // value null: the field is absent or empty
	pats   []*regexp.Regexp
}

func (t fieldTest) eval(r *audit.Request, ev *eventCache) bool {
	vals := t.get(r, ev)
	if t.exists != nil {
		return (len(vals) > 0) == *t.exists
	}
	if t.null {
		return len(vals) == 0 || len(vals) == 1 && vals[0] == ""
	}
	matchOne := func(p *regexp.Regexp) bool {
		for _, v := range vals {
			if p.MatchString(v) {
				return true
			}
		}
		return false
	}
	if t.all {
		for _, p := range t.pats {
			if !matchOne(p) {
				return false
			}
		}
		return len(t.pats) > 0
	}
	for _, p := range t.pats {
		if matchOne(p) {
			return true
		}
	}
	return false
}

// one is a single value, absent when empty.
func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// sigmaFields are the Sigma field names the request model holds: the same
// values the filter language and every view read.
var sigmaFields = map[string]func(r *audit.Request) []string{
	"verb":                      func(r *audit.Request) []string { return one(r.Verb) },
	"objectRef.resource":        func(r *audit.Request) []string { return one(r.Resource) },
	"objectRef.subresource":     func(r *audit.Request) []string { return one(r.Subresource) },
	"objectRef.namespace":       func(r *audit.Request) []string { return one(r.Namespace) },
	"objectRef.name":            func(r *audit.Request) []string { return one(r.Name) },
	"objectRef.apiGroup":        func(r *audit.Request) []string { return one(r.APIGroup) },
	"apiGroup":                  func(r *audit.Request) []string { return one(r.APIGroup) },
	"objectRef.apiVersion":      func(r *audit.Request) []string { return one(r.APIVersion) },
	"user.username":             func(r *audit.Request) []string { return one(r.User) },
	"user.groups":               func(r *audit.Request) []string { return r.Groups },
	"impersonatedUser.username": func(r *audit.Request) []string { return one(r.ImpersonatedUser) },
	"impersonatedUser.groups":   func(r *audit.Request) []string { return r.ImpersonatedGroups },
	"sourceIPs":                 func(r *audit.Request) []string { return r.SourceIPs },
	"userAgent":                 func(r *audit.Request) []string { return one(r.UserAgent) },
	"requestURI":                func(r *audit.Request) []string { return one(r.RequestURI()) },
	"auditID":                   func(r *audit.Request) []string { return one(r.AuditID) },
	"level":                     func(r *audit.Request) []string { return one(r.Level) },
	"stage":                     func(r *audit.Request) []string { return one(r.Stage) },
	"responseStatus.message":    func(r *audit.Request) []string { return one(r.Message) },
	"responseStatus.code": func(r *audit.Request) []string {
		if r.Code == 0 {
			return nil
		}
		return []string{strconv.Itoa(r.Code)}
	},
}

// sigmaAliases are the field names Sigma's public Kubernetes rules use for
// what sits deeper in the event: the pod spec of a pod's create.
var sigmaAliases = map[string]string{
	"hostPath":     "requestObject.spec.volumes.#.hostPath.path",
	"capabilities": "requestObject.spec.containers.#.securityContext.capabilities.add",
}

// eventKeys are the top-level keys of an audit.k8s.io/v1 Event.
var eventKeys = []string{"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user",
	"impersonatedUser", "sourceIPs", "userAgent", "objectRef", "responseStatus", "requestObject",
	"responseObject", "requestReceivedTimestamp", "stageTimestamp", "annotations", "authenticationMetadata"}

// fieldGetter is how a Sigma field is read, or an error for a field an
// audit event does not have.
func fieldGetter(field string) (get func(*audit.Request, *eventCache) []string, raw bool, err error) {
	if f, ok := sigmaFields[field]; ok {
		return func(r *audit.Request, _ *eventCache) []string { return f(r) }, false, nil
	}
	path := field
	if a, ok := sigmaAliases[field]; ok {
		path = a
	} else {
		top, rest, _ := strings.Cut(field, ".")
		if !slices.Contains(eventKeys, top) {
			return nil, false, fmt.Errorf("field %q is not in an audit event (fields are paths like objectRef.resource, user.username, requestObject.spec.hostPID)", field)
		}
		if top == "annotations" || top == "user" && strings.HasPrefix(rest, "extra.") {
			// annotation keys hold dots: annotations.authorization.k8s.io/decision
			key := rest
			prefix := "annotations"
			if top == "user" {
				prefix, key = "user.extra", strings.TrimPrefix(rest, "extra.")
			}
			path = prefix + "." + escapePath(key)
		} else {
			path = escapeWild(field)
		}
	}
	return func(_ *audit.Request, c *eventCache) []string {
		res := c.get().Get(path)
		if !res.Exists() {
			return nil
		}
		var out []string
		var add func(x gjson.Result)
		add = func(x gjson.Result) {
			if x.IsArray() {
				x.ForEach(func(_, v gjson.Result) bool { add(v); return true })
				return
			}
			if x.Type == gjson.Null {
				return
			}
			out = append(out, x.String())
		}
		add(res)
		return out
	}, true, nil
}

// escapePath escapes a key for gjson: dots and its wildcards are literal.
func escapePath(key string) string {
	var b strings.Builder
	for _, c := range key {
		switch c {
		case '.', '*', '?', '|', '#', '@', '\\', '!', '=', '<', '>', '%':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// escapeWild escapes gjson's syntax but dots (path steps) and # (arrays).
func escapeWild(path string) string {
	var b strings.Builder
	for _, c := range path {
		switch c {
		case '*', '?', '|', '@', '\\', '!', '=', '<', '>', '%':
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// SigmaError is a rule file refused: the file and what in it.
type SigmaError struct {
	File string
	Msg  string
}

func (e *SigmaError) Error() string { return e.File + ": " + e.Msg }

// WithSigma is the rule pack (Builtin) and, when dir is not "", the Sigma
// rules of the folder dir (LoadSigmaDir).
func WithSigma(dir string) ([]*Rule, error) {
	rules := Builtin()
	if dir == "" {
		return rules, nil
	}
	sigma, err := LoadSigmaDir(dir)
	if err != nil {
		return nil, err
	}
	return append(rules, sigma...), nil
}

// LoadSigmaDir reads every .yml and .yaml file under dir (recursively) as a
// Sigma rule; a rule's ID is "sigma:" and its path under dir without the
// extension. The first file refused stops it.
func LoadSigmaDir(dir string) ([]*Rule, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--rules: %w", err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("--rules %s: no .yml or .yaml file in it (Sigma rules for Kubernetes audit logs: logsource product kubernetes, service audit)", dir)
	}
	slices.Sort(files)
	var rules []*Rule
	for _, p := range files {
		b, err := readBounded(p)
		if err != nil {
			return nil, err
		}
		r, err := ParseSigma(p, b)
		if err != nil {
			return nil, err
		}
		// two files of one name in different folders: the path tells them apart
		if rel, err := filepath.Rel(dir, p); err == nil && filepath.Dir(rel) != "." {
			r.ID = "sigma:" + strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(rel), ".yml"), ".yaml")
		}
		rules = append(rules, r)
	}
	return rules, nil
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("--rules: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSigmaSize+1))
	if err != nil {
		return nil, fmt.Errorf("--rules: %w", err)
	}
	if len(b) > maxSigmaSize {
		return nil, &SigmaError{p, "over 1 MiB: not a Sigma rule"}
	}
	return b, nil
}

// ParseSigma compiles one Sigma rule; file names it in errors and in the
// rule's ID ("sigma:<file name without extension>").
func ParseSigma(file string, data []byte) (*Rule, error) {
	fail := func(format string, a ...any) error { return &SigmaError{file, fmt.Sprintf(format, a...)} }
	if docs := splitDocs(data); docs > 1 {
		return nil, fail("%d YAML documents: rule collections (action: global) are not supported, write one rule per file", docs)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fail("not YAML: %s", firstLine(err.Error()))
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, fail("not a Sigma rule: a YAML map with title, logsource and detection")
	}
	title, _ := doc["title"].(string)
	if title == "" {
		return nil, fail("no title")
	}
	ls, _ := doc["logsource"].(map[string]any)
	product, _ := ls["product"].(string)
	service, _ := ls["service"].(string)
	if !strings.EqualFold(product, "kubernetes") || !strings.EqualFold(service, "audit") {
		return nil, fail("logsource is product %q, service %q: --rules takes Kubernetes audit rules (product: kubernetes, service: audit)", product, service)
	}
	det, _ := doc["detection"].(map[string]any)
	if det == nil {
		return nil, fail("no detection")
	}
	rule := &Rule{Title: title, Source: file}
	base := filepath.Base(file)
	rule.ID = "sigma:" + strings.TrimSuffix(strings.TrimSuffix(base, ".yml"), ".yaml")
	rule.Severity = Info
	if lv, _ := doc["level"].(string); lv != "" {
		lv = strings.ToLower(lv)
		if SeverityRank(lv) < 0 {
			return nil, fail("level %q is not a Sigma level (informational, low, medium, high, critical)", lv)
		}
		rule.Severity = lv
	}
	if tags, ok := doc["tags"].([]any); ok {
		for _, t := range tags {
			s, _ := t.(string)
			if id, ok := strings.CutPrefix(strings.ToLower(s), "attack.t"); ok && id != "" && id[0] >= '0' && id[0] <= '9' {
				rule.Technique = "T" + strings.ToUpper(id)
				break
			}
		}
	}
	rule.Why = title
	if d, _ := doc["description"].(string); strings.TrimSpace(d) != "" {
		rule.Why = firstSentence(d)
	}

	sels := map[string]sigmaCond{}
	var names []string
	needEv := false
	var condRaw any
	for k, v := range det {
		switch k {
		case "condition":
			condRaw = v
			continue
		case "timeframe":
			return nil, fail("detection.timeframe: aggregations over time are not supported")
		}
		sel, raw, err := compileSelection(k, v)
		if err != nil {
			return nil, fail("detection.%s: %v", k, err)
		}
		needEv = needEv || raw
		sels[k] = sel
		names = append(names, k)
	}
	slices.Sort(names)
	var conds []string
	switch c := condRaw.(type) {
	case string:
		conds = []string{c}
	case []any:
		for _, x := range c {
			s, ok := x.(string)
			if !ok {
				return nil, fail("detection.condition: a list of strings, or one string")
			}
			conds = append(conds, s)
		}
	default:
		return nil, fail("detection.condition: missing (e.g. condition: selection)")
	}
	if len(conds) == 0 {
		return nil, fail("detection.condition: empty")
	}
	var or condOr
	for _, c := range conds {
		cc, err := parseCondition(c, sels, names)
		if err != nil {
			return nil, fail("condition %q: %v", c, err)
		}
		or = append(or, cc)
	}
	rule.sigma = &sigmaRule{cond: or, needEv: needEv}
	if len(or) == 1 {
		rule.sigma.cond = or[0]
	}
	return rule, nil
}

// splitDocs counts the YAML documents of data (--- lines between content).
func splitDocs(data []byte) int {
	n, content := 0, false
	for _, l := range strings.Split(string(data), "\n") {
		t := strings.TrimRight(l, " \t\r")
		if t == "---" || strings.HasPrefix(t, "--- ") {
			if content {
				n++
			}
			content = false
			continue
		}
		if s := strings.TrimSpace(t); s != "" && !strings.HasPrefix(s, "#") {
			content = true
		}
	}
	if content {
		n++
	}
	return n
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// firstSentence is a description's first sentence, on one line.
func firstSentence(d string) string {
	d = strings.Join(strings.Fields(d), " ")
	if i := strings.Index(d, ". "); i > 0 {
		d = d[:i+1]
	}
	return d
}

// compileSelection compiles one named selection.
func compileSelection(name string, v any) (selection, bool, error) {
	var maps []map[string]any
	switch x := v.(type) {
	case map[string]any:
		maps = append(maps, x)
	case []any:
		for _, e := range x {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false, fmt.Errorf("keyword lists (values without a field) are not supported: give field: value")
			}
			maps = append(maps, m)
		}
	default:
		return nil, false, fmt.Errorf("keyword searches (values without a field) are not supported: give field: value")
	}
	if len(maps) == 0 {
		return nil, false, fmt.Errorf("empty")
	}
	var sel selection
	raw := false
	for _, m := range maps {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var tests []fieldTest
		for _, k := range keys {
			t, r, err := compileField(k, m[k])
			if err != nil {
				return nil, false, err
			}
			raw = raw || r
			tests = append(tests, t)
		}
		sel = append(sel, tests)
	}
	return sel, raw, nil
}

// compileField compiles field|modifiers: value(s).
func compileField(key string, v any) (fieldTest, bool, error) {
	parts := strings.Split(key, "|")
	field := parts[0]
	if field == "" {
		return fieldTest{}, false, fmt.Errorf("%q: a field name before the modifiers (keyword searches are not supported)", key)
	}
	get, raw, err := fieldGetter(field)
	if err != nil {
		return fieldTest{}, false, err
	}
	t := fieldTest{get: get}
	var op string // contains, startswith, endswith, re
	cased := false
	reFlags := ""
	for _, m := range parts[1:] {
		switch m {
		case "contains", "startswith", "endswith":
			if op != "" {
				return t, false, fmt.Errorf("%q: modifiers %s and %s do not go together", key, op, m)
			}
			op = m
		case "re":
			if op != "" {
				return t, false, fmt.Errorf("%q: modifiers %s and re do not go together", key, op)
			}
			op = "re"
		case "i", "m", "s":
			if op != "re" {
				return t, false, fmt.Errorf("%q: modifier %s goes after re", key, m)
			}
			reFlags += m
		case "all":
			t.all = true
		case "cased":
			cased = true
		case "exists":
			b, ok := v.(bool)
			if !ok {
				return t, false, fmt.Errorf("%q: exists takes true or false", key)
			}
			t.exists = &b
			return t, raw, nil
		default:
			return t, false, fmt.Errorf("%q: modifier %q is not supported (supported: contains, startswith, endswith, re, all, exists, cased)", key, m)
		}
	}
	var vals []any
	switch x := v.(type) {
	case []any:
		vals = x
		if len(x) == 0 {
			return t, false, fmt.Errorf("%q: an empty list of values", key)
		}
	default:
		vals = []any{x}
	}
	for _, val := range vals {
		var s string
		switch x := val.(type) {
		case nil:
			if len(vals) > 1 || op != "" {
				return t, false, fmt.Errorf("%q: null goes alone, without modifiers", key)
			}
			t.null = true
			return t, raw, nil
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			return t, false, fmt.Errorf("%q: values are strings, numbers, booleans or null, not maps or lists", key)
		}
		var expr string
		if op == "re" {
			expr = s
			if reFlags != "" {
				expr = "(?" + reFlags + ")" + expr
			}
		} else {
			switch op {
			case "contains":
				s = "*" + s + "*"
			case "startswith":
				s = s + "*"
			case "endswith":
				s = "*" + s
			}
			expr = globRegexp(s)
			if !cased {
				expr = "(?i)" + expr
			}
		}
		p, err := regexp.Compile(expr)
		if err != nil {
			return t, false, fmt.Errorf("%q: %s", key, firstLine(err.Error()))
		}
		t.pats = append(t.pats, p)
	}
	return t, raw, nil
}

// globRegexp is Sigma's wildcard string as an anchored regexp: * any run,
// ? one character, \* \? \\ the characters.
func globRegexp(s string) string {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteString(regexp.QuoteMeta(string(s[i+1])))
			i++
		case c == '*':
			b.WriteString(`.*`)
		case c == '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`)$`)
	return b.String()
}

// --- condition -----------------------------------------------------------------

// parseCondition parses and, or, not, parentheses, "1 of x*", "all of x*",
// "1 of them", "all of them" over the selections.
func parseCondition(s string, sels map[string]sigmaCond, names []string) (sigmaCond, error) {
	if strings.Contains(s, "|") {
		return nil, fmt.Errorf("aggregations (| count() ...) are not supported")
	}
	toks := tokenize(s)
	p := &condParser{toks: toks, sels: sels, names: names}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.i])
	}
	return c, nil
}

func tokenize(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, c := range s {
		switch {
		case c == '(' || c == ')':
			flush()
			toks = append(toks, string(c))
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		default:
			cur.WriteRune(c)
		}
	}
	flush()
	return toks
}

type condParser struct {
	toks  []string
	i     int
	sels  map[string]sigmaCond
	names []string
	depth int
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i])
	}
	return ""
}

func (p *condParser) or() (sigmaCond, error) {
	a, err := p.and()
	if err != nil {
		return nil, err
	}
	out := condOr{a}
	for p.peek() == "or" {
		p.i++
		b, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 1 {
		return a, nil
	}
	return out, nil
}

func (p *condParser) and() (sigmaCond, error) {
	a, err := p.not()
	if err != nil {
		return nil, err
	}
	out := condAnd{a}
	for p.peek() == "and" {
		p.i++
		b, err := p.not()
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 1 {
		return a, nil
	}
	return out, nil
}

func (p *condParser) not() (sigmaCond, error) {
	if p.peek() == "not" {
		p.i++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > 100 {
			return nil, fmt.Errorf("nested too deep")
		}
		c, err := p.not()
		if err != nil {
			return nil, err
		}
		return condNot{c}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (sigmaCond, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, fmt.Errorf("ends where a selection was expected")
	case t == "(":
		p.i++
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > 100 {
			return nil, fmt.Errorf("nested too deep")
		}
		c, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("a ( without its )")
		}
		p.i++
		return c, nil
	case t == ")" || t == "and" || t == "or" || t == "of":
		return nil, fmt.Errorf("unexpected %q where a selection was expected", p.toks[p.i])
	case t == "1" || t == "all" || t == "any":
		if p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1], "of") {
			if p.i+2 >= len(p.toks) {
				return nil, fmt.Errorf("%q of what: a selection pattern or them", t)
			}
			pat := p.toks[p.i+2]
			p.i += 3
			var matched []sigmaCond
			for _, n := range p.names {
				if strings.EqualFold(pat, "them") && !strings.HasPrefix(n, "_") || globMatch(pat, n) {
					matched = append(matched, p.sels[n])
				}
			}
			if len(matched) == 0 {
				return nil, fmt.Errorf("%q matches no selection", pat)
			}
			if t == "all" {
				return condAnd(matched), nil
			}
			return condOr(matched), nil
		}
		if t != "1" {
			break
		}
		fallthrough
	default:
		if n, err := strconv.Atoi(t); err == nil && n > 1 && p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1], "of") {
			return nil, fmt.Errorf("%q of: only 1 of and all of are supported", t)
		}
	}
	name := p.toks[p.i]
	c, ok := p.sels[name]
	if !ok {
		return nil, fmt.Errorf("no selection named %q", name)
	}
	p.i++
	return c, nil
}

// globMatch matches a selection name against "x*" (only * is special).
func globMatch(pat, s string) bool {
	pre, rest, star := strings.Cut(pat, "*")
	if !star {
		return pat == s
	}
	if !strings.HasPrefix(s, pre) {
		return false
	}
	s = s[len(pre):]
	for {
		seg, more, st := strings.Cut(rest, "*")
		if !st {
			return strings.HasSuffix(s, seg) && len(s) >= len(seg)
		}
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
		rest = more
	}
}
