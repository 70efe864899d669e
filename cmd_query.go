package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/budget"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/setup"
	"github.com/kauditui/kauditui/source"
)

// queryOptions is everything `kauditui query` needs, so tests can run it with
// fake IO and a fixed clock (gh's options struct).
type queryOptions struct {
	IO       *IO
	Now      func() time.Time
	Manifest string // kubeadm apiserver manifest, read when no SOURCE is given
	PodLogs  string // glob of the apiserver container's log files, read in stdout mode

	Filter  string
	Output  string
	Count   bool
	Top     string
	Follow  bool
	NoColor bool
	// ShowSecrets shows what looks like a secret in a command line of a
	// requestURI as logged (render.RedactArgs); redacted by default.
	ShowSecrets bool
	Sources     []string
	Pods        source.PodFlags
	Nodes       source.NodeFlags
	Store       source.StoreFlags
	Creds       credFlags
	TZ          render.ZoneFlag
	Answers     answerFlags
	Timeline    timelineFlags
	Detect      detectFlags
	Memory      budget.Flags
	Advise      adviseFlags
	Missing     missingFlags

	budget budget.Budget // from Memory, set by runQuery
}

var topFields = filter.TopFields()

func runQueryCmd(ctx context.Context, args []string, ios *IO) error {
	opts := &queryOptions{IO: ios, Now: time.Now, Manifest: defaultManifest, PodLogs: setup.DefaultPodLogs,
		Memory: budget.Flags{Manifest: defaultManifest}}
	fs := pflag.NewFlagSet("query", pflag.ContinueOnError)
	fs.SetOutput(ios.Err)
	fs.StringVarP(&opts.Filter, "filter", "q", "", "filter expression, e.g. 'user=alice verb=delete resource=deploy'")
	fs.StringVarP(&opts.Output, "output", "o", "table", "output format: table, wide, json (raw events, one per line) or klog (apiserver log lines)")
	fs.BoolVar(&opts.Count, "count", false, "print only the number of matching requests")
	fs.StringVar(&opts.Top, "top", "", "count matching requests per value of FIELD: "+strings.Join(topFields, ", "))
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading as the log grows")
	fs.BoolVar(&opts.NoColor, "no-color", false, "never colour the output (NO_COLOR is honoured too)")
	fs.BoolVar(&opts.ShowSecrets, "show-secrets", false, "show passwords and tokens a command line put in a requestURI (exec command=, env=) as logged; redacted by default (-o json is always as logged)")
	opts.Pods.Register(fs)
	opts.Nodes.Register(fs)
	opts.Store.Register(fs)
	opts.Creds.register(fs)
	opts.TZ.Register(fs)
	opts.Answers.register(fs)
	opts.Timeline.register(fs)
	opts.Detect.register(fs)
	opts.Memory.Register(fs)
	opts.Advise.register(fs)
	opts.Missing.register(fs)
	if stop, err := parseFlags(fs, args, ios); stop {
		return err
	}
	opts.Sources = fs.Args()
	return runQuery(ctx, opts)
}

func (o *queryOptions) validate() error {
	if o.Advise.On {
		if err := o.Advise.validate(o); err != nil {
			return err
		}
		if err := o.Missing.validate(o); err != nil {
			return err
		}
		return o.Answers.validate(o)
	}
	switch o.Output {
	case "table", "wide", "json", "klog":
	default:
		return usageError("query: -o %q is not a format: use table, wide, json or klog", o.Output)
	}
	if o.Top != "" && !slices.Contains(topFields, o.Top) {
		return usageError("query: --top %q is not a field: use one of %s", o.Top, strings.Join(topFields, ", "))
	}
	if o.Count && o.Top != "" {
		return usageError("query: --count and --top do not go together: pick one")
	}
	if o.Output == "klog" && (o.Filter != "" || o.Count || o.Top != "") {
		return usageError("query: -o klog prints the apiserver's own log lines; -q, --count and --top are for requests (pipe -o klog to grep instead)")
	}
	if o.Follow && (o.Count || o.Top != "") {
		return usageError("query: --follow prints requests as they come; it does not go with --count or --top")
	}
	if err := o.Timeline.validate(o); err != nil {
		return err
	}
	if err := o.Memory.Validate(); err != nil {
		return usageErr("", err)
	}
	if err := o.Detect.validate(o); err != nil {
		return err
	}
	if err := o.Missing.validate(o); err != nil {
		return err
	}
	return o.Answers.validate(o)
}

