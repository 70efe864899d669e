package audit

// The columnar index: the explorer's requests as rows of small numbers
// rather than one *Request each.
//
// Design (issue 21, item 1; ARCHITECTURE.md, "The columnar index"):
//
// A row is one request, in the store's order. Its values live in columns,
// cut in chunks of chunkRows rows allocated whole (a growing slice would
// keep up to twice what it holds):
//
//	who, what, name, uri  ids into dictionaries, 1, 2 or 4 bytes each: a chunk
//	                      starts at one byte an id and widens when a
//	                      dictionary outgrows it
//	first                 requestReceivedTimestamp in µs from a base stamp
//	                      kept for each 64 rows (int32; a time too far from
//	                      it in a side table)
//	lat                   last stageTimestamp − first in µs (uint32; a
//	                      latency that does not fit in a side table)
//	id                    the auditID as 16 bytes when it is a canonical
//	                      lower-case UUID (what the apiserver makes); any
//	                      other spelling in a side table
//	flags                 SharedID, the URI kept as a tail, open, side entries
//	events                where the request's lines are: per event the input,
//	                      offset, length and line number as varints relative
//	                      to where the previous line ended (the lines of one
//	                      request are near each other and near the previous
//	                      request's), with a checkpoint every 64 rows
//
// Measured (TestIndexBytesPerRequest): the index made from a full store
// holds 61.6 bytes a request on a 100 MB hack/genlog log and 50.2 on 1 GB
// (604,842 requests), where the store's *Requests hold 347 and 311; loaded
// through an indexing store (indexstore.go), the index, its table of rows
// by auditID and the streaming store's own state hold 63.6 on 1 GB.
//
//   - The dictionaries hold the store's interned values: Who (user,
//     groups, impersonation, IPs, agent, credential) and What (level,
//     stage, verb, resource, namespace, code, message, decision, reason)
//     are shared by the requests of one client doing one thing, so a Who
//     or What is one dictionary value (a combination of fields), numbered
//     by value and copied into the index's own text (a streaming store
//     starts its tables afresh every few thousand values). A
//     filter term reads one of them (user, group, ip, agent, cred: Who;
//     verb, resource, ns, code, stage, level, decision, reason, message:
//     What; name: the name dictionary): it is decided once per dictionary
//     value, then the rows are a scan of ids (filter/column.go). Terms on
//     the row's own values (uri, id, since, until, latency) and bare words
//     run on a request filled from the row (Fill).
//   - No bitmaps: a filter's result is the list of matching rows (as the
//     explorer's today), and a scan of 6 M rows of 1–2 byte ids is tens of
//     milliseconds. Posting lists (github.com/RoaringBitmap/roaring) would
//     pay for a rare value of a big column, and cost at least 2 bytes a row
//     per column indexed: over the budget of 64 bytes a row. Not added.
//   - A request is materialized on demand, two ways: Fill, from the columns
//     alone (every field a filter, a table row or the Summary reads; its
//     events carry where the lines are but not their stage and time), and
//     Request, which reads the request's lines back (Ref, source.Set.Raw)
//     and merges them with a Store, so that its events, stages and every
//     value follow the store's own merge rules (Store.owner, the
//     latest-stage rule of merge, Done): nothing of them is copied here.
//   - Requests that may still gain a stage are read as the store reads
//     them: a row stays in the tail (its *Request) until Done says no stage
//     will follow, or sealLag rows have come after it (an endless watch must
//     not hold back the rows after it); a row sealed open is read from its
//     *Request (flag open) until it is done, then written again. A request
//     that gains a stage after it was sealed (lines out of order) or is
//     found to share its auditID is written again too, its events then in a
//     side table. Done, the latest-stage rule and Store.owner are called,
//     never copied: the rows hold what the store merged. Two feeds: Sync,
//     from a full store's snapshots (Snapshot.Late), and the indexing store
//     (indexstore.go), a streaming store that hands each request to the
//     index and forgets it.
//   - Gzipped backups and streams: the Refs are the store's, so their lines
//     come back from the source set's spool (source/raw.go: 64 MiB in
//     memory, the rest in an unlinked temporary file), which is bounded in
//     memory. No access index into the gzip files: the spool already
//     exists, is tested, and costs disk rather than memory; an access index
//     (checkpoints of 32 KiB windows every few MB) would save that disk at
//     the cost of a decompression of up to a checkpoint's span per line
//     read back (a Detail is one, an -o json of the matches thousands).

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"math"
	"slices"
	"unsafe"
)

