package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// `kauditui query --follow -o json audit.log` while the apiserver's rotator
// (lumberjack, 1 MB files here) rotates the log 20 times under load: every
// event comes out once (main printed 165 of 6,580).
func TestQueryFollowJSONThroughRotations(t *testing.T) {
	lines, _ := followLog(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	os.WriteFile(path, nil, 0o600)
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}, Follow: true}, source.Options{PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	old := followTick
	followTick = 10 * time.Millisecond
	defer func() { followTick = old }()
	out := &syncBuffer{}
	o := &queryOptions{IO: &IO{Out: out, Err: &syncBuffer{}, Getenv: func(string) string { return "" }}, Output: "json", Follow: true, Now: time.Now}
	f, _ := filter.Parse("", time.Now())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.follow(ctx, set, audit.NewStore(), f) }()

	w := &lumberjack.Logger{Filename: path, MaxSize: 1}
	var want []string
	size := 0
	for copyN := 0; size < 20<<20+(1<<19); copyN++ {
		for _, l := range lines {
			// each copy of the real log is other requests: their own IDs
			l = strings.Replace(l, `"auditID":"`, fmt.Sprintf(`"auditID":"c%03d-`, copyN), 1)
			if _, err := w.Write([]byte(l + "\n")); err != nil {
				t.Fatal(err)
			}
			want = append(want, l)
			size += len(l) + 1
		}
	}
	w.Close()
	for deadline := time.Now().Add(60 * time.Second); strings.Count(out.String(), "\n") < len(want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	backups, _ := source.Backups(path)
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	seen := map[string]int{}
	for _, l := range got {
		seen[l]++
	}
	missing, twice := 0, 0
	for _, l := range want {
		switch seen[l] {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if len(backups) < 20 || missing > 0 || twice > 0 || len(got) != len(want) {
		t.Fatalf("%d rotations: %d of %d events printed, %d missing, %d twice", len(backups), len(got), len(want), missing, twice)
	}
}
