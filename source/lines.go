package source

import (
	"bytes"
	"errors"
	"io"
)

// defaultMaxLine is the longest line kept whole. Audit lines at level
// RequestResponse routinely pass 64 KiB and reach several MiB; a longer line
// is skipped (never buffered) and recorded as an "other" line.
const defaultMaxLine = 128 << 20

// readSize is how much is asked of the underlying reader at once.
const readSize = 1 << 20

// batchRead is how much a parallel load reads into one batch: the merging
// goroutine then reads a batch's lines and what the workers made of them
// (half as much again) while they are still in the caches, and the
// batches read ahead take little memory. The pipeline holds eight batches
// (pipeline.go): at 256 KiB, 2 MiB of lines and about 1.2 MiB of their
// prescans, within the L2 of a small master's two cores (2 MiB each); at
// 512 KiB twice that spilled, and the full parse of a 1 GB log took 0.13-0.2 s
// more CPU (of 2.5: the page-cache copy into the batches, the workers' and
// the merge's reads missed more). 128 KiB saved no more.
const batchRead = 256 << 10

// lineReader splits a stream into lines of any length up to max, without
// the per-line allocation of bufio.Reader.ReadBytes and without the 64 KiB
// limit of bufio.Scanner. Lines it returns alias its buffer and are valid
// until the next call.
type lineReader struct {
	r      io.Reader
	buf    []byte
	start  int   // first byte of the current line
	scan   int   // bytes before scan hold no newline
	end    int   // end of data
	off    int64 // stream offset of buf[0]
	lineNo int64
	max    int
	err    error // sticky error from r (io.EOF at the end)
	hold   bool  // keep an unterminated last line (follow mode: it may still grow)
	prompt bool  // a stream: one read at a time, lines handed on as they come

	// handoff, when set, is called before buf is read into again, while the
	// lines handed out since the last call still alias it: it may take buf
	// away with detach (parallel loads hand whole buffers to the workers).
	handoff func()

	// chunks, when set with handoff, gives whole buffers already read (a
	// filtered load's preadReader): they become buf, with the unfinished
	// line copied in front, rather than being copied into it. carry holds
	// that line meanwhile; spare is a buffer given back for a line longer
	// than the room before a chunk's bytes, which is read the usual way.
	chunks chunkSource
	carry  []byte
	spare  []byte
}

// chunkSource is r when it can hand over the buffers it reads into
// (preadReader): buf[lo:hi] is what was read, with preadSlack bytes or
// more free before lo; recycle takes back a buffer no line aliases, if
// it is one of its own.
type chunkSource interface {
	chunk() (buf []byte, lo, hi int, err error)
	recycle(buf []byte) bool
}

// line is one line handed out by the reader.
type line struct {
	text    []byte // without the newline (and without a trailing \r)
	off     int64
	n       int64 // 1-based line number
	size    int64 // bytes in the stream, newline excluded; > len(text) when skipped as too long
	tooLong bool
	cut     bool // the stream ended (or failed) before the newline
}

func newLineReader(r io.Reader, max int) *lineReader {
	if max <= 0 {
		max = defaultMaxLine
	}
	return &lineReader{r: r, max: max, buf: make([]byte, 0, readSize*2)}
}

// next returns the next line, or an error: io.EOF at the end of the stream
// (or, when hold is set, when only an unterminated line is left), or the
// reader's error once every complete line before it has been returned.
func (lr *lineReader) next() (line, error) {
	for {
		if i := bytes.IndexByte(lr.buf[lr.scan:lr.end], '\n'); i >= 0 {
			nl := lr.scan + i
			text := lr.buf[lr.start:nl]
			l := line{off: lr.off + int64(lr.start), size: int64(len(text))}
			lr.start, lr.scan = nl+1, nl+1
			lr.lineNo++
			l.n = lr.lineNo
			if n := len(text); n > 0 && text[n-1] == '\r' {
				text = text[:n-1]
			}
			l.text = text
			trimBOM(&l)
			return l, nil
		}
		lr.scan = lr.end
		if lr.handoff != nil && lr.err == nil {
			lr.handoff()
		}
		if lr.err != nil {
			if lr.start < lr.end && (!lr.hold || lr.err != io.EOF) {
				text := lr.buf[lr.start:lr.end]
				l := line{text: text, off: lr.off + int64(lr.start), size: int64(len(text)), cut: lr.err != io.EOF}
				lr.start, lr.scan = lr.end, lr.end
				lr.lineNo++
				l.n = lr.lineNo
				trimBOM(&l)
				return l, nil
			}
			return line{}, lr.err
		}
		if lr.end-lr.start >= lr.max {
			return lr.skipLong()
		}
		lr.fill()
	}
}

