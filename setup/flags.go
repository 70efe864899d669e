package setup

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The one reader (and editor) of kube-apiserver's command line in kauditui.
// It parses the way the apiserver does (spf13/pflag under cobra):
//   - the kubelet runs command ++ args: flags may sit in either, and a flag's
//     value may even be the first item of args;
//   - `--name=value`, or `--name` then the value as the next item, whatever
//     that item looks like (`- --audit-log-path` / `- /var/log/a.log`), except
//     for flags that take no separate value (noValueFlags): `--name` alone;
//   - `_` and `-` are the same in names (component-base's WordSepNormalizeFunc);
//   - `--` ends the flags; anything else is a positional argument, which
//     kube-apiserver refuses ("does not take any arguments");
//   - the last occurrence of a flag wins: so for every audit flag (strings,
//     ints, bools); list and map flags (--authorization-mode, --feature-gates)
//     add their occurrences up instead, and some refuse repeats.

// noValueFlags are the kube-apiserver flags that take no separate value
// (pflag's NoOptDefVal: the bools, and --version), from `kube-apiserver -h` of
// v1.37.2 (TestNoValueFlagsMatchTheBinary holds the list to the real binary
// when KAUDITUI_APISERVER names one; hack/setup-e2e.sh sets it), plus the bools
// of older releases that an old manifest may still carry. Every other flag
// written without "=" takes the next item as its value.
var noValueFlags = map[string]bool{
	// v1.37.2
	"aggregator-reject-forwarding-redirect": true, "allow-privileged": true, "anonymous-auth": true,
	"audit-log-batch-throttle-enable": true, "audit-log-compress": true, "audit-log-truncate-enabled": true,
	"audit-webhook-batch-throttle-enable": true, "audit-webhook-truncate-enabled": true,
	"contention-profiling": true, "disable-http2-serving": true, "emulation-forward-compatible": true,
	"enable-aggregator-routing": true, "enable-bootstrap-token-auth": true, "enable-garbage-collector": true,
	"enable-logs-handler": true, "enable-priority-and-fairness": true,
	"encryption-provider-config-automatic-reload": true, "help": true, "log-json-split-stream": true,
	"log-text-split-stream": true, "permit-address-sharing": true, "permit-port-sharing": true,
	"profiling": true, "runtime-config-emulation-forward-compatible": true,
	"service-account-extend-token-expiration": true, "service-account-lookup": true,
	"shutdown-send-retry-after": true, "version": true, "watch-cache": true,
}

// oldNoValueFlags are bools of older kube-apiserver releases (klog's flags
// before 1.26, and a few removed ones).
var oldNoValueFlags = map[string]bool{
	"add-dir-header": true, "alsologtostderr": true, "logtostderr": true, "one-output": true,
	"skip-headers": true, "skip-log-headers": true, "kubelet-https": true, "enable-swagger-ui": true,
	"repair-malformed-updates": true, "insecure-skip-tls-verify": true,
}

func takesNoValue(name string) bool { return noValueFlags[name] || oldNoValueFlags[name] }

// normalizeFlag is a flag name as the apiserver looks it up.
func normalizeFlag(name string) string { return strings.ReplaceAll(name, "_", "-") }

// flagUse is one occurrence of a flag on the command line.
type flagUse struct {
	name  string // normalized, without dashes
	value string
	at    int  // index of the flag's item
	val   int  // index of the value's item in the two-item form, else -1
	bare  bool // `--name` alone (a no-value flag, or a value missing at the end)
}

// parsedArgs is a command line as the apiserver parses it.
type parsedArgs struct {
	uses       []flagUse
	positional []int // indices of items the apiserver would take as arguments (and refuse)
}

