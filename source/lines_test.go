package source

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readLines reads every line of lr, handing its buffer away the way a
// parallel load does (handoff, detach with a buffer given back earlier),
// and returns copies of the lines.
func readLines(t *testing.T, lr *lineReader, handoff bool) []line {
	t.Helper()
	var out, pending []line
	var spare []byte
	if handoff {
		lr.handoff = func() {
			if len(pending) == 0 {
				return
			}
			for _, l := range pending { // the batch is used, then its buffer comes back
				l.text = bytes.Clone(l.text)
				out = append(out, l)
			}
			pending = pending[:0]
			old := lr.buf
			lr.detach(spare)
			spare = old
		}
	}
	for {
		l, err := lr.next()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		if !handoff {
			l.text = bytes.Clone(l.text)
			out = append(out, l)
			continue
		}
		pending = append(pending, l)
	}
	for _, l := range pending {
		l.text = bytes.Clone(l.text)
		out = append(out, l)
	}
	return out
}

// A filtered load's lines cut from the chunks read ahead (preadReader's
// buffers, taken whole) are the lines a plain read gives: text, offset,
// number and size, for lines shorter than a chunk, straddling two, longer
// than the room before a chunk's bytes, longer than a chunk, over the
// maximum, and a last line without its newline. Crafted lines.
func TestChunkedLinesAreThePlainLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString("\xef\xbb\xbf{\"first\":1}\r\n")
	for buf.Len() < 6*preadSize {
		var n int
		switch rng.IntN(40) {
		case 0:
			n = preadSlack + rng.IntN(preadSize) // longer than the slack
		case 1:
			n = preadSize + rng.IntN(preadSize/2) // longer than a chunk
		case 2:
			n = 0
		default:
			n = rng.IntN(3000)
		}
		buf.WriteString(strings.Repeat(string(rune('a'+rng.IntN(26))), n))
		if rng.IntN(10) == 0 {
			buf.WriteByte('\r')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString(strings.Repeat("z", 12*preadSize)) // over max below
	buf.WriteString("\nlast line, no newline")
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	const max = 4 * preadSize
	want := readLines(t, newLineReader(bytes.NewReader(buf.Bytes()), max), false)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pr := newPreadReader(f, 0, &progress{})
	defer pr.close()
	lr := newLineReader(pr, max)
	lr.chunks = pr
	got := readLines(t, lr, true)
	if len(got) != len(want) {
		t.Fatalf("%d lines from the chunks, %d from a plain read", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if !bytes.Equal(g.text, w.text) || g.off != w.off || g.n != w.n || g.size != w.size || g.tooLong != w.tooLong || g.cut != w.cut {
			t.Fatalf("line %d: got off %d n %d size %d tooLong %v cut %v %.40q, want off %d n %d size %d tooLong %v cut %v %.40q",
				i, g.off, g.n, g.size, g.tooLong, g.cut, g.text, w.off, w.n, w.size, w.tooLong, w.cut, w.text)
		}
	}
	if l := got[len(got)-2]; !l.tooLong {
		t.Errorf("the line over the maximum was kept (%d bytes)", l.size)
	}
	if lr.consumed() != int64(buf.Len()) {
		t.Errorf("consumed %d bytes, the file has %d", lr.consumed(), buf.Len())
	}
}