// chunkRows is how many rows one chunk of columns holds.
const chunkRows = 1 << 12

// evEvery is how many rows one events checkpoint spans.
const evEvery = 64

// latOver is the lat of a row whose latency does not fit (or that lacks
// one of its times): its last stamp is in Index.lastOver.
const latOver = ^uint32(0)

// A row's first is firstNone when the request has no received time, and
// firstOver when it is too far from the group's tbase (Index.firstOver).
const (
	firstNone = math.MinInt32
	firstOver = math.MinInt32 + 1
)

const (
	flagShared  = 1 << iota // Request.SharedID
	flagURITail             // the uri dictionary value is the tail (Request.uriTail)
	flagIDSide              // the auditID is in Index.idSide
	flagEvSide              // the events are in Index.evSide (re-encoded)
	flagOpen                // the request may gain a stage: read Index.open
)

// sealLag is how many rows may follow a request not yet done before it is
// put in the columns all the same (an endless watch must not keep every
// row after it out of them).
const sealLag = 4096

// Column names a dictionary column of the index: the values a filter term
// may be decided on once each.
type Column uint8

const (
	ColWho  Column = iota // *Who
	ColWhat               // *What
	ColName               // the object name
	NumColumns
)

// idCol is a column of dictionary ids of one chunk: 1, 2 or 4 bytes each.
type idCol struct {
	w   uint8
	b8  []uint8
	b16 []uint16
	b32 []uint32
}

func (c *idCol) get(i int) uint32 {
	switch c.w {
	case 1:
		return uint32(c.b8[i])
	case 2:
		return uint32(c.b16[i])
	}
	return c.b32[i]
}

func (c *idCol) set(i int, v uint32) {
	c.widen(v)
	switch c.w {
	case 1:
		c.b8[i] = uint8(v)
	case 2:
		c.b16[i] = uint16(v)
	default:
		c.b32[i] = v
	}
}

func (c *idCol) add(v uint32) {
	if c.w == 0 {
		c.w, c.b8 = 1, make([]uint8, 0, chunkRows)
	}
	c.widen(v)
	switch c.w {
	case 1:
		c.b8 = append(c.b8, uint8(v))
	case 2:
		c.b16 = append(c.b16, uint16(v))
	default:
		c.b32 = append(c.b32, v)
	}
}

// widen makes room for id v.
func (c *idCol) widen(v uint32) {
	if c.w == 1 && v > 0xff {
		c.b16 = make([]uint16, len(c.b8), chunkRows)
		for i, x := range c.b8 {
			c.b16[i] = uint16(x)
		}
		c.w, c.b8 = 2, nil
	}
	if c.w == 2 && v > 0xffff {
		c.b32 = make([]uint32, len(c.b16), chunkRows)
		for i, x := range c.b16 {
			c.b32[i] = uint32(x)
		}
		c.w, c.b16 = 4, nil
	}
}

// chunk is chunkRows rows of every column.
type chunk struct {
	who, what, name, uri idCol
	first                []int32 // µs from the row's group's tbase, or firstNone, firstOver
	tbase                []int64 // a stamp for each evEvery rows (0: none yet)
	lat                  []uint32
	id                   [][16]byte
	flags                []uint8
	ev                   []byte   // events, varints (see putEvents)
	evAt                 []uint32 // offset in ev of every evEvery-th row
}

func newChunk() *chunk {
	return &chunk{
		first: make([]int32, 0, chunkRows),
		tbase: make([]int64, chunkRows/evEvery),
		lat:   make([]uint32, 0, chunkRows),
		id:    make([][16]byte, 0, chunkRows),
		flags: make([]uint8, 0, chunkRows),
		evAt:  make([]uint32, 0, chunkRows/evEvery),
	}
}

// strDict numbers strings: id 0 is "".
type strDict struct {
	strs []string
	ids  map[string]uint32
	text text
}

func (d *strDict) id(s string) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := d.ids[s]; ok {
		return id
	}
	if d.ids == nil {
		d.ids = map[string]uint32{}
		d.strs = []string{""}
	}
	c := d.text.copy(s) // s may be text of a request the store forgets
	id := uint32(len(d.strs))
	d.strs = append(d.strs, c)
	d.ids[c] = id
	return id
}

