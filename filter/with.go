package filter

import "strings"

// With adds one term to expr for a quick filter, or replaces the terms it
// makes pointless:
//
//	With("verb=get", "user", "alice", false)           == "verb=get user=alice"
//	With("user=bob verb=get", "user", "alice", false)  == "user=alice verb=get"
//	With("user!=bob", "user", "alice", true)           == "user!=bob,alice"
//	With("user=alice", "user", "alice", true)          == "user!=alice"
//
// Including a value replaces every term of that field; excluding one joins
// an existing exclusion of the field and drops an inclusion of just that
// value. value is taken literally: a '*' in it is not a wildcard. Other terms
// are kept as written, even ones that do not parse; a NOT and the term it
// negates, or terms joined by OR, are one term, and AND words (the space)
// are dropped.
func With(expr, field, value string, exclude bool) string {
	name := field
	if def := fieldByName[lowerASCII(field)]; def != nil {
		name = def.Name
	}
	v := quoteIfNeeded(value)
	type item struct {
		text string
		lt   *lexed // nil when it does not lex
	}
	var items []item
	if all, err := lexExpr(expr); err == nil {
		// Each term as written, with the NOT or OR words that make it one
		// term (AND words are the space).
		for _, lt := range all {
			items = append(items, item{expr[lt.src.start:lt.src.end], lt})
		}
	} else {
		spans, err := splitTerms(expr)
		if err != nil {
			// An open quote would swallow anything appended; leave the
			// expression to the user.
			return expr
		}
		for i, sp := range spans {
			lt, _ := lexTerm(expr, sp, i+1)
			items = append(items, item{expr[sp.start:sp.end], lt})
		}
	}
	var out []string
	placed := false
	add := func(term string) {
		if !placed {
			out = append(out, term)
			placed = true
		}
	}
	for _, it := range items {
		text, lt := it.text, it.lt
		if lt == nil || lt.p.field != name {
			out = append(out, text)
			continue
		}
		if !exclude {
			add(name + "=" + v) // replaces the first term of the field, drops the rest
			continue
		}
		single := len(lt.p.values) == 1 && lt.p.op == "="
		if !lt.p.neg && single && sameValue(lt.p.values[0], value) {
			continue // field=value and field!=value: the exclusion wins
		}
		if lt.p.neg && lt.p.op == "=" && !placed {
			for _, old := range lt.p.values {
				if sameValue(old, value) {
					placed = true
				}
			}
			if !placed {
				lt.p.values = append(lt.p.values, parseValues(v, 0, false)...)
				text = lt.p.render()
				placed = true
			}
		}
		out = append(out, text)
	}
	if !placed {
		op := "="
		if exclude {
			op = "!="
		}
		out = append(out, name+op+v)
	}
	return strings.Join(out, " ")
}

func sameValue(v value, s string) bool {
	lit, plain := v.literal()
	return plain && equalFold(lit, lowerASCII(s))
}
