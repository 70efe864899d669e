package source

// How a rotated file is followed (tail -F), once, for every folder that
// holds a live log and its rotated backups: local files (localDir,
// follow.go) and a node's /var/log through the API server's node proxy
// (nodeFile, nodefiles.go). The rules here are tested as one table run
// against both (tailer_test.go).
//
// A file is known by its fingerprint: its first bytes (up to fpSize), as the
// OpenTelemetry Collector's fileconsumer knows files. An audit line starts
// with its auditID, so two files of one log never start alike. Each poll
// asks what the live file's name holds past the offset and, when there is
// more, the first bytes at the name:
//
//   - they are the fingerprint of the file being read: it is still the
//     live file; what it gained past the offset is read (when it is shorter
//     than what was read, it was truncated: as below);
//   - nothing there: renamed away, the new one not made yet, or removed:
//     wait (the file being read is kept);
//   - other bytes: it was rotated (renamed, renamed and compressed), or
//     truncated in place and written again (copytruncate; also when it was
//     refilled past its old size within one poll, which size alone cannot
//     see). The new live file is opened first (rotations can come faster
//     than polls); then the backups not read yet are listed, and the one
//     whose first bytes are the fingerprint (a .gz unpacked) is the old
//     file: its rest is read from the offset, the backups after it whole,
//     the new live file from its start. A backup that starts as the file
//     just opened is that file, rotated since: the next poll follows it (a
//     local file opened while empty is looked at again as it is then).
//     When no backup holds the old file (truncated in place, removed), a
//     warning says that lines written just before may be missing.
//
// A file read while empty has no fingerprint: once it has grown, the backups
// not read yet tell whether it was rotated meanwhile (then as above);
// otherwise the folder says whether it is still the same file.
//
// So no line is read twice and none is skipped, through any number of
// rotations between two polls, as long as a rotated file is not written to
// after the new one appeared (lumberjack closes it first).

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/kauditui/kauditui/audit"
)

// fpSize is how many first bytes of a file are its fingerprint (the
// Collector's default is 1000): an audit line's auditID is in its first
// hundred.
const fpSize = 1024

// errTailGone: the file is not there (between a rename and the new file, or
// removed).
var errTailGone = errors.New("not there")

// tailDir is a folder holding a live log and its rotated backups, as the
// tailer asks it.
type tailDir interface {
	// backups lists the live file's rotated backups, oldest first.
	backups(ctx context.Context) ([]string, error)
	// head returns up to n first bytes of the file name (a compressed
	// backup unpacked); nil and no error when it is not there. This is how
	// the tailer tells whether a name is still the file being read.
	head(ctx context.Context, name string, n int) ([]byte, error)
	// open opens name from its start as an input (not yet added to the
	// set); for the live file it also returns its first bytes (up to
	// fpSize), read from what was opened. errTailGone: not there.
	open(ctx context.Context, name string) (*input, []byte, error)
	// readOn makes the bytes of name past off the next bytes of in (the
	// input of the file being read): name is the live file (it grew), a
	// backup it became (its rest), or "" (no name holds it any more).
	// False: name does not hold in's file up to off, whose first bytes are
	// fp; or still, when given, said no before any byte was handed on
	// (still asks whether the name still starts with fp).
	readOn(ctx context.Context, in *input, name string, off int64, fp []byte, still func() bool) (bool, error)
	// read is how much of the file r reads was read, and its first bytes
	// (up to fpSize).
	read(r *reader) (off int64, fp []byte)
	// headOf is the first bytes (up to fpSize) of in, which open returned
	// with h: a file opened while empty may have been written since.
	headOf(in *input, h []byte) []byte
	// display is how a file is named to the user.
	display(name string) string
	// discard closes an input that open returned and that is not read.
	discard(in *input)
}

// tailer follows one live file of a folder.
type tailer struct {
	set  *Set
	st   *audit.Store
	p    *progress // nil: streams (no progress to count)
	dir  tailDir
	live string          // the live file's name in dir
	r    *reader         // the file being read; nil once it could not be read on
	fp   []byte          // its first bytes (up to fpSize), taken as they are read
	done map[string]bool // backups read (or being read), by name without compression
	said string          // the last problem told (each is told once)
}

func newTailer(s *Set, st *audit.Store, p *progress, dir tailDir, live string, r *reader, done map[string]bool) *tailer {
	if done == nil {
		done = map[string]bool{}
	}
	t := &tailer{set: s, st: st, p: p, dir: dir, live: live, done: done}
	t.start(r)
	return t
}

// start makes r the reader of the file being read.
func (t *tailer) start(r *reader) {
	t.r, t.fp = r, nil
	t.mark()
}

// mark takes the first bytes of the file being read, until fpSize of them
// were read: after each read, so that what they are is what was read.
func (t *tailer) mark() {
	if t.r != nil && len(t.fp) < fpSize {
		_, t.fp = t.dir.read(t.r)
	}
}

// say tells a problem once (until another one is told).
func (t *tailer) say(msg string) {
	if msg != t.said {
		t.said = msg
		t.set.warn(msg)
	}
}

