// Package kube is what the end-to-end programs under hack/ share that
// needs client-go (apart from package e2e, so that the programs that do
// not talk to an apiserver do not link it).
package kube

import (
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Client is a clientset for the user whose kubeconfig the harness wrote
// as dir/user.kubeconfig.
func Client(dir, user string) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, user+".kubeconfig"))
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}
