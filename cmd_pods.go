package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kauditui/kauditui/source"
)

// podFlags are the flags of the commands that can read the apiserver pods'
// logs through the Kubernetes API.
type podFlags struct {
	Pods       bool
	Kubeconfig string
	Context    string
	Tail       int64
}

// adminConf is kubeadm's admin kubeconfig: the default on a master when no
// other kubeconfig is named.
var adminConf = "/etc/kubernetes/admin.conf"

func (p *podFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&p.Pods, "pods", false, "read the kube-apiserver pods' logs through the Kubernetes API (every master; the default in stdout mode)")
	fs.StringVar(&p.Kubeconfig, "kubeconfig", "", "kubeconfig for --pods, --nodes and --missing (default: $KUBECONFIG, ~/.kube/config, or /etc/kubernetes/admin.conf on a master)")
	fs.StringVar(&p.Context, "context", "", "kubeconfig context for --pods, --nodes and --missing")
	fs.Int64Var(&p.Tail, "tail", -1, "with --pods: lines of history per pod (-1: all the kubelet keeps)")
}

// client builds a clientset the way kubectl would: --kubeconfig, then
// $KUBECONFIG, then ~/.kube/config; on a master with none of them,
// kubeadm's admin.conf when it is readable.
func (p *podFlags) client(getenv func(string) string) (kubernetes.Interface, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if p.Kubeconfig != "" {
		rules.ExplicitPath = p.Kubeconfig
	} else if getenv("KUBECONFIG") == "" {
		if _, err := os.Stat(rules.GetDefaultFilename()); err != nil {
			if f, err := os.Open(adminConf); err == nil {
				f.Close()
				rules.ExplicitPath = adminConf
			}
		}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: p.Context}).ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("no Kubernetes client: %v (give --kubeconfig, or run on a master as root)", oneLineErr(err))
	}
	cfg.UserAgent = "kauditui/" + version
	// client-go prints API warnings through klog to stderr: that would draw
	// over the explorer; kauditui says what matters itself
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("no Kubernetes client: %v", err)
	}
	return cs, cfg.Host, nil
}

// options is the source.PodOptions for these flags.
func (p *podFlags) options(cs kubernetes.Interface, follow bool, state func(source.PodState)) *source.PodOptions {
	o := &source.PodOptions{Client: cs, Follow: follow, State: state}
	if p.Tail >= 0 {
		o.TailLines = &p.Tail
	}
	return o
}

// apiAnswers says whether the API lists the apiserver pods within a few
// seconds (stdout mode falls back to the node's files when it does not).
func apiAnswers(cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "component=kube-apiserver", Limit: 1})
	return err
}

// describeState words a pod stream's state for a warning line.
func describeState(s source.PodState) string {
	where := s.Pod
	if s.Node != "" {
		where += " on " + s.Node
	}
	msg := fmt.Sprintf("pod %s: %s", where, s.State)
	if s.RetryIn > 0 {
		msg += fmt.Sprintf(" in %s", s.RetryIn.Round(100*time.Millisecond))
	}
	if s.Err != "" {
		msg += " (" + s.Err + ")"
	}
	return msg
}

func oneLineErr(err error) string {
	var ue interface{ Unwrap() []error }
	if errors.As(err, &ue) {
		return fmt.Sprint(ue.Unwrap()[0])
	}
	return err.Error()
}

// sourcePlan is what a command reads: files and streams, and maybe the pods.
type sourcePlan struct {
	paths []string
	pods  *source.PodOptions
}

// planSources decides what to read. With --pods, the apiserver pods through
// the API (beside any SOURCE). With SOURCEs, those. With neither, on a
// kubeadm master: the audit log named in the manifest; in stdout mode the
// pods through the API, or this node's container log files when the API
// does not answer (the moment after a bad policy broke the apiserver).
func planSources(sources []string, pf *podFlags, manifest, podLogs string, follow bool,
	getenv func(string) string, warn func(string), state func(source.PodState)) (sourcePlan, error) {
	if pf.Pods {
		cs, _, err := pf.client(getenv)
		if err != nil {
			return sourcePlan{}, err
		}
		return sourcePlan{paths: sources, pods: pf.options(cs, follow, state)}, nil
	}
	if len(sources) > 0 {
		return sourcePlan{paths: sources}, nil
	}
	path, err := auditLogFromManifest(manifest)
	if err != nil {
		return sourcePlan{}, err
	}
	if path != "-" {
		return sourcePlan{paths: []string{path}}, nil
	}
	cs, host, err := pf.client(getenv)
	if err == nil {
		if err = apiAnswers(cs); err == nil {
			return sourcePlan{pods: pf.options(cs, follow, state)}, nil
		}
		err = fmt.Errorf("the API at %s did not answer (%s)", host, oneLineErr(err))
	}
	paths, ferr := stdoutModeSources(manifest, podLogs)
	if ferr != nil {
		return sourcePlan{}, fmt.Errorf("%v; and %v", err, ferr)
	}
	warn(fmt.Sprintf("stdout mode: %v: reading this node's apiserver container logs instead", err))
	return sourcePlan{paths: paths}, nil
}
