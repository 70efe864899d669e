package main

import "errors"

// writeDemoData is replaced once testdata/ holds the real logs.
func writeDemoData() (dir string, paths []string, err error) {
	return "", nil, errors.New("no demo data in this build")
}