// heapLimit sets the memory limit of a load of set (start, within the
// budget); near the budget it moves set's spool to disk and says so.
func (o *queryOptions) heapLimit(set *source.Set, start int64) *budget.HeapLimit {
	h := budget.NewHeapLimit(o.budget, start, o.IO.Getenv)
	h.Shed = set.ShedMemory
	h.Tell = func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui: warning:", sanitize(msg)) }
	return h
}

func runQuery(ctx context.Context, o *queryOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.TZ.Apply(&o.Now); err != nil {
		return usageErr("", err)
	}
	b, err := o.Memory.Budget()
	if err != nil {
		return usageErr("", err)
	}
	o.budget = b
	render.SetShowSecrets(o.ShowSecrets)
	f, err := filter.Parse(o.Answers.filter(o.Filter), o.Now())
	if err != nil {
		return usageError("query: %v", err)
	}
	warn := func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui: warning:", msg) }
	o.Creds.apply(warn)
	spec, explained, err := reading{o.IO, o.Sources, o.Follow, &o.Pods, &o.Nodes, &o.Store, o.Manifest, o.PodLogs}.spec(o.Filter, o.Now(), o.Output)
	if err != nil || explained {
		return usageErr("query: ", err)
	}
	o.Answers.onStore = o.Store.Given()
	if o.Store.Given() && !o.Answers.given() && !o.Follow { // counted by the store's stats when it can say exactly
		if n, ok, err := source.StoreCounts(ctx, spec.Store, source.StoreAsk{Count: o.Count, Top: o.Top, Timeline: o.Timeline.On, Step: o.Timeline.Step}, o.IO.Out, warn); err != nil || ok {
			return cmp.Or(usageErr("query: ", err), noneMatched(n))
		}
	}
	var keep func([]byte) bool
	switch {
	case o.streaming():
		keep = f.RowPrefilter() // skip, unparsed, lines that add nothing to a matching row
	case o.Answers.Coverage:
		keep = o.Answers.truncated.Keep // every line, counting the truncated ones
	case !o.Follow:
		keep = f.Prefilter() // skip, unparsed, lines of requests that cannot match
	}
	set, err := source.Open(ctx, spec, source.Options{Keep: keep, Warn: warn, PodState: func(s source.PodState) {
		if s.State != source.PodStreaming && s.State != source.PodDone {
			warn(s.String())
		}
	},
		SpoolMemory: o.budget.SpoolMemory(),
		// a count, top or table of fields never reads a line back
		NoRaw: o.streaming() && !f.NeedsRaw() && !o.Timeline.On,
	})
	if err != nil {
		return usageError("query: %v", err)
	}
	defer set.Close()
	if len(spec.Paths) > 0 {
		o.Memory.ApplyPriority(func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui:", sanitize(msg)) })
	}
	if !o.Store.Given() {
		return o.answer(ctx, set, f, o.IO.Out)
	}
	// A count, a top or an answer of part of the store's answer is a wrong
	// number, not a partial one: they are held until the answer is whole.
	var held, w = (*bytes.Buffer)(nil), io.Writer(o.IO.Out)
	if (o.Count || o.Top != "" || o.Answers.given()) && !o.Follow {
		held = &bytes.Buffer{}
		w = held
	}
	err = o.answer(ctx, set, f, w)
	if failed := set.Incomplete(); failed != nil {
		var refused *source.RebuildError
		if held != nil && !errors.As(failed, &refused) {
			return &exitError{code: exitUsage, msg: "query: " + failed.Error() + "; no count is given"}
		}
		return &exitError{code: exitUsage, msg: "query: " + failed.Error()}
	}
	if held != nil {
		if _, werr := held.WriteTo(o.IO.Out); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// streaming: one-shot counts, tops and tables are answered while reading,
// from a streaming store; -o json and -o klog print lines and keep them all.
func (o *queryOptions) streaming() bool {
	return !o.Follow && o.Output != "json" && o.Output != "klog" && !o.Answers.given() && !o.Detect.On && !o.Advise.On
}

// answer reads set and writes the answer to w.
func (o *queryOptions) answer(ctx context.Context, set *source.Set, f *filter.Filter, w io.Writer) error {
	out := bufio.NewWriterSize(w, 1<<16)
	defer out.Flush()
	if o.streaming() {
		err := o.stream(ctx, set, f, out)
		o.suggestIfNone(ctx, err, out.Flush, set, f)
		return err
	}
	store := audit.NewStore()
	if o.Follow {
		return o.follow(ctx, set, store, f)
	}
	h := o.heapLimit(set, o.budget.Limit)
	defer h.Restore()
	stopWatch := h.Watch()
	err := set.Load(ctx, store)
	stopWatch()
	if err != nil {
		return usageError("query: %v", err)
	}
	snap := store.Snapshot()
	if err := o.explainEmpty(set, snap); err != nil {
		return err
	}
	o.warnTrust(snap)

	if o.Output == "klog" {
		return cmp.Or(noneMatched(len(snap.Klog)), set.WriteKlog(out, snap.Klog))
	}
	matched := f.Select(snap.Requests, set.Raw)
	switch {
	case o.Count:
		fmt.Fprintln(out, len(matched))
	case o.Top != "":
		writeLines(out, render.TopText(filter.TopCounts(matched, o.Top), len(matched)))
	case o.Missing.On:
		return o.Missing.print(ctx, out, o, set, matched)
	case o.Answers.given():
		if err := o.Answers.print(out, set, snap, matched); err != nil {
			return err
		}
	case o.Detect.On:
		return o.Detect.print(out, o.IO.Err, o.Output == "json", set, matched)
	case o.Advise.On:
		return o.Advise.print(out, o.IO.Err, &o.Answers.Policy, matched, o.Output == "yaml")
	case o.Output == "json":
		if err := set.WriteRequests(out, matched); err != nil {
			return err
		}
	default:
		o.tablePrinter().Print(out, matched)
	}
	if len(matched) == 0 {
		err := &exitError{code: exitNoMatch}
		o.suggestIfNone(ctx, err, out.Flush, set, f)
		return err
	}
	return nil
}

// explainEmpty says in one line why nothing can match when the inputs hold
// no audit event at all (source.Set.WhyEmpty), or names the unused inputs.
func (o *queryOptions) explainEmpty(set *source.Set, snap audit.Snapshot) error {
	if o.Store.Given() {
		return nil // the store sends only the events that may match: none is an answer
	}
	klog := o.Output == "klog"
	msg, other := set.WhyEmpty(snap, klog)
	switch {
	case msg == "":
		for _, u := range set.Unused(klog) {
			fmt.Fprintln(o.IO.Err, "kauditui: warning:", u)
		}
		return nil
	case other:
		return &exitError{code: exitUsage, msg: msg}
	}
	return &exitError{code: exitNoMatch, msg: msg}
}

// warnTrust names what the log says about itself that a reader must know
// (audit.Snapshot.Warnings).
func (o *queryOptions) warnTrust(snap audit.Snapshot) {
	for _, w := range snap.Warnings() {
		fmt.Fprintln(o.IO.Err, "kauditui: warning:", w)
	}
}

// tablePrinter is the table of -o table and wide: cut to the terminal's
// width, coloured on a terminal.
func (o *queryOptions) tablePrinter() *render.TablePrinter {
	w := 0
	if o.IO.OutTTY {
		w = o.IO.Width
	}
	return render.NewTablePrinter(w, o.Output == "wide", o.IO.OutTTY && !o.NoColor && !o.IO.NoColorEnv())
}
