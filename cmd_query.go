package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
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
	PodLogs  string // glob of the apiserver container's log files, read in stdout mode

	Filter   string
	Output   string
	Count    bool
	Top      string
	Follow   bool
	NoColor  bool
	Sources  []string
	Pods     podFlags
	Nodes    nodeFlags
	Store    storeFlags
	Creds    credFlags
	TZ       tzFlag
	Answers  answerFlags
	Timeline timelineFlags
	Detect   detectFlags
	Advise   adviseFlags
	Missing  missingFlags
}

const queryUsage = `Usage: kauditui query [-q FILTER] [-o table|wide|json|klog] [--count] [--top FIELD] [--follow] [--pods] [SOURCE...]
       kauditui query [--exec | --history OBJECT | --rbac FILTER | --coverage | --timeline] [-q FILTER] [SOURCE...]
       kauditui query --rbac FILTER --missing [--kubeconfig FILE] [--context NAME] [SOURCE...]
       kauditui query --coverage [--gap 5m] [--policy FILE] [-q FILTER] [SOURCE...]
       kauditui query --detect [-o json] [--rules DIR] [-q FILTER] [SOURCE...]
       kauditui query --advise-policy [--policy FILE] [-o yaml] [SOURCE...]

Prints the requests of audit logs that match FILTER (see README: Filter language).
--pods reads the kube-apiserver pods' logs through the Kubernetes API.
--store URL reads a VictoriaLogs store instead (README: Central store);
--explain prints the LogsQL query the filter becomes.
Exit status: 0 when something matched, 1 when nothing did, 2 on a usage error,
when no input could be read, or when no input holds an audit event.

Flags:
`

var topFields = filter.TopFields()

func runQueryCmd(ctx context.Context, args []string, ios *IO) error {
	opts := &queryOptions{IO: ios, Now: time.Now, Manifest: defaultManifest, PodLogs: defaultPodLogs}
	fs := pflag.NewFlagSet("query", pflag.ContinueOnError)
	fs.SetOutput(ios.Err)
	fs.StringVarP(&opts.Filter, "filter", "q", "", "filter expression, e.g. 'user=alice verb=delete resource=deploy'")
	fs.StringVarP(&opts.Output, "output", "o", "table", "output format: table, wide, json (raw events, one per line) or klog (apiserver log lines)")
	fs.BoolVar(&opts.Count, "count", false, "print only the number of matching requests")
	fs.StringVar(&opts.Top, "top", "", "count matching requests per value of FIELD: "+strings.Join(topFields, ", "))
	fs.BoolVarP(&opts.Follow, "follow", "f", false, "keep reading as the log grows")
	fs.BoolVar(&opts.NoColor, "no-color", false, "never colour the output (NO_COLOR is honoured too)")
	opts.Pods.register(fs)
	opts.Nodes.register(fs)
	opts.Store.register(fs)
	opts.Creds.register(fs)
	opts.TZ.register(fs)
	opts.Answers.register(fs)
	opts.Timeline.register(fs)
	opts.Detect.register(fs)
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
	if err := o.Detect.validate(o); err != nil {
		return err
	}
	if err := o.Missing.validate(o); err != nil {
		return err
	}
	return o.Answers.validate(o)
}

