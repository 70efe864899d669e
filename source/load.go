package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/kauditui/kauditui/audit"
	"github.com/tidwall/gjson"
)

// Limits on folding continuation lines into one klog message: text after a
// klog line that is really something else must not grow one message forever.
const (
	maxKlogMsg   = 1 << 20
	maxKlogLines = 1000
)

// Requests loads s through a streaming store (memory as for the requests
// in flight, not the log) and yields each request once it is complete,
// until yield returns false; *err is then Load's error.
func (s *Set) Requests(ctx context.Context, err *error) iter.Seq[*audit.Request] {
	return func(yield func(*audit.Request) bool) {
		stop := false
		store := audit.NewStreamingStore(func(r *audit.Request) {
			stop = stop || !yield(r)
		})
		*err = s.Load(ctx, store)
		store.Finish()
	}
}

// Load reads every input into st: audit events to AddEvent, klog lines to
// AddKlog, everything else to AddOther. The inputs of one family (a live log
// and its rotated backups) are read one after another; separate families
// (two masters' logs) are merged line by line in time order, so the store
// holds requests and klog lines in the order they happened across inputs.
// An input that fails part-way is named through Options.Warn and what was
// read of it is kept; when no input at all could be read, Load says so.
// With Options.Follow, Load then keeps polling the live files for growth
// and returns nil when ctx is done; without it, it returns when every input
// is read, or ctx.Err() if ctx ends first.
func (s *Set) Load(ctx context.Context, st *audit.Store) error {
	for _, k := range s.kinds {
		if err := k.start(ctx, s); err != nil { // the nodes' files are listed now (nodefiles.go)
			return err
		}
	}
	var total int64
	for _, in := range s.inputs {
		total += in.Size
	}
	p := &progress{fn: s.opt.Progress, total: total}
	var streams []*stream
	byFamily := map[string]*stream{}
	for i, in := range s.inputs {
		fs := byFamily[in.family]
		if fs == nil || in.family == "" {
			fs = &stream{set: s, st: st, p: p}
			byFamily[in.family] = fs
			streams = append(streams, fs)
		}
		fs.inputs = append(fs.inputs, int32(i))
	}
	var live []*reader
	if len(streams) == 1 {
		// one family: no merging, lines straight from the reader
		fs := streams[0]
		for fs.open(ctx) {
			if err := fs.r.drain(ctx); err != nil {
				fs.r.stop()
				return err
			}
			if r := fs.done(); r != nil {
				live = append(live, r)
			}
		}
	} else {
		var err error
		if live, err = mergeStreams(ctx, streams); err != nil {
			return err
		}
	}
	p.report()
	if len(s.inputs) > 0 {
		if err := s.checkRead(); err != nil {
			return err
		}
	}
	following := false
	for _, k := range s.kinds {
		live = k.follow(ctx, st, live) // the nodes' live files are polled by followers of their own
		following = following || k.following()
	}
	following = following || len(live) > 0
	// Live once every history is read: the files' and nodes' now, the
	// pods' when StreamPods says so; a store's tail says so itself when its
	// answer is read (storeTail).
	pending := 0
	for _, k := range s.kinds {
		if pk, ok := k.(*podKind); ok && pk.opt.Follow {
			pending++
			own := pk.opt.Live
			var once sync.Once
			pk.opt.Live = func() {
				if own != nil {
					own()
				}
				once.Do(func() {
					s.liveMu.Lock()
					defer s.liveMu.Unlock()
					if pending--; pending == 0 {
						s.live()
					}
				})
			}
		}
	}
	if following && pending == 0 {
		s.live()
	}
	// The tailer follows the live files while each kind reads what it
	// streams itself (the pods), until ctx ends.
	errs := make(chan error, len(s.kinds))
	for _, k := range s.kinds {
		go func() {
			err := k.run(ctx, s, st)
			if pk, ok := k.(*podKind); ok && pk.opt.Follow && pk.opt.Live != nil {
				pk.opt.Live() // the pods' history failed: what else is followed still is
			}
			errs <- err
		}()
	}
	var err error
	if len(live) > 0 {
		err = s.follow(ctx, st, live, p)
	}
	for range s.kinds {
		if kerr := <-errs; kerr != nil {
			err = kerr
		}
	}
	return err
}

