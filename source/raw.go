package source

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/kauditui/kauditui/audit"
)

// Lines of inputs that cannot be read again (stdin, pipes, gzip, CRI logs,
// whose joined lines exist nowhere whole) are copied into the set's spool as
// they are read: every audit line, every klog message and (up to a budget)
// the other lines, so that what is shown is the line that was logged. A Ref
// into the spool has a negative Off: -(spool offset)-1.
//
// The first DefaultSpoolMemory bytes stay in memory, in big pointer-free
// chunks the GC never scans; the rest goes to a temporary file (mode 0600,
// unlinked at once so it is gone when kauditui exits, however it exits), so
// a gzip bomb or a 10 GB pipe does not become 10 GB of memory.

// defaultSpoolMemory is how much of the spool is kept in memory.
const defaultSpoolMemory = 64 << 20

const (
	spoolChunk = 4 << 20 // in-memory chunk size
	spoolWBuf  = 1 << 20 // write buffer in front of the spool file
	// otherKeep bounds what is kept of one "other" line and of all of them:
	// garbage must not fill the disk.
	otherKeep      = 64 << 10
	otherKeepTotal = 64 << 20
)

type spool struct {
	mu       sync.RWMutex
	memLimit int64
	chunks   [][]byte // in memory: [0, memBytes)
	starts   []int64  // offset of each chunk
	memBytes int64
	file     *os.File // [memBytes, memBytes+fileBytes)
	fileErr  error
	fileSize int64 // bytes written to file
	wbuf     []byte
	size     int64 // total bytes
	other    int64 // bytes kept of "other" lines

	// spilled: the in-memory part [0, memBytes) was moved to the file at
	// spillAt (ShedMemory); the file's bytes from spillAt on are then
	// those of [memBytes, ...) shifted by memBytes.
	spilled bool
	spillAt int64
}

func spooledOff(off int64) int64   { return -off - 1 }
func isSpooled(ref audit.Ref) bool { return ref.Off < 0 }

// RefOrder orders two refs of one input as their bytes came: by line, then
// by where they are in the input or in the spool (several events of one
// line: the items of an EventList, the events of an export record).
func RefOrder(a, b audit.Ref) int {
	pos := func(r audit.Ref) int64 {
		if isSpooled(r) {
			return spooledOff(r.Off)
		}
		return r.Off
	}
	return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(pos(a), pos(b)))
}

// add keeps b and returns its spool offset.
func (s *spool) add(b []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	off := s.size
	if s.file == nil && s.fileErr == nil && s.memBytes+int64(len(b)) <= s.memLimit {
		s.addMem(b)
		s.size += int64(len(b))
		return off, nil
	}
	if err := s.openFile(); err != nil {
		return 0, err
	}
	if len(s.wbuf)+len(b) > spoolWBuf {
		if err := s.flush(); err != nil {
			return 0, err
		}
	}
	if len(b) > spoolWBuf {
		if _, err := s.file.WriteAt(b, s.phys(s.fileSize)); err != nil {
			return 0, err
		}
		s.fileSize += int64(len(b))
	} else {
		if s.wbuf == nil {
			s.wbuf = make([]byte, 0, spoolWBuf)
		}
		s.wbuf = append(s.wbuf, b...)
	}
	s.size += int64(len(b))
	return off, nil
}

// openFile makes the spool's temporary file when there is none yet.
func (s *spool) openFile() error {
	if s.file != nil {
		return nil
	}
	if s.fileErr != nil {
		return s.fileErr
	}
	f, err := os.CreateTemp("", "kauditui-spool-*")
	if err != nil {
		s.fileErr = fmt.Errorf("keeping lines of a stream: %v (set TMPDIR to a writable folder)", err)
		return s.fileErr
	}
	os.Remove(f.Name()) // gone on exit, even a crash; the open file lives on
	s.file = f
	return nil
}

// phys is where byte fo of the file part [memBytes, size) is in the file.
func (s *spool) phys(fo int64) int64 {
	if s.spilled && fo >= s.spillAt {
		return fo + s.memBytes
	}
	return fo
}

// spill moves the in-memory part to the file and frees it: how many bytes
// it freed.
func (s *spool) spill() (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.spilled || s.memBytes == 0 {
		return 0, nil
	}
	if err := s.openFile(); err != nil {
		return 0, err
	}
	if err := s.flush(); err != nil {
		return 0, err
	}
	at := s.fileSize
	for i, c := range s.chunks {
		if _, err := s.file.WriteAt(c, at+s.starts[i]); err != nil {
			return 0, err
		}
	}
	s.spilled, s.spillAt = true, at
	s.chunks, s.starts = nil, nil
	return s.memBytes, nil
}

