package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/kauditui/kauditui/audit/audittest"
)

// compressedFamily copies the real log and its backups into a folder, the
// plain backup compressed with zstd as logrotate's compresscmd zstd does
// (named .zst), and returns the live log's path and the original's.
func compressedFamily(t *testing.T) (live, orig string) {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{audittest.Rotated(t, "file", "audit-*.log.gz"), audittest.Path("file", "audit.log")} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600)
	}
	plain := audittest.Rotated(t, "file", "audit-*.log")
	b, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw, _ := zstd.NewWriter(&z)
	zw.Write(b)
	zw.Close()
	os.WriteFile(filepath.Join(dir, filepath.Base(plain)+".zst"), z.Bytes(), 0o600)
	return filepath.Join(dir, "audit.log"), audittest.Path("file", "audit.log")
}

// A backup compressed with zstd beside the log is read as the gzipped one
// is: the same requests, and -o json prints its lines as logged (read back
// from the spool). It used to be skipped without a word.
func TestQueryReadsZstdBackups(t *testing.T) {
	live, orig := compressedFamily(t)
	want := runQueryTest(t, "", "-o", "json", orig)
	got := runQueryTest(t, "", "-o", "json", live)
	if got.code != exitOK || got.stderr != "" {
		t.Fatalf("exit %d: %s", got.code, got.stderr)
	}
	if got.stdout != want.stdout {
		t.Fatalf("-o json with a .zst backup: %d bytes, %d with it plain", len(got.stdout), len(want.stdout))
	}
	_, truth := fileRun(t)
	count := runQueryTest(t, "", "--count", live)
	if n := strings.TrimSpace(count.stdout); n != truth.Get("runs.file.requests").String() {
		t.Errorf("--count %s, ground truth %s", n, truth.Get("runs.file.requests"))
	}
	table := runQueryTest(t, "", "-o", "wide", live)
	if wt := runQueryTest(t, "", "-o", "wide", orig); table.stdout != wt.stdout {
		t.Errorf("the table with a .zst backup differs from the one with it plain")
	}
}

// A zstd backup named alone, and zstd data on standard input.
func TestQueryReadsZstdNamedAndOnStdin(t *testing.T) {
	live, _ := compressedFamily(t)
	zst, _ := filepath.Glob(filepath.Join(filepath.Dir(live), "*.zst"))
	alone := runQueryTest(t, "", "-o", "json", zst[0])
	want := runQueryTest(t, "", "-o", "json", audittest.Rotated(t, "file", "audit-*.log"))
	if alone.stdout != want.stdout || alone.code != exitOK {
		t.Fatalf("a .zst named alone: exit %d, %d bytes, want %d: %s", alone.code, len(alone.stdout), len(want.stdout), alone.stderr)
	}
	b, _ := os.ReadFile(zst[0])
	stdin := runQueryTest(t, string(b), "-o", "json", "-")
	if stdin.stdout != want.stdout {
		t.Fatalf("zstd on stdin: %d bytes, want %d: %s", len(stdin.stdout), len(want.stdout), stdin.stderr)
	}
}

// An xz backup is not read (no xz reader without a new dependency), but it
// is named, with the command that makes it readable; decompressed beside
// it, the plain copy is read and the .xz is not read twice. The .xz here
// is crafted: an xz stream header and junk (the magic number is what is
// refused).
func TestQueryNamesXzBackups(t *testing.T) {
	live, orig := compressedFamily(t)
	dir := filepath.Dir(live)
	zst, _ := filepath.Glob(filepath.Join(dir, "*.zst"))
	xzName := strings.TrimSuffix(zst[0], ".zst") + ".xz"
	os.Remove(zst[0])
	os.WriteFile(xzName, append([]byte{0xfd, '7', 'z', 'X', 'Z', 0}, "\x00\x04\xe6\xd6\xb4\x46junk"...), 0o600)
	r := runQueryTest(t, "", "--count", live)
	wantMsg := "kauditui: warning: " + xzName + ": xz-compressed, which kauditui does not read: decompress it beside the log with `xz -dk " + xzName + "` and run again\n"
	if r.code != exitOK || r.stderr != wantMsg {
		t.Fatalf("exit %d, stderr %q\nwant %q", r.code, r.stderr, wantMsg)
	}
	plain, _ := os.ReadFile(audittest.Rotated(t, "file", "audit-*.log"))
	os.WriteFile(strings.TrimSuffix(xzName, ".xz"), plain, 0o600) // what xz -dk leaves
	r = runQueryTest(t, "", "--count", live)
	want := runQueryTest(t, "", "--count", orig)
	if r.stdout != want.stdout || r.stderr != "" {
		t.Fatalf("decompressed beside its .xz: %q (%s), want %q", r.stdout, r.stderr, want.stdout)
	}
	alone := runQueryTest(t, "", "--count", xzName)
	if alone.code != exitUsage || !strings.Contains(alone.stderr, "xz -dk") {
		t.Fatalf("an .xz named alone: exit %d: %s", alone.code, alone.stderr)
	}
}
