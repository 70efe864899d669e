package source

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// Following local files: each live file is a tailer (tailer.go: how a
// rotated file is followed) over its folder, localDir. The file being read
// stays open: its rest is read from it after it was renamed (or gzipped and
// removed), and its lines can still be shown; when it was truncated, Raw
// says its old lines are gone rather than show other bytes.

// follow polls the live readers until ctx ends.
func (s *Set) follow(ctx context.Context, st *audit.Store, live []*reader, p *progress) error {
	ts := make([]*tailer, len(live))
	for i, r := range live {
		ts[i] = newTailer(s, st, p, &localDir{path: r.in.Name, family: r.in.family}, r.in.Name, r, s.readOf(r.in.family))
	}
	timer := time.NewTimer(s.opt.PollInterval)
	defer timer.Stop()
	for {
		grew := false
		for _, t := range ts {
			g, _, err := t.poll(ctx)
			if err != nil {
				t.say(err.Error() + " (still following the file that was there)") // the error names the file
			}
			grew = grew || g
		}
		if !grew || ctx.Err() != nil {
			for _, t := range ts {
				if t.r != nil {
					t.r.flushKlog() // no continuation line came: the message is complete
				}
			}
			p.report()
			timer.Reset(s.opt.PollInterval)
			select {
			case <-ctx.Done():
				for _, t := range ts {
					t.end()
				}
				p.report()
				return nil
			case <-timer.C:
			}
		}
	}
}

// readOf is the files of a family read already (the backups Open listed),
// by name without compression.
func (s *Set) readOf(family string) map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := map[string]bool{}
	for _, in := range s.inputs {
		if in.family == family {
			done[trimCompressed(in.Name)] = true
		}
	}
	return done
}

// localDir is a local folder holding a live log and its rotated backups
// (Backups names them).
type localDir struct {
	path   string // the live file
	family string
}

func (d *localDir) backups(context.Context) ([]string, error) { return Backups(d.path) }

func (d *localDir) head(ctx context.Context, name string, n int) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if name != d.path && trimCompressed(name) == name {
				return d.head(ctx, name+".gz", n) // compressed since it was listed
			}
			return nil, nil
		}
		return nil, oneLine(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, nil // a FIFO would hang; a folder is not the log
	}
	return fileHead(f, n), nil
}

// fileHead is up to n first bytes of f, unpacked when it is compressed.
func fileHead(f *os.File, n int) []byte {
	b := make([]byte, n)
	k, _ := f.ReadAt(b, 0)
	b = b[:k]
	if z := compression(b); z == "gzip" || z == "zstd" {
		zr, err := unpack(z, io.NewSectionReader(f, 0, 1<<62))
		if err != nil {
			return []byte{}
		}
		out := make([]byte, n)
		k, _ := io.ReadFull(zr, out)
		return out[:k]
	}
	return b
}

func (d *localDir) open(_ context.Context, name string) (*input, []byte, error) {
	live := name == d.path
	in, err := openFile(name, live)
	if errors.Is(err, fs.ErrNotExist) && !live && trimCompressed(name) == name {
		// compressed since it was listed: the .gz is whole once the plain
		// copy is gone
		in, err = openFile(name+".gz", false)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, errTailGone
	}
	if err != nil {
		return nil, nil, err
	}
	in.family = d.family
	if !live {
		return in, nil, nil
	}
	if in.file == nil || in.stream != nil { // not a regular file
		d.discard(in)
		return nil, nil, errTailGone
	}
	return in, fileHead(in.file, fpSize), nil
}

// readOn: the open file is read on, whatever its name now, when it still
// holds what was read (not truncated); the live file's name must still be
// it (when nothing was read, its first bytes cannot tell).
func (d *localDir) readOn(_ context.Context, in *input, name string, off int64, fp []byte, still func() bool) (bool, error) {
	fi, err := in.file.Stat()
	if err != nil || fi.Size() < off || !bytes.Equal(fileHead(in.file, len(fp)), fp) || still != nil && !still() {
		return false, nil
	}
	if name == d.path {
		now, err := os.Stat(name)
		if err != nil || !os.SameFile(now, fi) {
			return false, nil
		}
	}
	return true, nil
}

func (d *localDir) read(r *reader) (int64, []byte) {
	off := r.lr.consumed()
	return off, fileHead(r.in.file, int(min(off, fpSize)))
}

// headOf: the open file, as it is now (it may have been written since it
// was opened).
func (d *localDir) headOf(in *input, _ []byte) []byte { return fileHead(in.file, fpSize) }

func (d *localDir) display(name string) string { return name }

func (d *localDir) discard(in *input) {
	if in.file != nil {
		in.file.Close()
	}
}

// addInput appends an input while readers may be looking up others.
func (s *Set) addInput(in *input) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inputs = append(s.inputs, in)
	return int32(len(s.inputs) - 1)
}
