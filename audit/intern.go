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
			c.str = [strCache]string{}
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
	// recentStrs.str is two ways: a value found second moves first, a new
	// one goes first and pushes the first second
	var set *[2]string
	if c := in.recentCache(); c != nil {
		set = (*[2]string)(c.str[strKey(s)%strCache&^1:])
		if set[0] == s {
			return set[0]
		}
		if set[1] == s {
			set[0], set[1] = set[1], set[0]
			return set[0]
		}
	}
	v, ok := in.strs[s]
	if !ok {
		if in.full(len(in.strs)) {
			return in.copy(s)
		}
		v = copyInto(&in.table, s)
		if in.strs == nil {
			in.strs = make(map[string]string)
		}
		in.strs[v] = v
	}
	if set != nil {
		set[0], set[1] = v, set[0]
	}
	return v
}

// strRare is str for a value seldom repeated (a response's message names
// its object): the tables only, so that it does not take the place of a
// common value in the recent strings; esc says raw still holds escapes.
func (in *interner) strRare(raw string, esc bool) string {
	if raw == "" {
		return ""
	}
	s := raw
	if esc {
		in.escBuf = unescapeAppend(in.escBuf[:0], raw)
		s = bytesString(in.escBuf)
	}
	if v, ok := in.strs[s]; ok {
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
	return c
}

// recentStrs holds interned strings by a cheap hash of their bytes
// (strKey): most values repeat (verbs, users, stages, namespaces), and
// hashing them whole for the map was a tenth of the merging goroutine;
// and by their text as logged, still JSON-escaped (an RBAC reason quotes
// its binding's name, and every stage carries one), so that a repeat is
// not unescaped again.
type recentStrs struct {
	str [strCache]string
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
		c = &rc.esc[strKey(raw)%internCache]
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

// strKey is a cheap hash of s (not empty) for recentStrs: every byte of
// it, eight at a time. (Its length and first and last eight bytes were
// not enough: service accounts of numbered namespaces are alike at both
// ends.)
func strKey(s string) uintptr {
	n := len(s)
	h := uint64(n) * 0x9e3779b97f4a7c15
	if n < 8 {
		var a uint64
		for i := 0; i < n; i++ {
			a = a<<8 | uint64(s[i])
		}
		h = (h ^ a) * 0xbf58476d1ce4e5b9
	} else {
		b := unsafe.Slice(unsafe.StringData(s), n)
		for i := 0; i+8 < n; i += 8 {
			h = (h ^ binary.LittleEndian.Uint64(b[i:])) * 0xbf58476d1ce4e5b9
		}
		h = (h ^ binary.LittleEndian.Uint64(b[n-8:])) * 0x94d049bb133111eb
	}
	// a product's low bits see only its factors' low ones: fold the high
	// ones down (murmur3's finaliser), so that any bits of the key do
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return uintptr(h)
}

// strCache is the size of recentStrs.str, 512 sets of two ways: a log's
// common values are a few hundred (users, namespaces, agents, verbs). On
// 200 MB of a hack/genlog log, 4,652 of a million look-ups missed with 256
// sets, 1,338 with 512, 386 with 1,024 (and 120,000 with 512 slots of one
// way and the key of first and last bytes, whose bits mod 512 saw neither).
const strCache = 1 << 10

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

// sameWho compares two Whos by where their strings and lists are (see
// sameWhat): the recent cache's test; a miss goes to the table.
func sameWho(a, b *Who) bool {
	return same(a.User, b.User) && same(a.UserAgent, b.UserAgent) && same(a.CredentialID, b.CredentialID) &&
		same(a.ImpersonatedUser, b.ImpersonatedUser) && sameList(a.Groups, b.Groups) &&
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
	if c := in.recentWhat[h]; c != nil && sameWhat(c, &w) {
		return c
	}
	p := in.internWhat(w)
	in.recentWhat[h] = p
	return p
}

// sameWhat reports whether a and b are one What by where their strings
// are: interned, equal values are one string, so this is equality but for
// a value interned twice (by tables started afresh, or full), which the
// table's look-up by value then finds.
func sameWhat(a, b *What) bool {
	return a.Code == b.Code && same(a.Stage, b.Stage) && same(a.Verb, b.Verb) && same(a.Resource, b.Resource) &&
		same(a.Namespace, b.Namespace) && same(a.Level, b.Level) && same(a.APIGroup, b.APIGroup) &&
		same(a.APIVersion, b.APIVersion) && same(a.Subresource, b.Subresource) && same(a.Decision, b.Decision) &&
		same(a.Reason, b.Reason) && same(a.Message, b.Message)
}

// same reports whether two strings are one (the same bytes, or empty).
func same(a, b string) bool {
	return len(a) == len(b) && (len(a) == 0 || unsafe.StringData(a) == unsafe.StringData(b))
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
