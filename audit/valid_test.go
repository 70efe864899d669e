package audit

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/tidwall/gjson"
)

func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,2.5e-3,"x\u00e9",true,false,null]`, `{"a":`, `{"a" 1}`, `"\x01"`, ` {} `, `-0.1`, `01`, `{"a":"b\"c"}`} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile("../testdata/sample.log"); err == nil {
		for _, l := range strings.Split(string(b), "\n")[:5] {
			f.Add([]byte(l))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), gjson.ValidBytes(b); got != want {
			t.Fatalf("validJSON(%q) = %v, gjson.Valid says %v", b, got, want)
		}
		// ValidUpTo: the whole of a valid text, and of every valid text
		// cut short (source's splice repair relies on it)
		if e := ValidUpTo(b); e < 0 || e > len(b) || validJSON(b) && e != len(b) {
			t.Fatalf("ValidUpTo(%q) = %d", b, e)
		}
		if validJSON(b) {
			for n := range min(len(b), 300) {
				if e := ValidUpTo(b[:n]); e != n {
					t.Fatalf("ValidUpTo(%q) = %d, but it is %q cut short", b[:n], e, b)
				}
			}
		}
	})
}

// BenchmarkScanEvent scans the real events of testdata/file (the workers'
// share of a load: validation and the fields' capture). cpu-ns/line is the
// process's CPU time, which a busy machine disturbs less than the time.
func BenchmarkScanEvent(b *testing.B) {
	var lines [][]byte
	var size int64
	for _, p := range audittest.Logs(b, "file") {
		for _, l := range bytes.Split(audittest.ReadLog(b, p), []byte("\n")) {
			if len(l) > 0 {
				lines = append(lines, l)
				size += int64(len(l))
			}
		}
	}
	b.SetBytes(size)
	var p Prescan
	var cpu time.Duration
	n := 0
	for b.Loop() {
		before := processCPU()
		for _, l := range lines {
			p.Scan(l)
		}
		cpu += processCPU() - before
		n += len(lines)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/line")
}

// special's first flag is the first byte that ends a run of plain string
// characters, for every byte value in every lane, after any plain bytes.
func TestSpecialFirstFlag(t *testing.T) {
	var w [8]byte
	for lane := 0; lane < 8; lane++ {
		for c := 0; c < 256; c++ {
			for fill := 0; fill < 256; fill++ {
				if strStop[fill] {
					continue
				}
				for k := range w {
					w[k] = byte(fill)
				}
				w[lane] = byte(c)
				want := 8
				for k := range w {
					if strStop[w[k]] {
						want = k
						break
					}
				}
				m := swarLanes.special(binary.LittleEndian.Uint64(w[:]))
				got := 8
				if m != 0 {
					got = bits.TrailingZeros64(m) >> 3
				}
				if got != want {
					t.Fatalf("special(%q) flags byte %d first, want %d", w, got, want)
				}
			}
		}
	}
}

// ... and for words of several such bytes (borrows between lanes).
func TestSpecialFirstFlagMixed(t *testing.T) {
	vals := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0x82, 0xa2, 0xdc, 0xff, 'a'}
	var w [8]byte
	seed := uint64(1)
	for n := 0; n < 1<<20; n++ {
		for k := range w {
			seed = seed*6364136223846793005 + 1442695040888963407
			w[k] = vals[(seed>>33)%uint64(len(vals))]
		}
		want := 8
		for k := range w {
			if strStop[w[k]] {
				want = k
				break
			}
		}
		got := 8
		if m := swarLanes.special(binary.LittleEndian.Uint64(w[:])); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("special(%q) flags byte %d first, want %d", w, got, want)
		}
	}
}
