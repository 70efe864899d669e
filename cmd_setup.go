package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kauditui/kauditui/setup"
)

func runSetupCmd(args []string, ios *IO) error {
	opts := setup.NewOptions(ios.Out, ios.Err)
	fs := pflag.NewFlagSet("setup", pflag.ContinueOnError)
	fs.SetOutput(ios.Err)
	var maxAge, maxSize, maxBackup int
	var compress bool
	fs.StringVar(&opts.Root, "root", "/", "filesystem root of the node (tests, chroots, images)")
	fs.StringVar(&opts.Mode, "mode", "", "where audit events go: file or stdout (default: as the manifest has it, else file)")
	fs.StringVar(&opts.LogPath, "log-path", "", "audit log file in file mode (default: as the manifest has it, else "+setup.DefaultLogPath+")")
	fs.StringVar(&opts.PolicyPath, "policy-path", "", "where the policy file is written (default: as the manifest has it, else "+setup.DefaultPolicyPath+")")
	fs.IntVar(&maxAge, "max-age", 0, fmt.Sprintf("days to keep rotated audit logs (default: as the manifest has it, else %d)", setup.DefaultMaxAge))
	fs.IntVar(&maxSize, "max-size", 0, fmt.Sprintf("MB at which the audit log is rotated (default: as the manifest has it, else %d)", setup.DefaultMaxSize))
	fs.IntVar(&maxBackup, "max-backup", 0, fmt.Sprintf("rotated audit logs to keep (default: as the manifest has it, else %d)", setup.DefaultMaxBackup))
	fs.BoolVar(&compress, "compress", false, "gzip rotated audit logs; --compress=false stops it (default: as the manifest has it, else no)")
	fs.StringVar(&opts.Policy, "policy", "", "policy: default, metadata, security, existing, or a policy file (default: the policy the manifest names, else default)")
	fs.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask: use the flags' values and write")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "print the changes and the diffs, change nothing")
	fs.BoolVar(&opts.NoWait, "no-wait", false, "do not wait for the apiserver to restart (images, tests)")
	fs.BoolVar(&opts.Revert, "revert", false, "list the backups and go back to before the newest setup run in effect: manifest, policy and kubeadm-config ClusterConfiguration, byte for byte")
	fs.IntVar(&opts.RevertTo, "to", 0, "with --revert: go back to before backup N of the list (1 is the newest)")
	fs.BoolVar(&opts.PrintKubeadmConfig, "print-kubeadm-config", false, "print the ClusterConfiguration snippet for kubeadm init --config, change nothing")
	fs.BoolVar(&opts.KubeadmConfig, "kubeadm-config", true, "also update ConfigMap kube-system/kubeadm-config")
	fs.DurationVar(&opts.Timeout, "timeout", setup.DefaultTimeout, "how long to wait for the apiserver before restoring the backup")
	fs.StringVar(&opts.Hostname, "node-name", opts.Hostname, "this node's name (its apiserver pod is kube-apiserver-NAME)")
	ship := setup.ShipTo{Path: setup.DefaultShipConfig, StorageDir: setup.DefaultShipStorage}
	fs.StringVar(&ship.URL, "ship-to", "", "print (with --yes write) an OpenTelemetry Collector config that ships the audit log to the VictoriaLogs store at `URL`")
	fs.StringVar(&ship.Cluster, "cluster", "kubernetes", "with --ship-to: this cluster's name, a stream field of every event")
	fs.StringVar(&ship.Path, "ship-config", ship.Path, "with --ship-to --yes: where the collector config is written")
	fs.StringVar(&ship.StorageDir, "ship-storage", ship.StorageDir, "with --ship-to: where the collector keeps how far it has read")
	if stop, err := parseFlags(fs, args, ios); stop {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("setup: unexpected argument %q (see 'kauditui setup --help')", fs.Arg(0))
	}
	if ship.URL != "" { // the collector config only: auditing is set up by a run of its own
		ship.Node, ship.Root, ship.LogPath = opts.Hostname, opts.Root, cmp.Or(opts.LogPath, setup.DefaultLogPath)
		if err := setup.RunShipTo(&ship, opts.Yes, ios.Out); err != nil {
			return &exitError{code: exitUsage, msg: "setup: " + err.Error()}
		}
		return nil
	}
	if opts.Mode != "" && opts.Mode != "file" && opts.Mode != "stdout" {
		return usageError("setup: --mode %q: use file or stdout", opts.Mode)
	}
	for _, n := range []struct {
		name string
		v    int
		dst  *int
	}{{"max-age", maxAge, &opts.MaxAge}, {"max-size", maxSize, &opts.MaxSize}, {"max-backup", maxBackup, &opts.MaxBackup}} {
		if fs.Changed(n.name) {
			if n.v < 0 {
				return usageError("setup: --max-age, --max-size and --max-backup take 0 or more")
			}
			*n.dst = n.v
		}
	}
	if fs.Changed("compress") {
		opts.Compress = &compress
	}
	if fs.Changed("to") && (!opts.Revert || opts.RevertTo < 1) {
		return usageError("setup: --to N goes with --revert, N from 1 (the newest backup)")
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
			ok, err := askYesNo(ios, "\nWrite these changes? [y/N] ")
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

func askYesNo(ios *IO, prompt string) (bool, error) {
	fmt.Fprint(ios.Err, prompt)
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := ios.In.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			line = append(line, buf[0])
		}
		if err != nil {
			break
		}
	}
	a := strings.ToLower(strings.TrimSpace(string(line)))
	return a == "y" || a == "yes", nil
}