// parseArgs parses the apiserver's arguments (without the program name).
func parseArgs(items []string) parsedArgs {
	var p parsedArgs
	for i := 0; i < len(items); i++ {
		a := items[i]
		switch {
		case a == "--":
			for j := i + 1; j < len(items); j++ {
				p.positional = append(p.positional, j)
			}
			return p
		case strings.HasPrefix(a, "--") && len(a) > 2:
			name, value, hasValue := strings.Cut(a[2:], "=")
			u := flagUse{name: normalizeFlag(name), value: value, at: i, val: -1}
			if !hasValue {
				switch {
				case takesNoValue(u.name):
					u.value, u.bare = "true", true
				case i+1 < len(items):
					u.value, u.val = items[i+1], i+1
					i++
				default:
					u.bare = true // the apiserver stops: "flag needs an argument"
				}
			}
			p.uses = append(p.uses, u)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// Shorthands: kube-apiserver has -h (help) and -v (klog's level).
			u := flagUse{name: a[1:2], at: i, val: -1}
			switch {
			case len(a) > 2:
				u.value = strings.TrimPrefix(a[2:], "=")
			case u.name == "v" && i+1 < len(items):
				u.value, u.val = items[i+1], i+1
				i++
			default:
				u.bare = true
			}
			if u.name == "h" {
				u.name = "help"
			}
			p.uses = append(p.uses, u)
		default:
			p.positional = append(p.positional, i)
		}
	}
	return p
}

// last returns the value of the last occurrence of name.
func (p parsedArgs) last(name string) (string, bool) {
	v, ok := "", false
	for _, u := range p.uses {
		if u.name == name {
			v, ok = u.value, true
		}
	}
	return v, ok
}

// cmdline is the kube-apiserver container's command line, joined: the items
// after the program name in command, then args, each remembering its list.
type cmdline struct {
	c      *corev1.Container
	prog   bool     // command[0] is the program (else the image's entrypoint runs args)
	items  []string // command[1:] ++ args (or args alone)
	inArgs []bool   // the item comes from args
	home   bool     // where new flags go: true = args
}

func newCmdline(c *corev1.Container) *cmdline {
	cl := &cmdline{c: c, prog: len(c.Command) > 0}
	if cl.prog {
		for _, a := range c.Command[1:] {
			cl.items = append(cl.items, a)
			cl.inArgs = append(cl.inArgs, false)
		}
	}
	for _, a := range c.Args {
		cl.items = append(cl.items, a)
		cl.inArgs = append(cl.inArgs, true)
	}
	// kubeadm puts its flags in command; other tools use args.
	cl.home = !cl.prog || len(c.Command) == 1 && len(c.Args) > 0
	return cl
}

// store writes the items back into command and args.
func (cl *cmdline) store() {
	var cmd, args []string
	if cl.prog {
		cmd = append(cmd, cl.c.Command[0])
	}
	for i, a := range cl.items {
		if cl.inArgs[i] {
			args = append(args, a)
		} else {
			cmd = append(cmd, a)
		}
	}
	cl.c.Command, cl.c.Args = cmd, args
}

func (cl *cmdline) parse() parsedArgs { return parseArgs(cl.items) }

// checkProgram refuses a command line setup would misread (a shell, a wrapper).
func (cl *cmdline) checkProgram() error {
	if cl.prog && path.Base(cl.c.Command[0]) != "kube-apiserver" {
		return fmt.Errorf("the kube-apiserver container runs %q, not kube-apiserver with flags: setup cannot read or edit its flags safely; edit the manifest by hand", cl.c.Command[0])
	}
	return nil
}

// remove deletes the items at the given indices.
func (cl *cmdline) remove(drop map[int]bool) {
	items, inArgs := cl.items[:0:0], cl.inArgs[:0:0]
	for i := range cl.items {
		if !drop[i] {
			items = append(items, cl.items[i])
			inArgs = append(inArgs, cl.inArgs[i])
		}
	}
	cl.items, cl.inArgs = items, inArgs
}

