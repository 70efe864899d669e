package main

// The trail mode: the generated requests written as kube-apiserver's log
// backend leaves them on a master (k8s.io/apiserver's --audit-log-* flags over
// gopkg.in/natefinch/lumberjack.v2):
//
//   - one event a line, each line written whole: a file is rotated before
//     the line that would take it past -maxsize (MiB, lumberjack's megabyte),
//     so a request's stages may sit in two files, as they do on a master;
//   - lines in the order the apiserver logs them, the order of their
//     stageTimestamp (a long request's last stage comes after the requests
//     received meanwhile), so every event of a backup is older than every
//     event of the next file;
//   - the rotated file renamed <stem>-<UTC rotation time as
//     2006-01-02T15-04-05.000><ext> (the time just after its last event),
//     the live file audit.log, at most -maxbackup backups (the trail stops
//     when the live file is full rather than delete the oldest);
//   - the oldest -gzip backups compressed to <name>.gz with compress/gzip's
//     default level and an empty header, as lumberjack's mill does (with
//     --audit-log-compress every backup is; a mix is what turning it off
//     leaves: the older ones compressed);
//   - files mode 0600, as the apiserver writes them.
//
// The trail is written in DIR.genlog-tmp and renamed to DIR when whole.

import (
	"bufio"
	"compress/gzip"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// trailSpec is what a trail holds.
type trailSpec struct {
	size      int64 // bytes of events in all (uncompressed)
	maxSize   int64 // rotate at (bytes)
	maxBackup int   // at most this many backups
	gzip      int   // the oldest this many backups gzipped (<0: a tenth, at least one)
	seed      uint64
}

// trailResult is what writeTrail wrote.
type trailResult struct {
	files    []string // reading order: backups oldest first, then audit.log
	backups  int
	gzipped  int
	bytes    int64 // bytes of events (uncompressed)
	requests int   // requests with at least one line written
	capped   bool  // the size needed more than maxBackup backups
	first    time.Time
	last     time.Time
}

const (
	trailStem = "audit"
	trailExt  = ".log"
	// lumberjack's backupTimeFormat
	trailTimeLayout = "2006-01-02T15-04-05.000"
)

func generateTrail(dir, sizeFlag, from string, seed uint64, maxFlag string, maxBackup, gz int) error {
	size, err := parseSize(sizeFlag)
	if err != nil {
		return err
	}
	maxSize, err := parseSize(maxFlag)
	if err != nil {
		return fmt.Errorf("-maxsize: %v", err)
	}
	if maxBackup < 0 {
		return errors.New("-maxbackup: want 0 or more")
	}
	paths := defaultSources()
	if from != "" {
		paths = strings.Split(from, ",")
	}
	reqs, err := templates(paths)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := writeTrail(dir, reqs, trailSpec{size: size, maxSize: maxSize, maxBackup: maxBackup, gzip: gz, seed: seed})
	if err != nil {
		return err
	}
	took := time.Since(start)
	if res.capped {
		fmt.Fprintf(os.Stderr, "genlog: %s needs more than %d backups of %s: the trail stops when audit.log is full (-maxbackup to keep more)\n", sizeFlag, maxBackup, maxFlag)
	}
	fmt.Printf("%s: %d backups of at most %s (%d gzipped) and audit.log: %d bytes of events, %d requests from %d recorded ones, %s to %s; written in %v (%.0f MB/s)\n",
		dir, res.backups, maxFlag, res.gzipped, res.bytes, res.requests, len(reqs),
		res.first.Format(time.RFC3339), res.last.Format(time.RFC3339), took.Round(100*time.Millisecond), float64(res.bytes)/1e6/took.Seconds())
	return nil
}

// writeTrail writes the trail into dir, which must not exist or be empty.
func writeTrail(dir string, reqs []request, spec trailSpec) (trailResult, error) {
	var res trailResult
	if spec.maxSize <= 0 || spec.size <= 0 {
		return res, errors.New("trail: size and maxsize must be positive")
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return res, fmt.Errorf("%s exists and is not empty: remove it or give another -trail", dir)
	}
	backups := int((spec.size+spec.maxSize-1)/spec.maxSize) - 1
	if backups > spec.maxBackup {
		backups, res.capped = spec.maxBackup, true
	}
	gz := spec.gzip
	if gz < 0 {
		gz = (backups + 9) / 10
	}
	gz = min(gz, backups)
	tmp := filepath.Clean(dir) + ".genlog-tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return res, err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return res, err
	}
	t := &trailWriter{dir: tmp, maxSize: spec.maxSize, backups: backups, gzip: gz, work: make(chan string, 4)}
	t.wg.Add(1)
	go t.compressor()
	err := t.open()
	if err == nil {
		err = t.generate(reqs, spec)
	}
	if err == nil {
		err = t.closeLive()
	}
	close(t.work)
	t.wg.Wait()
	if err == nil {
		err = t.gzErr
	}
	if err != nil {
		os.RemoveAll(tmp)
		return res, err
	}
	os.Remove(dir) // empty, or absent
	if err := os.Rename(tmp, dir); err != nil {
		return res, err
	}
	for _, n := range t.names {
		res.files = append(res.files, filepath.Join(dir, n))
	}
	res.files = append(res.files, filepath.Join(dir, trailStem+trailExt))
	res.backups, res.gzipped = t.rotated, min(gz, t.rotated)
	res.bytes, res.requests, res.first, res.last = t.bytes, t.requests, t.first, t.last
	return res, nil
}