// live calls Options.Live, once.
func (s *Set) live() {
	if s.opt.Live != nil {
		s.liveOnce.Do(s.opt.Live)
	}
}

// checkRead fails when not one input could be read at all.
func (s *Set) checkRead() error {
	var why []string
	for _, in := range s.inputs {
		if in.read {
			return nil
		}
		why = append(why, in.Name)
	}
	return fmt.Errorf("no input could be read (%s): give a readable audit log, or - for stdin", strings.Join(why, ", "))
}

// stream is one family of inputs, read in order as one stream of lines.
type stream struct {
	set    *Set
	st     *audit.Store
	p      *progress
	inputs []int32
	next   int     // index in inputs of the next input to open
	r      *reader // the input being read

	head    line // the next line, pulled but not yet handled (merging)
	hasHead bool
	at      time.Time // head's time (the last known time for lines without one)
}

// open starts the next input of the family; false when there is none.
func (fs *stream) open(ctx context.Context) bool {
	for fs.next < len(fs.inputs) && ctx.Err() == nil {
		idx := fs.inputs[fs.next]
		fs.next++
		r, err := fs.set.newReader(idx, fs.st, fs.p)
		if err != nil {
			fs.set.warn(err.Error())
			continue
		}
		r.lr.hold = fs.set.following && r.in.live && !r.in.gz
		fs.r = r
		return true
	}
	fs.r = nil
	return false
}

// done ends the current input: finished, or handed back to be followed.
func (fs *stream) done() (live *reader) {
	r := fs.r
	fs.r = nil
	if r.lr.hold {
		return r
	}
	r.finish()
	return nil
}

// pull brings the family's next line into head; false at its end.
func (fs *stream) pull(ctx context.Context) (bool, []*reader) {
	var live []*reader
	for {
		if fs.r == nil && !fs.open(ctx) {
			return false, live
		}
		if l, ok := fs.r.pull(ctx); ok {
			fs.head, fs.hasHead = l, true
			if t := fs.r.lineTime(l); !t.IsZero() {
				fs.at = t
			}
			return true, live
		}
		if ctx.Err() != nil {
			fs.r.stop()
			return false, live
		}
		if r := fs.done(); r != nil {
			live = append(live, r)
		}
	}
}

// mergeStreams reads several families at once, always handling the line
// with the earliest time next; lines without a time of their own (klog
// continuations, broken lines) go with the line before them.
func mergeStreams(ctx context.Context, streams []*stream) ([]*reader, error) {
	var live []*reader
	active := streams[:0:0]
	for _, fs := range streams {
		ok, l := fs.pull(ctx)
		live = append(live, l...)
		if ok {
			active = append(active, fs)
		}
	}
	for n := 0; len(active) > 0; n++ {
		if n&4095 == 4095 && ctx.Err() != nil {
			for _, fs := range active {
				if fs.r != nil {
					fs.r.stop()
				}
			}
			return nil, ctx.Err()
		}
		best := 0
		for i := 1; i < len(active); i++ {
			if active[i].at.Before(active[best].at) {
				best = i
			}
		}
		fs := active[best]
		fs.r.line(fs.head)
		fs.hasHead = false
		ok, l := fs.pull(ctx)
		live = append(live, l...)
		if !ok {
			active = append(active[:best], active[best+1:]...)
		}
	}
	return live, ctx.Err()
}

// lineTime is when a line was logged, as far as it says: an audit event's
// stageTimestamp, a klog header's time, a CRI record's time; zero for
// anything else.
func (r *reader) lineTime(l line) time.Time {
	text := l.text
	if r.in.cri {
		rec, ok := ParseCRI(text)
		if !ok {
			return time.Time{}
		}
		return rec.Time
	}
	if startsJSON(text) {
		return eventTime(text)
	}
	if h, ok := parseKlogHeader(text); ok {
		return h.time(r.near)
	}
	if at, _, ok := tsPrefix(text, false); ok {
		return at
	}
	return time.Time{}
}

var (
	stageTimestampKey = []byte(`"stageTimestamp"`)
	// in an export record (managed.go): the event as a JSON string, or a
	// GKE entry's one time
	escapedStageTimestampKey = []byte(`\"stageTimestamp\"`)
	timestampKey             = []byte(`"timestamp"`)
)

