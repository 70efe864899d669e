package source

import (
	"context"
	"io"
	"os"
	"runtime"
	"sync"

	"github.com/kauditui/kauditui/audit"
)

// Loading on several cores. Scanning event lines is most of a load, and
// lines are independent until they are merged, so one goroutine splits
// lines into batches, GOMAXPROCS workers run Options.Keep and scan the
// event lines of a batch each, and the loading goroutine takes the batches
// back in input order and handles every line exactly as a sequential load
// does (merge, klog, other lines), with the scan already done. Refs, line
// numbers and merge order are the same; only the scanning moved.
//
// Used for plain and gzip inputs that are read to their end; CRI inputs
// (joined records) and followed files are read sequentially.

const (
	batchLines = 1024    // initial room for prescan results
	batchKeep  = 8 << 20 // a batch buffer grown past this (a huge line) is not reused
)

// batch is a run of consecutive lines and the buffer they are in, taken
// from the line reader (lineReader.detach) so that they outlive its next
// read without being copied.
type batch struct {
	lines []line
	buf   []byte // the reader's buffer that the lines alias
	pre   []prescan
	hints []uint64      // the scanned lines' Hints, for Store.Prefetch
	done  chan struct{} // closed once the workers have prescanned it
}

// prescan is what a worker learned about one line.
type prescan struct {
	state uint8 // preNone, preSkip (Keep refused it), preScanned
	ev    audit.Prescan
}

const (
	preNone = iota
	preSkip
	preScanned
)

func (b *batch) reset() {
	b.lines = b.lines[:0]
	b.done = make(chan struct{})
}

// seal sizes the prescan results.
func (b *batch) seal() {
	if cap(b.pre) < len(b.lines) {
		b.pre = make([]prescan, len(b.lines), max(len(b.lines), batchLines))
	}
	b.pre = b.pre[:len(b.lines)]
}

// prescan runs Keep and scans the JSON lines; it touches nothing shared.
func (b *batch) prescan(keep func([]byte) bool) {
	b.hints = b.hints[:0]
	for i := range b.lines {
		l, p := &b.lines[i], &b.pre[i]
		p.state = preNone
		if l.tooLong || l.cut || !startsJSON(l.text) {
			continue
		}
		if keep != nil && !keep(l.text) && !mayWrap(l.text) {
			p.state = preSkip
			continue
		}
		p.state = preScanned
		p.ev.Scan(l.text)
		if h := p.ev.Hint(); h != 0 {
			b.hints = append(b.hints, h)
		}
	}
}

func startsJSON(text []byte) bool {
	for _, c := range text {
		if c != ' ' && c != '\t' {
			return c == '{'
		}
	}
	return false
}

// loadWorkers is how many goroutines scan lines; 1 means a sequential load.
// (A variable for tests and benchmarks.)
var loadWorkers = func() int { return runtime.GOMAXPROCS(0) }

// parallel is a running pipeline: batches come back in input order.
type parallel struct {
	ordered chan *batch
	free    chan *batch
	quit    chan struct{} // closed by stop: the goroutines end
	cur     *batch
	i       int
	readErr error // set by the reading goroutine before it closes ordered
}