func (d *strDict) str(id uint32) string {
	if id == 0 {
		return ""
	}
	return d.strs[id]
}

// dictCache is the size of the caches of the store's Who and What
// pointers a dictionary saw last (a pointer seen is a value known).
const dictCache = 1 << 8

// whoDict numbers Whos by value. A value is copied, strings and lists, into
// the dictionary's own text: a streaming store starts its tables afresh
// every few thousand values, and the index must keep neither its chunks
// nor a second entry for an equal value.
type whoDict struct {
	vals    []*Who
	byHash  map[uint64]uint32 // the value's key hashed (a map of keys would keep each key)
	collide map[string]uint32 // keys whose hash another key has
	cache   [dictCache]struct {
		p  uintptr // not a pointer: a cached Who must not keep the store's chunks
		id uint32
	}
	key  []byte
	text text
}

func (d *whoDict) id(w *Who) uint32 {
	p := uintptr(unsafe.Pointer(w))
	h := p >> 4 % dictCache
	if c := &d.cache[h]; c.p == p && sameWhoValue(d.vals[c.id], w) {
		return c.id // the address may be another Who's by now: the value says
	}
	k := d.key[:0]
	for _, s := range [...]string{w.User, w.ImpersonatedUser, w.UserAgent, w.CredentialID} {
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	for _, l := range [...][]string{w.Groups, w.ImpersonatedGroups, w.SourceIPs} {
		if l == nil {
			k = append(k, 0)
			continue
		}
		k = binary.AppendUvarint(k, uint64(len(l))+1)
		for _, s := range l {
			k = binary.AppendUvarint(k, uint64(len(s)))
			k = append(k, s...)
		}
	}
	d.key = k
	hash := maphash.Bytes(dictSeed, k)
	id, ok := d.byHash[hash]
	if ok && !sameWhoValue(d.vals[id], w) {
		id, ok = d.collide[string(k)]
		if !ok {
			if d.collide == nil {
				d.collide = map[string]uint32{}
			}
			id = uint32(len(d.vals))
			d.collide[string(k)] = id
			d.vals = append(d.vals, d.copyWho(w))
		}
	}
	if !ok {
		if d.byHash == nil {
			d.byHash = map[uint64]uint32{}
		}
		id = uint32(len(d.vals))
		d.vals = append(d.vals, d.copyWho(w))
		d.byHash[hash] = id
	}
	d.cache[h].p, d.cache[h].id = p, id
	return id
}

func (d *whoDict) copyWho(w *Who) *Who {
	return &Who{
		User: d.text.copy(w.User), ImpersonatedUser: d.text.copy(w.ImpersonatedUser),
		UserAgent: d.text.copy(w.UserAgent), CredentialID: d.text.copy(w.CredentialID),
		Groups: d.text.list(w.Groups), ImpersonatedGroups: d.text.list(w.ImpersonatedGroups),
		SourceIPs: d.text.list(w.SourceIPs),
	}
}

// sameWhoValue compares two Whos by value (nil and empty lists apart).
func sameWhoValue(a, b *Who) bool {
	sameList := func(x, y []string) bool { return (x == nil) == (y == nil) && slices.Equal(x, y) }
	return a.User == b.User && a.ImpersonatedUser == b.ImpersonatedUser && a.UserAgent == b.UserAgent &&
		a.CredentialID == b.CredentialID && sameList(a.Groups, b.Groups) &&
		sameList(a.ImpersonatedGroups, b.ImpersonatedGroups) && sameList(a.SourceIPs, b.SourceIPs)
}

// dictSeed hashes the dictionaries' values.
var dictSeed = maphash.MakeSeed()

// whatDict numbers Whats by value (see whoDict).
type whatDict struct {
	vals    []*What
	byHash  map[uint64]uint32 // the value hashed (a map of Whats would keep each twice)
	collide map[What]uint32   // values whose hash another value has; keys are the copies in vals
	cache   [dictCache]struct {
		p  uintptr // see whoDict.cache
		id uint32
	}
	text text
}

func (d *whatDict) id(w *What) uint32 {
	p := uintptr(unsafe.Pointer(w))
	h := p >> 4 % dictCache
	if c := &d.cache[h]; c.p == p && *d.vals[c.id] == *w {
		return c.id // the address may be another What's by now: the value says
	}
	hash := maphash.Comparable(dictSeed, *w)
	id, ok := d.byHash[hash]
	if ok && *d.vals[id] != *w {
		id, ok = d.collide[*w]
		if !ok {
			if d.collide == nil {
				d.collide = map[What]uint32{}
			}
			id = uint32(len(d.vals))
			d.vals = append(d.vals, d.copyWhat(w))
			d.collide[*d.vals[id]] = id
		}
	}
	if !ok {
		if d.byHash == nil {
			d.byHash = map[uint64]uint32{}
		}
		id = uint32(len(d.vals))
		d.vals = append(d.vals, d.copyWhat(w))
		d.byHash[hash] = id
	}
	d.cache[h].p, d.cache[h].id = p, id
	return id
}

func (d *whatDict) copyWhat(w *What) *What {
	v := *w
	for _, f := range []*string{&v.Level, &v.Stage, &v.Verb, &v.APIGroup, &v.APIVersion, &v.Resource, &v.Subresource, &v.Namespace, &v.Message, &v.Decision, &v.Reason} {
		*f = d.text.copy(*f)
	}
	return &v
}

// text is an arena of strings whose chunks grow with it: a small
// dictionary keeps little.
type text struct{ b []byte }

func (t *text) copy(s string) string {
	if s == "" {
		return ""
	}
	if cap(t.b)-len(t.b) < len(s) && len(s) <= arenaChunk/8 {
		t.b = make([]byte, 0, min(arenaChunk, max(4<<10, 2*cap(t.b))))
	}
	return copyInto(&t.b, s)
}

func (t *text) list(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = t.copy(s)
	}
	return out
}