// eventTime finds the stageTimestamp of an audit event line without parsing
// it: the last occurrence of the key (the top-level field comes after the
// request and response objects, which a client fills). In an export record
// that holds the event as a string, the escaped key's; in a GKE entry, its
// timestamp.
func eventTime(text []byte) time.Time {
	if t := timeAfter(text, stageTimestampKey, ""); !t.IsZero() {
		return t
	}
	if t := timeAfter(text, escapedStageTimestampKey, `\`); !t.IsZero() {
		return t
	}
	return timeAfter(text, timestampKey, "")
}

// timeAfter reads the time in the string after the last key in text (its
// quotes preceded by esc).
func timeAfter(text, key []byte, esc string) time.Time {
	i := bytes.LastIndex(text, key)
	if i < 0 {
		return time.Time{}
	}
	rest := text[i+len(key):]
	j := 0
	for j < len(rest) && (rest[j] == ' ' || rest[j] == ':') {
		j++
	}
	rest = rest[j:]
	if !bytes.HasPrefix(rest, []byte(esc+`"`)) {
		return time.Time{}
	}
	rest = rest[len(esc)+1:]
	k := bytes.IndexByte(rest, '"')
	if k < 0 || k > 40+len(esc) {
		return time.Time{}
	}
	return audit.ParseTime(bytesString(bytes.TrimSuffix(rest[:k], []byte(esc))))
}

func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// progress counts bytes read; several inputs' reading goroutines add to it
// when families are merged, so it locks.
type progress struct {
	mu          sync.Mutex
	fn          func(read, total int64)
	read, total int64
	last        int64
}

func (p *progress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.read += n
	if p.fn != nil && p.read-p.last >= 4<<20 {
		p.reportLocked()
	}
}

func (p *progress) report() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reportLocked()
}

func (p *progress) reportLocked() {
	if p.fn != nil {
		p.last = p.read
		p.fn(p.read, max(p.total, p.read))
	}
}

// countingReader feeds the progress bar with bytes as they come off disk.
type countingReader struct {
	r io.Reader
	p *progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.add(int64(n))
	return n, err
}

// reader is the loading state of one input.
type reader struct {
	set *Set
	in  *input
	idx int32
	st  *audit.Store
	lr  *lineReader

	near time.Time // latest full timestamp seen: gives klog lines their year

	// CRI: partial records joined per stream (0 stdout, 1 stderr)
	part [2]partial

	// the klog line being built (continuation lines may follow)
	pend      bool
	kl        audit.KlogLine
	msg       []byte
	raw       []byte // the message as logged (spooled inputs keep it)
	contLines int
	files     map[string]string // interned klog file:line

	sp *splice // a spliced event line held (splice.go)

	// a JSON value spanning lines (pretty inputs)
	acc      []byte
	accRef   audit.Ref
	accDepth jsonDepth

	nAudit, nKlog, nOther int
	nSkipped              int    // lines Options.Keep refused
	firstOther            []byte // the first other line (for Looks), up to 200 bytes

	started bool
	par     *parallel    // the parallel pipeline, while one runs
	pread   *preadReader // reading ahead, while it runs (pipeline.go)
	pre     *prescan     // the line being handled, scanned ahead (parallel loads)

	unwrapping bool   // reading the events of an export record (managed.go)
	export     string // the export whose events were read (managed.go), for Format
	seenExport string // an export record was read (for Looks when it held no event)
}

type partial struct {
	active  bool
	tooLong bool
	off, n  int64
	buf     []byte
}

func (s *Set) newReader(idx int32, st *audit.Store, p *progress) (*reader, error) {
	in, _ := s.input(idx) // locked: followers (rotations, nodes, pods) append inputs meanwhile
	r := &reader{set: s, in: in, idx: idx, st: st, files: map[string]string{}}
	var src io.Reader
	if in.stream != nil {
		in.sniffStream()
		src = in.stream
		r.near = time.Now()
	} else {
		if _, err := in.file.Seek(0, io.SeekStart); err != nil {
			return nil, oneLine(err)
		}
		src = &countingReader{in.file, p}
		if fi, err := in.file.Stat(); err == nil {
			r.near = fi.ModTime()
		}
	}
	if in.gz {
		zr, err := in.unpack(src)
		if err != nil {
			return nil, err
		}
		src = zr
	}
	if in.crOnly {
		src = crReader{src}
	}
	r.lr = newLineReader(src, s.opt.MaxLine)
	// a stream hands on each line once it is complete: never wait for more
	// data to fill a batch while what came is enough for a line
	r.lr.prompt = in.stream != nil
	return r, nil
}