func runQuery(ctx context.Context, o *queryOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if err := o.TZ.apply(&o.Now); err != nil {
		return err
	}
	f, err := filter.Parse(o.Answers.filter(o.Filter), o.Now())
	if err != nil {
		return usageError("query: %v", err)
	}
	warn := func(msg string) { fmt.Fprintln(o.IO.Err, "kauditui: warning:", msg) }
	o.Creds.apply(warn)
	if o.Store.pending() {
		return o.queryStore(ctx) // this query again, on the store's answer
	}
	nodes, err := o.Nodes.options(&o.Pods, o.IO.Getenv)
	if err != nil {
		return usageError("query: %v", err)
	}
	plan, err := o.Nodes.planSources(o.Sources, &o.Pods, o.Manifest, o.PodLogs, o.Follow, o.IO.Getenv, warn, func(s source.PodState) {
		if s.State != source.PodStreaming && s.State != source.PodDone {
			warn(describeState(s))
		}
	})
	if err != nil {
		return usageError("query: %v", err)
	}
	// One-shot counts, tops and tables are answered while reading, from a
	// streaming store; -o json and -o klog print lines and keep them all.
	streaming := !o.Follow && o.Output != "json" && o.Output != "klog" && !o.Answers.given() && !o.Detect.On && !o.Advise.On
	var keep func([]byte) bool
	switch {
	case streaming:
		keep = f.RowPrefilter() // skip, unparsed, lines that add nothing to a matching row
	case o.Answers.Coverage:
		keep = o.Answers.truncated.keep // every line, counting the truncated ones
	case !o.Follow:
		keep = f.Prefilter() // skip, unparsed, lines of requests that cannot match
	}
	set, err := source.Open(plan.paths, source.Options{
		Follow: o.Follow,
		Keep:   keep,
		Stdin:  o.IO.In,
		Warn:   warn,
		Pods:   plan.pods,
		Nodes:  nodes,
	})
	if err != nil {
		return usageError("query: %v", err)
	}
	defer set.Close()

	out := bufio.NewWriterSize(o.IO.Out, 1<<16)
	defer out.Flush()
	if streaming {
		err := o.stream(ctx, set, f, out)
		o.suggestIfNone(ctx, err, out.Flush, plan, nodes, f)
		return err
	}
	store := audit.NewStore()
	if o.Follow {
		return o.follow(ctx, set, store, f)
	}
	if err := set.Load(ctx, store); err != nil {
		return usageError("query: %v", err)
	}
	snap := store.Snapshot()
	if err := o.explainEmpty(set, snap); err != nil {
		return err
	}
	o.warnTrust(snap)

	if o.Output == "klog" {
		return o.printKlog(out, set, snap.Klog)
	}
	matched := matchRequests(snap.Requests, f, set.Raw)
	switch {
	case o.Count:
		fmt.Fprintln(out, len(matched))
	case o.Top != "":
		printTop(out, matched, o.Top)
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
		if err := printJSON(out, set, matched); err != nil {
			return err
		}
	default:
		t := newTablePrinter(o.IO, o.Output == "wide", o.color())
		t.print(out, matched)
	}
	if len(matched) == 0 {
		err := &exitError{code: exitNoMatch}
		o.suggestIfNone(ctx, err, out.Flush, plan, nodes, f)
		return err
	}
	return nil
}

// explainEmpty says in one line why nothing can match when the inputs hold
// no audit event at all: what they look like, and what kauditui reads.
func (o *queryOptions) explainEmpty(set *source.Set, snap audit.Snapshot) error {
	if o.Store.given() {
		return nil // the store sends only the events that may match: none is an answer
	}
	if snap.Events > 0 || snap.Duplicates > 0 || set.Skipped() > 0 || o.Output == "klog" && len(snap.Klog) > 0 {
		o.warnUnused(set)
		return nil
	}
	var what []string
	empty := true
	for _, in := range set.Inputs() {
		if in.Looks != "" {
			what = append(what, sanitize(in.Name)+" holds "+sanitize(in.Looks))
		}
		empty = empty && in.Klog == 0 && in.Other == 0
	}
	msg := "query: no audit events: " + strings.Join(what, "; ")
	if o.Output == "klog" {
		msg = "query: no apiserver log lines: " + strings.Join(what, "; ")
	}
	if empty {
		return &exitError{code: exitNoMatch, msg: msg}
	}
	return &exitError{code: exitUsage, msg: msg + " (kauditui reads audit.k8s.io/v1 events as JSON, one per line as --audit-log-format=json writes them, or a stream of JSON values)"}
}

// warnUnused names, one line each, the inputs that gave the answer nothing
// while others did: a backup that holds klog lines, legacy lines or
// nothing would otherwise pass unseen in a merged answer.
func (o *queryOptions) warnUnused(set *source.Set) {
	for _, in := range set.Inputs() {
		var why string
		switch {
		case o.Output == "klog":
			if in.Klog == 0 && !in.Failed {
				why = "it holds no apiserver log line"
			}
		case in.Events > 0 || in.Skipped > 0:
		case in.Failed || in.Looks == "":
			// failed or not readable at all: a warning said so already
		default:
			why = "it holds " + in.Looks
		}
		if why != "" {
			fmt.Fprintf(o.IO.Err, "kauditui: warning: %s: not used: %s\n", sanitize(in.Name), sanitize(why))
		}
	}
}