// pending is a generated line not yet written: lines go out in the order of
// their stageTimestamp (then of generation).
type pending struct {
	at   time.Time
	seq  uint64
	line []byte
	req  *reqState
}

type reqState struct{ started bool }

type pendingHeap []pending

func (h pendingHeap) Len() int { return len(h) }
func (h pendingHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].seq < h[j].seq
}
func (h pendingHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)   { *h = append(*h, x.(pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	old[len(old)-1] = pending{}
	*h = old[:len(old)-1]
	return p
}

// generate makes requests as the flat mode does (the same generator, the
// needle halfway) until the trail holds spec.size bytes or audit.log is full.
func (t *trailWriter) generate(reqs []request, spec trailSpec) error {
	g := &generator{rng: rand.New(rand.NewPCG(spec.seed, spec.seed^0x9e3779b97f4a7c15)), clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var h pendingHeap
	var seq uint64
	var made int64 // bytes generated
	push := func(lines [][]byte, stamps []time.Time) {
		st := &reqState{}
		for i, l := range lines {
			seq++
			heap.Push(&h, pending{at: stamps[i], seq: seq, line: l, req: st})
			made += int64(len(l)) + 1
		}
	}
	// drain writes the lines logged by now (all of them when now is zero).
	drain := func(now time.Time) error {
		for h.Len() > 0 && (now.IsZero() || !h[0].at.After(now)) && !t.full {
			p := heap.Pop(&h).(pending)
			if err := t.write(p); err != nil {
				return err
			}
		}
		return nil
	}
	needle := false
	for n := 0; made < spec.size && !t.full; n++ {
		lines := g.vary(reqs[n%len(reqs)])
		push(lines, g.stamps)
		if !needle && made >= spec.size/2 {
			needle = true
			nl := needleRequest(g.clock)
			push(nl, []time.Time{g.clock, g.clock.Add(1500 * time.Microsecond)})
		}
		if err := drain(g.clock); err != nil {
			return err
		}
	}
	return drain(time.Time{})
}

// trailWriter writes lines into audit.log and rotates it as lumberjack does.
type trailWriter struct {
	dir      string
	maxSize  int64
	backups  int // rotations to make
	gzip     int // the first this many backups are gzipped
	f        *os.File
	w        *bufio.Writer
	size     int64 // of audit.log
	rotated  int
	names    []string // backups' final names, oldest first
	prev     time.Time
	full     bool // audit.log is full and no backup may be added
	bytes    int64
	requests int
	first    time.Time
	last     time.Time

	work  chan string
	wg    sync.WaitGroup
	gzErr error
}

func (t *trailWriter) open() error {
	f, err := os.OpenFile(filepath.Join(t.dir, trailStem+trailExt), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	t.f, t.w, t.size = f, bufio.NewWriterSize(f, 1<<20), 0
	return nil
}

func (t *trailWriter) closeLive() error {
	if err := t.w.Flush(); err != nil {
		t.f.Close()
		return err
	}
	return t.f.Close()
}

func (t *trailWriter) write(p pending) error {
	n := int64(len(p.line)) + 1
	if t.size > 0 && t.size+n > t.maxSize {
		if t.rotated == t.backups {
			t.full = true
			return nil
		}
		if err := t.rotate(p.at); err != nil {
			return err
		}
	}
	if _, err := t.w.Write(p.line); err != nil {
		return err
	}
	if err := t.w.WriteByte('\n'); err != nil {
		return err
	}
	t.size += n
	t.bytes += n
	if t.first.IsZero() {
		t.first = p.at
	}
	t.last = p.at
	if !p.req.started {
		p.req.started = true
		t.requests++
	}
	return nil
}

// rotate renames audit.log to a backup named by the time of the write that
// rotates it (the line's stageTimestamp, in ms, after every line before it)
// and starts a new audit.log.
func (t *trailWriter) rotate(now time.Time) error {
	if err := t.closeLive(); err != nil {
		return err
	}
	at := now.UTC().Truncate(time.Millisecond).Add(time.Millisecond)
	if !at.After(t.prev) {
		at = t.prev.Add(time.Millisecond)
	}
	t.prev = at
	name := trailStem + "-" + at.Format(trailTimeLayout) + trailExt
	if err := os.Rename(filepath.Join(t.dir, trailStem+trailExt), filepath.Join(t.dir, name)); err != nil {
		return err
	}
	if t.rotated < t.gzip {
		t.work <- name
		name += ".gz"
	}
	t.names = append(t.names, name)
	t.rotated++
	return t.open()
}

// compressor gzips the backups sent to it, one after the other, beside the
// generation (the other core).
func (t *trailWriter) compressor() {
	defer t.wg.Done()
	for name := range t.work {
		if t.gzErr != nil {
			continue
		}
		t.gzErr = gzipFile(filepath.Join(t.dir, name))
	}
}

// gzipFile replaces path with path.gz as lumberjack's compressLogFile does.
func gzipFile(path string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path+".gz", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(dst)
	if _, err := io.Copy(zw, bufio.NewReaderSize(src, 1<<20)); err != nil {
		dst.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Remove(path)
}