// crReader reads lone carriage returns as line ends (one byte for one, so
// offsets stay those of the input).
type crReader struct{ r io.Reader }

func (c crReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	for i := range b[:n] {
		if b[i] == '\r' {
			b[i] = '\n'
		}
	}
	return n, err
}

// pull returns the input's next line; false at its end (or, when
// following, when only an unterminated line is left), or when ctx ends.
func (r *reader) pull(ctx context.Context) (line, bool) {
	if !r.started {
		r.started = true
		if w := loadWorkers(); w > 1 && !r.lr.hold && !r.in.cri && !r.in.pretty {
			r.startParallel(ctx, w)
		}
	}
	if r.par != nil {
		return r.pullBatch(ctx)
	}
	r.pre = nil
	l, err := r.lr.next()
	if err != nil {
		r.readFailed(err)
		return line{}, false
	}
	r.in.read = true
	return l, true
}

// drain reads lines until the input ends (or, when following, until only an
// unterminated line is left). It returns an error only when ctx is done.
func (r *reader) drain(ctx context.Context) error {
	for n, checked := 0, 0; ; n++ {
		if n-checked >= 4096 {
			checked = n
			if err := ctx.Err(); err != nil {
				r.stop()
				return err
			}
		}
		if r.par != nil {
			if k := r.mergeRun(); k > 0 {
				n += k - 1
				continue
			}
		}
		l, ok := r.pull(ctx)
		if !ok {
			if err := ctx.Err(); err != nil && r.par == nil && !r.lr.hold {
				return err
			}
			return nil
		}
		r.line(l)
	}
}

func (r *reader) failMessage(err error) string {
	return fmt.Sprintf("%s: read failed after line %d (%v); the lines before it are used", r.in.Name, r.lr.lineNo, describe(err, r.in.zip))
}

func describe(err error, zip string) string {
	if zip != "" && errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated " + zip
	}
	return err.Error()
}

// finish flushes what is pending at the end of an input and drops its buffers.
func (r *reader) finish() {
	r.closeRead()
	r.endSplice()
	for i := range r.part {
		if p := &r.part[i]; p.active {
			r.endPartial(p, "CRI partial record without its final F record")
		}
	}
	if len(r.acc) > 0 {
		r.dropValue("JSON value cut short: the input ended inside it")
	}
	r.flushKlog()
	r.updateFormat()
	r.lr = nil
}

func (r *reader) updateFormat() {
	r.set.mu.Lock()
	in := r.in
	in.Format = in.formatName(r.nAudit > 0, r.nKlog > 0)
	if r.export != "" {
		in.Format = r.export + "+" + in.Format
	}
	in.Events, in.Klog, in.Other, in.Skipped, in.Failed = r.nAudit, r.nKlog, r.nOther, r.nSkipped, in.warned
	if r.nAudit == 0 {
		in.Looks = looks(in, r.firstOther)
		if r.seenExport != "" && in.Other > 0 {
			in.Looks = exportLooks[r.seenExport]
		}
	}
	r.set.mu.Unlock()
}

func (r *reader) ref(off, n, size int64) audit.Ref {
	return audit.Ref{Input: r.idx, Off: off, Line: n, Len: int32(min(size, 1<<31-1))}
}

// spool keeps text for an input that cannot be read again and returns the
// ref to it; on failure (no room for a temporary file) the ref stays as it
// was and Raw will say the line is not kept.
func (r *reader) spool(ref audit.Ref, text []byte) audit.Ref {
	if r.set.opt.NoRaw {
		return ref // nothing reads it back
	}
	off, err := r.set.spool.add(text)
	if err != nil {
		if !r.in.warned {
			r.in.warned = true
			r.set.warn(fmt.Sprintf("%s: %v", r.in.Name, err))
		}
		return ref
	}
	ref.Off = spooledOff(off)
	ref.Len = int32(len(text))
	return ref
}

func (r *reader) other(ref audit.Ref, why string) {
	r.flushKlog()
	r.nOther++
	r.st.AddOther(audit.OtherLine{Ref: ref, Why: why})
}

