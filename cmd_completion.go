package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/completion"
	"github.com/kauditui/kauditui/help"
	"github.com/kauditui/kauditui/setup"
)

// Shell completion (package completion): the script, and the candidates
// for the words of a command line, from the FlagSets the commands build.

func runCompletionCmd(args []string, ios *IO) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(ios.Out, help.Text("completion"))
		return nil
	}
	if len(args) != 1 {
		return usageError("completion: name one shell: bash, zsh or fish (see 'kauditui completion --help')")
	}
	script, ok := completion.Script(args[0])
	if !ok {
		return usageError("completion: %q is not a shell kauditui completes: use bash, zsh or fish", args[0])
	}
	fmt.Fprint(ios.Out, script)
	return nil
}

// commandFlags is the FlagSet of a command ("" for the explorer), as the
// command builds it, without running it.
func commandFlags(cmd string) *pflag.FlagSet {
	var fs *pflag.FlagSet
	ios := &IO{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard,
		Getenv: func(string) string { return "" }, FlagsOnly: func(f *pflag.FlagSet) { fs = f }}
	switch cmd {
	case "":
		runExploreCmd(nil, ios)
	case "query":
		runQueryCmd(context.Background(), nil, ios)
	case "setup":
		runSetupCmd(nil, ios)
	}
	return fs
}

// runCompleteCmd is the shells' entry point: it prints the candidates for
// the last word, one a line, each a whole word that replaces it. Nothing
// printed lets the shell complete file names.
func runCompleteCmd(words []string, ios *IO) error {
	if len(words) == 0 {
		words = []string{""}
	}
	cmds := completion.Commands{Subcommands: subcommands, Flags: commandFlags, DefaultLog: func() string {
		if p, err := setup.AuditLogFromManifest(defaultManifest); err == nil && p != "-" {
			return p
		}
		return setup.DefaultLogPath
	}}
	for _, c := range cmds.Complete(words[:len(words)-1], words[len(words)-1]) {
		fmt.Fprintln(ios.Out, c)
	}
	return nil
}
