package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// Following a live file with tail -F semantics. The apiserver's rotator
// (lumberjack) closes the live file, renames it to a backup and creates a new
// one; logrotate may truncate it in place (copytruncate) or delete it and
// create it again. A followed reader polls its open file for growth; when a
// poll finds nothing new it compares the path with the open file:
//
//   - another file at the path (renamed away, replaced, deleted and made
//     again): the old file is read to its end once more, then the new one
//     is read from its start, as a new input of the set (the old file stays
//     open, so its lines can still be shown after it was renamed or gzipped);
//   - the same file, shorter than what was read: it was truncated; what
//     follows is read from its start, as a new input (the old lines are gone
//     from the file: Raw says so rather than show other bytes);
//   - no file at the path: keep the old one open and wait for a new one.
//
// So no line is read twice and none is skipped, as long as a rotated file is
// not written to after the new one appeared (lumberjack closes it first).

// follow polls the live readers until ctx ends.
func (s *Set) follow(ctx context.Context, st *audit.Store, live []*reader, p *progress) error {
	timer := time.NewTimer(s.opt.PollInterval)
	defer timer.Stop()
	for {
		grew := false
		for i, r := range live {
			before := r.lr.lineNo
			r.lr.resume()
			r.drain(ctx)
			if r.lr.lineNo != before {
				grew = true
				continue
			}
			if next := s.rotated(r, st, p); next != nil {
				live[i] = next
				grew = true
			}
		}
		if !grew || ctx.Err() != nil {
			for _, r := range live {
				r.flushKlog() // no continuation line came: the message is complete
			}
			p.report()
			timer.Reset(s.opt.PollInterval)
			select {
			case <-ctx.Done():
				for _, r := range live {
					r.lr.hold = false
					r.lr.resume()
					r.drain(context.Background())
					r.finish()
				}
				p.report()
				return nil
			case <-timer.C:
			}
		}
	}
}

// rotated checks whether r's path now names another file, or its file was
// truncated; if so it finishes r and returns a reader of what is at the path
// now (nil: nothing changed, or nothing to read yet).
func (s *Set) rotated(r *reader, st *audit.Store, p *progress) *reader {
	in := r.in
	if in.file == nil {
		return nil
	}
	now, err := os.Stat(in.Name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) && !in.warned {
			in.warned = true
			s.warn(fmt.Sprintf("%s: %v (still following the file that was there)", in.Name, oneLine(err)))
		}
		return nil // deleted: wait for the next one
	}
	open, err := in.file.Stat()
	if err != nil {
		return nil
	}
	truncated := os.SameFile(now, open) && now.Size() < r.lr.consumed()
	if os.SameFile(now, open) && !truncated {
		return nil
	}
	if !now.Mode().IsRegular() {
		return nil
	}
	// The new live file is opened before the backups are listed: rotations
	// can come faster than polls, and the backups made between the old file
	// and this one are read before it. A rotation of this one after this
	// point is the next poll's.
	next, err := openFile(in.Name, true)
	if err != nil {
		return nil // gone again between stat and open: the next poll sees
	}
	// The old file first: whatever was written before the switch.
	r.lr.resume()
	r.drain(context.Background())
	r.lr.hold = false
	r.lr.resume()
	r.drain(context.Background())
	r.finish()
	if truncated {
		s.mu.Lock()
		in.truncated = true
		s.mu.Unlock()
	}
	if !truncated {
		cur, _ := next.file.Stat()
		for _, b := range missedBackups(in.Name, in.file, open, next.file, cur) {
			s.readWhole(b, in.family, st, p)
		}
	}
	next.family = in.family
	nr := s.readerOfNew(next, st, p)
	if nr != nil {
		nr.lr.hold = !next.gz
	}
	return nr
}

// readerOfNew adds an input found while loading (a rotated file, a backup
// made since) to the set and returns its reader (nil, with a warning, when
// it cannot be read).
func (s *Set) readerOfNew(in *input, st *audit.Store, p *progress) *reader {
	r, err := s.newReader(s.addInput(in), st, p)
	if err != nil {
		s.warn(err.Error())
		return nil
	}
	return r
}

