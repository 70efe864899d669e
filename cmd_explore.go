package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/budget"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
	"github.com/kauditui/kauditui/ui"
)

// exploreOptions is everything the explorer needs, so tests can build it
// without a terminal.
type exploreOptions struct {
	IO       *IO
	Now      func() time.Time
	Manifest string // kubeadm apiserver manifest, read when no SOURCE is given
	PodLogs  string // glob of the apiserver container's log files, read in stdout mode

	Filter string
	Demo   bool
	Follow bool
	// NoFollow reads the sources as they are now (a snapshot). Without
	// it or Follow, runExploreCmd follows what is live (followByDefault).
	NoFollow bool
	NoColor  bool
	Sources  []string
	Pods     source.PodFlags
	Nodes    source.NodeFlags
	Store    source.StoreFlags
	Creds    credFlags
	TZ       render.ZoneFlag
	Memory   budget.Flags

	// program and started are an in-process driver's (tests): options
	// added to the explorer's program (no renderer, a window size, a
	// filter that looks at each message), and the program once made.
	program []tea.ProgramOption
	started func(*tea.Program)
}

func runExploreCmd(args []string, ios *IO) error {
	opts := &exploreOptions{IO: ios, Now: time.Now, Manifest: defaultManifest, PodLogs: setup.DefaultPodLogs,
		Memory: budget.Flags{Manifest: defaultManifest}}
	fs := pflag.NewFlagSet("kauditui", pflag.ContinueOnError)
	fs.SetOutput(ios.Err)
	fs.StringVarP(&opts.Filter, "filter", "q", "", "start with this filter, e.g. 'user=alice verb=delete resource=deploy'")
	fs.BoolVar(&opts.Demo, "demo", false, "explore the built-in sample data (a real kube-apiserver's logs)")
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading as the logs grow; the list follows the newest request (the default, except for --store and --demo)")
	fs.BoolVar(&opts.NoFollow, "no-follow", false, "read the logs as they are now: a snapshot, nothing appended shows up")
	fs.BoolVar(&opts.NoColor, "no-color", false, "draw without colour (NO_COLOR is honoured too)")
	opts.Pods.Register(fs)
	opts.Nodes.Register(fs)
	opts.Store.Register(fs)
	opts.Creds.register(fs)
	opts.TZ.Register(fs)
	opts.Memory.Register(fs)
	if stop, err := parseFlags(fs, args, ios); stop {
		return err
	}
	opts.Sources = fs.Args()
	if opts.Follow && opts.NoFollow {
		return usageError("--follow and --no-follow: give one or the other")
	}
	opts.Follow = opts.Follow || opts.followByDefault()
	if ios.NoColorEnv() {
		opts.NoColor = true
	}
	return runExplore(context.Background(), opts)
}

// followByDefault is the explorer's rule for what is live: everything it
// reads is followed unless --no-follow says otherwise, except the demo's
// sample data and the store (--store follows with --follow only). What
// cannot grow (stdin that ends, compressed backups alone) is read to its
// end all the same and shown as a snapshot (source.Options.Live is not
// called).
func (o *exploreOptions) followByDefault() bool {
	return !o.NoFollow && !o.Demo && !o.Store.Given()
}