// otherText records text as an other line, keeping (some of) it when the
// input cannot be read again.
func (r *reader) otherText(text []byte, ref audit.Ref, inPlace bool, why string) {
	if r.firstOther == nil {
		r.firstOther = append([]byte{}, text[:min(len(text), 200)]...)
	}
	if !inPlace && !isSpooled(ref) {
		keep := text[:min(len(text), otherKeep)]
		if r.set.spool.keptOther(len(keep)) {
			ref = r.spool(ref, keep)
		}
	}
	r.other(ref, why)
}

// line handles one physical line of the input.
func (r *reader) line(l line) {
	ref := r.ref(l.off, l.n, l.size)
	if r.sp != nil && (l.tooLong || l.cut) {
		r.endSplice()
	}
	switch {
	case l.tooLong:
		r.other(ref, fmt.Sprintf("line of %d bytes is over the %d MiB limit", l.size, r.set.opt.MaxLine>>20))
		return
	case l.cut:
		r.otherText(l.text, ref, true, "cut short: the input ended inside the line")
		return
	}
	if !r.in.cri {
		r.text(l.text, ref, !r.in.spooled)
		return
	}
	rec, ok := ParseCRI(l.text)
	if !ok {
		r.text(l.text, ref, false)
		return
	}
	if rec.Time.After(r.near) {
		r.near = rec.Time
	}
	p := &r.part[0]
	if rec.Stderr {
		p = &r.part[1]
	}
	if !p.active && !rec.Partial {
		textOff := l.off + int64(len(l.text)-len(rec.Text))
		r.text(rec.Text, r.ref(textOff, l.n, int64(len(rec.Text))), false)
		return
	}
	if !p.active {
		*p = partial{active: true, off: l.off, n: l.n, buf: p.buf[:0]}
	}
	if !p.tooLong {
		if len(p.buf)+len(rec.Text) > r.set.opt.MaxLine {
			p.tooLong = true
			p.buf = p.buf[:0]
		} else {
			p.buf = append(p.buf, rec.Text...)
		}
	}
	if !rec.Partial {
		r.endPartial(p, "")
	}
}

// endPartial hands on a joined CRI line; why is set when it never got its
// final record.
func (r *reader) endPartial(p *partial, why string) {
	p.active = false
	ref := r.ref(p.off, p.n, int64(len(p.buf)))
	switch {
	case p.tooLong:
		r.other(ref, fmt.Sprintf("joined CRI line is over the %d MiB limit", r.set.opt.MaxLine>>20))
	case why != "":
		r.otherText(p.buf, ref, false, why)
	default:
		r.text(p.buf, ref, false)
	}
	if cap(p.buf) > 4<<20 {
		p.buf = nil
	}
}

// text classifies one logical line (a CRI line's text after joining).
// inPlace says that ref's byte range in the input is exactly text, so it
// can be read again from there; otherwise what is kept is spooled.
func (r *reader) text(text []byte, ref audit.Ref, inPlace bool) {
	ref.Len = int32(len(text))
	if r.sp != nil && r.spliced(text, ref, inPlace) {
		return // a part of a spliced event (splice.go)
	}
	if r.in.pretty && !r.unwrapping && r.jsonValue(text, ref, inPlace) {
		return
	}
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	if i == len(text) {
		return // blank: separates nothing, counts as nothing
	}
	if c := text[i]; c >= '0' && c <= '9' {
		// (a klog continuation line carries a time too, in such an input)
		if at, rest, ok := tsPrefix(text[i:], r.pend && r.export == exportTimestamps); ok {
			// kubectl logs --timestamps: the line after the time, which
			// also gives a klog line its year
			if at.After(r.near) {
				r.near = at
			}
			if inPlace {
				ref.Off += int64(len(text) - len(rest))
			}
			ref.Len = int32(len(rest))
			text, i = rest, 0
			if r.export == "" && !r.pend {
				r.export = exportTimestamps
			}
		}
	}
	if text[i] == '{' || text[i] == '[' && r.in.pretty {
		r.flushKlog()
		r.jsonLine(text, ref, inPlace)
		return
	}
	if h, ok := parseKlogHeader(text); ok {
		r.flushKlog()
		r.pend = true
		r.contLines = 0
		r.kl = audit.KlogLine{Ref: ref, Severity: h.sev, Time: h.time(r.near), PID: h.pid, File: r.internFile(h.file)}
		r.msg = append(r.msg[:0], h.msg...)
		if !inPlace {
			r.raw = append(r.raw[:0], text...)
		}
		return
	}
	if r.pend && r.contLines < maxKlogLines && len(r.msg)+len(text) < maxKlogMsg && !isBinary(text) {
		// a continuation line of the klog message before it
		r.msg = append(r.msg, '\n')
		r.msg = append(r.msg, text...)
		r.contLines++
		if inPlace && ref.Off+int64(ref.Len)-r.kl.Off < 1<<31 {
			r.kl.Len = int32(ref.Off + int64(ref.Len) - r.kl.Off)
		}
		if !inPlace {
			r.raw = append(r.raw, '\n')
			r.raw = append(r.raw, text...)
		}
		return
	}
	if isBinary(text) {
		r.otherText(text, ref, inPlace, whyOther(kindBinary))
	} else {
		r.otherText(text, ref, inPlace, whyOther(kindText))
	}
}

