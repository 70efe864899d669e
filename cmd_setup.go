package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/klog/v2"

	"github.com/kauditui/kauditui/setup"
)

const setupUsage = `Usage: kauditui setup [flags]

Enables auditing on this kubeadm control-plane node: writes an audit policy
(validated as the apiserver would), patches
/etc/kubernetes/manifests/kube-apiserver.yaml (backup kept in
/etc/kubernetes/kauditui/backup), waits for the apiserver to come back (and
restores the backup if it does not), and records the change in
kube-system/kubeadm-config so kubeadm upgrade keeps it.

On a terminal it asks its questions in a form; --yes takes the flags' values
without asking. Mode, log path and policy path default to what the manifest
already has. Policies: default, metadata, security, existing (keep the policy
file the manifest names, converting audit.k8s.io/v1beta1), or a file.

Flags:
`

func runSetupCmd(args []string, io *IO) error {
	opts := setup.NewOptions(io.Out, io.Err)
	fs := pflag.NewFlagSet("setup", pflag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&opts.Root, "root", "/", "filesystem root of the node (tests, chroots, images)")
	fs.StringVar(&opts.Mode, "mode", "", "where audit events go: file or stdout (default: as the manifest has it, else file)")
	fs.StringVar(&opts.LogPath, "log-path", "", "audit log file in file mode (default: as the manifest has it, else "+setup.DefaultLogPath+")")
	fs.StringVar(&opts.PolicyPath, "policy-path", "", "where the policy file is written (default: as the manifest has it, else "+setup.DefaultPolicyPath+")")
	fs.IntVar(&opts.MaxAge, "max-age", setup.DefaultMaxAge, "days to keep rotated audit logs")
	fs.IntVar(&opts.MaxSize, "max-size", setup.DefaultMaxSize, "MB at which the audit log is rotated")
	fs.IntVar(&opts.MaxBackup, "max-backup", setup.DefaultMaxBackup, "rotated audit logs to keep")
	fs.BoolVar(&opts.Compress, "compress", false, "gzip rotated audit logs")
	fs.StringVar(&opts.Policy, "policy", setup.DefaultPreset, "policy: default, metadata, security, existing, or a policy file")
	fs.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask: use the flags' values and write")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "print the policy and the diff, change nothing")
	fs.BoolVar(&opts.NoWait, "no-wait", false, "do not wait for the apiserver to restart (images, tests)")
	fs.BoolVar(&opts.Revert, "revert", false, "restore the latest backup of the manifest, byte for byte, with the policy and the kubeadm-config ClusterConfiguration setup replaced")
	fs.BoolVar(&opts.PrintKubeadmConfig, "print-kubeadm-config", false, "print the ClusterConfiguration snippet for kubeadm init --config, change nothing")
	fs.BoolVar(&opts.KubeadmConfig, "kubeadm-config", true, "also update ConfigMap kube-system/kubeadm-config")
	fs.DurationVar(&opts.Timeout, "timeout", setup.DefaultTimeout, "how long to wait for the apiserver before restoring the backup")
	fs.StringVar(&opts.Hostname, "node-name", opts.Hostname, "this node's name (its apiserver pod is kube-apiserver-NAME)")
	fs.Usage = func() {
		fmt.Fprint(io.Err, setupUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return usageError("setup: %v (see 'kauditui setup --help')", err)
	}
	if fs.NArg() > 0 {
		return usageError("setup: unexpected argument %q (see 'kauditui setup --help')", fs.Arg(0))
	}
	if opts.Mode != "" && opts.Mode != "file" && opts.Mode != "stdout" {
		return usageError("setup: --mode %q: use file or stdout", opts.Mode)
	}
	if opts.MaxAge < 0 || opts.MaxSize < 0 || opts.MaxBackup < 0 {
		return usageError("setup: --max-age, --max-size and --max-backup take 0 or more")
	}
	// The apiserver's policy loader logs through klog; setup says it itself.
	klog.LogToStderr(false)
	klog.SetOutput(discard)

	interactive := isTerminal(io.In) && !opts.Yes
	opts.ErrTTY = isTerminal(io.Err)
	acting := !opts.DryRun && !opts.PrintKubeadmConfig
	if interactive && acting && !opts.Revert {
		if err := setup.RunForm(opts, io.In, io.Err); err != nil {
			return &exitError{code: 1, msg: "setup: " + err.Error()}
		}
	}
	if acting && !opts.Yes {
		if !interactive {
			return usageError("setup: standard input is not a terminal: pass --yes to apply, or --dry-run to see the change")
		}
		opts.Confirm = func(string) (bool, error) { return askYesNo(io, "\nWrite these changes? [y/N] ") }
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := setup.Run(ctx, opts); err != nil {
		return &exitError{code: 1, msg: "setup: " + err.Error()}
	}
	return nil
}

// discard is io.Discard: runSetupCmd's parameter io hides the package.
var discard = io.Discard

func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func askYesNo(io *IO, prompt string) (bool, error) {
	fmt.Fprint(io.Err, prompt)
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := io.In.Read(buf)
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
