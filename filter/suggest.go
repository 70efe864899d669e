package filter

import (
	"cmp"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// Suggestions for a filter that matched nothing: for each field=value term
// of a string field, the values of that field in the log that hold the
// value typed or differ from it by a letter or two, each with the number of
// requests the filter matches with the term so replaced, and the same for
// the glob *value*:
//
//	user=erin-editor has 19 (user=*erin* 19)
//
// Every value named was read in the log and every count is exact: the
// replaced term is parsed from the text shown and matched as Parse would.
type Suggestions struct {
	Terms []TermSuggestion
}

// TermSuggestion is what one term of the filter could have been.
type TermSuggestion struct {
	Term    string      // the term as String writes it: user=dana
	Values  []TermCount // near values in the log, most requests first (at most maxValues)
	Glob    TermCount   // field=*value*; Count 0 when it matches nothing
	Inexact bool        // too many near values to count them exactly: Values is empty
}

// TermCount is a term and the requests the filter matches with it.
type TermCount struct {
	Term  string // as it parses: user=dev-dana, user=*dana*
	Count int
}

// String is the suggestions in one line ("" when there is none), for "0
// requests; " to precede. It holds values from the log: sanitise it before
// it reaches a terminal.
func (s Suggestions) String() string {
	var parts []string
	for _, t := range s.Terms {
		var vals []string
		for _, v := range t.Values {
			vals = append(vals, v.Term+" has "+strconv.Itoa(v.Count))
		}
		switch {
		case len(vals) > 0 && t.Glob.Count > 0:
			parts = append(parts, strings.Join(vals, ", ")+" ("+t.Glob.Term+" "+strconv.Itoa(t.Glob.Count)+")")
		case len(vals) > 0:
			parts = append(parts, strings.Join(vals, ", "))
		case t.Glob.Count > 0:
			parts = append(parts, t.Glob.Term+" has "+strconv.Itoa(t.Glob.Count))
		}
	}
	return strings.Join(parts, "; ")
}

// Empty reports whether there is nothing to suggest.
func (s Suggestions) Empty() bool { return s.String() == "" }

const (
	maxValues     = 3    // near values named per term
	maxNearKeys   = 4096 // distinct near values counted per term before giving up exactness
	maxNearCache  = 1 << 14
	maxSuggested  = 4 // terms looked at
	minLiteral    = 2 // shorter values are near everything
	suggestBudget = 20 * time.Second
)

// SuggestBudget is how long a caller that reads the log again for
// suggestions should let that take before giving up on them.
const SuggestBudget = suggestBudget

// sugKey is what a field's predicate reads of a request (strings cloned).
type sugKey struct{ a, b, c string }

// sugField is a string field suggestions are made for.
type sugField struct {
	// values appends the request's values of the field, to compare with
	// the value typed.
	values func(r *audit.Request, buf []string) []string
	// key is what the field's predicate reads; request makes a request of
	// only that, for the predicate of a suggested term.
	key     func(r *audit.Request) sugKey
	request func(k sugKey) *audit.Request
	// spell is the key's values as a term writes them.
	spell func(k sugKey) []string
	// all: keep every key, not only near ones, because the predicate of a
	// suggested value also matches values spelled otherwise (resource=pods
	// matches pods of any group, and pod): counting only near keys would
	// miss some.
	all bool
	// globOnly: the values are sentences (message, reason): the glob is
	// suggested, not whole values.
	globOnly bool
}

const groupSep = "\x00"

// one is a field of one string: get reads it, mk makes a request of it.
func one(get func(*audit.Request) string, mk func(s string) *audit.Request) *sugField {
	return &sugField{
		values:  func(r *audit.Request, buf []string) []string { return append(buf, get(r)) },
		key:     func(r *audit.Request) sugKey { return sugKey{a: get(r)} },
		request: func(k sugKey) *audit.Request { return mk(k.a) },
		spell:   func(k sugKey) []string { return []string{k.a} },
	}
}

func what(w audit.What) *audit.Request { return audit.NewRequest(audit.Who{}, w, "", "", "") }
func who(w audit.Who) *audit.Request   { return audit.NewRequest(w, audit.What{}, "", "", "") }

var sugFields = map[string]*sugField{
	"user": {
		values:  func(r *audit.Request, buf []string) []string { return append(buf, r.User, r.ImpersonatedUser) },
		key:     func(r *audit.Request) sugKey { return sugKey{a: r.User, b: r.ImpersonatedUser} },
		request: func(k sugKey) *audit.Request { return who(audit.Who{User: k.a, ImpersonatedUser: k.b}) },
		spell:   func(k sugKey) []string { return []string{k.a, k.b} },
	},
	"group": {
		values: func(r *audit.Request, buf []string) []string {
			return append(append(buf, r.Groups...), r.ImpersonatedGroups...)
		},
		key: func(r *audit.Request) sugKey {
			return sugKey{a: strings.Join(r.Groups, groupSep), b: strings.Join(r.ImpersonatedGroups, groupSep)}
		},
		request: func(k sugKey) *audit.Request {
			return who(audit.Who{Groups: splitGroups(k.a), ImpersonatedGroups: splitGroups(k.b)})
		},
		spell: func(k sugKey) []string { return append(splitGroups(k.a), splitGroups(k.b)...) },
	},
	"resource": {
		values:  func(r *audit.Request, buf []string) []string { return append(buf, r.Resource) },
		key:     func(r *audit.Request) sugKey { return sugKey{a: r.APIGroup, b: r.Resource, c: r.Subresource} },
		request: func(k sugKey) *audit.Request { return what(audit.What{APIGroup: k.a, Resource: k.b, Subresource: k.c}) },
		spell: func(k sugKey) []string {
			if k.c != "" {
				return []string{k.b + "/" + k.c}
			}
			return []string{k.b}
		},
		all: true,
	},
	"verb": one(func(r *audit.Request) string { return r.Verb },
		func(s string) *audit.Request { return what(audit.What{Verb: s}) }),
	"ns": one(func(r *audit.Request) string { return r.Namespace },
		func(s string) *audit.Request { return what(audit.What{Namespace: s}) }),
	"name": one(func(r *audit.Request) string { return r.Name },
		func(s string) *audit.Request { return audit.NewRequest(audit.Who{}, audit.What{}, "", "", s) }),
	"agent": one(func(r *audit.Request) string { return r.UserAgent },
		func(s string) *audit.Request { return who(audit.Who{UserAgent: s}) }),
	"reason":  {globOnly: true},
	"message": {globOnly: true},
}

func splitGroups(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, groupSep)
}