// jsonLine handles a line (or a whole JSON value) that starts like JSON.
func (r *reader) jsonLine(text []byte, ref audit.Ref, inPlace bool) {
	at := ref
	var req *audit.Request
	var ok bool
	if p := r.pre; p != nil && p.state != preNone {
		if p.state == preSkip && !r.st.Wants(text) && !r.maySplice(text) {
			r.set.skipped.Add(1)
			r.nSkipped++
			return
		}
		if !inPlace {
			ref = r.spool(ref, text)
		}
		if p.state == preSkip {
			req, _, ok = r.st.AddEvent(text, ref) // a stage of a request begun: read whole
		} else {
			req, _, ok = r.st.AddPrescanned(&p.ev, ref)
		}
	} else {
		if keep := r.set.opt.Keep; keep != nil && !keep(text) && !r.st.Wants(text) && !mayWrap(text) && !r.maySplice(text) {
			r.set.skipped.Add(1)
			r.nSkipped++
			return
		}
		if !inPlace {
			ref = r.spool(ref, text)
		}
		req, _, ok = r.st.AddEvent(text, ref)
	}
	if ok {
		r.nAudit++
		if req.Last().After(r.near) {
			r.near = req.Last()
		}
		// a repeat of a stage already read is dropped by the store (this
		// goroutine is the only writer: reading Events here is safe)
		if isSpooled(ref) && (len(req.Events) == 0 || req.Events[len(req.Events)-1].Ref != ref) {
			r.set.spool.unadd(spooledOff(ref.Off), int(ref.Len))
		}
		return
	}
	kind := Classify(text)
	switch kind {
	case kindEventList, kindJSONArray:
		if r.addItems(text, ref, kind == kindEventList) {
			return
		}
	case kindExport:
		if r.unwrap(text, ref) {
			return
		}
	case kindJSON:
		if kl, ok := parseJSONLog(text); ok {
			// a component log line (--logging-format=json)
			kl.Ref = ref
			kl.File = r.internFile([]byte(kl.File))
			r.st.AddKlog(kl)
			r.nKlog++
			if kl.Time.After(r.near) {
				r.near = kl.Time
			}
			return
		}
	}
	if kind == kindBadJSON && r.startSplice(text, at, ref, inPlace) {
		return // held: the rest of the event may follow (splice.go)
	}
	// already spooled whole when it had to be
	if r.firstOther == nil {
		r.firstOther = append([]byte{}, text[:min(len(text), 200)]...)
	}
	r.other(ref, whyOther(kind))
}

