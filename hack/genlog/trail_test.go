package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/source"
	"github.com/tidwall/gjson"
)

// recorded is the generator's input: the real events of testdata/file.
func recorded(t *testing.T) []request {
	t.Helper()
	reqs, err := templates(audittest.Logs(t, "file"))
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// smallTrail is 3 backups of 1 MiB, the oldest gzipped, and a half-full
// audit.log.
var smallTrail = trailSpec{size: 3<<20 + 512<<10, maxSize: 1 << 20, maxBackup: 100, gzip: -1, seed: 1}

var backupName = regexp.MustCompile(`^audit-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3})\.log(\.gz)?$`)

// TestTrailReadAsARotation: kauditui, given the trail's audit.log, finds the
// backups genlog wrote, reads them oldest first with the live file last, and
// counts the requests genlog says it wrote; the files are laid out as the
// apiserver's rotation lays them out (names, sizes, gzip, older events in
// older files).
func TestTrailReadAsARotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trail")
	res, err := writeTrail(dir, recorded(t), smallTrail)
	if err != nil {
		t.Fatal(err)
	}
	if res.backups != 3 || res.gzipped != 1 || res.capped {
		t.Fatalf("backups %d (%d gzipped, capped %v), want 3 (1 gzipped)", res.backups, res.gzipped, res.capped)
	}

	// The folder as an operator lists it.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names) // lumberjack's names sort by rotation time; audit.log last
	var want []string
	for _, f := range res.files {
		want = append(want, filepath.Base(f))
	}
	if strings.Join(names, " ") != strings.Join(want, " ") || names[len(names)-1] != "audit.log" {
		t.Fatalf("folder holds %v, genlog says %v", names, want)
	}

	// kauditui reads the trail from its audit.log, in rotation order.
	var warnings []string
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{filepath.Join(dir, "audit.log")}},
		source.Options{Warn: func(m string) { warnings = append(warnings, m) }})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	var read []string
	for _, in := range set.Inputs() {
		read = append(read, filepath.Base(in.Name))
	}
	if strings.Join(read, " ") != strings.Join(want, " ") {
		t.Errorf("kauditui read %v, want %v", read, want)
	}
	if len(warnings) > 0 {
		t.Errorf("kauditui warned: %v", warnings)
	}
	snap := st.Snapshot()
	if len(snap.Requests) != res.requests {
		t.Errorf("kauditui counts %d requests, genlog wrote %d", len(snap.Requests), res.requests)
	}

	// Each file as the rotation leaves it: backups whole lines of at most
	// maxsize, named after their last event; every event older than those
	// of the next file; a request's stages may straddle two files.
	var prevLast, prevName time.Time
	var lines int
	fileOf := map[string]int{}
	straddle := 0
	for i, f := range res.files {
		raw := audittest.ReadLog(t, f)
		base := filepath.Base(f)
		if len(raw) == 0 || raw[len(raw)-1] != '\n' || int64(len(raw)) > smallTrail.maxSize {
			t.Errorf("%s: %d bytes, want whole lines, at most %d", base, len(raw), smallTrail.maxSize)
		}
		gz, _ := os.ReadFile(f)
		if isGz := bytes.HasPrefix(gz, []byte{0x1f, 0x8b}); isGz != (i < 1) || isGz != strings.HasSuffix(base, ".gz") {
			t.Errorf("%s: gzipped %v; want only the oldest backup gzipped, named .gz", base, isGz)
		}
		var first, last time.Time
		for _, l := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
			lines++
			at := audit.ParseTime(gjson.GetBytes(l, "stageTimestamp").Str)
			if at.IsZero() || at.Before(last) {
				t.Fatalf("%s: line %q out of time order (after %v)", base, l[:min(len(l), 120)], last)
			}
			if first.IsZero() {
				first = at
			}
			last = at
			id := gjson.GetBytes(l, "auditID").Str
			if j, ok := fileOf[id]; ok && j != i {
				straddle++
			}
			fileOf[id] = i
		}
		if first.Before(prevLast) {
			t.Errorf("%s starts at %v, before the previous file's last event %v", base, first, prevLast)
		}
		if base != "audit.log" {
			m := backupName.FindStringSubmatch(base)
			if m == nil {
				t.Fatalf("backup %s not named as lumberjack names it", base)
			}
			name, _ := time.Parse(trailTimeLayout, m[1])
			if !name.After(last) || !name.After(prevName) || name.After(last.Add(time.Second)) {
				t.Errorf("%s: named %v, its last event %v (previous name %v)", base, name, last, prevName)
			}
			prevName = name
		}
		prevLast = last
	}
	if lines != snap.Events {
		t.Errorf("%d lines in the files, kauditui read %d events", lines, snap.Events)
	}
	if straddle == 0 {
		t.Errorf("no request's stages straddle two files: not rotated line by line")
	}
}

// TestTrailSameSeedSameTrail: a trail is a function of its seed.
func TestTrailSameSeedSameTrail(t *testing.T) {
	reqs := recorded(t)
	read := func(spec trailSpec) map[string][]byte {
		dir := filepath.Join(t.TempDir(), "trail")
		if _, err := writeTrail(dir, reqs, spec); err != nil {
			t.Fatal(err)
		}
		out := map[string][]byte{}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
		return out
	}
	a, b := read(smallTrail), read(smallTrail)
	if len(a) != 4 || len(a) != len(b) {
		t.Fatalf("%d and %d files, want 4 each", len(a), len(b))
	}
	for name, data := range a {
		if !bytes.Equal(data, b[name]) {
			t.Errorf("%s differs between two runs with seed 1", name)
		}
	}
	other := smallTrail
	other.seed = 2
	c := read(other)
	if bytes.Equal(a["audit.log"], c["audit.log"]) {
		t.Error("seeds 1 and 2 wrote the same audit.log")
	}
}

// TestTrailRefusesAFullFolder: genlog never writes into a folder holding
// something (a trail, or anything else).
func TestTrailRefusesAFullFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "audit.log"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := writeTrail(dir, recorded(t), smallTrail)
	if err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("err = %v, want a refusal naming the folder", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "audit.log")); string(b) != "x\n" {
		t.Error("the folder's file was changed")
	}
}