func (s *spool) addMem(b []byte) {
	var c []byte
	if n := len(s.chunks); n > 0 {
		c = s.chunks[n-1]
	}
	if c == nil || cap(c)-len(c) < len(b) {
		c = make([]byte, 0, max(spoolChunk, len(b)))
		s.chunks = append(s.chunks, c)
		s.starts = append(s.starts, s.memBytes)
	}
	s.chunks[len(s.chunks)-1] = append(c, b...)
	s.memBytes += int64(len(b))
}

func (s *spool) flush() error {
	if len(s.wbuf) == 0 {
		return nil
	}
	if _, err := s.file.WriteAt(s.wbuf, s.phys(s.fileSize)); err != nil {
		return err
	}
	s.fileSize += int64(len(s.wbuf))
	s.wbuf = s.wbuf[:0]
	return nil
}

// unadd takes back the last add (of n bytes at off) when nothing came
// after it and it is still in memory or the write buffer: a repeated line
// that the store dropped need not be kept.
func (s *spool) unadd(off int64, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if off+int64(n) != s.size {
		return
	}
	if s.file == nil {
		c := s.chunks[len(s.chunks)-1]
		if len(c) < n {
			return
		}
		s.chunks[len(s.chunks)-1] = c[:len(c)-n]
		s.memBytes -= int64(n)
	} else {
		if len(s.wbuf) < n {
			return
		}
		s.wbuf = s.wbuf[:len(s.wbuf)-n]
	}
	s.size -= int64(n)
}

// keptOther reserves room for n bytes of an "other" line; false once the
// budget for them is spent.
func (s *spool) keptOther(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.other+int64(n) > otherKeepTotal {
		return false
	}
	s.other += int64(n)
	return true
}

// get returns a copy of the n bytes at spool offset off.
func (s *spool) get(off int64, n int) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if off < 0 || n < 0 || off+int64(n) > s.size {
		return nil, errors.New("not in the spool")
	}
	out := make([]byte, n)
	if off < s.memBytes && s.spilled {
		if _, err := s.file.ReadAt(out[:min(int64(n), s.memBytes-off)], s.spillAt+off); err != nil {
			return nil, err
		}
		if off+int64(n) <= s.memBytes {
			return out, nil
		}
		return nil, errors.New("not in the spool") // a line is never split across the two parts
	}
	if off < s.memBytes {
		i := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] > off }) - 1
		c := s.chunks[i][off-s.starts[i]:]
		if len(c) < n {
			return nil, errors.New("not in the spool")
		}
		copy(out, c)
		return out, nil
	}
	fo := off - s.memBytes
	if fo >= s.fileSize { // still in the write buffer
		copy(out, s.wbuf[fo-s.fileSize:])
		return out, nil
	}
	if _, err := s.file.ReadAt(out, s.phys(fo)); err != nil {
		return nil, err
	}
	return out, nil
}

// ShedMemory moves the lines kept in memory for reading back (those of
// gzip, stdin and CRI inputs) to the spool's temporary file: what kauditui
// gives up when it comes near its memory budget. It says what it did, in
// words for the user ("" when there was nothing to give up).
func (s *Set) ShedMemory() string {
	n, err := s.spool.spill()
	switch {
	case err != nil:
		return fmt.Sprintf("the lines kept for reading back could not go to disk (%v)", oneLine(err))
	case n == 0:
		return ""
	}
	return fmt.Sprintf("%d MiB of lines kept for reading back (gzip, stdin) moved to a temporary file", max(n>>20, 1))
}

func (s *spool) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	s.fileErr = errors.New("closed")
	return err
}

// Raw returns the raw line (or EventList item, or klog message with its
// continuation lines) that ref names, as it was in the input: read again
// with ReadAt from plain files, from the spool for streams, gzip and CRI
// inputs. The bytes are the caller's.
func (s *Set) Raw(ref audit.Ref) ([]byte, error) {
	in, ok := s.input(ref.Input)
	if !ok || ref.Len < 0 {
		return nil, fmt.Errorf("no input %d", ref.Input)
	}
	if isSpooled(ref) {
		b, err := s.spool.get(spooledOff(ref.Off), int(ref.Len))
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", in.Name, ref.Line, err)
		}
		return b, nil
	}
	if in.file == nil || in.spooled {
		return nil, fmt.Errorf("%s: line %d is not kept (a stream keeps its audit and klog lines, and the first %d KiB of other lines while %d MiB last)", in.Name, ref.Line, otherKeep>>10, otherKeepTotal>>20)
	}
	s.mu.Lock()
	gone := in.truncated
	s.mu.Unlock()
	if gone {
		return nil, fmt.Errorf("%s: line %d is gone: the file was truncated while followed", in.Name, ref.Line)
	}
	b := make([]byte, ref.Len)
	if _, err := in.file.ReadAt(b, ref.Off); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", in.Name, ref.Line, oneLine(err))
	}
	return b, nil
}
