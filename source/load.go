package source

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
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

// Load reads every input into st, in order: audit events to AddEvent, klog
// lines to AddKlog, everything else to AddOther. An input that fails
// part-way is named through Options.Warn and what was read of it is kept.
// With Options.Follow, Load then keeps polling the live files for growth
// and returns nil when ctx is done; without it, it returns when every input
// is read, or ctx.Err() if ctx ends first.
func (s *Set) Load(ctx context.Context, st *audit.Store) error {
	var total int64
	for _, in := range s.inputs {
		total += in.Size
	}
	p := &progress{fn: s.opt.Progress, total: total}
	var live []*reader
	for i, in := range s.inputs {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := s.newReader(int32(i), st, p)
		if err != nil {
			s.warn(err.Error())
			continue
		}
		follow := s.opt.Follow && in.live && !in.gz
		r.lr.hold = follow
		if err := r.drain(ctx); err != nil {
			return err
		}
		if follow {
			live = append(live, r)
		} else {
			r.finish()
		}
	}
	p.report()
	if len(live) == 0 {
		return nil
	}
	timer := time.NewTimer(s.opt.PollInterval)
	defer timer.Stop()
	for {
		grew := false
		for _, r := range live {
			before := r.lr.lineNo
			r.lr.resume()
			r.drain(ctx)
			grew = grew || r.lr.lineNo != before
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

type progress struct {
	fn          func(read, total int64)
	read, total int64
	last        int64
}

func (p *progress) add(n int64) {
	p.read += n
	if p.fn != nil && p.read-p.last >= 4<<20 {
		p.report()
	}
}

func (p *progress) report() {
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
	contLines int
	files     map[string]string // interned klog file:line

	nAudit, nKlog int

	pre *prescan // the line being handled, scanned ahead (parallel loads)
}

type partial struct {
	active  bool
	tooLong bool
	off, n  int64
	buf     []byte
}

func (s *Set) newReader(idx int32, st *audit.Store, p *progress) (*reader, error) {
	in := s.inputs[idx]
	r := &reader{set: s, in: in, idx: idx, st: st, files: map[string]string{}}
	var src io.Reader
	if in.file != nil {
		if _, err := in.file.Seek(0, io.SeekStart); err != nil {
			return nil, oneLine(err)
		}
		src = &countingReader{in.file, p}
		if fi, err := in.file.Stat(); err == nil {
			r.near = fi.ModTime()
		}
	} else {
		src = in.stdin
		r.near = time.Now()
	}
	if in.gz {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%s: not readable as gzip: %v", in.Name, err)
		}
		src = zr
	}
	r.lr = newLineReader(src, s.opt.MaxLine)
	return r, nil
}

// drain reads lines until the input ends (or, when following, until only an
// unterminated line is left). It returns an error only when ctx is done.
func (r *reader) drain(ctx context.Context) error {
	if w := loadWorkers(); w > 1 && !r.lr.hold && !r.in.cri {
		return r.drainParallel(ctx, w)
	}
	for n := 0; ; n++ {
		if n&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		l, err := r.lr.next()
		if err != nil {
			r.readFailed(err)
			return nil
		}
		r.line(l)
	}
}

func (r *reader) failMessage(err error) string {
	return fmt.Sprintf("%s: read failed after line %d (%v); the lines before it are used", r.in.Name, r.lr.lineNo, describe(err, r.in.gz))
}

func describe(err error, gz bool) string {
	if gz && errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated gzip"
	}
	return err.Error()
}

// finish flushes what is pending at the end of an input and drops its buffers.
func (r *reader) finish() {
	for i := range r.part {
		if p := &r.part[i]; p.active {
			r.endPartial(p, "CRI partial record without its final F record")
		}
	}
	r.flushKlog()
	r.updateFormat()
	r.lr = nil
}

func (r *reader) updateFormat() {
	r.set.mu.Lock()
	r.in.Format = r.in.formatName(r.nAudit > 0, r.nKlog > 0)
	r.set.mu.Unlock()
}

func (r *reader) ref(off, n, size int64) audit.Ref {
	return audit.Ref{Input: r.idx, Off: off, Line: n, Len: int32(min(size, 1<<31-1))}
}

func (r *reader) other(ref audit.Ref, why string) {
	r.flushKlog()
	r.st.AddOther(audit.OtherLine{Ref: ref, Why: why})
}

// line handles one physical line of the input.
func (r *reader) line(l line) {
	ref := r.ref(l.off, l.n, l.size)
	switch {
	case l.tooLong:
		r.other(ref, fmt.Sprintf("line of %d bytes is over the %d MiB limit", l.size, r.set.opt.MaxLine>>20))
		return
	case l.cut:
		r.other(ref, "cut short: the input ended inside the line")
		return
	}
	if !r.in.cri {
		r.text(l.text, ref, true)
		return
	}
	rec, ok := ParseCRI(l.text)
	if !ok {
		r.text(l.text, ref, true)
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
		r.other(ref, why)
	default:
		r.text(p.buf, ref, false)
	}
	if cap(p.buf) > 4<<20 {
		p.buf = nil
	}
}

// text classifies one logical line (a CRI line's text after joining).
// inPlace says that ref's byte range in the input is exactly text.
func (r *reader) text(text []byte, ref audit.Ref, inPlace bool) {
	ref.Len = int32(len(text))
	i := 0
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	if i == len(text) {
		return // blank: separates nothing, counts as nothing
	}
	if text[i] == '{' {
		r.flushKlog()
		var req *audit.Request
		var ok bool
		if p := r.pre; p != nil && p.state != preNone {
			if p.state == preSkip {
				r.set.skipped.Add(1)
				return
			}
			req, _, ok = r.st.AddPrescanned(&p.ev, ref)
		} else {
			if keep := r.set.opt.Keep; keep != nil && !keep(text) {
				r.set.skipped.Add(1)
				return
			}
			req, _, ok = r.st.AddEvent(text, ref)
		}
		if ok {
			r.nAudit++
			r.keep(ref, text)
			if req.Last.After(r.near) {
				r.near = req.Last
			}
			return
		}
		kind := Classify(text)
		if kind == KindEventList && r.addList(text, ref) {
			return
		}
		r.other(ref, whyOther(kind))
		return
	}
	if h, ok := parseKlogHeader(text); ok {
		r.flushKlog()
		r.pend = true
		r.contLines = 0
		r.kl = audit.KlogLine{Ref: ref, Severity: h.sev, Time: h.time(r.near), PID: h.pid, File: r.internFile(h.file)}
		r.msg = append(r.msg[:0], h.msg...)
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
		return
	}
	if isBinary(text) {
		r.other(ref, whyOther(KindBinary))
	} else {
		r.other(ref, whyOther(KindText))
	}
}

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
	r.st.AddKlog(r.kl)
	r.nKlog++
	if cap(r.msg) > 64<<10 {
		r.msg = nil
	}
}

// keep stores an audit line for Raw when the input cannot be read again.
func (r *reader) keep(ref audit.Ref, text []byte) {
	if r.in.mem != nil {
		r.in.mem.add(ref.Off, text)
	}
}

// addList merges the items of a webhook EventList batch; each item's Ref is
// its byte range inside the line.
func (r *reader) addList(text []byte, ref audit.Ref) bool {
	s := unsafe.String(&text[0], len(text))
	items := gjson.Get(s, "items")
	if !items.IsArray() {
		return false
	}
	base := uintptr(unsafe.Pointer(&text[0]))
	added := 0
	items.ForEach(func(_, v gjson.Result) bool {
		if v.Raw == "" {
			return true
		}
		at := int64(uintptr(unsafe.Pointer(unsafe.StringData(v.Raw))) - base)
		item := text[at : at+int64(len(v.Raw))]
		iref := audit.Ref{Input: ref.Input, Off: ref.Off + at, Line: ref.Line, Len: int32(len(item))}
		if req, _, ok := r.st.AddEventItem(item, iref); ok {
			added++
			if req.Last.After(r.near) {
				r.near = req.Last
			}
		}
		return true
	})
	if added == 0 {
		return false
	}
	r.nAudit += added
	r.keep(ref, text)
	return true
}