// set gives a flag one value: the first occurrence keeps its place and its
// form (one item `--name=value`, or two items), the others go. A new flag is
// inserted as `--name=value` in name order among the flags of its list, as
// kubeadm writes them.
func (cl *cmdline) set(name, value string) {
	p := cl.parse()
	drop := map[int]bool{}
	done := false
	for _, u := range p.uses {
		if u.name != name {
			continue
		}
		if done {
			drop[u.at] = true
			if u.val >= 0 {
				drop[u.val] = true
			}
			continue
		}
		done = true
		switch {
		case u.val >= 0:
			cl.items[u.val] = value
		case u.bare && takesNoValue(name) && value == "true":
		default:
			cl.items[u.at] = "--" + name + "=" + value
		}
	}
	cl.remove(drop)
	if done {
		return
	}
	at := -1
	for _, u := range cl.parse().uses {
		if cl.inArgs[u.at] == cl.home && u.name > name {
			at = u.at
			break
		}
	}
	if at < 0 { // after the last item of its list
		at = len(cl.items)
		if !cl.home {
			at = 0
			for i := range cl.items {
				if !cl.inArgs[i] {
					at = i + 1
				}
			}
		}
	}
	cl.items = append(cl.items[:at:at], append([]string{"--" + name + "=" + value}, cl.items[at:]...)...)
	cl.inArgs = append(cl.inArgs[:at:at], append([]bool{cl.home}, cl.inArgs[at:]...)...)
}

// unset removes every occurrence of a flag, with its value item.
func (cl *cmdline) unset(name string) {
	drop := map[int]bool{}
	for _, u := range cl.parse().uses {
		if u.name == name {
			drop[u.at] = true
			if u.val >= 0 {
				drop[u.val] = true
			}
		}
	}
	cl.remove(drop)
}

// gateName is a feature gate's name in one item of --feature-gates, which may
// carry a component prefix (kube:Gate=true, colonSeparatedMultimapStringString).
func gateName(g string) string {
	k, _, _ := strings.Cut(strings.TrimSpace(g), "=")
	if _, after, ok := strings.Cut(k, ":"); ok {
		k = after
	}
	return strings.TrimSpace(k)
}

// removeGate drops one gate from every --feature-gates, and the flag where it empties.
func (cl *cmdline) removeGate(gate string) {
	drop := map[int]bool{}
	for _, u := range cl.parse().uses {
		if u.name != "feature-gates" {
			continue
		}
		var keep []string
		for _, g := range strings.Split(u.value, ",") {
			if gateName(g) != gate && strings.TrimSpace(g) != "" {
				keep = append(keep, g)
			}
		}
		switch {
		case len(keep) == len(strings.Split(u.value, ",")):
		case len(keep) == 0:
			drop[u.at] = true
			if u.val >= 0 {
				drop[u.val] = true
			}
		case u.val >= 0:
			cl.items[u.val] = strings.Join(keep, ",")
		default:
			cl.items[u.at] = "--feature-gates=" + strings.Join(keep, ",")
		}
	}
	cl.remove(drop)
}

// gate returns the value of one feature gate (the last one wins).
func (cl *cmdline) gate(gate string) (string, bool) {
	v, ok := "", false
	for _, u := range cl.parse().uses {
		if u.name != "feature-gates" {
			continue
		}
		for _, g := range strings.Split(u.value, ",") {
			if gateName(g) == gate {
				_, v, _ = strings.Cut(g, "=")
				ok = true
			}
		}
	}
	return strings.TrimSpace(v), ok
}

// apiserverContainer is the container named kube-apiserver, or nil.
func apiserverContainer(pod *corev1.Pod) *corev1.Container {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == "kube-apiserver" {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// APIServerFlag returns a kube-apiserver flag's value in a static pod
// manifest as the apiserver reads it (command and args, `--name=value` and
// `--name value`, last one wins). It is kauditui's one flag reader.
func APIServerFlag(pod *corev1.Pod, name string) (string, bool) {
	c := apiserverContainer(pod)
	if c == nil {
		return "", false
	}
	return newCmdline(c).parse().last(normalizeFlag(strings.TrimLeft(name, "-")))
}