// sugTerm gathers what one term could have been.
type sugTerm struct {
	index int // in the filter's terms
	field string
	kind  *sugField
	lit   string // the value typed, lower-case
	dist  int    // the largest edit distance that is near

	rest  *Filter // the filter's field terms but this one
	glob  pred    // field=*lit*
	globN int
	globT string

	keys  map[sugKey]int // requests passing rest, by near key
	full  bool           // more near keys than maxNearKeys
	cache map[string]bool
	buf   []string
}

// suggestTerms are the terms of f suggestions are made for: field=value of
// a string field, one plain value of at least two characters.
func (f *Filter) suggestTerms() []*sugTerm {
	if f == nil {
		return nil
	}
	var out []*sugTerm
	for i, t := range f.terms {
		kind := sugFields[t.field]
		if kind == nil || t.neg || t.op != "=" || len(t.values) != 1 || len(out) == maxSuggested {
			continue
		}
		lit, plain := t.values[0].literal()
		if !plain || len(lit) < minLiteral || t.field == "resource" && strings.Contains(lit, "/") {
			continue
		}
		st := &sugTerm{index: i, field: t.field, kind: kind, lit: lowerASCII(lit),
			dist: min(3, max(1, len(lit)/4)), keys: map[sugKey]int{}, cache: map[string]bool{}}
		var rest []parsed
		for j, o := range f.terms {
			if j != i && o.field != "" {
				rest = append(rest, o)
			}
		}
		st.rest = build(rest)
		st.globT = t.field + "=*" + quoteIfNeeded(lit) + "*"
		g, err := Parse(st.globT, time.Time{})
		if err != nil || len(g.terms) != 1 {
			continue
		}
		st.glob = g.terms[0].pred
		out = append(out, st)
	}
	return out
}

// CanSuggest reports whether f has a term Suggest looks at.
func (f *Filter) CanSuggest() bool { return len(f.suggestTerms()) > 0 }

// SuggestPrefilter is a Prefilter for reading the log again for Suggest:
// the lines of requests the filter may match with its suggested terms
// replaced (nil when every line is needed).
func (f *Filter) SuggestPrefilter() func(line []byte) bool {
	terms := f.suggestTerms()
	skip := map[int]bool{}
	for _, st := range terms {
		skip[st.index] = true
	}
	var rest []parsed
	for i, t := range f.terms {
		if !skip[i] {
			rest = append(rest, t)
		}
	}
	return build(rest).Prefilter()
}