// startParallel starts the reading goroutine and the scanning workers.
func (r *reader) startParallel(ctx context.Context, workers int) {
	// A batch is in ordered from when it is handed to the workers until
	// the loader takes it, so ordered's room bounds what is read ahead
	// (about 0.4 MB resident a batch of batchRead: its buffer and its
	// prescans). Two batches a worker keep both cores of a small machine
	// busy (1.86-1.89 cores used on a full parse where one a worker used
	// 1.77-1.80).
	pl := &parallel{
		ordered: make(chan *batch, 2*workers+2),
		free:    make(chan *batch, 2*workers+4),
		quit:    make(chan struct{}),
	}
	r.par = pl
	if cr, ok := r.lr.r.(*countingReader); ok && r.set.opt.Keep != nil && r.lr.consumed() == 0 {
		if f, ok := cr.r.(*os.File); ok {
			r.pread = newPreadReader(f, 0, cr.p)
			r.lr.r = r.pread
			r.lr.chunks = r.pread // its buffers become the batches' (lines.go)
		}
	}
	work := make(chan *batch, workers)
	get := func() *batch {
		select {
		case b := <-pl.free:
			b.reset()
			return b
		default:
			b := &batch{}
			b.reset()
			return b
		}
	}
	lr := r.lr
	go func() {
		defer close(pl.ordered)
		defer close(work)
		b := get()
		stopped := false
		send := func(next *batch) {
			b.seal()
			select {
			case work <- b:
			case <-pl.quit:
				stopped = true
				return
			}
			select {
			case pl.ordered <- b:
			case <-pl.quit:
				stopped = true
				return
			}
			b = next
		}
		lr.handoff = func() {
			if len(b.lines) == 0 || stopped {
				return // nothing aliases buf: the reader may reuse it
			}
			next := get()
			b.buf = lr.buf
			lr.detach(next.buf)
			next.buf = nil
			send(next)
		}
		defer func() { lr.handoff = nil }()
		for n := 0; !stopped; n++ {
			if n&4095 == 4095 {
				if err := ctx.Err(); err != nil {
					pl.readErr = err
					return
				}
			}
			l, err := lr.next()
			if err != nil {
				pl.readErr = err
				break
			}
			b.lines = append(b.lines, l)
		}
		if len(b.lines) > 0 && !stopped {
			b.buf = nil // the reader keeps its buffer; it reads no more
			send(nil)
		}
	}()
	keep := r.set.opt.Keep
	for w := 0; w < workers; w++ {
		go func() {
			for b := range work {
				b.prescan(keep)
				close(b.done)
			}
		}()
	}
}

// pullBatch is pull from the pipeline.
func (r *reader) pullBatch(ctx context.Context) (line, bool) {
	pl := r.par
	for {
		if b := pl.cur; b != nil {
			if pl.i < len(b.lines) {
				i := pl.i
				pl.i++
				r.pre = &b.pre[i]
				r.in.read = true
				return b.lines[i], true
			}
			pl.cur = nil
			if cap(b.buf) <= batchKeep {
				select {
				case pl.free <- b:
				default:
				}
			}
		}
		b, ok := <-pl.ordered
		if !ok {
			// ordered is closed after readErr was set: the read happens after.
			r.pre = nil
			r.par = nil
			if err := pl.readErr; err != nil && err == ctx.Err() {
				return line{}, false
			}
			r.readFailed(pl.readErr)
			return line{}, false
		}
		<-b.done
		pl.cur, pl.i = b, 0
		r.st.Prefetch(b.hints)
	}
}

// mergeRun merges the run of event lines the workers scanned at the head
// of the current batch in one call of the store (AddPrescannedRun: its
// locks taken once, not a line), doing for each what line, text and
// jsonLine do with a scanned event line of an input read in place. It
// returns how many lines it took: none when the next line is not such a
// line, or is not an event after all (pull hands it to line, which says
// what it is).
func (r *reader) mergeRun() int {
	pl := r.par
	b := pl.cur
	if b == nil || r.in.spooled || r.in.cri || r.in.pretty || r.unwrapping {
		return 0
	}
	i0, j := pl.i, pl.i
	for j < len(b.lines) && b.pre[j].state == preScanned {
		if l := &b.lines[j]; l.tooLong || l.cut || len(l.text) == 0 || l.text[0] != '{' {
			break
		}
		j++
	}
	if j == i0 {
		return 0
	}
	r.flushKlog()
	n, last := r.st.AddPrescannedRun(j-i0, func(k int) (*audit.Prescan, audit.Ref) {
		l := &b.lines[i0+k]
		ref := r.ref(l.off, l.n, l.size)
		ref.Len = int32(len(l.text))
		return &b.pre[i0+k].ev, ref
	})
	if n > 0 {
		pl.i += n
		r.in.read = true
		r.nAudit += n
		if last.After(r.near) {
			r.near = last
		}
	}
	return n
}

// stop ends a running pipeline early (ctx ended while merging).
func (r *reader) stop() {
	r.closeRead()
	if pl := r.par; pl != nil {
		close(pl.quit)
		for b := range pl.ordered { // let the reading goroutine finish
			<-b.done
		}
		r.par = nil
	}
}

// closeRead ends the goroutines reading ahead, if any.
func (r *reader) closeRead() {
	if r.pread != nil {
		r.pread.close()
		r.pread = nil
	}
}

