package setup

import (
	"bytes"
	"os"
	"testing"
)

// FuzzPatchTwiceIsPatchOnce: for any manifest that parses, patching is
// idempotent and never panics, the result parses again, and the file's own
// text rewritten by Rewrite reads back as the patched pod.
//
//	go test ./setup -run XXX -fuzz FuzzPatchTwiceIsPatchOnce -fuzztime 1m
func FuzzPatchTwiceIsPatchOnce(f *testing.F) {
	for _, fx := range fixtures {
		if b, err := os.ReadFile(fx.manifest); err == nil {
			f.Add(b, false)
			f.Add(b, true)
		}
	}
	f.Fuzz(func(t *testing.T, manifest []byte, stdout bool) {
		m, err := parseManifest(manifest)
		if err != nil {
			return
		}
		cfg := config{Mode: "file", LogPath: DefaultLogPath, PolicyPath: DefaultPolicyPath, MaxAge: 1, MaxSize: 2, MaxBackup: 3}
		if stdout {
			cfg.Mode = "stdout"
		}
		orig := m.Clone()
		m.Patch(cfg)
		// The file's own text, rewritten to hold the patched pod, reads back as it.
		if text, _, err := orig.Rewrite(m.Pod); err == nil {
			if err := verifyManifest(withoutCRLF(text), m.Pod); err != nil {
				t.Fatalf("rewritten manifest is not the patched pod: %v", err)
			}
		}
		once, err := m.Marshal()
		if err != nil {
			return // e.g. a value the JSON encoder refuses; nothing written then
		}
		m2, err := parseManifest(once)
		if err != nil {
			t.Fatalf("patched manifest does not parse: %v", err)
		}
		m2.Patch(cfg)
		twice, err := m2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("patching twice differs:\n%s", unifiedDiff("once", "twice", once, twice))
		}
	})
}

func withoutCRLF(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) }
