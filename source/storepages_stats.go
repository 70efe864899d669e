package source

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
)

// StoreStats counts the requests a filter matches in the store, with its
// stats, without downloading them: one event per request, its last stage
// (filter.LogsQL.Requests). Open it with StoreSpec.Stats, which first asks
// the store whether its counts can be exact.
type StoreStats struct {
	st  *Store
	q   *filter.LogsQL
	one string // the last stage of each matching request
	// Why is why the store cannot count exactly ("" when it can): the
	// caller then reads the whole answer (and says so).
	Why string
}

// Stats asks the store whether it can count the requests of the filter
// exactly (times: also group them by receive time; more: the store's
// fields they are grouped by) and returns the counter; its Why says why
// not. It warns, as reading the answer does, of
// what the store lost and of clusters that mix.
func (sp *StoreSpec) Stats(ctx context.Context, times bool, more []string, warn func(string)) (*StoreStats, error) {
	s, err := sp.counter(ctx, warn)
	if err != nil || s.Why != "" {
		return s, err
	}
	s.Why, err = s.exact(ctx, times, more)
	return s, err
}

// counter is Stats without the store's checks: Why says only what the
// filter or the store's events keep from counting.
func (sp *StoreSpec) counter(ctx context.Context, warn func(string)) (*StoreStats, error) {
	q, st, err := sp.Translate()
	if err != nil {
		return nil, err
	}
	kept, err := prepare(ctx, st, q, len(sp.Cluster) > 0, warn)
	if err != nil {
		return nil, err
	}
	if !q.Narrow() && len(sp.Cluster) == 0 { // prepare counts a narrow filter's clusters
		if counts, err := st.Clusters(ctx, q.Filter(st.Streams())); err == nil {
			warnMixedClusters(counts, warn)
		}
	}
	s := &StoreStats{st: st, q: q}
	if !kept {
		// rebuilt from their fields when read whole, which says what they
		// lack (or refuses those without what makes a request)
		s.Why = noLines
		return s, nil
	}
	s.one, s.Why = q.Requests(st.Streams())
	return s, nil
}

// noChecks is Why when the store answered its checks with nothing, which
// VictoriaLogs never does: what answers is something else, and reading its
// answer whole says what it is (unsaid here, so that its failure is one
// line).
const noChecks = "the store answered its checks with nothing"

// noLines is Why for events kept without their lines: read whole, they are
// rebuilt from their fields, and the reading says so.
const noLines = "the store keeps these events without their original lines"

// why is c.Why, for a nil c too.
func (c *StoreStats) why() string {
	if c == nil {
		return ""
	}
	return c.Why
}

// exact runs the store's checks (filter.LogsQL.StatsChecks): why its
// counts would not be kauditui's, or "".
func (c *StoreStats) exact(ctx context.Context, times bool, more []string) (string, error) {
	return c.check(ctx, c.q.StatsChecks(c.st.Streams(), more), times, more)
}

// check runs the checks and reads their answers.
func (c *StoreStats) check(ctx context.Context, checks []string, times bool, more []string) (string, error) {
	var rows []gjson.Result
	for _, check := range checks {
		row, err := c.st.row(ctx, check)
		if err != nil {
			return "", err
		}
		if !row.IsObject() {
			return noChecks, nil
		}
		rows = append(rows, row)
	}
	return c.q.StatsExact(func(name string) int64 {
		for _, r := range rows {
			if v := r.Get(name); v.Exists() {
				return v.Int()
			}
		}
		return 0
	}, times, more), nil
}

// row is the one answer row of a stats query.
func (s *Store) row(ctx context.Context, query string) (gjson.Result, error) {
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {query}})
	if err != nil {
		return gjson.Result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return gjson.Result{}, s.broken(err)
	}
	return gjson.ParseBytes(b), nil
}