// jsonValue gathers the lines of one JSON value that spans lines (a pretty
// input) and hands the whole value on; false when text is not part of one.
func (r *reader) jsonValue(text []byte, ref audit.Ref, inPlace bool) bool {
	if len(r.acc) > 0 && len(text) > 0 && (text[0] == '{' || text[0] == '[') {
		// A value starts at column 0 while the last is still open: that one
		// was cut short. It must not swallow the values after it.
		r.dropValue("JSON value cut short: another one starts before it ends")
	}
	if len(r.acc) == 0 {
		t := bytes.TrimLeft(text, " \t")
		if len(t) == 0 || t[0] != '{' && t[0] != '[' {
			return false
		}
		d := r.accDepth.feed(text)
		if d.closed() {
			return false // a whole value on one line
		}
		r.accDepth = d
		r.accRef = ref
		r.acc = append(r.acc[:0], text...)
		return true
	}
	if len(r.acc)+len(text)+1 > r.set.opt.MaxLine {
		r.dropValue(fmt.Sprintf("JSON value over the %d MiB limit", r.set.opt.MaxLine>>20))
		return false
	}
	r.acc = append(r.acc, '\n')
	r.acc = append(r.acc, text...)
	r.accDepth = r.accDepth.feed(text)
	if !r.accDepth.closed() {
		return true
	}
	vref := r.accRef
	if inPlace {
		vref.Len = int32(min(ref.Off+int64(ref.Len)-vref.Off, 1<<31-1))
	} else {
		vref = r.spool(vref, r.acc)
	}
	value := r.acc
	r.acc, r.accDepth = r.acc[:0], jsonDepth{}
	r.jsonLine(value, vref, true)
	if cap(r.acc) > 4<<20 {
		r.acc = nil
	}
	return true
}

// dropValue records the value being gathered as an other line (its start
// kept) and starts afresh.
func (r *reader) dropValue(why string) {
	ref := r.accRef
	ref.Off, ref.Len = r.accRef.Off, int32(len(r.acc))
	r.otherText(r.acc, ref, false, why)
	r.acc, r.accDepth = r.acc[:0], jsonDepth{}
}

// jsonDepth follows the nesting of JSON text fed line by line, without
// recursion: depth of {[ outside strings, and whether a string is open.
type jsonDepth struct {
	depth   int
	started bool
	inStr   bool
	esc     bool
}

func (d jsonDepth) feed(b []byte) jsonDepth {
	for _, c := range b {
		switch {
		case d.inStr:
			switch {
			case d.esc:
				d.esc = false
			case c == '\\':
				d.esc = true
			case c == '"':
				d.inStr = false
			}
		case c == '"':
			d.inStr = true
		case c == '{' || c == '[':
			d.depth++
			d.started = true
		case c == '}' || c == ']':
			d.depth--
		}
	}
	return d
}

func (d jsonDepth) closed() bool { return d.started && d.depth <= 0 && !d.inStr }

func (r *reader) internFile(b []byte) string {
	if f, ok := r.files[string(b)]; ok {
		return f
	}
	f := string(b)
	if len(r.files) < 100000 {
		r.files[f] = f
	}
	return f
}

func (r *reader) flushKlog() {
	if !r.pend {
		return
	}
	r.pend = false
	r.kl.Msg = string(r.msg)
	if len(r.raw) > 0 { // not in place: keep the message as logged
		r.kl.Ref = r.spool(r.kl.Ref, r.raw)
	}
	r.raw = r.raw[:0]
	r.st.AddKlog(r.kl)
	r.nKlog++
	if cap(r.msg) > 64<<10 {
		r.msg = nil
	}
	if cap(r.raw) > 64<<10 {
		r.raw = nil
	}
}

// addItems merges the items of a webhook EventList batch (items need no
// kind of their own) or of a JSON array of events; each item's Ref is its
// byte range inside the line.
func (r *reader) addItems(text []byte, ref audit.Ref, list bool) bool {
	s := unsafe.String(&text[0], len(text))
	items := gjson.Parse(s)
	if list {
		items = gjson.Get(s, "items")
	}
	if !items.IsArray() {
		return false
	}
	added, exports := 0, 0
	each := items.ForEach
	if !list {
		each = inTimeOrder(items) // gcloud logging read prints the newest first
	}
	each(func(_, v gjson.Result) bool {
		item, iref, ok := within(text, v.Raw, ref)
		if !ok {
			return true
		}
		var req *audit.Request
		if list {
			req, _, ok = r.st.AddEventItem(item, iref)
		} else {
			req, _, ok = r.st.AddEvent(item, iref)
		}
		if ok {
			added++
			if req.Last().After(r.near) {
				r.near = req.Last()
			}
		} else if !list && item[0] == '{' && r.unwrap(item, iref) {
			exports++ // an item of gcloud logging read --format=json (managed.go)
		}
		return true
	})
	if added == 0 {
		return exports > 0
	}
	r.nAudit += added
	return true
}