// poll reads what the live file gained since the last poll, or follows it
// through a rotation. gone: nothing is at the live file's name.
func (t *tailer) poll(ctx context.Context) (grew, gone bool, err error) {
	if t.r == nil {
		return false, false, nil
	}
	off, _ := t.dir.read(t.r)
	fp := t.fp
	if len(fp) > 0 {
		// still the file being read when its first bytes are at the name
		// (asked only when there is more to read: polls of an idle file
		// through the node proxy are one request)
		still := func() bool { return t.is(ctx, t.live, fp) }
		ok, err := t.dir.readOn(ctx, t.r.in, t.live, off, fp, still)
		if err != nil {
			return false, false, err
		}
		if ok {
			return t.readMore(ctx), false, nil
		}
	}
	h, err := t.dir.head(ctx, t.live, fpSize)
	if err != nil {
		return false, false, err
	}
	if h == nil {
		// renamed away, the new one not made yet: what the file being read
		// still gets is read (where the folder can still read it)
		if ok, err := t.dir.readOn(ctx, t.r.in, "", off, fp, nil); err == nil && ok {
			t.readMore(ctx)
		}
		return false, true, nil
	}
	if len(fp) == 0 {
		// nothing read yet: was it rotated since it was seen empty?
		if len(h) == 0 {
			return false, false, nil
		}
		fresh, err := t.fresh(ctx)
		if err != nil {
			return false, false, err
		}
		if len(fresh) == 0 {
			ok, err := t.dir.readOn(ctx, t.r.in, t.live, off, fp, nil)
			if err != nil {
				return false, false, err
			}
			if ok {
				return t.readMore(ctx), false, nil
			}
		}
	}
	grew, err = t.rotated(ctx, off, fp)
	if errors.Is(err, errTailGone) {
		return false, true, nil // gone again between the look and the open
	}
	return grew, false, err
}

// readMore reads what was made the next bytes of the file being read.
func (t *tailer) readMore(ctx context.Context) bool {
	before := t.r.lr.lineNo
	t.r.lr.resume()
	t.r.drain(ctx)
	t.mark()
	return t.r.lr.lineNo != before
}

// fresh lists the backups not read yet, oldest first.
func (t *tailer) fresh(ctx context.Context) ([]string, error) {
	all, err := t.dir.backups(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range all {
		if !t.done[trimCompressed(b)] {
			out = append(out, b)
		}
	}
	return out, nil
}

// is says whether the file name starts with fp.
func (t *tailer) is(ctx context.Context, name string, fp []byte) bool {
	if len(fp) == 0 {
		return false
	}
	h, err := t.dir.head(ctx, name, len(fp))
	return err == nil && bytes.Equal(h, fp)
}

// rotated follows the live file into what it became (see the top of the
// file): the rest of the old file, the backups after it, the new live file.
func (t *tailer) rotated(ctx context.Context, off int64, fp []byte) (bool, error) {
	next, h, err := t.dir.open(ctx, t.live)
	if err != nil {
		return false, err
	}
	fresh, err := t.fresh(ctx)
	if err != nil {
		t.dir.discard(next)
		return false, err
	}
	old := -1
	for i, b := range fresh {
		if t.is(ctx, b, fp) {
			old = i
			break
		}
	}
	// the old file ends here: what it still held, its last line too
	r := t.r
	holds := off > 0
	if holds {
		name := ""
		if old >= 0 {
			name = fresh[old]
		}
		ok, err := t.dir.readOn(ctx, r.in, name, off, fp, nil)
		if err != nil && ctx.Err() == nil {
			t.dir.discard(next)
			return false, err
		}
		holds = ok
		if !ok && ctx.Err() == nil {
			t.set.mu.Lock()
			r.in.truncated = true
			t.set.mu.Unlock()
			t.set.warn(fmt.Sprintf("%s: was truncated or replaced, and its lines after byte %d are not in any rotated backup: lines written just before that may be missing", t.dir.display(t.live), off))
		}
	}
	if holds {
		r.lr.resume()
		r.drain(context.Background())
	}
	r.lr.hold = false // its last line is complete (not read on: other bytes are there now)
	if holds {
		r.lr.resume()
	}
	r.drain(context.Background())
	r.finish()
	t.r, t.fp = nil, nil
	// backups before the old file were rotated before it was read: read already
	for _, b := range fresh[:old+1] {
		t.done[trimCompressed(b)] = true
	}
	for _, b := range fresh[old+1:] {
		if ctx.Err() != nil {
			break
		}
		if t.is(ctx, b, t.dir.headOf(next, h)) {
			break // the file just opened, rotated since: the next poll follows it
		}
		t.done[trimCompressed(b)] = true
		t.readWhole(ctx, b)
	}
	if ctx.Err() != nil {
		t.dir.discard(next)
		return true, nil
	}
	nr, err := t.set.newReader(t.set.addInput(next), t.st, t.p)
	if err != nil {
		t.set.warn(err.Error() + "; no longer following it")
		return true, nil
	}
	nr.lr.hold = !next.gz
	nr.drain(ctx)
	t.start(nr)
	return true, nil
}

// readWhole reads one backup to its end as a new input.
func (t *tailer) readWhole(ctx context.Context, b string) {
	in, _, err := t.dir.open(ctx, b)
	if err != nil {
		if !errors.Is(err, errTailGone) {
			t.set.warn(err.Error())
		}
		return
	}
	r, err := t.set.newReader(t.set.addInput(in), t.st, t.p)
	if err != nil {
		t.set.warn(err.Error())
		return
	}
	r.drain(ctx)
	r.finish()
}

// end reads what the file being read still holds, its last line too (ctx
// ended).
func (t *tailer) end() {
	if r := t.r; r != nil {
		r.lr.hold = false
		r.lr.resume()
		r.drain(context.Background())
		r.finish()
		t.r = nil
	}
}