// fill reads more data, first moving the unfinished line to the front and
// growing the buffer when the line fills it.
func (lr *lineReader) fill() {
	if lr.chunks != nil && lr.handoff != nil && lr.end-lr.start <= preadSlack {
		lr.fillChunk()
		return
	}
	if lr.start == lr.end && cap(lr.buf) > 8*readSize {
		lr.off += int64(lr.start)
		lr.buf = make([]byte, 0, 2*readSize) // a long line is gone: shrink
		lr.start, lr.scan, lr.end = 0, 0, 0
	}
	if lr.start > 0 && (lr.start == lr.end || cap(lr.buf)-lr.end < readSize) {
		n := copy(lr.buf[:cap(lr.buf)], lr.buf[lr.start:lr.end])
		lr.off += int64(lr.start)
		lr.scan -= lr.start
		lr.start, lr.end = 0, n
	}
	if cap(lr.buf)-lr.end < readSize {
		nb := make([]byte, lr.end, max(2*cap(lr.buf), lr.end+readSize))
		copy(nb, lr.buf[:lr.end])
		lr.buf = nb
	}
	limit := cap(lr.buf)
	batching := lr.handoff != nil && !lr.prompt
	if batching {
		// a parallel load's batch: see batchRead
		limit = min(limit, lr.end+batchRead)
	}
	n, err := lr.r.Read(lr.buf[lr.end:limit])
	lr.end += n
	// A parallel load takes whole buffers as batches: fill one (gzip reads
	// come in 32 KiB pieces) rather than hand out many small ones.
	for batching && err == nil && n > 0 && limit-lr.end >= batchRead/4 && lr.end-lr.start < batchRead {
		n, err = lr.r.Read(lr.buf[lr.end:limit])
		lr.end += n
	}
	lr.buf = lr.buf[:lr.end]
	if err != nil {
		lr.err = err
	}
}

// fillChunk takes the next chunk as buf, the unfinished line copied in
// front of its bytes. The old buf goes back to the chunk source: nothing
// aliases it (handoff took it away if lines did).
func (lr *lineReader) fillChunk() {
	buf, lo, hi, err := lr.chunks.chunk()
	if err != nil {
		lr.err = err
		return
	}
	rest := lr.end - lr.start
	copy(buf[lo-rest:lo], lr.buf[lr.start:lr.end])
	lr.keep(lr.buf)
	// buf stays whole (recycle knows it by its size); off may be negative
	lr.off += int64(lr.start - (lo - rest))
	lr.buf = buf[:hi]
	lr.start, lr.scan, lr.end = lo-rest, lo, hi
}

// detach gives buf up to the caller, with the lines it returned still in
// it, and carries on in nb (any length; grown as needed), into which the
// unfinished line is copied. With chunks, nb goes back to the chunk source
// and a short unfinished line waits in carry for the next chunk.
func (lr *lineReader) detach(nb []byte) {
	rest := lr.end - lr.start
	if lr.chunks != nil {
		lr.keep(nb)
		nb = nil
		if rest <= preadSlack {
			if lr.carry == nil {
				lr.carry = make([]byte, 0, preadSlack)
			}
			lr.carry = append(lr.carry[:0], lr.buf[lr.start:lr.end]...)
			lr.off += int64(lr.start)
			lr.scan -= lr.start
			lr.start, lr.end = 0, rest
			lr.buf = lr.carry
			return
		}
		nb, lr.spare = lr.spare, nil
	}
	if cap(nb) < rest+readSize {
		nb = make([]byte, 0, max(2*readSize, rest+readSize))
	}
	nb = nb[:rest]
	copy(nb, lr.buf[lr.start:lr.end])
	lr.off += int64(lr.start)
	lr.scan -= lr.start
	lr.start, lr.end = 0, rest
	lr.buf = nb
}

// keep gives a buffer that no line aliases back to the chunk source, or
// keeps it as spare (a long line's).
func (lr *lineReader) keep(b []byte) {
	if !lr.chunks.recycle(b) && cap(b) >= 2*readSize && cap(b) <= 8*readSize && cap(b) > cap(lr.spare) {
		lr.spare = b[:0]
	}
}

// skipLong discards the rest of an over-long line and reports its size.
func (lr *lineReader) skipLong() (line, error) {
	l := line{off: lr.off + int64(lr.start), tooLong: true}
	size := int64(lr.end - lr.start)
	if cap(lr.buf) > 4*readSize {
		lr.buf = make([]byte, 0, 2*readSize) // give the huge buffer back
	}
	lr.off = l.off + size // stream offset of the next byte read into buf[0]
	lr.start, lr.scan, lr.end = 0, 0, 0
	lr.buf = lr.buf[:0]
	for {
		n, err := lr.r.Read(lr.buf[:cap(lr.buf)])
		if i := bytes.IndexByte(lr.buf[:n], '\n'); i >= 0 {
			size += int64(i)
			lr.buf = lr.buf[:n]
			lr.start, lr.scan, lr.end = i+1, i+1, n
			if err != nil {
				lr.err = err
			}
			break
		}
		size += int64(n)
		lr.off += int64(n)
		if err != nil {
			lr.err = err
			l.cut = err != io.EOF
			break
		}
	}
	lr.lineNo++
	l.n = lr.lineNo
	l.size = size
	return l, nil
}

// consumed is how many bytes were read from the underlying reader.
func (lr *lineReader) consumed() int64 { return lr.off + int64(lr.end) }

// resume clears an io.EOF so that a growing file can be read further.
func (lr *lineReader) resume() {
	if errors.Is(lr.err, io.EOF) {
		lr.err = nil
	}
}
