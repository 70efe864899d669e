package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// storeFlags are the flags of the commands that read a VictoriaLogs store
// instead of files (see README: Central store). --node, shared with
// nodeFlags, names the node stream field when --store is given.
type storeFlags struct {
	URL     string
	Account string
	Project string
	Cluster []string
	Explain bool

	lines *source.StoreLines // the answer being read
}

func (s *storeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.URL, "store", "", "read the audit events kept in the VictoriaLogs store at `URL` (http://[user:password@]host:9428; a front node in cluster mode) instead of files")
	fs.StringVar(&s.Account, "account", "", "with --store: the tenant's AccountID")
	fs.StringVar(&s.Project, "project", "", "with --store: the tenant's ProjectID")
	fs.StringArrayVar(&s.Cluster, "cluster", nil, "with --store: only events of cluster `NAME` (repeatable; with --node NAME: only that node's)")
	fs.BoolVar(&s.Explain, "explain", false, "with --store: print the LogsQL query the filter becomes, and the terms kauditui checks itself, without running it")
}

func (s *storeFlags) given() bool { return s.URL != "" }

// check refuses flags that read something else than the store.
func (s *storeFlags) check(sources []string, pf *podFlags, nf *nodeFlags, follow bool, output string) error {
	if !s.given() {
		if s.Account != "" || s.Project != "" || len(s.Cluster) > 0 || s.Explain {
			return fmt.Errorf("--account, --project, --cluster and --explain go with --store URL")
		}
		return nil
	}
	switch {
	case len(sources) > 0:
		return fmt.Errorf("--store reads the store, not SOURCE files: give one or the other")
	case pf.Pods || nf.All:
		return fmt.Errorf("--store reads the store; --pods and --nodes read the cluster: give one or the other")
	case follow:
		return fmt.Errorf("--follow is not supported with --store yet: query again, with since= to read what is new")
	case output == "klog":
		return fmt.Errorf("-o klog: the store holds audit events only, not the apiserver's own log")
	}
	return nil
}

// translate is the store's query for the filter expression.
func (s *storeFlags) translate(expr string, now time.Time) (*filter.LogsQL, *source.Store, error) {
	st, err := source.OpenStore(source.StoreOptions{URL: s.URL, AccountID: s.Account, ProjectID: s.Project, Cluster: s.Cluster})
	if err != nil {
		return nil, nil, err
	}
	q, err := filter.TranslateLogsQL(expr, now)
	if err != nil {
		return nil, nil, err
	}
	return q, st, nil
}

// explain prints the translation: the query, then what kauditui checks.
func (s *storeFlags) explain(o *queryOptions, q *filter.LogsQL, st *source.Store) {
	fmt.Fprintln(o.IO.Out, q.Query(st.Streams()))
	if len(q.Local) > 0 {
		fmt.Fprintf(o.IO.Out, "# checked by kauditui on the events read: %s\n", strings.Join(q.Local, " "))
	}
	fmt.Fprintln(o.IO.Out, "# kauditui checks the whole filter again on the requests it merges from the events read")
}

// useStore makes the store's answer the query's only input: it runs the
// translated query and hands the event lines it returns to the same loader
// as files (as standard input), so stages merge as they do for files.
// done is true when there is nothing more to do (--explain).
func (o *queryOptions) useStore(ctx context.Context) (done bool, err error) {
	s := &o.Store
	if err := s.check(o.Sources, &o.Pods, &o.Nodes, o.Follow, o.Output); err != nil {
		return true, usageError("query: %v", err)
	}
	if !s.given() {
		return false, nil
	}
	q, st, err := s.translate(o.Filter, o.Now())
	if err != nil {
		return true, usageError("query: %v", err)
	}
	if len(o.Nodes.Names) > 0 {
		st, err = source.OpenStore(source.StoreOptions{URL: s.URL, AccountID: s.Account, ProjectID: s.Project, Cluster: s.Cluster, Node: o.Nodes.Names})
		if err != nil {
			return true, usageError("query: %v", err)
		}
	}
	if s.Explain {
		s.explain(o, q, st)
		return true, nil
	}
	lines, err := st.Lines(ctx, q.Query(st.Streams()))
	if err != nil {
		return true, &exitError{code: 2, msg: "query: " + err.Error()}
	}
	s.lines = lines
	io := *o.IO
	io.In = lines
	o.IO = &io
	o.Sources = []string{"-"}
	o.Nodes = nodeFlags{} // --node named the node stream field
	return false, nil
}

// closeStore ends the answer and says when events came without their line.
func (o *queryOptions) closeStore() {
	l := o.Store.lines
	if l == nil {
		return
	}
	l.Close()
	if _, _, noMsg, _ := l.Stats(); noMsg > 0 {
		fmt.Fprintf(o.IO.Err, "kauditui: warning: %d events in the store have no _msg (the original line), so kauditui cannot read them: ship them with the config of `kauditui setup --ship-to`\n", noMsg)
	}
}
