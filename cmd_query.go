package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// queryOptions is everything `kauditui query` needs, so tests can run it with
// fake IO and a fixed clock (gh's options struct).
type queryOptions struct {
	IO       *IO
	Now      func() time.Time
	Manifest string // kubeadm apiserver manifest, read when no SOURCE is given

	Filter  string
	Output  string
	Count   bool
	Top     string
	Follow  bool
	NoColor bool
	Sources []string
}

const queryUsage = `Usage: kauditui query [-q FILTER] [-o table|wide|json|klog] [--count] [--top FIELD] [--follow] [SOURCE...]

Prints the requests of audit logs that match FILTER (see README: Filter language).
Exit status: 0 when something matched, 1 when nothing did, 2 on a usage error or
when no input could be read.

Flags:
`

var topFields = []string{"user", "verb", "resource", "code", "agent", "ns"}

func runQueryCmd(args []string, io *IO) error {
	opts := &queryOptions{IO: io, Now: time.Now, Manifest: defaultManifest}
	fs := pflag.NewFlagSet("query", pflag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVarP(&opts.Filter, "filter", "q", "", "filter expression, e.g. 'user=alice verb=delete resource=deploy'")
	fs.StringVarP(&opts.Output, "output", "o", "table", "output format: table, wide, json (raw events, one per line) or klog (apiserver log lines)")
	fs.BoolVar(&opts.Count, "count", false, "print only the number of matching requests")
	fs.StringVar(&opts.Top, "top", "", "count matching requests per value of FIELD: "+strings.Join(topFields, ", "))
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading as the log grows")
	fs.BoolVar(&opts.NoColor, "no-color", false, "never colour the output (NO_COLOR is honoured too)")
	fs.Usage = func() {
		fmt.Fprint(io.Err, queryUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return nil
		}
		return usageError("query: %v (see 'kauditui query --help')", err)
	}
	opts.Sources = fs.Args()
	return runQuery(context.Background(), opts)
}

func (o *queryOptions) validate() error {
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
	return nil
}

func runQuery(ctx context.Context, o *queryOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	f, err := filter.Parse(o.Filter, o.Now())
	if err != nil {
		return usageError("query: %v", err)
	}
	if len(o.Sources) == 0 {
		path, err := auditLogFromManifest(o.Manifest)
		if err != nil {
			return usageError("query: %v", err)
		}
		o.Sources = []string{path}
	}
	var keep func([]byte) bool
	if !o.Follow {
		keep = f.Prefilter() // skip, unparsed, lines of requests that cannot match
	}
	set, err := source.Open(o.Sources, source.Options{
		Follow: o.Follow,
		Keep:   keep,
		Stdin:  o.IO.In,
		Warn: func(msg string) {
			fmt.Fprintln(o.IO.Err, "kauditui: warning:", msg)
		},
	})
	if err != nil {
		return usageError("query: %v", err)
	}
	defer set.Close()

	store := audit.NewStore()
	if o.Follow {
		return o.follow(ctx, set, store, f)
	}
	if err := set.Load(ctx, store); err != nil {
		return usageError("query: %v", err)
	}
	snap := store.Snapshot()
	out := bufio.NewWriterSize(o.IO.Out, 1<<16)
	defer out.Flush()

	if o.Output == "klog" {
		return o.printKlog(out, set, snap.Klog)
	}
	matched := matchRequests(snap.Requests, f, set.Raw)
	switch {
	case o.Count:
		fmt.Fprintln(out, len(matched))
	case o.Top != "":
		printTop(out, matched, o.Top)
	case o.Output == "json":
		if err := printJSON(out, set, matched); err != nil {
			return err
		}
	default:
		t := newTablePrinter(o.IO, o.Output == "wide", o.color())
		t.print(out, matched)
	}
	if len(matched) == 0 {
		return &exitError{code: 1}
	}
	return nil
}

func (o *queryOptions) color() bool {
	return o.IO.OutTTY && !o.NoColor && o.IO.Getenv("NO_COLOR") == ""
}

func matchRequests(reqs []*audit.Request, f *filter.Filter, raw func(audit.Ref) ([]byte, error)) []*audit.Request {
	var out []*audit.Request
	needsRaw := f.NeedsRaw()
	for _, r := range reqs {
		if needsRaw {
			if f.MatchRaw(r, raw) {
				out = append(out, r)
			}
		} else if f.Match(r) {
			out = append(out, r)
		}
	}
	return out
}

// printJSON writes the matching requests' raw events unchanged, in log order.
func printJSON(w *bufio.Writer, set *source.Set, reqs []*audit.Request) error {
	var refs []audit.Ref
	for _, r := range reqs {
		for _, e := range r.Events {
			refs = append(refs, e.Ref)
		}
	}
	slices.SortFunc(refs, func(a, b audit.Ref) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), cmp.Compare(a.Off, b.Off))
	})
	for _, ref := range refs {
		b, err := set.Raw(ref)
		if err != nil {
			return fmt.Errorf("query: reading event at line %d again: %w", ref.Line, err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	return nil
}

func (o *queryOptions) printKlog(w *bufio.Writer, set *source.Set, lines []audit.KlogLine) error {
	if len(lines) == 0 {
		return &exitError{code: 1}
	}
	for _, l := range lines {
		b, err := set.Raw(l.Ref)
		if err != nil {
			return fmt.Errorf("query: reading klog line %d again: %w", l.Line, err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	return nil
}

func topValue(r *audit.Request, field string) string {
	switch field {
	case "user":
		return r.Actor()
	case "verb":
		return r.Verb
	case "resource":
		if r.Resource == "" {
			return r.RequestURI // a non-resource request: its URL says what it was
		}
		return r.ResourcePath()
	case "code":
		return strconv.Itoa(r.Code)
	case "agent":
		return r.UserAgent
	case "ns":
		return r.Namespace
	}
	return ""
}

func printTop(w *bufio.Writer, reqs []*audit.Request, field string) {
	counts := map[string]int{}
	for _, r := range reqs {
		counts[topValue(r, field)]++
	}
	type kv struct {
		k string
		n int
	}
	var rows []kv
	for k, n := range counts {
		rows = append(rows, kv{k, n})
	}
	slices.SortFunc(rows, func(a, b kv) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k, b.k)) })
	width := len(strconv.Itoa(max(1, len(reqs))))
	for _, r := range rows {
		v := r.k
		if v == "" {
			v = "<none>"
		}
		fmt.Fprintf(w, "%*d  %s\n", width, r.n, sanitize(v))
	}
}

// follow prints requests as they complete while the sources grow, until ctx
// ends or the user interrupts.
func (o *queryOptions) follow(ctx context.Context, set *source.Set, store *audit.Store, f *filter.Filter) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	loadErr := make(chan error, 1)
	go func() { loadErr <- set.Load(ctx, store) }()

	printed := map[*audit.Request]bool{}
	out := bufio.NewWriter(o.IO.Out)
	t := newTablePrinter(o.IO, o.Output == "wide", o.color())
	t.fixed = true
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	klogSeen := 0
	flush := func(final bool) error {
		snap := store.Snapshot()
		if o.Output == "klog" {
			for _, l := range snap.Klog[klogSeen:] {
				if b, err := set.Raw(l.Ref); err == nil {
					out.Write(b)
					out.WriteByte('\n')
				}
			}
			klogSeen = len(snap.Klog)
			return out.Flush()
		}
		var ready []*audit.Request
		store.Read(func(s audit.Snapshot) {
			for _, r := range s.Requests {
				if printed[r] || !(final || finished(r)) {
					continue
				}
				printed[r] = true
				if f.NeedsRaw() && !f.MatchRaw(r, set.Raw) || !f.NeedsRaw() && !f.Match(r) {
					continue
				}
				ready = append(ready, r)
			}
		})
		if o.Output == "json" {
			if err := printJSON(out, set, ready); err != nil {
				return err
			}
		} else {
			t.print(out, ready)
		}
		return out.Flush()
	}
	for {
		select {
		case err := <-loadErr:
			ferr := flush(true)
			if err != nil && !errors.Is(err, context.Canceled) {
				return usageError("query: %v", err)
			}
			return ferr
		case <-tick.C:
			if err := flush(false); err != nil {
				return err
			}
		}
	}
}

// finished says whether a request has reached its last stage, so follow mode
// prints it once with its final code and latency.
func finished(r *audit.Request) bool {
	switch r.Stage {
	case "ResponseComplete", "Panic":
		return true
	case "ResponseStarted":
		return r.Code >= 400 // a failed authentication ends here
	}
	return false
}
