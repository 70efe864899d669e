// Package audittest finds the test data of kauditui's tests, in the way of
// net/http/httptest: the real kube-apiserver logs under testdata/ (written
// by hack/gen-*.sh), their rotated backups, the ground truth each harness
// wrote from what it did, and the golden files of the views. Only tests
// import it; it imports none of kauditui's packages.
//
// A regeneration of the testdata renames the rotated backups (their names
// carry the time of the rotation): find them with Logs or Rotated, never by
// name.
package audittest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aymanbagabas/go-udiff"
	_ "github.com/charmbracelet/x/exp/golden" // registers -update, which Golden reads
	"github.com/tidwall/gjson"
)

var (
	dirOnce sync.Once
	dir     string
)

// Dir is the testdata folder: $KAUDITUI_TESTDATA when set (a regeneration
// elsewhere, see testdata/README.md), else the repository's testdata/,
// relative to the test's working directory ("testdata" in the repository's
// root package, "../testdata" one below), so paths shown by the program
// under test read as before.
func Dir() string {
	dirOnce.Do(func() {
		if d := os.Getenv("KAUDITUI_TESTDATA"); d != "" {
			dir = d
			return
		}
		dir = "testdata" // the root package, when no go.mod is found above
		p, err := os.Getwd()
		if err != nil {
			return
		}
		for up := "."; ; up = filepath.Join(up, "..") {
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				dir = filepath.Join(up, "testdata")
				return
			}
			if filepath.Dir(p) == p {
				return
			}
			p = filepath.Dir(p)
		}
	})
	return dir
}

// Path is a path under Dir: Path("file", "audit.log").
func Path(elem ...string) string {
	return filepath.Join(append([]string{Dir()}, elem...)...)
}

// generators name the script that writes each folder of the testdata, for
// the message when it is missing.
var generators = map[string]string{
	".":         "hack/gen-testdata.sh",
	"file":      "hack/gen-testdata.sh",
	"kubeadm":   "hack/gen-testdata.sh",
	"stdout":    "hack/gen-testdata.sh",
	"answers":   "hack/gen-answers.sh",
	"admission": "hack/gen-admission.sh",
	"backend":   "sudo hack/gen-backend.sh",
	"hostile":   "hack/gen-hostile.sh",
	"trust":     "hack/gen-trust.sh",
	"findings":  "hack/gen-findings.sh",
	"managed":   "go run ./hack/managedlog",
}

// regenerate says what writes the testdata folder rel.
func regenerate(rel string) string {
	top, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	if g, ok := generators[top]; ok {
		return "run " + g
	}
	return "see testdata/README.md"
}

// ReadJSON reads the JSON file rel (under Dir) into v, or fails the test
// saying which script writes it.
func ReadJSON(tb testing.TB, rel string, v any) {
	tb.Helper()
	b := readJSON(tb, rel)
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", Path(rel), err)
	}
}

func readJSON(tb testing.TB, rel string) []byte {
	tb.Helper()
	b, err := os.ReadFile(Path(rel))
	if err != nil {
		tb.Fatalf("%v (%s)", err, regenerate(filepath.Dir(rel)))
	}
	if !gjson.ValidBytes(b) {
		tb.Fatalf("%s is not valid JSON (%s)", Path(rel), regenerate(filepath.Dir(rel)))
	}
	return b
}

// Truth is testdata/ground-truth.json: what hack/gen-testdata.sh did, as
// it recorded it (see testdata/README.md).
func Truth(tb testing.TB) gjson.Result {
	tb.Helper()
	return gjson.ParseBytes(readJSON(tb, "ground-truth.json"))
}

// Expected is the expected.json of a testdata folder ("answers",
// "admission", "backend", "hostile", "trust/reused-id"): what the script
// that wrote the folder did.
func Expected(tb testing.TB, folder string) gjson.Result {
	tb.Helper()
	return gjson.ParseBytes(readJSON(tb, filepath.Join(folder, "expected.json")))
}

// Refusals are the actions of testdata/admission/expected.json that a
// control refused (refusedBy names it), in the order hack/gen-admission.sh
// made them; the test fails when fewer than the six kinds are there.
func Refusals(tb testing.TB) []gjson.Result {
	tb.Helper()
	var out []gjson.Result
	for _, a := range Expected(tb, "admission").Get("actions").Array() {
		if a.Get("refusedBy").Exists() {
			out = append(out, a)
		}
	}
	if len(out) < 6 {
		tb.Fatalf("admission/expected.json has %d refused actions, want the six kinds (%s)", len(out), regenerate("admission"))
	}
	return out
}

// Logs is a testdata folder's audit.log after its rotated backups
// (audit-<time>.log, .gz ones too), oldest first as their names sort: the
// family in the order kauditui reads it.
func Logs(tb testing.TB, folder string) []string {
	tb.Helper()
	live := Path(folder, "audit.log")
	if _, err := os.Stat(live); err != nil {
		tb.Fatalf("%v (%s)", err, regenerate(folder))
	}
	backups, err := filepath.Glob(Path(folder, "audit-*"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(backups)
	return append(backups, live)
}

// Rotated is the one file of a testdata folder that matches pattern:
// Rotated(t, "file", "audit-*.log") is the plain rotated backup.
func Rotated(tb testing.TB, folder, pattern string) string {
	tb.Helper()
	m, err := filepath.Glob(Path(folder, pattern))
	if err != nil || len(m) != 1 {
		tb.Fatalf("%s in %s: %d files (%v), want 1 (%s)", pattern, Path(folder), len(m), err, regenerate(folder))
	}
	return m[0]
}

// ReadLog is the bytes of a log, gunzipped when its name ends in .gz: the
// log as the test reads it apart from kauditui's own reader.
func ReadLog(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	if b, err = io.ReadAll(zr); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return b
}

// Golden compares got with the golden file at path (relative to the test's
// package); `go test -update` writes got there instead (the flag of
// github.com/charmbracelet/x/exp/golden, shared by every golden test).
func Golden(tb testing.TB, path, got string) {
	tb.Helper()
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (go test -run '%s' -update writes it)", err, tb.Name())
	}
	if d := udiff.Unified(path, "got", string(want), got); d != "" {
		tb.Errorf("the output differs from %s (go test -run '%s' -update rewrites it):\n%s", path, tb.Name(), d)
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}
