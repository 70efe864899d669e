package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kauditui/kauditui/setup"
)

func runSetupCmd(args []string, ios *IO) error {
	opts := setup.NewOptions(ios.Out, ios.Err)
	fs := pflag.NewFlagSet("setup", pflag.ContinueOnError)
	fs.SetOutput(ios.Err)
	flags := setup.NewFlags(fs, opts)
	if stop, err := parseFlags(fs, args, ios); stop {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("setup: unexpected argument %q (see 'kauditui setup --help')", fs.Arg(0))
	}
	if flags.Ship.URL != "" { // the collector config only: auditing is set up by a run of its own
		if err := flags.RunShipTo(ios.Out); err != nil {
			return &exitError{code: exitUsage, msg: "setup: " + err.Error()}
		}
		return nil
	}
	if err := flags.Check(fs); err != nil {
		return usageErr("", err)
	}
	// The apiserver's policy loader logs through klog; setup says it itself.
	klog.LogToStderr(false)
	klog.SetOutput(discard)

	interactive := ios.CanPrompt() && !opts.Yes
	opts.ErrTTY = ios.ErrTTY
	acting := !opts.DryRun && !opts.PrintKubeadmConfig
	if interactive && acting && !opts.Revert {
		// The form starts from the manifest's settings; MakePlan says what is wrong with it.
		_ = setup.Prefill(opts)
		if err := setup.RunForm(opts, ios.In, ios.Err); err != nil {
			if errors.Is(err, setup.ErrCancelled) {
				return &exitError{code: exitCancelled, msg: "setup: " + err.Error()}
			}
			return &exitError{code: exitFailed, msg: "setup: " + err.Error()}
		}
	}
	declined := false
	if acting && !opts.Yes {
		if !interactive {
			return usageError("setup: standard input is not a terminal: pass --yes to apply, or --dry-run to see the change")
		}
		opts.Confirm = func(string) (bool, error) {
			ok, err := setup.AskYesNo(ios.In, ios.Err, "\nWrite these changes? [y/N] ")
			declined = err == nil && !ok
			return ok, err
		}
	}

	// A closed pager (setup ... | head) must not kill setup between two
	// writes: output errors are ignored instead. Ctrl-C, a dropped session
	// (SIGHUP) and SIGTERM cancel the run, which then puts everything back.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	if err := setup.Run(ctx, opts); err != nil {
		var setting *setup.SettingError
		switch {
		case ctx.Err() != nil:
			return &exitError{code: exitCancelled, msg: "setup: " + err.Error()}
		case errors.As(err, &setting):
			return &exitError{code: exitUsage, msg: "setup: " + err.Error()}
		}
		return &exitError{code: exitFailed, msg: "setup: " + err.Error()}
	}
	if declined {
		return &exitError{code: exitCancelled}
	}
	return nil
}

// discard is where klog's output goes while setup runs.
var discard = io.Discard
