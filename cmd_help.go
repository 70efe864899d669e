package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/completion"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/help"
)

// subcommands are the words kauditui reads as a command, not a SOURCE
// (__complete, the shells' entry point, is left out: no one types it).
var subcommands = []string{"query", "setup", "version", "completion", "help"}

// parseFlags parses a command's flags the same way for every command:
// --help prints the help on standard output (stop, no error); an unknown
// flag is a usage error that names the nearest flag there is. When
// ios.FlagsOnly is set (shell completion), the FlagSet is handed to it
// instead and nothing is parsed. stop says the command is to return err.
func parseFlags(fs *pflag.FlagSet, args []string, ios *IO) (stop bool, err error) {
	if ios.FlagsOnly != nil {
		ios.FlagsOnly(fs)
		return true, nil
	}
	fs.Usage = func() { help.Print(ios.Out, fs) }
	err = fs.Parse(args)
	if err == nil {
		return false, nil
	}
	if errors.Is(err, pflag.ErrHelp) {
		return true, nil
	}
	msg := err.Error()
	if near := completion.NearestFlag(fs, msg); near != "" {
		msg += fmt.Sprintf(": did you mean %q?", near)
	}
	cmd := "kauditui"
	if fs.Name() != "kauditui" {
		cmd += " " + fs.Name()
		msg = fs.Name() + ": " + msg
	}
	return true, usageError("%s (see '%s --help')", msg, cmd)
}

// printTopHelp is `kauditui --help`: the commands, then the explorer's
// flags (the explorer is what kauditui runs without a command).
func printTopHelp(ios *IO) {
	fmt.Fprint(ios.Out, help.Text("top"))
	fs := commandFlags("")
	fmt.Fprint(ios.Out, "\nThe explorer's flags (kauditui [flags] [SOURCE...]):\n")
	fs.SetOutput(ios.Out)
	fs.PrintDefaults()
	fmt.Fprint(ios.Out, "\nExamples:\n"+help.Text("kauditui.examples"))
}

// unknownCommand is the error for a first argument that is no file and is
// near a subcommand (`kauditui qeury` is a typo, not a log), else nil.
func unknownCommand(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || strings.ContainsAny(args[0], "/.") {
		return nil
	}
	if _, err := os.Stat(args[0]); err == nil || !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if near := filter.Nearest(args[0], subcommands); near != "" {
		return usageError("unknown command %q: did you mean %q? (see 'kauditui --help')", args[0], near)
	}
	return nil
}

// runHelpCmd is `kauditui help [COMMAND]`.
func runHelpCmd(args []string, ios *IO) error {
	if len(args) == 0 {
		printTopHelp(ios)
		return nil
	}
	switch args[0] {
	case "query", "setup":
		help.Print(ios.Out, commandFlags(args[0]))
		return nil
	case "completion":
		fmt.Fprint(ios.Out, help.Text("completion"))
		return nil
	}
	if near := filter.Nearest(args[0], subcommands); near != "" {
		return usageError("help: unknown command %q: did you mean %q?", args[0], near)
	}
	return usageError("help: unknown command %q: the commands are %s", args[0], strings.Join(subcommands, ", "))
}
