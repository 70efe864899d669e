package audit

import (
	"encoding/binary"
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
	whos  map[whoKey]*Who
	whats map[What]*What
	// recent Whos and Whats by a cheap hash of where their strings are
	// (interned: one place per value): a stage is mostly like one merged
	// shortly before, and hashing every string of a What is a tenth of
	// the load
	recentWho  [internCache]*Who
	recentWhat [internCache]*What
	// recent strings, once the tables are past a few entries (a store
	// made to merge one request again, Index.Request, never needs them)
	recent *recentStrs
	escBuf []byte
	arena  []byte // text of one request (URIs, names)
	table  []byte // text of table entries, apart: a shared value must not pin a chunk of one-off text
	// forget, for a streaming store, bounds the tables to this many
	// entries by starting them afresh: the text of requests handed on is
	// then freed with them instead of being pinned by a table.
	forget int
}

// full reports whether a table of n entries may not grow, after starting
// the tables afresh when they forget.
func (in *interner) full(n int) bool {
	if in.forget > 0 && n >= in.forget {
		in.strs, in.lists, in.whos, in.whats = nil, nil, nil, nil
		in.recentWho, in.recentWhat = [internCache]*Who{}, [internCache]*What{}
		if c := in.recent; c != nil {
			c.str = [internCache]string{}
			for i := range c.esc {
				c.esc[i].val = "" // its text is the old table's; raw is kept
			}
		}
		in.table = nil
		return false
	}
	return n >= maxInterned
}

func (in *interner) str(s string) string {
	if s == "" {
		return ""
	}
	var slot *string
	if c := in.recentCache(); c != nil {
		slot = &c.str[strKey(s)]
		if *slot == s {
			return *slot
		}
	}
	if v, ok := in.strs[s]; ok {
		if slot != nil {
			*slot = v
		}
		return v
	}
	if in.full(len(in.strs)) {
		return in.copy(s)
	}
	c := copyInto(&in.table, s)
	if in.strs == nil {
		in.strs = make(map[string]string)
	}
	in.strs[c] = c
	if slot != nil {
		*slot = c
	}
	return c
}

// recentStrs holds interned strings by a cheap hash of their bytes
// (strKey): most values repeat (verbs, users, stages, namespaces), and
// hashing them whole for the map was a tenth of the merging goroutine;
// and by their text as logged, still JSON-escaped (an RBAC reason quotes
// its binding's name, and every stage carries one), so that a repeat is
// not unescaped again.
type recentStrs struct {
	str [internCache]string
	esc [internCache]escaped
}

// escaped is an interned value and its text as logged.
type escaped struct {
	raw []byte
	val string
}

// maxEscaped is the longest logged text recentStrs keeps.
const maxEscaped = 512

// recentCache is in.recent, made once the tables hold a few entries.
func (in *interner) recentCache() *recentStrs {
	if in.recent == nil && len(in.strs) >= 32 {
		in.recent = new(recentStrs)
	}
	return in.recent
}

// strEsc is str for the body of a JSON string that holds escapes.
func (in *interner) strEsc(raw string) string {
	var c *escaped
	if rc := in.recentCache(); rc != nil {
		c = &rc.esc[strKey(raw)]
		if c.val != "" && string(c.raw) == raw {
			return c.val
		}
	}
	in.escBuf = unescapeAppend(in.escBuf[:0], raw)
	v := in.str(bytesString(in.escBuf))
	if c != nil && len(raw) <= maxEscaped {
		c.raw, c.val = append(c.raw[:0], raw...), v
	}
	return v
}

// strKey is a cheap hash of s (not empty) into recentStrs: its length and
// its first and last eight bytes.
func strKey(s string) uintptr {
	var a, b uint64
	if n := len(s); n >= 8 {
		a = binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s), 8))
		b = binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[n-8:]), 8))
	} else {
		for i := 0; i < n; i++ {
			a = a<<8 | uint64(s[i])
		}
	}
	h := (a*0x9e3779b97f4a7c15 ^ b*0xc2b2ae3d27d4eb4f ^ uint64(len(s))) * 0x165667b19e3779f9
	return uintptr(h>>32) % internCache
}

