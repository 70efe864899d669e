package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// `kauditui query /var/log/kubernetes/audit/*` names the live log and its
// backups: each file is read once, in rotation order, whatever order the
// shell or the user gave them in. Run on a copy of the real file-mode run.
func TestOpenReadsEachFileOnceInRotationOrder(t *testing.T) {
	dir := t.TempDir()
	src := audittest.Path("file")
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Skip("no testdata/file: run hack/gen-testdata.sh")
	}
	var names []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
		names = append(names, e.Name())
	}
	live := filepath.Join(dir, "audit.log")
	load := func(paths ...string) ([]string, int) {
		set, err := Open(context.Background(), Spec{Paths: paths}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		st := audit.NewStore()
		if err := set.Load(context.Background(), st); err != nil {
			t.Fatal(err)
		}
		var order []string
		for _, in := range set.Inputs() {
			order = append(order, filepath.Base(in.Name))
		}
		return order, st.Snapshot().Events
	}
	wantOrder, wantEvents := load(live)
	if len(wantOrder) != len(names) || wantOrder[len(wantOrder)-1] != "audit.log" {
		t.Fatalf("audit.log alone should read every backup, then itself: %v", wantOrder)
	}
	reversed := make([]string, 0, len(names)+1)
	for i := len(names) - 1; i >= 0; i-- {
		reversed = append(reversed, filepath.Join(dir, names[i]))
	}
	for _, paths := range [][]string{
		append(reversed, live),                  // a glob plus the live file again
		{live, reversed[len(reversed)-1], live}, // a backup and the live file twice
		{"./" + live, filepath.Join(dir, ".", "audit.log")},
	} {
		order, events := load(paths...)
		if len(order) != len(wantOrder) || events != wantEvents {
			t.Errorf("%v: read %v (%d events), want %v (%d events)", paths, order, events, wantOrder, wantEvents)
			continue
		}
		for i := range order {
			if order[i] != wantOrder[i] {
				t.Errorf("%v: order %v, want %v", paths, order, wantOrder)
				break
			}
		}
	}
	// A backup named alone is read alone.
	if order, _ := load(filepath.Join(dir, names[0])); len(order) != 1 || order[0] != names[0] {
		t.Errorf("a backup named alone: read %v", order)
	}
}

func TestBackupOf(t *testing.T) {
	for _, tc := range []struct {
		path, family string
		ok           bool
	}{
		{"/var/log/audit-2026-11-26T03-57-52.935.log.gz", "/var/log/audit.log", true},
		{"/var/log/audit-2026-11-26T03-57-52.935.log", "/var/log/audit.log", true},
		{"kube-audit-x-2026-11-26T03-57-52.935", "kube-audit-x", true},
		{"/var/log/pods/x/kube-apiserver/0.log.20261126-035752.gz", "/var/log/pods/x/kube-apiserver/0.log", true},
		{"/var/log/audit.log", "", false},
		{"/var/log/audit-2026-11-26.log", "", false},
	} {
		family, _, ok := backupOf(tc.path)
		if ok != tc.ok || family != tc.family {
			t.Errorf("backupOf(%q) = %q, %v; want %q, %v", tc.path, family, ok, tc.family, tc.ok)
		}
	}
}