// Index is the columnar form of a store's requests (see the top of this
// file). It is not safe for concurrent use: one writer (Append, Update,
// Sync) and readers that take turns with it, as the store's readers take
// its lock.
type Index struct {
	chunks []*chunk

	whos  whoDict
	whats whatDict
	names strDict
	uris  strDict

	// side tables, for the few rows the columns cannot hold
	idSide    map[int32]string // auditIDs that are not canonical UUIDs
	lastOver  map[int32]int64  // last stamps where lat is latOver
	firstOver map[int32]int64  // first stamps too far from their group's tbase
	evSide    map[int32][]byte // events of rows written again, as putEvents writes them from nothing

	// Rows [0, sealed) are in the columns; rows [sealed, n) are tail,
	// their *Request read as the store has it. A row is sealed once its
	// request is Done, or sealLag rows have come after it; a sealed row
	// whose request was not done is flagged open and read from its
	// *Request (open) until Sync finds it done.
	sealed    int
	tail      []*Request
	open      map[int32]*Request
	src       *Store  // the indexing store feeding the index (indexstore.go)
	ids       idTable // rows handed on by auditID (indexing store)
	rewritten []int32 // see Rewritten
	synced    int     // requests of the store added
	lateSeen  int     // entries of Snapshot.Late looked at

	evCur cursor // where the last row's lines ended (Append)
}

// NewIndex returns an empty index.
func NewIndex() *Index { return &Index{} }

// Len is the number of rows.
func (ix *Index) Len() int {
	if ix.src != nil {
		return int(ix.src.stream.next)
	}
	return ix.sealed + len(ix.tail)
}

// Sealed is the number of rows in the columns; rows from Sealed on are
// read from their *Request (Live).
func (ix *Index) Sealed() int { return ix.sealed }

// Live is the *Request a row is read from (a row not sealed, or sealed
// open), or nil when the columns hold it. Read it as the store's readers
// do (Store.Read).
func (ix *Index) Live(row int) *Request {
	if row >= ix.sealed {
		if k := row - ix.sealed; k < len(ix.tail) && ix.tail[k] != nil {
			return ix.tail[k]
		}
		return ix.src.openRequest(uint64(row)) // indexing store: not yet done
	}
	if ix.chunks[row/chunkRows].flags[row%chunkRows]&flagOpen != 0 {
		if ix.src != nil {
			return ix.src.openRequest(uint64(row))
		}
		return ix.open[int32(row)]
	}
	return nil
}

// Add adds a row for r, in the tail until Seal puts it in the columns.
func (ix *Index) Add(r *Request) int {
	ix.tail = append(ix.tail, r)
	return ix.sealed + len(ix.tail) - 1
}

