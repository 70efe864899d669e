package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Spec is what a command asks to read, as the user said it: main fills it
// from the flags, Open resolves it into inputs (one kind each, kind.go).
// The explorer and `query` read through it alike.
type Spec struct {
	// Paths are the SOURCE arguments: files (their rotated backups are
	// read too), pipes, "-" for Stdin.
	Paths []string
	Stdin io.Reader
	// Follow keeps reading as the inputs grow, until Load's context is
	// done: files with tail -F semantics (tailer.go), the pods' streams,
	// the nodes' live files, the store's tail.
	Follow bool
	// Pods reads the kube-apiserver pods' logs through the Kubernetes API
	// (beside Paths); PodTail is the lines of history per pod (nil: all the
	// kubelet keeps), for Pods and stdout mode alike.
	Pods    bool
	PodTail *int64
	// Nodes reads other masters' audit files through the API server's node
	// proxy; a nil Client is Spec.Client's. Alone (no Paths, no Pods) it
	// reads the nodes only, not the log this master's manifest names.
	Nodes *NodeOptions
	// Store reads a VictoriaLogs store's answer instead of anything else.
	Store *StoreSpec
	// Local is this node's defaults, read when nothing else is named; nil
	// when kauditui is not to look (then no SOURCE is an error).
	Local *Local
	// Client builds the Kubernetes client for Pods, Nodes and stdout mode,
	// when it is needed; the host is for messages.
	Client func() (cs kubernetes.Interface, host string, err error)
}

// Local is what a kubeadm master says of its own audit log (setup reads
// its manifest; source decides when to ask).
type Local struct {
	// AuditLog is where this master's apiserver writes its audit log: a
	// path, or "-" in stdout mode. Its error says in one line what to do.
	AuditLog func() (string, error)
	// PodLogs, in stdout mode, are the apiserver container's log files on
	// this node, read when the API does not answer.
	PodLogs func() ([]string, error)
}

// apiAnswerTimeout bounds the check that the API lists the apiserver pods
// (stdout mode falls back to the node's files when it does not).
const apiAnswerTimeout = 5 * time.Second

// resolve decides what to read; warn says what was decided instead of what
// was asked. With Store, the store alone. With Pods, the pods (beside any
// path). Nodes alone, the nodes only. With paths, those. With none of
// them, on a kubeadm master: the audit log its manifest names; in stdout
// mode the pods through the API, or this node's container log files when
// the API does not answer (the moment after a bad policy broke the
// apiserver).
func (sp *Spec) resolve(warn func(string), state func(PodState)) ([]inputKind, error) {
	if sp.Store != nil {
		return []inputKind{&storeKind{spec: *sp.Store}}, nil
	}
	var kinds []inputKind
	if sp.Nodes != nil {
		opt := *sp.Nodes
		if opt.Client == nil {
			cs, err := sp.client("--nodes")
			if err != nil {
				return nil, err
			}
			opt.Client = cs
		}
		kinds = append(kinds, &nodeKind{opt: opt, alone: len(sp.Paths) == 0 && !sp.Pods})
	}
	paths, pods := sp.Paths, kubernetes.Interface(nil)
	if sp.Pods {
		cs, err := sp.client("--pods")
		if err != nil {
			return nil, err
		}
		pods = cs
	} else if len(paths) == 0 && sp.Nodes == nil {
		var err error
		if paths, pods, err = sp.local(warn); err != nil {
			return nil, err
		}
	}
	if pods != nil {
		kinds = append(kinds, &podKind{opt: PodOptions{Client: pods, Follow: sp.Follow, TailLines: sp.PodTail, State: state}})
	}
	return append(pathKinds(paths), kinds...), nil
}

// pathKinds are the kinds of paths: standard input first (named once), then
// the files.
func pathKinds(paths []string) []inputKind {
	var kinds []inputKind
	var files []string
	for _, p := range paths {
		if p != "-" {
			files = append(files, p)
		} else if len(kinds) == 0 {
			kinds = append(kinds, stdinKind{})
		}
	}
	if len(files) > 0 {
		kinds = append(kinds, &filesKind{paths: files})
	}
	return kinds
}

// local is what this master's manifest says to read.
func (sp *Spec) local(warn func(string)) ([]string, kubernetes.Interface, error) {
	if sp.Local == nil || sp.Local.AuditLog == nil {
		return nil, nil, errors.New("no input: give the path of an audit log (or - for stdin)")
	}
	path, err := sp.Local.AuditLog()
	if err != nil {
		return nil, nil, err
	}
	if path != "-" {
		return []string{path}, nil, nil
	}
	if sp.Client == nil {
		return nil, nil, errors.New("the apiserver writes its audit log to stdout: read its pods with --pods, or its pod log as a SOURCE")
	}
	cs, host, err := sp.Client()
	if err == nil {
		if err = apiAnswers(cs); err == nil {
			return nil, cs, nil
		}
		err = fmt.Errorf("the API at %s did not answer (%s)", host, err)
	} else {
		err = fmt.Errorf("no Kubernetes client for --pods: %v", err)
	}
	var paths []string
	ferr := errors.New("no pod log files")
	if sp.Local.PodLogs != nil {
		paths, ferr = sp.Local.PodLogs()
	}
	if ferr != nil {
		return nil, nil, fmt.Errorf("%v; and %v", err, ferr)
	}
	warn(fmt.Sprintf("stdout mode: %v: reading this node's apiserver container logs instead", err))
	return paths, nil, nil
}

// client is Spec.Client's, its error worded for flag.
func (sp *Spec) client(flag string) (kubernetes.Interface, error) {
	if sp.Client == nil {
		return nil, fmt.Errorf("no Kubernetes client for %s", flag)
	}
	cs, _, err := sp.Client()
	if err != nil {
		return nil, fmt.Errorf("no Kubernetes client for %s: %v", flag, err)
	}
	return cs, nil
}

// apiAnswers says whether the API lists the apiserver pods within a few
// seconds.
func apiAnswers(cs kubernetes.Interface) error {
	ctx, cancel := context.WithTimeout(context.Background(), apiAnswerTimeout)
	defer cancel()
	_, err := cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "component=kube-apiserver", Limit: 1})
	return err
}
