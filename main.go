// Command kauditui answers "who did what to my Kubernetes cluster?" from the
// kube-apiserver's audit log: an explorer (TUI), a query command for scripts,
// and a setup wizard that enables auditing on a kubeadm control-plane node.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/kauditui/kauditui/iostreams"
	"github.com/kauditui/kauditui/profile"
)

// version, commit and buildDate are stamped by hack/release.sh with
// -ldflags "-X main.version=... -X main.commit=... -X main.buildDate=...";
// a plain go build says dev.
var (
	version   = "dev"
	commit    = ""
	buildDate = ""
)

// Exit codes, the same for every command (README: Exit status).
const (
	exitOK        = 0   // done; for query, something matched
	exitNoMatch   = 1   // query ran and nothing matched (or the input had no request)
	exitUsage     = 2   // a usage error or an input that cannot be read: nothing was done
	exitFailed    = 3   // the command started and failed (setup put back what it changed; query could not write its output)
	exitCancelled = 130 // stopped by the user (Ctrl-C, a declined confirmation)
)

// exitError carries an exit code out of a command; its message (if any) has
// already been printed or is printed by main.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// usageError is a one-line usage problem: main prints it and exits 2.
func usageError(format string, a ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, a...)}
}

// usageErr is err as a usage error after prefix (the command's name), or
// nil.
func usageErr(prefix string, err error) error {
	if err == nil {
		return nil
	}
	return usageError("%s%v", prefix, err)
}

// IO is the streams a command talks to (package iostreams).
type IO = iostreams.IO

func main() {
	stop := profile.Start(os.Getenv("KAUDITUI_CPUPROFILE"), os.Getenv("KAUDITUI_MEMPROFILE"))
	code := run(os.Args[1:], iostreams.System())
	stop()
	os.Exit(code)
}

// run dispatches the subcommand and turns its error into an exit code.
func run(args []string, ios *IO) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	var err error
	switch cmd {
	case "query":
		err = checkOutput(ios, func(ctx context.Context, ios *IO) error { return runQueryCmd(ctx, args[1:], ios) })
	case "setup":
		err = runSetupCmd(args[1:], ios)
	case "version", "--version":
		printVersion(ios.Out)
	case "help", "-h", "--help":
		err = runHelpCmd(args[1:], ios)
	case "completion":
		err = runCompletionCmd(args[1:], ios)
	case "__complete":
		err = runCompleteCmd(args[1:], ios)
	default:
		if err = unknownCommand(args); err == nil {
			err = runExploreCmd(args, ios)
		}
	}
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(ios.Err, "kauditui:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(ios.Err, "kauditui:", err)
	return exitUsage
}

// checkOutput runs cmd with an output whose write errors are checked
// (iostreams.RunChecked): output that could not be written (a full disk,
// /dev/full) is one line and exit 3.
func checkOutput(ios *IO, cmd func(context.Context, *IO) error) error {
	err, lost := iostreams.RunChecked(ios, cmd)
	if lost == nil {
		return err
	}
	return &exitError{code: exitFailed, msg: "query: the output could not be written, so it is incomplete: " + sanitize(lost.Error())}
}
