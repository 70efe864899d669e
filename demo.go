package main

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

// demoData is the real sample from testdata/: the file-mode audit log with
// its rotated backups (run 1) and the stdout-mode apiserver log with audit
// and klog lines mixed (run 2), so every tab of the explorer has content.
//
//go:embed testdata/file/audit*.log* testdata/stdout/kube-apiserver.log
var demoData embed.FS

// writeDemoData copies the embedded sample into a temporary folder (the
// source package reads files, finds backups beside them and reads raw
// events again by offset) and returns the folder and the paths to open.
// The caller removes the folder.
func writeDemoData() (dir string, paths []string, err error) {
	dir, err = os.MkdirTemp("", "kauditui-demo-")
	if err != nil {
		return "", nil, err
	}
	err = fs.WalkDir(demoData, "testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := demoData.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return dir, []string{
		filepath.Join(dir, "testdata", "file", "audit.log"),
		filepath.Join(dir, "testdata", "stdout", "kube-apiserver.log"),
	}, nil
}
