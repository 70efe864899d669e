package source

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// seedLines adds lines of the sample and, when present, the real testdata.
func seedLines(f *testing.F) {
	add := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			return
		}
		for i, l := range bytes.Split(b, []byte("\n")) {
			if i > 200 {
				break
			}
			f.Add(l)
		}
	}
	add(filepath.Join("testdata", "sample.log"))
	add(filepath.Join("..", "testdata", "stdout", "kube-apiserver.log"))
	add(filepath.Join("..", "testdata", "stdout", "cri", "0.log"))
	for _, k := range klogSample {
		f.Add([]byte(k))
	}
	f.Add([]byte(`{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{"auditID":"a","stage":"ResponseComplete"}]}`))
	f.Add([]byte("2026-11-26T03:00:00.000000001Z stderr F I1126 03:00:09.123456       1 server.go:150] x"))
}

// FuzzClassify: Classify never fails, and agrees with the store on what an
// audit event is.
func FuzzClassify(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		k := Classify(line)
		_, ok := audit.ParseEvent(bytes.TrimSpace(line))
		if (k == KindAudit) != ok {
			t.Fatalf("Classify(%q) = %v but ParseEvent ok=%v", line, k, ok)
		}
		if k == KindKlog {
			if _, ok := ParseKlog(line, time.Time{}); !ok {
				t.Fatalf("Classify says klog, ParseKlog refuses %q", line)
			}
		}
	})
}

// FuzzParsers: the CRI and klog parsers never fail, and what they return is
// part of the line; a whole input of such lines loads without losing any.
func FuzzParsers(f *testing.F) {
	seedLines(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		if rec, ok := ParseCRI(line); ok {
			if !bytes.HasSuffix(line, rec.Text) || rec.Time.IsZero() {
				t.Fatalf("ParseCRI(%q) = %+v", line, rec)
			}
		}
		if k, ok := ParseKlog(line, time.Time{}); ok {
			if !strings.Contains(string(line), k.Msg) || !strings.Contains(string(line), k.File) || k.Time.IsZero() {
				t.Fatalf("ParseKlog(%q) = %+v", line, k)
			}
		}
		// the line as a whole input, plain and as a CRI record
		for _, in := range [][]byte{line, append([]byte("2026-11-26T03:00:00Z stdout F "), line...)} {
			set, err := Open([]string{"-"}, Options{Stdin: bytes.NewReader(in), MaxLine: 4096})
			if err != nil {
				t.Fatal(err)
			}
			st := audit.NewStore()
			set.Load(context.Background(), st)
			s := st.Snapshot()
			for _, o := range s.Other {
				if o.Line < 1 || o.Why == "" {
					t.Fatalf("other %+v", o)
				}
			}
		}
	})
}