// Seal puts tail rows in the columns: those whose request is done, and
// those sealLag rows or more behind the last; with all, every one.
func (ix *Index) Seal(all bool) {
	k := 0
	for ; k < len(ix.tail); k++ {
		r := ix.tail[k]
		if !all && !r.Done() && len(ix.tail)-k <= sealLag {
			break
		}
		ix.put(r, !r.Done())
	}
	ix.dropSealed(k)
}

// dropSealed drops the first k requests of the tail, now rows, and gives
// back a tail grown far beyond what it holds.
func (ix *Index) dropSealed(k int) {
	if k == 0 {
		return
	}
	n := copy(ix.tail, ix.tail[k:])
	clear(ix.tail[n:])
	ix.tail = ix.tail[:n]
	if cap(ix.tail) > 4*sealLag && n < sealLag {
		ix.tail = append([]*Request(nil), ix.tail...)
	}
}

// put writes r as row sealed; open: r may still gain a stage (it is
// read from its *Request until Sync or the indexing store says it is
// done).
func (ix *Index) put(r *Request, open bool) {
	row := ix.sealed
	if row%chunkRows == 0 {
		if len(ix.chunks) > 0 {
			c := ix.chunks[len(ix.chunks)-1]
			c.ev = append([]byte(nil), c.ev...) // full: no room kept
		}
		ix.chunks = append(ix.chunks, newChunk())
	}
	c := ix.chunks[len(ix.chunks)-1]
	c.who.add(0)
	c.what.add(0)
	c.name.add(0)
	c.uri.add(0)
	c.first = append(c.first, 0)
	c.lat = append(c.lat, 0)
	c.id = append(c.id, [16]byte{})
	c.flags = append(c.flags, 0)
	ix.sealed++
	ix.setValues(row, r)
	if i := row % chunkRows; i%evEvery == 0 {
		c.evAt = append(c.evAt, uint32(len(c.ev)))
		ix.evCur = cursor{} // a checkpoint starts from nothing
	}
	if !open {
		c.ev = putEvents(c.ev, &ix.evCur, r.Events)
		return
	}
	c.ev = putEvents(c.ev, &ix.evCur, nil)
	c.flags[row%chunkRows] |= flagOpen
	if ix.src != nil {
		return // read from the store's open requests (it may move them: evacuate)
	}
	if ix.open == nil {
		ix.open = map[int32]*Request{}
	}
	ix.open[int32(row)] = r
}

// setValues writes every column of row but the events.
func (ix *Index) setValues(row int, r *Request) {
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	k := int32(row)
	c.who.set(i, ix.whos.id(r.Who))
	c.what.set(i, ix.whats.id(r.What))
	c.name.set(i, ix.names.id(r.Name))
	c.uri.set(i, ix.uris.id(r.uri))
	delete(ix.firstOver, k)
	c.first[i] = firstNone
	if r.first != 0 {
		base := &c.tbase[i/evEvery]
		if *base == 0 {
			*base = r.first
		}
		if d := r.first - *base; d > firstOver && d <= math.MaxInt32 {
			c.first[i] = int32(d)
		} else {
			c.first[i] = firstOver
			if ix.firstOver == nil {
				ix.firstOver = map[int32]int64{}
			}
			ix.firstOver[k] = r.first
		}
	}
	var fl uint8
	if r.SharedID {
		fl |= flagShared
	}
	if r.uriTail {
		fl |= flagURITail
	}
	delete(ix.lastOver, k)
	if d := r.last - r.first; r.first != 0 && r.last != 0 && d >= 0 && d < int64(latOver) {
		c.lat[i] = uint32(d)
	} else {
		c.lat[i] = latOver
		if r.last != 0 {
			if ix.lastOver == nil {
				ix.lastOver = map[int32]int64{}
			}
			ix.lastOver[k] = r.last
		}
	}
	delete(ix.idSide, k)
	if u, ok := parseUUID(r.AuditID); ok {
		c.id[i] = u
	} else {
		fl |= flagIDSide
		if ix.idSide == nil {
			ix.idSide = map[int32]string{}
		}
		ix.idSide[k] = string([]byte(r.AuditID))
	}
	c.flags[i] = fl | c.flags[i]&(flagEvSide|flagOpen)
}

