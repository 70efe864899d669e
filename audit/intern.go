package audit

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// maxInterned bounds the intern tables: a log with a million distinct user
// agents (client-chosen) must not grow them without end. Past the bound,
// values are still copied into the arena, just not shared.
const maxInterned = 1 << 20

// arenaChunk is the size of the byte chunks strings are copied into: one
// allocation per 256 KiB of kept text instead of one per string, and the
// chunks hold no pointers, so the GC does not scan them.
const arenaChunk = 256 << 10

// interner shares repeated strings (users, verbs, resources, agents,
// namespaces, group lists): a million requests by ten users hold ten user
// names. Only the store's writer uses it.
type interner struct {
	strs  map[string]string
	lists map[string][]string
	arena []byte
}

func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.strs[s]; ok {
		return v
	}
	c := in.copy(s)
	if in.strs == nil {
		in.strs = make(map[string]string)
	}
	if len(in.strs) < maxInterned {
		in.strs[c] = c
	}
	return c
}

// copy copies s into the arena (s may alias a reader's buffer).
func (in *interner) copy(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > arenaChunk/8 {
		b := []byte(s)
		return unsafe.String(&b[0], len(b))
	}
	if cap(in.arena)-len(in.arena) < len(s) {
		in.arena = make([]byte, 0, arenaChunk)
	}
	start := len(in.arena)
	in.arena = append(in.arena, s...)
	return unsafe.String(&in.arena[start], len(s))
}

// list interns a JSON array of strings by its raw text.
func (in *interner) list(raw string) []string {
	if v, ok := in.lists[raw]; ok {
		return v
	}
	out := []string{}
	gjson.Parse(raw).ForEach(func(_, v gjson.Result) bool {
		out = append(out, in.str(v.String()))
		return true
	})
	out = out[:len(out):len(out)]
	if in.lists == nil {
		in.lists = make(map[string][]string)
	}
	if len(in.lists) < maxInterned {
		in.lists[in.copy(raw)] = out
	}
	return out
}