// parseJSONLog reads a component log line in --logging-format=json
// ({"ts":1732593600.123,"caller":"file.go:12","msg":"...","v":0,...}): the
// apiserver's own log, written to stdout beside the audit events unless
// --log-json-split-stream. Other fields are appended to the message as
// key=value, the way klog's text format writes them.
func parseJSONLog(text []byte) (audit.KlogLine, bool) {
	f := gjson.GetManyBytes(text, "ts", "msg", "caller", "err", "level")
	ts, msg := f[0], f[1]
	if msg.Type != gjson.String {
		return audit.KlogLine{}, false
	}
	var at time.Time
	switch ts.Type {
	case gjson.Number:
		at = epochTime(ts.Raw)
	case gjson.String:
		at = audit.ParseTime(ts.Str)
	}
	if at.IsZero() {
		return audit.KlogLine{}, false
	}
	sev := byte('I')
	switch strings.ToLower(f[4].Str) {
	case "error", "err":
		sev = 'E'
	case "warn", "warning":
		sev = 'W'
	case "fatal", "panic":
		sev = 'F'
	}
	if f[3].Exists() {
		sev = 'E'
	}
	var b strings.Builder
	b.WriteString(msg.Str)
	gjson.ParseBytes(text).ForEach(func(k, v gjson.Result) bool {
		switch k.Str {
		case "ts", "msg", "caller", "v", "level":
			return true
		}
		b.WriteString(" ")
		b.WriteString(k.Str)
		b.WriteString("=")
		if v.Type == gjson.String {
			b.WriteString(strconv.Quote(v.Str))
		} else {
			b.WriteString(v.Raw)
		}
		return true
	})
	return audit.KlogLine{Severity: sev, Time: at, File: f[2].Str, Msg: b.String()}, true
}

// epochTime reads the "ts" of a JSON log line: milliseconds since the epoch
// with a fraction, as kube-apiserver v1.37 writes it (1796076759812.2341),
// or seconds (older zap configurations), told apart by size; parsed without
// a float64, which would lose the microseconds.
func epochTime(raw string) time.Time {
	whole, frac, _ := strings.Cut(raw, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n < 0 || n > 1<<50 {
		return time.Time{}
	}
	unit, digits := int64(time.Second), 9
	if n > 1e11 { // past 1973 in seconds is before 1973 in milliseconds
		unit, digits = int64(time.Millisecond), 6
	}
	f := int64(0)
	for i := 0; i < digits; i++ {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return time.Time{}
			}
			f += int64(c - '0')
		}
	}
	if unit == int64(time.Millisecond) {
		return time.UnixMilli(n).Add(time.Duration(f)).UTC()
	}
	return time.Unix(n, f).UTC()
}

// looks says in a few words what an input without audit events holds, for
// the one line that tells the user why nothing was found.
func looks(in *input, first []byte) string {
	switch {
	case in.Events > 0:
		return ""
	case in.Klog > 0 && in.Other == 0:
		return "only apiserver log lines, no audit events"
	case in.Other == 0:
		return "nothing: it is empty"
	}
	t := bytes.TrimSpace(first)
	switch {
	case compression(in.head) == "xz": // a stream (a file is refused at open)
		return "xz-compressed data, which kauditui does not read: decompress it first (xz -dc FILE | kauditui query -)"
	case legacyLine(t):
		return "legacy audit lines (--audit-log-format=legacy); set --audit-log-format=json, as `kauditui setup` does"
	case isBinary(t):
		return "binary data"
	case len(t) > 0 && (t[0] == '{' || t[0] == '['):
		return fmt.Sprintf("JSON that is not audit events (first line: %s)", quoteStart(t))
	}
	return fmt.Sprintf("text that is neither audit JSON nor klog (first line: %s)", quoteStart(t))
}

// legacyLine recognises --audit-log-format=legacy:
// 2026-11-26T04:00:00.123456789Z AUDIT: id="..." stage="..." ...
func legacyLine(t []byte) bool {
	i := bytes.IndexByte(t, ' ')
	return i >= 20 && !audit.ParseTime(string(t[:i])).IsZero() && bytes.HasPrefix(t[i:], []byte(" AUDIT: "))
}

func quoteStart(t []byte) string {
	if len(t) > 60 {
		return strconv.Quote(string(t[:60])) + "…"
	}
	return strconv.Quote(string(t))
}
