package source

import (
	"fmt"
	"sort"
	"sync"

	"github.com/kauditui/kauditui/audit"
)

// memChunk is the size of the byte chunks that hold the raw audit lines of
// inputs that cannot be read again (stdin, gzip, CRI): big and pointer-free,
// so a million lines cost the GC nothing to scan.
const memChunk = 4 << 20

// memLines keeps raw lines by stream offset.
type memLines struct {
	mu     sync.RWMutex
	chunks [][]byte
	index  []memEntry // by off, increasing
}

type memEntry struct {
	off   int64
	chunk int32
	pos   int32
	n     int32
}

func (m *memLines) add(off int64, b []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.index) > 0 && m.index[len(m.index)-1].off >= off {
		return // kept already (several items of one EventList line)
	}
	var c []byte
	if len(m.chunks) > 0 {
		c = m.chunks[len(m.chunks)-1]
	}
	if len(b) > memChunk/4 {
		// a big line gets a chunk of its own (the next small line starts a
		// new chunk: big lines are rare enough for the waste not to matter)
		m.chunks = append(m.chunks, append([]byte(nil), b...))
		m.index = append(m.index, memEntry{off: off, chunk: int32(len(m.chunks) - 1), n: int32(len(b))})
		return
	}
	if c == nil || cap(c)-len(c) < len(b) {
		c = make([]byte, 0, memChunk)
		m.chunks = append(m.chunks, c)
	}
	pos := len(c)
	c = append(c, b...)
	m.chunks[len(m.chunks)-1] = c
	m.index = append(m.index, memEntry{off: off, chunk: int32(len(m.chunks) - 1), pos: int32(pos), n: int32(len(b))})
}

// get returns a copy of n bytes at stream offset off: a kept line, or part
// of one (an item of an EventList line).
func (m *memLines) get(off int64, n int) ([]byte, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	i := sort.Search(len(m.index), func(i int) bool { return m.index[i].off > off }) - 1
	if i < 0 {
		return nil, false
	}
	e := m.index[i]
	d := off - e.off
	if d < 0 || n < 0 || d+int64(n) > int64(e.n) {
		return nil, false
	}
	start := int64(e.pos) + d
	return append([]byte(nil), m.chunks[e.chunk][start:start+int64(n)]...), true
}

// Raw returns the raw line (or EventList item) that ref names, as it was in
// the input: read again with ReadAt from plain files, from memory for stdin,
// gzip and CRI inputs (which keep their audit lines only). The bytes are the
// caller's.
func (s *Set) Raw(ref audit.Ref) ([]byte, error) {
	if ref.Input < 0 || int(ref.Input) >= len(s.inputs) || ref.Len < 0 {
		return nil, fmt.Errorf("no input %d", ref.Input)
	}
	in := s.inputs[ref.Input]
	if in.mem != nil {
		if b, ok := in.mem.get(ref.Off, int(ref.Len)); ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s: line %d is not kept (only audit lines of %s inputs are)", in.Name, ref.Line, in.Format)
	}
	b := make([]byte, ref.Len)
	if _, err := in.file.ReadAt(b, ref.Off); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", in.Name, ref.Line, oneLine(err))
	}
	return b, nil
}
