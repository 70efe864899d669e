package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The real capture of testdata/spliced: a klog line fell between the P
// records of a 49 KB event, so kube-apiserver.log holds the event's line
// cut in two with the klog line spliced in. managedlog reads it as
// kauditui does: every event as the apiserver wrote it (the CRI log's
// stdout lines), none lost, no error.
func TestReadLogSpliced(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "spliced")
	events, klog, err := readLog(filepath.Join(dir, "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	cri, err := os.ReadFile(filepath.Join(dir, "cri.log"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string // the stdout stream, partial records joined
	var cur strings.Builder
	for _, l := range strings.Split(strings.TrimSuffix(string(cri), "\n"), "\n") {
		p := strings.SplitN(l, " ", 4)
		if p[1] != "stdout" {
			continue
		}
		cur.WriteString(p[3])
		if p[2] == "F" {
			want = append(want, cur.String())
			cur.Reset()
		}
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, the CRI log's stdout %d", len(events), len(want))
	}
	for i, e := range events {
		if string(e.raw) != want[i] {
			t.Errorf("event %d (%s) is not the line the apiserver wrote", i, e.ev.AuditID)
		}
	}
	if len(klog) == 0 || !bytes.HasPrefix(klog[0], []byte("I1206 ")) {
		t.Errorf("klog lines: %q", klog)
	}
}