// copy copies s into the arena (s may alias a reader's buffer).
func (in *interner) copy(s string) string {
	return copyInto(&in.arena, s)
}

// copyInto copies s into the arena chunk *a, starting a new chunk when it
// is full.
func copyInto(a *[]byte, s string) string {
	if s == "" {
		return ""
	}
	if len(s) > arenaChunk/8 {
		b := []byte(s)
		return unsafe.String(&b[0], len(b))
	}
	if cap(*a)-len(*a) < len(s) {
		*a = make([]byte, 0, arenaChunk)
	}
	start := len(*a)
	*a = append(*a, s...)
	return unsafe.String(&(*a)[start], len(s))
}

// whoKey is a Who as a map key: its lists (interned by list, so equal
// lists are mostly one slice) by where their elements are.
type whoKey struct {
	user, impUser, ua, cred string
	groups, impGroups, ips  *string
	nGroups, nImp, nIPs     int
}

// internCache is the size of the caches of recent Whos and Whats.
const internCache = 1 << 9

// at is where a string's bytes are, as a number to hash.
func at(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }

// who returns the shared Who equal to w (whose strings the interner made).
func (in *interner) who(w Who) *Who {
	h := (at(w.User)>>3 ^ at(w.UserAgent)>>2 ^ at(w.CredentialID)>>4 ^ uintptr(unsafe.Pointer(unsafe.SliceData(w.SourceIPs)))>>5) % internCache
	if c := in.recentWho[h]; c != nil && sameWho(c, &w) {
		return c
	}
	p := in.internWho(w)
	in.recentWho[h] = p
	return p
}

// sameWho compares two Whos; lists are equal when they are one list.
func sameWho(a, b *Who) bool {
	return a.User == b.User && a.UserAgent == b.UserAgent && a.CredentialID == b.CredentialID &&
		a.ImpersonatedUser == b.ImpersonatedUser && sameList(a.Groups, b.Groups) &&
		sameList(a.ImpersonatedGroups, b.ImpersonatedGroups) && sameList(a.SourceIPs, b.SourceIPs)
}

func sameList(a, b []string) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

func (in *interner) internWho(w Who) *Who {
	k := whoKey{w.User, w.ImpersonatedUser, w.UserAgent, w.CredentialID,
		unsafe.SliceData(w.Groups), unsafe.SliceData(w.ImpersonatedGroups), unsafe.SliceData(w.SourceIPs),
		len(w.Groups), len(w.ImpersonatedGroups), len(w.SourceIPs)}
	if v, ok := in.whos[k]; ok {
		return v
	}
	p := &w
	if !in.full(len(in.whos)) {
		if in.whos == nil {
			in.whos = make(map[whoKey]*Who)
		}
		in.whos[k] = p
	}
	return p
}

// what returns the shared What equal to w (whose strings the interner made).
func (in *interner) what(w What) *What {
	h := (at(w.Verb)>>3 ^ at(w.Resource)>>2 ^ at(w.Namespace)>>4 ^ at(w.Stage)>>5 ^ at(w.Reason)>>1 ^ uintptr(w.Code)*7) % internCache
	if c := in.recentWhat[h]; c != nil && *c == w {
		return c
	}
	p := in.internWhat(w)
	in.recentWhat[h] = p
	return p
}

func (in *interner) internWhat(w What) *What {
	if v, ok := in.whats[w]; ok {
		return v
	}
	p := &w
	if !in.full(len(in.whats)) {
		if in.whats == nil {
			in.whats = make(map[What]*What)
		}
		in.whats[w] = p
	}
	return p
}

// list interns a JSON array of strings by its raw text.
func (in *interner) list(raw string) []string {
	if v, ok := in.lists[raw]; ok {
		return v
	}
	full := in.full(len(in.lists))
	out := []string{}
	gjson.Parse(raw).ForEach(func(_, v gjson.Result) bool {
		out = append(out, in.str(v.String()))
		return true
	})
	out = out[:len(out):len(out)]
	if in.lists == nil {
		in.lists = make(map[string][]string)
	}
	if !full {
		in.lists[copyInto(&in.table, raw)] = out
	}
	return out
}
