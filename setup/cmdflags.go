package setup

import (
	"cmp"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// Flags are `kauditui setup`'s flags: they fill Options, the collector
// config of --ship-to (Ship), and the log rotation settings, which change
// the manifest only when given (Check).
type Flags struct {
	Options *Options
	Ship    ShipTo

	maxAge, maxSize, maxBackup int
	compress                   bool
}

// NewFlags registers setup's flags on fs, to fill opts.
func NewFlags(fs *pflag.FlagSet, opts *Options) *Flags {
	f := &Flags{Options: opts, Ship: ShipTo{Path: DefaultShipConfig, StorageDir: DefaultShipStorage}}
	fs.StringVar(&opts.Root, "root", "/", "filesystem root of the node (tests, chroots, images)")
	fs.StringVar(&opts.Mode, "mode", "", "where audit events go: file or stdout (default: as the manifest has it, else file)")
	fs.StringVar(&opts.LogPath, "log-path", "", "audit log file in file mode (default: as the manifest has it, else "+DefaultLogPath+")")
	fs.StringVar(&opts.PolicyPath, "policy-path", "", "where the policy file is written (default: as the manifest has it, else "+DefaultPolicyPath+")")
	fs.IntVar(&f.maxAge, "max-age", 0, fmt.Sprintf("days to keep rotated audit logs (default: as the manifest has it, else %d)", DefaultMaxAge))
	fs.IntVar(&f.maxSize, "max-size", 0, fmt.Sprintf("MB at which the audit log is rotated (default: as the manifest has it, else %d)", DefaultMaxSize))
	fs.IntVar(&f.maxBackup, "max-backup", 0, fmt.Sprintf("rotated audit logs to keep (default: as the manifest has it, else %d)", DefaultMaxBackup))
	fs.BoolVar(&f.compress, "compress", false, "gzip rotated audit logs; --compress=false stops it (default: as the manifest has it, else no)")
	fs.StringVar(&opts.Policy, "policy", "", "policy: default, metadata, security, existing, or a policy file (default: the policy the manifest names, else default)")
	fs.BoolVarP(&opts.Yes, "yes", "y", false, "do not ask: use the flags' values and write")
	fs.BoolVar(&opts.DryRun, "dry-run", false, "print the changes and the diffs, change nothing")
	fs.BoolVar(&opts.NoWait, "no-wait", false, "do not wait for the apiserver to restart (images, tests)")
	fs.BoolVar(&opts.Revert, "revert", false, "list the backups and go back to before the newest setup run in effect: manifest, policy and kubeadm-config ClusterConfiguration, byte for byte")
	fs.IntVar(&opts.RevertTo, "to", 0, "with --revert: go back to before backup N of the list (1 is the newest)")
	fs.BoolVar(&opts.PrintKubeadmConfig, "print-kubeadm-config", false, "print the ClusterConfiguration snippet for kubeadm init --config, change nothing")
	fs.BoolVar(&opts.KubeadmConfig, "kubeadm-config", true, "also update ConfigMap kube-system/kubeadm-config")
	fs.DurationVar(&opts.Timeout, "timeout", DefaultTimeout, "how long to wait for the apiserver before restoring the backup")
	fs.StringVar(&opts.Hostname, "node-name", opts.Hostname, "this node's name (its apiserver pod is kube-apiserver-NAME)")
	fs.StringVar(&f.Ship.URL, "ship-to", "", "print (with --yes write) an OpenTelemetry Collector config that ships the audit log to the VictoriaLogs store at `URL`")
	fs.StringVar(&f.Ship.Cluster, "cluster", "kubernetes", "with --ship-to: this cluster's name, a stream field of every event")
	fs.StringVar(&f.Ship.Path, "ship-config", f.Ship.Path, "with --ship-to --yes: where the collector config is written")
	fs.StringVar(&f.Ship.StorageDir, "ship-storage", f.Ship.StorageDir, "with --ship-to: where the collector keeps how far it has read")
	return f
}

// RunShipTo prints (with --yes writes) the collector config of --ship-to
// for this node's audit log.
func (f *Flags) RunShipTo(out io.Writer) error {
	o := f.Options
	f.Ship.Node, f.Ship.Root, f.Ship.LogPath = o.Hostname, o.Root, cmp.Or(o.LogPath, DefaultLogPath)
	return RunShipTo(&f.Ship, o.Yes, out)
}

// Check refuses values that are not one and sets the rotation settings
// fs says were given; its error is a usage error's line.
func (f *Flags) Check(fs *pflag.FlagSet) error {
	opts := f.Options
	if opts.Mode != "" && opts.Mode != "file" && opts.Mode != "stdout" {
		return fmt.Errorf("setup: --mode %q: use file or stdout", opts.Mode)
	}
	for _, n := range []struct {
		name string
		v    int
		dst  *int
	}{{"max-age", f.maxAge, &opts.MaxAge}, {"max-size", f.maxSize, &opts.MaxSize}, {"max-backup", f.maxBackup, &opts.MaxBackup}} {
		if fs.Changed(n.name) {
			if n.v < 0 {
				return fmt.Errorf("setup: --max-age, --max-size and --max-backup take 0 or more")
			}
			*n.dst = n.v
		}
	}
	if fs.Changed("compress") {
		opts.Compress = &f.compress
	}
	if fs.Changed("to") && (!opts.Revert || opts.RevertTo < 1) {
		return fmt.Errorf("setup: --to N goes with --revert, N from 1 (the newest backup)")
	}
	return nil
}

// AskYesNo writes prompt to w and reads a line from in, a byte at a time
// (nothing after the line is taken from in): whether it is y or yes.
func AskYesNo(in io.Reader, w io.Writer, prompt string) (bool, error) {
	fmt.Fprint(w, prompt)
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := in.Read(buf)
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
