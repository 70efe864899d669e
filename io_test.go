package main

import (
	"bytes"
	"strings"
)

// testIO is an IO for tests: in as standard input, no terminal, an empty
// environment; the output and errors are collected.
func testIO(in string) (ios *IO, out, errOut *bytes.Buffer) {
	out, errOut = &bytes.Buffer{}, &bytes.Buffer{}
	return &IO{In: strings.NewReader(in), Out: out, Err: errOut, Getenv: func(string) string { return "" }}, out, errOut
}