func runExplore(ctx context.Context, o *exploreOptions) error {
	if err := o.TZ.Apply(&o.Now); err != nil {
		return usageErr("", err)
	}
	if _, err := filter.Parse(o.Filter, o.Now()); err != nil {
		return usageError("%v", err)
	}
	if err := o.Memory.Validate(); err != nil {
		return usageErr("", err)
	}
	mem, err := o.Memory.Budget()
	if err != nil {
		return usageErr("", err)
	}
	if o.Demo {
		if len(o.Sources) > 0 {
			return usageError("--demo reads the built-in sample data: drop the SOURCE arguments, or drop --demo")
		}
		dir, paths, err := writeDemoData()
		if err != nil {
			return fmt.Errorf("preparing the demo data: %v", err)
		}
		defer os.RemoveAll(dir)
		o.Sources = paths
	}
	if o.Store.Given() && o.Demo {
		return usageError("--demo reads the built-in sample data: drop --store, or drop --demo")
	}
	spec, explained, err := reading{o.IO, o.Sources, o.Follow, &o.Pods, &o.Nodes, &o.Store, o.Manifest, o.PodLogs}.spec(o.Filter, o.Now(), "")
	if err != nil || explained {
		return usageErr("", err)
	}
	progress := &ui.Progress{}
	o.Creds.apply(progress.Warn)
	if spec.Nodes != nil {
		spec.Nodes.State = func(s source.StreamState) { progress.NodeStream(s.Node, s.State, s.RetryIn, s.Err) }
	}
	firstReadDone := sync.OnceFunc(func() {})
	if len(o.Sources) > 0 || o.Demo {
		firstReadDone = sync.OnceFunc(budget.GrowingHeap(o.IO.Getenv))
	}
	defer firstReadDone()
	var pager ui.StorePager // a store not followed is read a page at a time; its answer asked for only if loaded whole
	if o.Store.Given() && !o.Follow {
		pager, spec.Store.Later = ui.PagerOf(o.Store.Pager(o.Now, o.Nodes.Names, o.IO.Getenv, progress.Warn)), true
	}
	set, err := source.Open(ctx, spec, source.Options{
		Warn: progress.Warn,
		Progress: func(read, total int64) {
			progress.Set(read, total)
			if read >= total {
				firstReadDone()
			}
		},
		PodState:    func(s source.PodState) { progress.Stream(s.Pod, s.State, s.RetryIn, s.Err) },
		Live:        progress.Live,
		SpoolMemory: mem.SpoolMemory(),
	})
	if err != nil {
		return usageError("%v", err)
	}
	defer set.Close()
	// The index is held within the budget (--max-memory): the collector is
	// told it, and near it the lines kept for reading back go to disk; the
	// status bar says so.
	defer budget.Hold(mem, o.IO.Getenv, set.ShedMemory, progress.Warn, func(s string) { progress.Note("memory", s) })()
	if len(spec.Paths) > 0 && !o.Demo {
		if o.Memory.ApplyPriority(progress.Warn) {
			progress.Note("priority", "low priority")
		}
	}
	for _, w := range progress.Warnings() {
		fmt.Fprintln(o.IO.Err, "kauditui: warning:", w)
	}
	o.Sources = set.Sources() // what was named, or what the manifest names; the pods, the nodes, the store

	// The requests go to a columnar index (audit.Index: about 60 bytes a request, where a
	// *audit.Request is 300 or more) through an indexing store, which merges each request's
	// stages as any store does and forgets it once it is a row; Detail and the exports read
	// the lines back (set.Raw).
	ix := audit.NewIndex()
	store := audit.NewIndexingStore(ix)
	m := ui.New(ui.Options{
		Data:        ui.Data{Store: store, Index: ix, Raw: set.Raw},
		Load:        ui.LoadAll(set.Load, store, set.Incomplete),
		Progress:    progress,
		Sources:     o.Sources,
		InputName:   set.InputName,
		PolicyText:  new(policyFlags).text, // the policy of this node's apiserver, if it is a master
		Follow:      o.Follow,
		Filter:      o.Filter,
		NoColor:     o.NoColor,
		Now:         o.Now,
		HistoryFile: ui.StateFile("filters"),
		Pager:       pager,
	})
	popts := append([]tea.ProgramOption{tea.WithContext(ctx)}, o.program...)
	if f, ok := o.IO.Out.(*os.File); ok {
		popts = append(popts, tea.WithOutput(f))
	}
	// However the program ends (a key, a signal), the loader, timers and a
	// background re-filter stop with the model.
	defer m.Close()
	p := tea.NewProgram(m, popts...)
	if o.started != nil {
		o.started(p)
	}
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("the explorer stopped: %v", err)
	}
	return nil
}