// readFailed warns about an input that failed part-way (err is not io.EOF).
func (r *reader) readFailed(err error) {
	if err == io.EOF {
		r.in.read = true
	}
	if err != nil && err != io.EOF && !r.in.warned {
		r.in.warned = true
		r.set.warn(r.failMessage(err))
	}
	r.updateFormat()
}

// Reading ahead on every core. A query whose filter refuses most lines
// unparsed (Options.Keep) does little but read: the reading goroutine's
// copy of the file from the page cache is most of its CPU and all of its
// critical path. For a plain file, preadReader has two goroutines read the
// chunks of the file ahead (pread, at their offsets, so both copy at once)
// and hands the reading goroutine their bytes in order: a copy in memory,
// a few times cheaper than the one from the kernel. (A full parse, bound
// by the CPU of every core, does not use it: the second copy would cost
// more than it saves.)

const (
	preadSize    = 256 << 10
	preadSlack   = 64 << 10 // room before a chunk's bytes for the line cut at its start
	preadWorkers = 2
)

type preadChunk struct {
	buf []byte
	n   int
	err error
}

type preadReader struct {
	chunks [preadWorkers]chan preadChunk // chunk k comes on chunks[k%preadWorkers]
	free   chan []byte
	quit   chan struct{}
	k      int
	cur    preadChunk
	off    int // read of cur
	err    error
	once   sync.Once
}

// newPreadReader reads f from offset start on, adding what it reads to p.
func newPreadReader(f io.ReaderAt, start int64, p *progress) *preadReader {
	pr := &preadReader{free: make(chan []byte, 2*preadWorkers+2), quit: make(chan struct{})}
	for g := range preadWorkers {
		ch := make(chan preadChunk, 1)
		pr.chunks[g] = ch
		go func() {
			for k := g; ; k += preadWorkers {
				var buf []byte
				select {
				case buf = <-pr.free:
				default:
					buf = make([]byte, preadSlack+preadSize)
				}
				n, err := f.ReadAt(buf[preadSlack:], start+int64(k)*preadSize)
				p.add(int64(n))
				if n < preadSize && err == nil {
					err = io.EOF
				}
				select {
				case ch <- preadChunk{buf, n, err}:
				case <-pr.quit:
					return
				}
				if err != nil {
					return
				}
			}
		}()
	}
	return pr
}

// Read gives the file's bytes in order; the first error of a chunk (io.EOF
// at the end) ends them.
func (pr *preadReader) Read(b []byte) (int, error) {
	for pr.off == pr.cur.n {
		if pr.err != nil {
			return 0, pr.err
		}
		pr.next()
	}
	n := copy(b, pr.cur.buf[preadSlack+pr.off:preadSlack+pr.cur.n])
	pr.off += n
	return n, nil
}

// next makes the next chunk the current one.
func (pr *preadReader) next() {
	pr.recycle(pr.cur.buf)
	pr.cur, pr.off = <-pr.chunks[pr.k%preadWorkers], 0
	pr.k++
	pr.err = pr.cur.err
}

// chunk hands over the buffer of the current chunk (or of the next, when
// the current one is read), whose unread bytes are buf[lo:hi], with
// preadSlack bytes or more free before lo. The caller owns buf and may
// give it back with recycle. The first error of a chunk comes once its
// bytes are handed over.
func (pr *preadReader) chunk() (buf []byte, lo, hi int, err error) {
	for pr.off == pr.cur.n {
		if pr.err != nil {
			return nil, 0, 0, pr.err
		}
		pr.next()
	}
	buf, lo, hi = pr.cur.buf, preadSlack+pr.off, preadSlack+pr.cur.n
	pr.cur, pr.off = preadChunk{}, 0
	return buf, lo, hi, nil
}

// recycle takes back a buffer of chunk's, for a later chunk; false for
// other buffers.
func (pr *preadReader) recycle(buf []byte) bool {
	if cap(buf) != preadSlack+preadSize {
		return false
	}
	select {
	case pr.free <- buf[:cap(buf)]:
	default:
	}
	return true
}

// close ends the reading goroutines.
func (pr *preadReader) close() { pr.once.Do(func() { close(pr.quit) }) }
