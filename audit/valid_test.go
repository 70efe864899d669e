package audit

import (
	"bytes"
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
