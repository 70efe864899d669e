package filter

import (
	"slices"
	"strings"
)

// Complete completes the last term of a filter expression being typed: a
// field name (with its =), or a value of the field (values gives them, for
// the fields --top counts: TopFields). Every candidate is the whole text
// with its last term completed. The shell's completion and the explorer's
// filter bar both call it, so both complete the same way.
func Complete(text string, values func(field string) []string) []string {
	head, word := "", text
	if word != "" && (word[0] == '\'' || word[0] == '"') {
		head, word = word[:1], word[1:]
	}
	if i := strings.LastIndexAny(word, " \t("); i >= 0 {
		head, word = head+word[:i+1], word[i+1:]
	}
	if strings.HasPrefix(word, "!") || strings.HasPrefix(word, "-") { // a negation
		head, word = head+word[:1], word[1:]
	}
	op := strings.IndexAny(word, "=<>!")
	if op < 0 {
		var names []string
		for _, f := range Fields() {
			for _, n := range append([]string{f.Name}, f.Aliases...) {
				names = append(names, n+"=")
			}
		}
		slices.Sort(names)
		return prefixed(head, names, word)
	}
	name := word[:op]
	valAt := op + 1
	for valAt < len(word) && strings.ContainsRune("=<>", rune(word[valAt])) {
		valAt++
	}
	field := CanonicalField(name)
	if !slices.Contains(TopFields(), field) || values == nil { // the fields with one value a request
		return nil
	}
	prefix, val := word[:valAt], word[valAt:]
	if i := strings.LastIndexByte(val, ','); i >= 0 { // user=alice,b<Tab>
		prefix, val = prefix+val[:i+1], val[i+1:]
	}
	return prefixed(head+prefix, values(field), val)
}

// CanonicalField is the field a name or alias names ("" for none).
func CanonicalField(name string) string {
	for _, f := range Fields() {
		if f.Name == name || slices.Contains(f.Aliases, name) {
			return f.Name
		}
	}
	return ""
}

// prefixed is head+s for each s of list that starts with cur.
func prefixed(head string, list []string, cur string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, cur) {
			out = append(out, head+s)
		}
	}
	return out
}

// CommonPrefix is the longest text every candidate starts with.
func CommonPrefix(list []string) string {
	if len(list) == 0 {
		return ""
	}
	p := list[0]
	for _, s := range list[1:] {
		for !strings.HasPrefix(s, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