// cursor is where the previous line of a checkpoint's rows ended: input,
// offset past its newline, next line number.
type cursor struct {
	input int64
	off   int64
	line  int64
}

// putEvents appends the events of one row: a header holding their count
// (its low 3 bits; 7: the rest follows) and the first event's input as a
// difference from cur's (above them), then per event the offset and line
// number as differences from where cur says the previous line ended, the
// length, and (after the first) the input's difference. Lines of one
// request, and of one request and the next, mostly follow one another: a
// few bytes an event.
func putEvents(b []byte, cur *cursor, evs []EventRef) []byte {
	n := uint64(min(len(evs), 7))
	var in0 uint64
	if len(evs) > 0 {
		in0 = zigzag(int64(evs[0].Input) - cur.input)
	}
	b = binary.AppendUvarint(b, in0<<3|n)
	if n == 7 {
		b = binary.AppendUvarint(b, uint64(len(evs)-7))
	}
	for j, e := range evs {
		if j > 0 {
			b = binary.AppendVarint(b, int64(e.Input)-cur.input)
		}
		b = binary.AppendVarint(b, e.Off-cur.off)
		b = binary.AppendUvarint(b, uint64(uint32(e.Len)))
		b = binary.AppendVarint(b, e.Line-cur.line)
		*cur = cursor{int64(e.Input), e.Off + int64(e.Len) + 1, e.Line + 1}
	}
	return b
}

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// events reads the events of one row at p (see putEvents), appending them
// to dst when add, and moves cur past them.
func (cur *cursor) events(b []byte, p int, dst []EventRef, add bool) (int, []EventRef) {
	h, k := binary.Uvarint(b[p:])
	p += k
	n := h & 7
	if n == 7 {
		x, k := binary.Uvarint(b[p:])
		p += k
		n += x
	}
	for j := uint64(0); j < n; j++ {
		din := unzigzag(h >> 3)
		if j > 0 {
			din, k = binary.Varint(b[p:])
			p += k
		}
		in := cur.input + din
		d, k := binary.Varint(b[p:])
		p += k
		off := cur.off + d
		l, k := binary.Uvarint(b[p:])
		p += k
		d, k = binary.Varint(b[p:])
		p += k
		line := cur.line + d
		if add {
			dst = append(dst, EventRef{Ref: Ref{Input: int32(in), Len: int32(uint32(l)), Off: off, Line: line}})
		}
		*cur = cursor{in, off + int64(uint32(l)) + 1, line + 1}
	}
	return p, dst
}

// Events appends the Refs of row's events (in the order read) to dst.
func (ix *Index) Events(row int, dst []EventRef) []EventRef {
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	if c.flags[i]&flagEvSide != 0 {
		var cur cursor
		_, dst = cur.events(ix.evSide[int32(row)], 0, dst, true)
		return dst
	}
	var cur cursor
	p := int(c.evAt[i/evEvery])
	for k := i - i%evEvery; k < i; k++ {
		p, _ = cur.events(c.ev, p, nil, false)
	}
	_, dst = cur.events(c.ev, p, dst, true)
	return dst
}

// Update writes row again with r's values (r gained a stage after the row
// was made: Snapshot.Late).
func (ix *Index) Update(row int, r *Request) {
	ix.setValues(row, r)
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	if ix.evSide == nil {
		ix.evSide = map[int32][]byte{}
	}
	var cur cursor
	ix.evSide[int32(row)] = putEvents(ix.evSide[int32(row)][:0], &cur, r.Events)
	c.flags[i] = c.flags[i]&^flagOpen | flagEvSide
	delete(ix.open, int32(row))
	ix.rewritten = append(ix.rewritten, int32(row))
}

// Rewritten lists the sealed rows written again (Update), in the order it
// happened: a reader that keeps answers about rows (a filter's result)
// looks again at those listed since it last looked. Append-only.
func (ix *Index) Rewritten() []int32 { return ix.rewritten[:len(ix.rewritten):len(ix.rewritten)] }

// ID is the dictionary id of row's value in column col.
func (ix *Index) ID(col Column, row int) uint32 {
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	switch col {
	case ColWho:
		return c.who.get(i)
	case ColWhat:
		return c.what.get(i)
	}
	return c.name.get(i)
}

// DictLen is the number of values of column col's dictionary (ids are
// below it).
func (ix *Index) DictLen(col Column) int {
	switch col {
	case ColWho:
		return len(ix.whos.vals)
	case ColWhat:
		return len(ix.whats.vals)
	}
	return max(1, len(ix.names.strs))
}