// warnTrust names what the log says about itself that a reader must know.
func (o *queryOptions) warnTrust(snap audit.Snapshot) {
	if snap.SharedIDs > 0 {
		fmt.Fprintf(o.IO.Err, "kauditui: warning: %d requests carry an auditID that another request carries too (clients can choose their Audit-ID header); each is shown as a request of its own (-q 'id=...' lists them)\n", snap.SharedIDs)
	}
	if snap.Duplicates > 0 {
		fmt.Fprintf(o.IO.Err, "kauditui: warning: %d event lines repeat lines already read (the same log named twice?); each was counted once\n", snap.Duplicates)
	}
}

func (o *queryOptions) color() bool {
	return o.IO.OutTTY && !o.NoColor && !o.IO.noColorEnv()
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

// printJSON writes the matching requests' raw events unchanged (a JSON
// value that spanned lines is compacted to one), each input's in log order
// and several inputs merged by time, as the store merged them.
func printJSON(w *bufio.Writer, set *source.Set, reqs []*audit.Request) error {
	var events []audit.EventRef
	for _, r := range reqs {
		events = append(events, r.Events...)
	}
	return writeEvents(w, set, events)
}

// writeEvents writes events (copies: the store may be merging) raw, in the
// order of mergeByTime.
func writeEvents(w *bufio.Writer, set *source.Set, events []audit.EventRef) error {
	for _, e := range mergeByTime(events) {
		b, err := set.Raw(e.Ref)
		if err != nil {
			return fmt.Errorf("query: reading event at line %d again: %w", e.Line, err)
		}
		if bytes.IndexByte(b, '\n') >= 0 {
			var c bytes.Buffer
			if json.Compact(&c, b) == nil {
				b = c.Bytes()
			}
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	return nil
}

// mergeByTime orders events by input and line (Line, not Off: a stream's
// lines sit in the spool), then merges the inputs by stage time, so each
// input keeps its own order.
func mergeByTime(events []audit.EventRef) []audit.EventRef {
	slices.SortFunc(events, func(a, b audit.EventRef) int {
		return cmp.Or(cmp.Compare(a.Input, b.Input), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Off, b.Off))
	})
	var runs [][]audit.EventRef
	for i := 0; i < len(events); {
		j := i
		for j < len(events) && events[j].Input == events[i].Input {
			j++
		}
		runs = append(runs, events[i:j])
		i = j
	}
	if len(runs) <= 1 {
		return events
	}
	out := make([]audit.EventRef, 0, len(events))
	for len(runs) > 0 {
		best := 0
		for i := 1; i < len(runs); i++ {
			if runs[i][0].At().Before(runs[best][0].At()) {
				best = i
			}
		}
		out = append(out, runs[best][0])
		if runs[best] = runs[best][1:]; len(runs[best]) == 0 {
			runs = append(runs[:best], runs[best+1:]...)
		}
	}
	return out
}

func (o *queryOptions) printKlog(w *bufio.Writer, set *source.Set, lines []audit.KlogLine) error {
	if len(lines) == 0 {
		return &exitError{code: exitNoMatch}
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

func topValue(r *audit.Request, field string) string { return filter.TopValue(r, field) }

func printTop(w *bufio.Writer, reqs []*audit.Request, field string) {
	counts := map[string]int{}
	for _, r := range reqs {
		counts[topValue(r, field)]++
	}
	printTopCounts(w, counts, len(reqs))
}

// printTopCounts writes counts per value, the largest first; total sizes the
// numbers' column.
func printTopCounts(w *bufio.Writer, counts map[string]int, total int) {
	type kv struct {
		k string
		n int
	}
	var rows []kv
	for k, n := range counts {
		rows = append(rows, kv{k, n})
	}
	slices.SortFunc(rows, func(a, b kv) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.k, b.k)) })
	width := len(strconv.Itoa(max(1, total)))
	for _, r := range rows {
		v := r.k
		if v == "" {
			v = "(none)" // as the table shows it
		}
		fmt.Fprintf(w, "%*d  %s\n", width, r.n, sanitize(v))
	}
}
