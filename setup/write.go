package setup

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/aymanbagabas/go-udiff"
)

// backupTimeFormat sorts by time as text, so the latest backup is the last name.
const backupTimeFormat = "2006-01-02T15-04-05.000000Z"

// unifiedDiff is a unified diff with 3 lines of context. go-udiff is the
// gopls diff algorithm, already in go.mod through bubbles; no need for our own.
func unifiedDiff(oldName, newName string, old, new []byte) string {
	return udiff.Unified(oldName, newName, string(old), string(new))
}

// writeAtomic writes data to a dotfile beside path (the kubelet ignores
// dotfiles in the manifests folder), syncs it, and renames it over path.
// The file keeps the mode of the file it replaces. It is how setup puts a
// file back; the transaction (txn.go) stages and renames in two steps.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	dir, base := filepath.Split(path)
	tmp := filepath.Join(dir, "."+base+".kauditui-new")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func hook(failAt func(string) error, step string) error {
	if failAt == nil {
		return nil
	}
	return failAt(step)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