// addInput appends an input while readers may be looking up others.
func (s *Set) addInput(in *input) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inputs = append(s.inputs, in)
	return int32(len(s.inputs) - 1)
}

// missedBackups lists the rotated backups of path made after the file old
// (an open file that was the live one; oldFile is it) and before cur (the
// live one now; curFile is it), oldest first. old is found among them by identity, or
// once compressed (and the plain copy removed) by content: a .gz whose
// length and first bytes are old's. Only when neither finds it (removed
// already) is it known by time: the first backup rotated after its last
// write. File times are coarse (a clock tick of a few milliseconds), so
// time alone took the backup before old's for old's own when old lived
// less than a tick, and old's lines were read twice.
func missedBackups(path string, oldFile *os.File, old os.FileInfo, curFile *os.File, cur os.FileInfo) []string {
	backups, err := Backups(path)
	if err != nil {
		return nil
	}
	start := -1
	for i, b := range backups {
		if fi, err := os.Stat(b); err == nil && os.SameFile(fi, old) {
			start = i + 1
			break
		}
	}
	for i := len(backups) - 1; start < 0 && i >= 0; i-- {
		if strings.HasSuffix(backups[i], ".gz") && gzipHolds(backups[i], oldFile, old.Size()) {
			start = i + 1
		}
	}
	if start < 0 {
		start = len(backups)
		for i, b := range backups {
			if _, at, ok := backupOf(b); ok && !at.Before(old.ModTime().UTC().Truncate(time.Millisecond)) {
				start = i + 1 // backups[i] is old, compressed
				break
			}
		}
	}
	out := backups[start:]
	for i, b := range out {
		if fi, err := os.Stat(b); err == nil && cur != nil && os.SameFile(fi, cur) {
			return out[:i] // cur was rotated already: the next poll reads it
		}
		if cur != nil && strings.HasSuffix(b, ".gz") {
			// cur rotated and compressed already: its size now is its last
			if fi, err := curFile.Stat(); err == nil && gzipHolds(b, curFile, fi.Size()) {
				return out[:i]
			}
		}
	}
	return out
}

// gzipSameStart is how many first bytes gzipHolds compares.
const gzipSameStart = 64 << 10

// gzipHolds reports whether the gzip file gz holds what f holds: the
// length its trailer gives (ISIZE, the size modulo 2^32) is size, and its
// first bytes are f's.
func gzipHolds(gz string, f *os.File, size int64) bool {
	if f == nil || size == 0 {
		return false
	}
	z, err := os.Open(gz)
	if err != nil {
		return false
	}
	defer z.Close()
	fi, err := z.Stat()
	if err != nil || fi.Size() < 18 {
		return false
	}
	var trailer [4]byte
	if _, err := z.ReadAt(trailer[:], fi.Size()-4); err != nil || binary.LittleEndian.Uint32(trailer[:]) != uint32(size) {
		return false
	}
	zr, err := gzip.NewReader(z)
	if err != nil {
		return false
	}
	n := min(size, gzipSameStart)
	want, got := make([]byte, n), make([]byte, n)
	if _, err := f.ReadAt(want, 0); err != nil {
		return false
	}
	if _, err := io.ReadFull(zr, got); err != nil {
		return false
	}
	return bytes.Equal(want, got)
}

// readWhole reads one finished file (a backup) to its end as a new input.
func (s *Set) readWhole(path, family string, st *audit.Store, p *progress) {
	in, err := openFile(path, false)
	if errors.Is(err, fs.ErrNotExist) && !strings.HasSuffix(path, ".gz") {
		// compressed since it was listed: the .gz is whole once the
		// plain copy is gone
		in, err = openFile(path+".gz", false)
	}
	if err != nil {
		s.warn(err.Error())
		return
	}
	in.family = family
	if r := s.readerOfNew(in, st, p); r != nil {
		r.drain(context.Background())
		r.finish()
	}
}
