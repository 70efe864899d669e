//go:build !demodata

package main

import "errors"

// writeDemoData without the embedded sample: demo_embed.go holds the real
// one and is built with -tags demodata until testdata/ is committed; then
// this file goes and demo_embed.go loses its build tag.
func writeDemoData() (dir string, paths []string, err error) {
	return "", nil, errors.New("this build has no demo data (build with -tags demodata once testdata/ holds the sample logs)")
}