// Value sets r to a request holding only the value id of column col (the
// others empty), so that a filter term on that column alone can be decided
// for every row that holds it.
func (ix *Index) Value(col Column, id uint32, r *Request) {
	*r = Request{Who: noWho, What: noWhat}
	switch col {
	case ColWho:
		r.Who = ix.whos.vals[id]
	case ColWhat:
		r.What = ix.whats.vals[id]
	default:
		r.Name = ix.names.str(id)
	}
}

// Probe is a request filled from a row (Fill), reused from row to row.
type Probe struct {
	Request
	id  [36]byte
	evs []EventRef
}

// Parts says what of a row FillParts fills.
type Parts uint8

const (
	PartWho    Parts = 1 << iota // Who
	PartWhat                     // What
	PartName                     // Name
	PartURI                      // the requestURI (with What and Name, which it may be cut against)
	PartTimes                    // First, Last
	PartID                       // AuditID
	PartEvents                   // Events (Refs only)
	PartAll    = PartWho | PartWhat | PartName | PartURI | PartTimes | PartID
)

// Fill sets p to row's request as the columns hold it, with its events'
// Refs when events (their stage and time are not kept: Request reads
// them). An open row is its *Request. The AuditID string is p's until
// the next Fill of p. The result is p's Request, or the open request.
func (ix *Index) Fill(row int, p *Probe, events bool) *Request {
	parts := PartAll
	if events {
		parts |= PartEvents
	}
	return ix.FillParts(row, p, parts)
}

// FillParts is Fill of only some parts (the others are empty), for a
// filter term that reads only them.
func (ix *Index) FillParts(row int, p *Probe, parts Parts) *Request {
	if r := ix.Live(row); r != nil {
		return r
	}
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	fl := c.flags[i]
	r := &p.Request
	*r = Request{Who: noWho, What: noWhat, SharedID: fl&flagShared != 0}
	if parts&PartURI != 0 {
		parts |= PartWhat | PartName
		r.uri, r.uriTail = ix.uris.str(c.uri.get(i)), fl&flagURITail != 0
	}
	if parts&PartWho != 0 {
		r.Who = ix.whos.vals[c.who.get(i)]
	}
	if parts&PartWhat != 0 {
		r.What = ix.whats.vals[c.what.get(i)]
	}
	if parts&PartName != 0 {
		r.Name = ix.names.str(c.name.get(i))
	}
	if parts&PartTimes != 0 {
		switch d := c.first[i]; d {
		case firstNone:
		case firstOver:
			r.first = ix.firstOver[int32(row)]
		default:
			r.first = c.tbase[i/evEvery] + int64(d)
		}
		if l := c.lat[i]; l != latOver {
			r.last = r.first + int64(l)
		} else {
			r.last = ix.lastOver[int32(row)]
		}
	}
	if parts&PartID != 0 {
		if fl&flagIDSide != 0 {
			r.AuditID = ix.idSide[int32(row)]
		} else {
			formatUUID(&p.id, &c.id[i])
			r.AuditID = bytesString(p.id[:])
		}
	}
	if parts&PartEvents != 0 {
		p.evs = ix.Events(row, p.evs[:0])
		r.Events = p.evs
	}
	return r
}

// UUID is row's auditID as 16 bytes, when the columns keep it so (a
// canonical lower-case UUID, what the apiserver makes; ok false: the row
// keeps it as text, or is read from its *Request). Read it as the index is
// read.
func (ix *Index) UUID(row int) (u [16]byte, ok bool) {
	if row >= ix.sealed {
		return u, false
	}
	c, i := ix.chunks[row/chunkRows], row%chunkRows
	if c.flags[i]&(flagIDSide|flagOpen) != 0 {
		return u, false
	}
	return c.id[i], true
}

// ParseUUID reads s as the columns keep an auditID (UUID): a canonical
// lower-case UUID, 8-4-4-4-12 hex digits, and nothing else.
func ParseUUID(s string) ([16]byte, bool) { return parseUUID(s) }

// ChunkRows is how many rows one chunk of the columns holds (ChunkView).
const ChunkRows = chunkRows

// ChunkView is one chunk of sealed rows, for scans.
type ChunkView struct {
	Lo, N int // its rows are [Lo, Lo+N)
	c     *chunk
}

