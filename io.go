package main

import (
	"os"

	"golang.org/x/term"
)

func systemIO() *IO {
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	w := 0
	if tty {
		w, _, _ = term.GetSize(int(os.Stdout.Fd()))
	}
	return &IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, OutTTY: tty, Width: w, Getenv: os.Getenv,
		InTTY: term.IsTerminal(int(os.Stdin.Fd())), ErrTTY: term.IsTerminal(int(os.Stderr.Fd()))}
}
