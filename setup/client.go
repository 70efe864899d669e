package setup

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// AdminKubeconfig is kubeadm's admin kubeconfig: the default on a master
// when no other kubeconfig is named.
const AdminKubeconfig = "/" + adminConf

// ClientConfig says which Kubernetes client a reader of the cluster (the
// pods' logs, the nodes' files) builds.
type ClientConfig struct {
	Kubeconfig string // --kubeconfig; "" = $KUBECONFIG, ~/.kube/config, AdminKubeconfig
	Context    string // --context
	UserAgent  string
	Getenv     func(string) string
	// Admin is AdminKubeconfig ("" = it); tests name another.
	Admin string
}

// Client builds a clientset the way kubectl would: --kubeconfig, then
// $KUBECONFIG, then ~/.kube/config; on a master with none of them,
// kubeadm's admin.conf when it is readable. It returns the API server's
// address too, for messages. The error is one line; the caller says what
// the client was for.
func (c ClientConfig) Client() (kubernetes.Interface, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	admin := c.Admin
	if admin == "" {
		admin = AdminKubeconfig
	}
	if c.Kubeconfig != "" {
		rules.ExplicitPath = c.Kubeconfig
	} else if getenv("KUBECONFIG") == "" {
		if _, err := os.Stat(rules.GetDefaultFilename()); err != nil {
			if f, err := os.Open(admin); err == nil {
				f.Close()
				rules.ExplicitPath = admin
			}
		}
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context}).ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("%v (give --kubeconfig, or run on a master as root)", FirstError(err))
	}
	cfg.UserAgent = c.UserAgent
	// client-go prints API warnings through klog to stderr: that would draw
	// over the explorer; kauditui says what matters itself
	cfg.WarningHandler = rest.NoWarnings{}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, "", err
	}
	return cs, cfg.Host, nil
}

// FirstError is the first of an aggregate's errors (clientcmd lists every
// file it tried).
func FirstError(err error) string {
	var ue interface{ Unwrap() []error }
	if errors.As(err, &ue) {
		return fmt.Sprint(ue.Unwrap()[0])
	}
	return err.Error()
}