// Chunk is the chunk of sealed rows holding row.
func (ix *Index) Chunk(row int) ChunkView {
	k := row / chunkRows
	return ChunkView{Lo: k * chunkRows, N: min(chunkRows, ix.sealed-k*chunkRows), c: ix.chunks[k]}
}

// IDs are the ids of column col in the chunk: one of the slices is set,
// at the width the chunk keeps them.
func (v ChunkView) IDs(col Column) (b8 []uint8, b16 []uint16, b32 []uint32) {
	c := &v.c.name
	switch col {
	case ColWho:
		c = &v.c.who
	case ColWhat:
		c = &v.c.what
	}
	return c.b8[:min(len(c.b8), v.N)], c.b16[:min(len(c.b16), v.N)], c.b32[:min(len(c.b32), v.N)]
}

// Open reports whether the chunk's i-th row is read from its *Request
// (Index.Live) rather than the columns.
func (v ChunkView) Open(i int) bool { return v.c.flags[i]&flagOpen != 0 }

// Request is row's request whole: its lines read again with raw and
// merged by a store, as the store that read them first merged them (every
// value, every event's stage and time). An open row is its *Request.
func (ix *Index) Request(row int, raw func(Ref) ([]byte, error)) (*Request, error) {
	if r := ix.Live(row); r != nil {
		return r, nil
	}
	var p Probe
	filled := ix.Fill(row, &p, true)
	st := NewStore()
	// room for one request: a store's first slabs and chunks are sized
	// for a log, a thousand times what one request takes
	st.reqSlab, st.eventPool = make([]Request, 1), make([]EventRef, 4)
	st.in.arena, st.in.table = make([]byte, 0, 4<<10), make([]byte, 0, 4<<10)
	for _, e := range filled.Events {
		line, err := raw(e.Ref)
		if err != nil {
			return nil, err
		}
		if _, _, ok := st.AddEvent(line, e.Ref); !ok {
			if _, _, ok := st.AddEventItem(line, e.Ref); !ok {
				return nil, errors.New("an event line read again is no longer an audit event (the file changed?)")
			}
		}
	}
	reqs := st.Snapshot().Requests
	if len(reqs) != 1 {
		return nil, errors.New("the lines of one request read again made another number of requests (the file changed?)")
	}
	r := reqs[0]
	r.SharedID = filled.SharedID
	return r, nil
}

// Sync brings the index up to snap (Store.Read holds the store still):
// a row for each request the store added, in the store's order, sealed as
// Seal says; a sealed open row whose request is now done, or a request that
// gained a stage after it was sealed (snap.Late: a log whose lines are out
// of order), is written again. A row reads as the store's request reads.
func (ix *Index) Sync(snap Snapshot) {
	if late := snap.Late[min(ix.lateSeen, len(snap.Late)):]; len(late) > 0 {
		// rare: the rows are the store's order, so one pass finds them
		changed := make(map[*Request]bool, len(late))
		for _, r := range late {
			changed[r] = true
		}
		for row, r := range snap.Requests[:min(ix.sealed, len(snap.Requests))] {
			if changed[r] && ix.Live(row) == nil {
				ix.Update(row, r)
			}
		}
	}
	ix.lateSeen = len(snap.Late)
	for row, r := range ix.open {
		if r.Done() {
			ix.Update(int(row), r)
		}
	}
	for _, r := range snap.Requests[ix.synced:] {
		ix.Add(r)
	}
	ix.synced = len(snap.Requests)
	ix.Seal(false)
}

// parseUUID reads a canonical lower-case UUID (8-4-4-4-12 hex digits):
// what formatUUID spells again byte for byte.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	j := 0
	for i := 0; i < 36; i += 2 {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i--
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return u, false
		}
		u[j] = hi<<4 | lo
		j++
	}
	return u, j == 16
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

func formatUUID(dst *[36]byte, u *[16]byte) {
	hex.Encode(dst[0:8], u[0:4])
	dst[8] = '-'
	hex.Encode(dst[9:13], u[4:6])
	dst[13] = '-'
	hex.Encode(dst[14:18], u[6:8])
	dst[18] = '-'
	hex.Encode(dst[19:23], u[8:10])
	dst[23] = '-'
	hex.Encode(dst[24:36], u[10:16])
}