// Suggest reads every request of requests (a store's, or a second read of
// the log) and says what f, which matched none of them, could have been.
// raw reads an event line again for bare words, as in MatchRaw. Requests
// may be forgotten once handed over: what is kept is copied.
func Suggest(f *Filter, requests iter.Seq[*audit.Request], raw func(audit.Ref) ([]byte, error)) Suggestions {
	terms := f.suggestTerms()
	if len(terms) == 0 {
		return Suggestions{}
	}
	var wordTerms []parsed
	for _, t := range f.terms {
		if t.field == "" {
			wordTerms = append(wordTerms, t)
		}
	}
	words := build(wordTerms)
	for r := range requests {
		wordsOK := 0 // 0 not checked, 1 pass, -1 fail
		for _, st := range terms {
			if !st.rest.Match(r) {
				continue
			}
			if words.NeedsRaw() {
				if wordsOK == 0 {
					wordsOK = -1
					if words.MatchRaw(r, raw) {
						wordsOK = 1
					}
				}
				if wordsOK < 0 {
					continue
				}
			}
			st.add(r)
		}
	}
	var out Suggestions
	for _, st := range terms {
		ts := st.result(f.terms[st.index])
		if len(ts.Values) > 0 || ts.Glob.Count > 0 {
			out.Terms = append(out.Terms, ts)
		}
	}
	return out
}

// add counts a request that passes every other term.
func (st *sugTerm) add(r *audit.Request) {
	if st.glob.match(r) {
		st.globN++
	}
	if st.kind.globOnly {
		return
	}
	k := st.kind.key(r)
	if n, ok := st.keys[k]; ok {
		st.keys[k] = n + 1
		return
	}
	keep := st.kind.all && len(st.keys) < maxNearKeys
	if !keep {
		st.buf = st.kind.values(r, st.buf[:0])
		for _, v := range st.buf {
			if st.near(v) {
				keep = true
				break
			}
		}
	}
	if !keep {
		return
	}
	if len(st.keys) >= maxNearKeys {
		st.full = true
		return
	}
	st.keys[sugKey{strings.Clone(k.a), strings.Clone(k.b), strings.Clone(k.c)}] = 1
}

// near reports whether a value of the log is near the value typed: it holds
// it, or is within a small edit distance, ignoring case.
func (st *sugTerm) near(v string) bool {
	if v == "" {
		return false
	}
	if n, ok := st.cache[v]; ok {
		return n
	}
	n := indexFold(v, st.lit) >= 0
	if !n && len(v) >= len(st.lit)-st.dist && len(v) <= len(st.lit)+st.dist {
		n = editDistance(lowerASCII(v), st.lit) <= st.dist
	}
	if len(st.cache) < maxNearCache {
		st.cache[strings.Clone(v)] = n
	}
	return n
}

// maxCounted bounds the near values whose requests are counted with their
// term's predicate, the most frequent first.
const maxCounted = 32

func (st *sugTerm) result(t parsed) TermSuggestion {
	ts := TermSuggestion{Term: t.render(), Glob: TermCount{Term: st.globT, Count: st.globN}}
	if st.kind.globOnly {
		return ts
	}
	if st.full || st.kind.all && len(st.keys) >= maxNearKeys {
		ts.Inexact = true
		return ts
	}
	// The near values, by the requests that carry them as spelled.
	type cand struct {
		v string
		n int
	}
	byLow := map[string]*cand{}
	var cands []*cand
	reqs := make([]*audit.Request, 0, len(st.keys))
	counts := make([]int, 0, len(st.keys))
	for k, n := range st.keys {
		reqs = append(reqs, st.kind.request(k))
		counts = append(counts, n)
		for _, v := range st.kind.spell(k) {
			base, _, _ := strings.Cut(v, "/")
			low := lowerASCII(v)
			if low == st.lit || !st.near(base) {
				continue
			}
			c := byLow[low]
			if c == nil {
				c = &cand{v: v}
				byLow[low] = c
				cands = append(cands, c)
			} else if v < c.v {
				c.v = v // one spelling whatever the map's order
			}
			c.n += n
		}
	}
	slices.SortFunc(cands, func(a, b *cand) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.v, b.v)) })
	for _, c := range cands[:min(len(cands), maxCounted)] {
		term := st.field + "=" + quoteIfNeeded(c.v)
		g, err := Parse(term, time.Time{})
		if err != nil || len(g.terms) != 1 {
			continue
		}
		p, n := g.terms[0].pred, 0
		for i, r := range reqs {
			if p.match(r) {
				n += counts[i]
			}
		}
		if n > 0 {
			ts.Values = append(ts.Values, TermCount{Term: term, Count: n})
		}
	}
	slices.SortFunc(ts.Values, func(a, b TermCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Term, b.Term))
	})
	if len(ts.Values) > maxValues {
		ts.Values = ts.Values[:maxValues]
	}
	return ts
}
