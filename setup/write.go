package setup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aymanbagabas/go-udiff"
)

// Steps of a write where tests inject a failure (Options.failAt); a crash
// at any of them must leave the old or the new file, never a partial one.
const (
	StepAfterBackup  = "after-backup"
	StepAfterDotfile = "after-dotfile-write"
	StepBeforeRename = "before-rename"
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
// The file keeps the mode of the file it replaces.
func writeAtomic(path string, data []byte, perm os.FileMode, failAt func(string) error) (err error) {
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
	if err = hook(failAt, StepAfterDotfile); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = hook(failAt, StepBeforeRename); err != nil {
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

// backup copies src into dir as <base>.<time> and returns its path. It is
// written atomically too: a half-written backup would be restored by --revert.
func backup(src, dir string, now time.Time) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(src)+"."+now.UTC().Format(backupTimeFormat))
	if old, err := os.ReadFile(dst); err == nil {
		if bytes.Equal(old, data) {
			return dst, nil
		}
		return "", fmt.Errorf("backup %s already exists", dst)
	}
	if err := writeAtomic(dst, data, 0o600, nil); err != nil {
		return "", err
	}
	return dst, nil
}

// latestBackup returns the newest backup of the file named base in dir:
// <base>.<time>, nothing after the time (a .written record is no backup).
func latestBackup(dir, base string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if stamp, ok := strings.CutPrefix(n, base+"."); ok && e.Type().IsRegular() {
			if _, err := time.Parse(backupTimeFormat, stamp); err == nil {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no backup of %s in %s: nothing to revert", base, dir)
	}
	sort.Strings(names)
	return filepath.Join(dir, names[len(names)-1]), nil
}

// backupStamp is the time part of a backup's name, as text (it sorts as time).
func backupStamp(backupPath, base string) string {
	return strings.TrimPrefix(filepath.Base(backupPath), base+".")
}