// rows runs a stats query and hands each answer row to each, up to max
// rows (a group-by the store answers with more is refused, not cut).
func (s *Store) rows(ctx context.Context, query string, max int, each func(gjson.Result) error) error {
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {query}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), maxStoreLine)
	n := 0
	for sc.Scan() {
		if n++; n > max {
			return fmt.Errorf("the store at %s answered more than %d groups: narrow the query with -q, --cluster, --node or since=", s.display, max)
		}
		if err := each(gjson.ParseBytes(sc.Bytes())); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return s.broken(err)
	}
	return nil
}

// Query is the filter of the last stages counted (for --explain and tests).
func (c *StoreStats) Query() string { return c.one }

// Count is the number of requests the filter matches.
func (c *StoreStats) Count(ctx context.Context) (int64, error) {
	row, err := c.st.row(ctx, c.one+" | stats count() as n")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(row.Get("n").String(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store %s: the count came back as %q, not a number", c.st.display, clean([]byte(row.Raw), 80))
	}
	return n, nil
}

// maxGroups bounds the values of one --top (a field's distinct values).
const maxGroups = 1 << 20

// Top counts the matching requests by the value --top field counts
// (filter.TopValue, on a request holding the values the store grouped by),
// and their total.
func (c *StoreStats) Top(ctx context.Context, field string) (map[string]int, int, error) {
	by := filter.TopStoreFields(field)
	if by == nil {
		return nil, 0, fmt.Errorf("--top %s is not counted by the store", field)
	}
	counts := map[string]int{}
	total := 0
	add := func(query string, fields []string) error {
		return c.st.rows(ctx, query+" | stats by ("+strings.Join(fields, ", ")+") count() as n", maxGroups, func(r gjson.Result) error {
			n, err := strconv.Atoi(r.Get("n").String())
			if err != nil {
				return fmt.Errorf("store %s: a count came back as %q, not a number", c.st.display, clean([]byte(r.Raw), 80))
			}
			req, err := topRequest(r, field)
			if err != nil {
				return err
			}
			counts[filter.TopValue(req, field)] += n
			total += n
			return nil
		})
	}
	if field == "resource" {
		// a non-resource request counts under its URL
		if err := add(c.one+` objectRef.resource:=""`, []string{"requestURI"}); err != nil {
			return nil, 0, err
		}
		return counts, total, add(c.one+` -objectRef.resource:=""`, by)
	}
	return counts, total, add(c.one, by)
}

// topRequest is a request holding the values of one group of a --top.
func topRequest(r gjson.Result, field string) (*audit.Request, error) {
	get := func(name string) string { return r.Get(gjson.Escape(name)).String() }
	var who audit.Who
	var what audit.What
	who.User, who.ImpersonatedUser, who.UserAgent = get("user.username"), get("impersonatedUser.username"), get("userAgent")
	what.Verb, what.Namespace = get("verb"), get("objectRef.namespace")
	what.APIGroup, what.Resource, what.Subresource = get("objectRef.apiGroup"), get("objectRef.resource"), get("objectRef.subresource")
	code, err := storeCode(get("responseStatus.code"))
	if err != nil {
		return nil, err
	}
	what.Code = code
	if ids := get(filter.CredentialField); ids != "" {
		// kept as the JSON text of the list; the request's is its first
		who.CredentialID = gjson.Get(ids, "0").String()
	}
	return audit.NewRequest(who, what, "", get("requestURI"), ""), nil
}

// storeCode is the request's code from the store's text of it ("": none).
func storeCode(text string) (int, error) {
	if text == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil {
		return 0, errInexact{"the store holds a response code that is not a number"}
	}
	return n, nil
}

// errInexact is a group the store cannot count as kauditui would.
type errInexact struct{ why string }

func (e errInexact) Error() string { return e.why }

// HistBucket is the number of matching requests received in one step.
type HistBucket struct {
	Start    time.Time
	Requests int64
}

// Histogram is the matching requests by receive time, in steps of step
// aligned as audit's timeline aligns them, oldest first; steps without a
// request are left out.
func (c *StoreStats) Histogram(ctx context.Context, step time.Duration) ([]HistBucket, error) {
	var out []HistBucket
	err := c.st.rows(ctx, c.one+" | stats by ("+filter.HistogramStep(step)+") count() as n | sort by (requestReceivedTimestamp)", maxGroups, func(r gjson.Result) error {
		t, err := time.Parse(time.RFC3339Nano, r.Get("requestReceivedTimestamp").String())
		if err != nil {
			return fmt.Errorf("store %s: a step of the histogram came back as %q, not a time", c.st.display, clean([]byte(r.Raw), 80))
		}
		out = append(out, HistBucket{Start: t.UTC(), Requests: r.Get("n").Int()})
		return nil
	})
	return out, err
}

// Spec is the StoreSpec the flags name, for the filter expr at now; nodes
// are values of the node stream field, getenv gives the password and token.
func (f *StoreFlags) Spec(expr string, now time.Time, nodes []string, getenv func(string) string) *StoreSpec {
	return &StoreSpec{Filter: expr, Now: now, StoreOptions: StoreOptions{
		URL: f.URL, AccountID: f.Account, ProjectID: f.Project, Cluster: f.Cluster, Node: nodes,
		CAFile: f.CAFile, Password: getenv("KAUDITUI_STORE_PASSWORD"), Token: getenv("KAUDITUI_STORE_TOKEN"), Timeout: f.Timeout}}
}

// Pager opens the store's answer to a filter as pages (StoreSpec.Pages),
// the filter's times anchored at now(): the explorer's, for each filter.
func (f *StoreFlags) Pager(now func() time.Time, nodes []string, getenv func(string) string, warn func(string)) func(context.Context, string) (*StorePages, string, error) {
	return func(ctx context.Context, expr string) (*StorePages, string, error) {
		return f.Spec(expr, now(), nodes, getenv).Pages(ctx, warn)
	}
}

// StoreAsk is what `query --store` asks that the store may count.
type StoreAsk struct {
	Count    bool
	Top      string
	Timeline bool
	Step     time.Duration // of the timeline
}

// StoreCounts answers `query --store --count`, `--top FIELD` or
// `--timeline` with the store's stats and writes it to w, as the files'
// answer is written, with the number of requests matched. ok is false when
// it was not asked for one of them, or (with a line on warn) when the
// store cannot count exactly: the answer must then be read whole.
func StoreCounts(ctx context.Context, sp *StoreSpec, ask StoreAsk, w io.Writer, warn func(string)) (n int, ok bool, err error) {
	top := ask.Top
	if ask.Timeline {
		return storeTimeline(ctx, sp, ask.Step, w, warn)
	}
	if !ask.Count && top == "" {
		return 0, false, nil
	}
	// What the store lost and clusters mixing are said once: here when the
	// store counts, by the whole answer's reading when it cannot.
	var said []string
	c, err := sp.Stats(ctx, false, filter.TopStoreFields(top), func(s string) { said = append(said, s) })
	tell := func() {
		for _, s := range said {
			warn(s)
		}
	}
	if err != nil {
		tell()
		return 0, false, err
	}
	if c.Why == "" && top != "" && filter.TopStoreFields(top) == nil {
		c.Why = "the store cannot group requests by " + top
	}
	if c.Why != "" {
		if c.Why != noChecks && c.Why != noLines { // the reading says why itself
			warn("counting from the store's whole answer, downloaded: " + render.Sanitize(c.Why))
		}
		return 0, false, nil
	}
	if top == "" {
		count, err := c.Count(ctx)
		tell()
		if err == nil {
			_, err = fmt.Fprintln(w, count)
		}
		return int(count), err == nil, err
	}
	counts, total, err := c.Top(ctx, top)
	if inexact, is := err.(errInexact); is {
		warn("counting from the store's whole answer, downloaded: " + inexact.why)
		return 0, false, nil
	}
	tell()
	if err != nil {
		return 0, false, err
	}
	var b strings.Builder
	for _, l := range render.TopText(counts, total) {
		b.WriteString(l + "\n")
	}
	_, err = io.WriteString(w, b.String())
	return total, err == nil, err
}
