package source

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/gjson"
)

// StoreOptions name a VictoriaLogs store (single node, or the front node of
// a cluster) and the part of it to read. The store holds audit event lines
// as shipped by the collector config of `kauditui setup --ship-to`: the
// original line as _msg, its fields beside it, cluster and node as stream
// fields.
type StoreOptions struct {
	// URL is http(s)://[user:password@]host:port[/path prefix]. AccountID
	// and ProjectID query arguments in it name the tenant, as the flags do.
	URL       string
	AccountID string
	ProjectID string
	Cluster   []string // values of the cluster stream field; none: all
	Node      []string // values of the node stream field; none: all
	// CAFile is a PEM file of the certificate authorities an https store's
	// certificate may be signed by, besides the system's.
	CAFile string
	// Password is the basic-auth password of the URL's user, when it is
	// not in the URL (where ps and shell history show it).
	Password string
	// Token is a bearer token (vmauth in front of the store), instead of a
	// user and password.
	Token string
	// Timeout bounds each answer, from asking to its last line (each page
	// of a Paged answer; not Tail): a store that sends its headers and then
	// trickles, or nothing, is given up on. 0: DefaultStoreTimeout.
	Timeout time.Duration
	Client  *http.Client
}

// DefaultStoreTimeout is StoreOptions.Timeout when none is given: each
// answer is asked to end within the store's own limit for a query
// (-search.maxQueryDuration, 30 s by default), and pages are sized for it.
const DefaultStoreTimeout = 5 * time.Minute

// Store is a VictoriaLogs store to query.
type Store struct {
	base    *url.URL // without user info and tenant arguments
	user    *url.Userinfo
	token   string
	account string
	project string
	streams string
	client  *http.Client
	display string
	timeout time.Duration
}

// OpenStore checks the options; it does not contact the store.
func OpenStore(o StoreOptions) (*Store, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--store %q is not a URL: give http://host:9428 (the VictoriaLogs address, a front node in cluster mode)", o.URL)
	}
	s := &Store{user: u.User, client: o.Client, account: o.AccountID, project: o.ProjectID, token: o.Token, timeout: o.Timeout}
	if s.timeout <= 0 {
		s.timeout = DefaultStoreTimeout
	}
	switch {
	case o.Password != "" && u.User == nil:
		return nil, fmt.Errorf("a store password was given (KAUDITUI_STORE_PASSWORD) but --store names no user: give http://USER@host:9428")
	case o.Password != "":
		s.user = url.UserPassword(u.User.Username(), o.Password)
	}
	if s.token != "" && s.user != nil {
		return nil, fmt.Errorf("--store has a user and a bearer token (KAUDITUI_STORE_TOKEN) was given too: use one")
	}
	var tlsConfig *tls.Config
	if o.CAFile != "" {
		pool, err := caPool(o.CAFile)
		if err != nil {
			return nil, err
		}
		tlsConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	q := u.Query()
	for _, k := range []string{"AccountID", "accountID", "account"} {
		if v := q.Get(k); v != "" && s.account == "" {
			s.account = v
		}
		q.Del(k)
	}
	for _, k := range []string{"ProjectID", "projectID", "project"} {
		if v := q.Get(k); v != "" && s.project == "" {
			s.project = v
		}
		q.Del(k)
	}
	for name, v := range map[string]string{"--account": s.account, "--project": s.project} {
		if v == "" {
			continue
		}
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return nil, fmt.Errorf("%s %q is not a tenant number: VictoriaLogs tenants are numbers (0 to 4294967295)", name, v)
		}
	}
	u.User = nil
	u.RawQuery = q.Encode()
	u.Path = strings.TrimSuffix(u.Path, "/")
	s.base = u
	s.display = u.Redacted()
	if s.client == nil {
		s.client = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			TLSClientConfig:     tlsConfig,
			DisableKeepAlives:   true, // one query a run: no idle connection left behind
		}}
	}
	s.streams = streamFilter(o.Cluster, o.Node)
	return s, nil
}

// caPool is the system's certificate authorities and those of a PEM file.
func caPool(name string) (*x509.CertPool, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("--store-ca: %v", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("--store-ca %s: %v", name, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--store-ca %s: no PEM certificate in it (give the CA's certificate, -----BEGIN CERTIFICATE-----)", name)
	}
	return pool, nil
}

// Name is the store's address without credentials, for messages.
func (s *Store) Name() string { return s.display }

// Streams is the LogsQL stream filter for --cluster and --node, or "".
func (s *Store) Streams() string { return s.streams }

func streamFilter(clusters, nodes []string) string {
	var parts []string
	for _, f := range []struct {
		name string
		vals []string
	}{{"cluster", clusters}, {"node", nodes}} {
		switch len(f.vals) {
		case 0:
		case 1:
			parts = append(parts, f.name+"="+strconv.Quote(f.vals[0]))
		default:
			q := make([]string, len(f.vals))
			for i, v := range f.vals {
				q[i] = strconv.Quote(v)
			}
			parts = append(parts, f.name+" in("+strings.Join(q, ",")+")")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Lines runs a LogsQL query that ends in `| fields _msg` and returns its
// answer as the audit event lines themselves, one a line, ready for Open's
// standard input. Errors are one line naming the store and what to do.
func (s *Store) Lines(ctx context.Context, query string) (*StoreLines, error) {
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {query}})
	if err != nil {
		return nil, err
	}
	sl := &StoreLines{store: s, body: resp.Body, start: time.Now(), queries: 1}
	sl.counted = &storeCounter{r: resp.Body, n: &sl.bytes}
	sl.br = bufio.NewReaderSize(sl.counted, 1<<20)
	return sl, nil
}

// Paged is Lines for filter (a query without pipes) followed by pipes, in
// windows of time of about pageEvents events each, asked for one after
// another: a big answer is read in parts that each end well within the
// store's time limit for a query (-search.maxQueryDuration, 30 s by
// default), which counts while kauditui reads. It costs one count first.
func (s *Store) Paged(ctx context.Context, filter, pipes string, pageEvents int64) (*StoreLines, error) {
	// one count per cluster: the pages, and whether the answer mixes clusters
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {filter + " | stats by (cluster) count() as n, min(_time) as lo, max(_time) as hi"}})
	if err != nil {
		return nil, err
	}
	var n int64
	var lo, hi time.Time
	var errLo, errHi error
	clusters := map[string]int64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for sc.Scan() {
		r := gjson.ParseBytes(sc.Bytes())
		c := r.Get("n").Int()
		clusters[r.Get("cluster").String()] += c
		n += c
		l, err := time.Parse(time.RFC3339Nano, r.Get("lo").String())
		if err != nil {
			errLo = err
		} else if lo.IsZero() || l.Before(lo) {
			lo = l
		}
		h, err := time.Parse(time.RFC3339Nano, r.Get("hi").String())
		if err != nil {
			errHi = err
		} else if h.After(hi) {
			hi = h
		}
	}
	resp.Body.Close()
	if err := sc.Err(); err != nil {
		return nil, s.broken(err)
	}
	if n <= pageEvents || pageEvents <= 0 || errLo != nil || errHi != nil || !hi.After(lo) {
		sl, err := s.Lines(ctx, filter+pipes)
		if sl != nil {
			sl.clusters = clusters
		}
		return sl, err
	}
	pages := int((n + pageEvents - 1) / pageEvents)
	step := max(hi.Sub(lo)/time.Duration(pages), time.Microsecond)
	var queries []string
	for from := lo; !from.After(hi); from = from.Add(step) {
		window := "_time:[" + from.UTC().Format(time.RFC3339Nano) + ", " + from.Add(step).UTC().Format(time.RFC3339Nano) + ")"
		queries = append(queries, filter+" "+window+pipes)
	}
	sl, err := s.Lines(ctx, queries[0])
	if err != nil {
		return nil, err
	}
	sl.ctx, sl.pages, sl.clusters = ctx, queries[1:], clusters
	return sl, nil
}

// Tail follows the store through /select/logsql/tail: the events filters
// (a query without pipes) selects as they arrive, from offset before now on,
// as Lines gives them. The answer never ends by itself.
func (s *Store) Tail(ctx context.Context, filters string, offset time.Duration) (*StoreLines, error) {
	form := url.Values{"query": {filters}}
	if offset > 0 {
		form.Set("start_offset", strconv.FormatInt(offset.Milliseconds(), 10)+"ms")
	}
	resp, err := s.post(ctx, "/select/logsql/tail", form)
	if err != nil {
		return nil, err
	}
	sl := &StoreLines{store: s, body: resp.Body, start: time.Now()}
	sl.counted = &storeCounter{r: resp.Body, n: &sl.bytes}
	sl.br = bufio.NewReaderSize(sl.counted, 1<<20)
	return sl, nil
}

// Count counts the events that filters (a query without pipes) select,
// in the store, without downloading them.
func (s *Store) Count(ctx context.Context, filters string) (int64, error) {
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {filters + " | stats count() as n"}})
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return 0, s.broken(err)
	}
	n, err := strconv.ParseInt(gjson.GetBytes(b, "n").String(), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store %s: the count came back as %q, not a number", s.display, clean(b, 80))
	}
	return n, nil
}

// KeepsLines reports whether every event that filters (a query without
// pipes) selects keeps its original line as _msg, as the shipped collector
// config stores it. A store fed otherwise (Vector, Fluent Bit,
// /insert/jsonline with another _msg_field) keeps only the event's fields,
// flattened: its events are then asked for whole (FieldPipes) and rebuilt.
// It stops at the first event without its line.
func (s *Store) KeepsLines(ctx context.Context, filters string) (bool, error) {
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {filters + ` -_msg:="{"* | limit 1 | fields _time`}})
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return false, s.broken(err)
	}
	return len(bytes.TrimSpace(b)) == 0, nil
}

// NotEvents is, for streams (a stream filter, or ""), the field names of
// one of the logs they hold when none of them is an audit event kauditui
// can select (no top-level kind field of Event: the event's fields nested
// under another name, or not parsed at all), and "" when they hold an audit
// event or nothing.
func (s *Store) NotEvents(ctx context.Context, streams string) (string, error) {
	first := func(query string) ([]byte, error) {
		resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {query}})
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		if err != nil {
			return nil, s.broken(err)
		}
		return bytes.TrimSpace(b), nil
	}
	scope := streams
	if scope == "" {
		scope = "*"
	}
	if b, err := first(scope + " kind:=Event | limit 1 | fields _time"); err != nil || len(b) > 0 {
		return "", err
	}
	b, err := first(scope + " | limit 1 | delete _stream, _stream_id, _time")
	if err != nil || len(b) == 0 {
		return "", err
	}
	var names []string
	gjson.ParseBytes(b).ForEach(func(k, _ gjson.Result) bool {
		names = append(names, k.String())
		return len(names) < 12
	})
	return clean([]byte(strings.Join(names, ", ")), 240), nil
}

// FieldPipes end a query of events kept as fields: in time order, every
// field but the store's own and the bodies, which RebuildEvent leaves out.
const FieldPipes = " | sort by (_time) | delete _stream, _stream_id, requestObject.*, responseObject.*"

// Losses are what the store's own counters (/metrics) say it did not keep
// of what it was sent, since it started, all tenants and streams together.
type Losses struct {
	TooLong int64            // lines over -insert.maxLineSizeBytes, skipped (vl_too_long_lines_skipped_total)
	Dropped map[string]int64 // rows dropped, by reason (vl_rows_dropped_total)
}

// Lost reads the store's counters of what it did not keep. A store that
// does not show /metrics (a proxy in front of it) gives an error.
func (s *Store) Lost(ctx context.Context) (Losses, error) {
	l := Losses{Dropped: map[string]int64{}}
	resp, err := s.do(ctx, http.MethodGet, "/metrics", nil)
	if err != nil {
		return l, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil || n <= 0 {
			continue
		}
		switch {
		case name == "vl_too_long_lines_skipped_total":
			l.TooLong += int64(n)
		case strings.HasPrefix(name, `vl_rows_dropped_total{reason="`) && strings.HasSuffix(name, `"}`):
			reason := strings.TrimSuffix(strings.TrimPrefix(name, `vl_rows_dropped_total{reason="`), `"}`)
			if reason != "debug" { // rows sent with debug=1 are dropped on purpose
				l.Dropped[reason] += int64(n)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return l, s.broken(err)
	}
	return l, nil
}

// Advice names the store's flags that keep what was lost, or "".
func (l Losses) Advice() string {
	var parts []string
	if l.TooLong > 0 {
		parts = append(parts, "raise -insert.maxLineSizeBytes (up to 2MiB, its entry limit)")
	}
	for _, f := range []struct{ reason, advice string }{
		{"too_many_fields", "raise -insert.maxFieldsPerLine"},
		{"too_small_timestamp", "lengthen -retentionPeriod (older events are dropped)"},
		{"too_big_timestamp", "check the clocks, or -futureRetention"},
	} {
		if l.Dropped[f.reason] > 0 {
			parts = append(parts, f.advice)
		}
	}
	return strings.Join(parts, ", ")
}

// String says what was lost in a few words, or "" when nothing was.
func (l Losses) String() string {
	var parts []string
	if l.TooLong > 0 {
		parts = append(parts, fmt.Sprintf("skipped %d lines over its -insert.maxLineSizeBytes", l.TooLong))
	}
	for _, r := range slices.Sorted(maps.Keys(l.Dropped)) {
		parts = append(parts, fmt.Sprintf("dropped %d rows (%s)", l.Dropped[r], clean([]byte(r), 40)))
	}
	return strings.Join(parts, " and ")
}

// Clusters counts the events filters selects by the cluster stream field
// ("" for events shipped without one).
func (s *Store) Clusters(ctx context.Context, filters string) (map[string]int64, error) {
	resp, err := s.post(ctx, "/select/logsql/query", url.Values{"query": {filters + " | stats by (cluster) count() as n"}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 1<<20))
	for sc.Scan() {
		r := gjson.ParseBytes(sc.Bytes())
		n, err := strconv.ParseInt(r.Get("n").String(), 10, 64)
		if err != nil {
			continue
		}
		out[r.Get("cluster").String()] += n
	}
	if err := sc.Err(); err != nil {
		return nil, s.broken(err)
	}
	return out, nil
}

// post asks the store; every answer but a tail's must end within the
// store's timeout (its body then fails with a *TimeoutError).
func (s *Store) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	return s.do(ctx, http.MethodPost, path, form)
}

func (s *Store) do(ctx context.Context, method, path string, form url.Values) (*http.Response, error) {
	parent := ctx
	var cancel context.CancelFunc = func() {}
	var deadline time.Time
	if path != "/select/logsql/tail" {
		deadline = time.Now().Add(s.timeout)
		ctx, cancel = context.WithDeadline(ctx, deadline)
	}
	resp, err := s.request(ctx, method, path, form)
	if err != nil {
		cancel()
		if parent.Err() == nil && !deadline.IsZero() && !time.Now().Before(deadline) {
			return nil, &TimeoutError{store: s.display, timeout: s.timeout}
		}
		return nil, err
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, cancel: cancel, deadline: deadline, parent: parent, s: s}
	return resp, nil
}

// TimeoutError is an answer that did not end within the store's timeout.
type TimeoutError struct {
	store   string
	timeout time.Duration
	events  int64 // read before it, when known
}

func (e *TimeoutError) Error() string {
	sent := ""
	if e.events > 0 {
		sent = fmt.Sprintf(" (it had sent %d events)", e.events)
	}
	return fmt.Sprintf("the store at %s did not finish its answer within %s%s: it is overloaded, or what answers there is not VictoriaLogs; give it longer with --store-timeout, or narrow the query with -q, --cluster, --node or since=", e.store, e.timeout, sent)
}

// timedBody is an answer's body that fails with a *TimeoutError once the
// deadline of its request has passed.
type timedBody struct {
	io.ReadCloser
	cancel   context.CancelFunc
	deadline time.Time
	parent   context.Context
	s        *Store
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.parent.Err() == nil && !b.deadline.IsZero() && !time.Now().Before(b.deadline) {
		err = &TimeoutError{store: b.s.display, timeout: b.s.timeout}
	}
	return n, err
}

func (b *timedBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (s *Store) request(ctx context.Context, method, path string, form url.Values) (*http.Response, error) {
	u := *s.base
	u.Path += path
	var reqBody io.Reader
	if method == http.MethodPost {
		reqBody = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return nil, fmt.Errorf("store %s: %v", s.display, err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if s.user != nil {
		pw, _ := s.user.Password()
		req.SetBasicAuth(s.user.Username(), pw)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if s.account != "" {
		req.Header.Set("AccountID", s.account)
	}
	if s.project != "" {
		req.Header.Set("ProjectID", s.project)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var unknownCA x509.UnknownAuthorityError
		var hostname x509.HostnameError
		switch {
		case errors.As(err, &unknownCA):
			return nil, fmt.Errorf("the store at %s has a certificate signed by an authority this machine does not trust: give that authority's certificate with --store-ca FILE", s.display)
		case errors.As(err, &hostname):
			return nil, fmt.Errorf("the store's certificate is not for %s (%s): give --store the name the certificate is for", s.base.Host, clean([]byte(hostname.Error()), 200))
		}
		return nil, fmt.Errorf("cannot reach the store at %s (%s): is VictoriaLogs listening there? check --store", s.display, netReason(err))
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	msg := clean(body, 300)
	whole := clean(body, len(body)) // the storage node comes after the query it quotes, however long
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("the store at %s refused the query (%s): give its user in the URL (http://user@host:9428) and the password in KAUDITUI_STORE_PASSWORD (or a bearer token in KAUDITUI_STORE_TOKEN), and check --account/--project", s.display, resp.Status)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("the store at %s has no %s (%s): is it VictoriaLogs? give its address, with any path prefix of a proxy in front of it", s.display, path, resp.Status)
	case strings.Contains(whole, "vlstorage") || strings.Contains(whole, "storage node") || strings.Contains(whole, "storageNode"):
		return nil, fmt.Errorf("the store at %s could not read all of its storage nodes, so it gave no answer rather than a partial one that could leave a request out (%s); try again when they are all up", s.display, storageNodeProblem(body))
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		return nil, fmt.Errorf("the store at %s refused the query: %s (narrow it with -q, --cluster, --node or since=)", s.display, msg)
	}
	return nil, fmt.Errorf("the store at %s failed (%s): %s", s.display, resp.Status, msg)
}

var storageNodeAt = regexp.MustCompile(`storage node at "(?:https?://)?([^/"]+)`)

// storageNodeProblem shortens VictoriaLogs' error about a storage node (it
// quotes the whole query first) to the node and the last reason given.
func storageNodeProblem(body []byte) string {
	text := clean(body, 2000)
	reason := text
	if i := strings.LastIndex(text, ": "); i >= 0 {
		reason = text[i+2:]
	}
	if m := storageNodeAt.FindStringSubmatch(text); m != nil {
		return "storage node " + m[1] + ": " + clean([]byte(reason), 120)
	}
	return clean([]byte(text), 300)
}

// StoreLines is the answer of a query as audit event lines.
type StoreLines struct {
	store   *Store
	body    io.ReadCloser
	counted *storeCounter
	br      *bufio.Reader
	line    []byte // the answer line being read (bounded by maxStoreLine)
	pending []byte
	bytes   atomic.Int64
	events  atomic.Int64
	noMsg   atomic.Int64
	rebuilt atomic.Int64 // events rebuilt from their fields
	tooLong atomic.Int64 // answer lines over maxStoreLine, skipped
	start   time.Time
	err     error // io.EOF once the answer ended, however
	failed  error // why it ended early, or nil

	ctx     context.Context // of a Paged answer
	pages   []string        // the queries of the windows still to read
	mu      sync.Mutex      // body and closed, for Close from another goroutine
	closed  bool
	queries int // answers asked for so far (the pages of a Paged answer)

	// clusters counts the events of a Paged answer by cluster (from the
	// count it asks first); nil for Lines.
	clusters map[string]int64
}

// maxStoreLine is the longest answer line read. VictoriaLogs keeps no entry
// over 2 MB (the sum of its fields' names and values), which its JSON answer
// spells in at most six times that (every byte escaped as \u00XX): a
// longer line is not an event the store kept, and is skipped unread.
var maxStoreLine = 16 << 20

// Clusters is how many events of a Paged answer each cluster has ("" for
// events without a cluster field); nil when the answer did not count them.
func (sl *StoreLines) Clusters() map[string]int64 { return sl.clusters }

// Queries is how many answers were asked for: more than one for the pages
// of a big Paged answer. Call it once reading is done.
func (l *StoreLines) Queries() int { return l.queries }

// Read gives each event of the answer as its audit event line, followed by
// a newline: the original line (_msg), or, for a store that kept only the
// event's fields (the answer then carries them), the event rebuilt from
// them (RebuildEvent). Once the answer broke off, Read returns io.EOF and
// Err says why.
func (l *StoreLines) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		raw, err := l.readLine()
		line := bytes.TrimSpace(raw)
		if len(line) > 0 && (err == nil || err == io.EOF) {
			switch {
			case line[0] != '{':
				// The store writes its error as text once the answer has started.
				l.fail("it wrote: " + clean(line, 200))
				continue
			case !gjson.ValidBytes(line):
				l.fail("an event line was cut short")
				continue
			}
			msg := gjson.GetBytes(line, "_msg")
			switch {
			case msg.Type == gjson.String && strings.HasPrefix(strings.TrimSpace(msg.Str), "{"):
				l.pending = append(l.pending[:0], msg.Str...)
				l.pending = append(l.pending, '\n')
				l.events.Add(1)
			case onlyMsg(line):
				// asked for _msg alone, and it is not the line
				l.noMsg.Add(1)
			default:
				ev, missing := RebuildEvent(l.pending[:0], line)
				if len(missing) > 0 {
					l.refuse(missing, msg.String())
					continue
				}
				l.pending = append(ev, '\n')
				l.events.Add(1)
				l.rebuilt.Add(1)
			}
		}
		if l.err == nil && err == io.EOF && len(l.pages) > 0 {
			l.nextPage()
		} else if l.err == nil && err == io.EOF {
			l.err = io.EOF
		} else if l.err == nil && err != nil {
			var te *TimeoutError
			if errors.As(err, &te) {
				te.events = l.events.Load()
				l.failed, l.err = te, io.EOF
				continue
			}
			l.fail(netReason(err))
		}
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// readLine reads the next answer line, holding at most maxStoreLine bytes
// of it: a longer line is read to its end, counted and skipped (an empty
// line is returned for it).
func (l *StoreLines) readLine() ([]byte, error) {
	l.line = l.line[:0]
	over := false
	for {
		frag, err := l.br.ReadSlice('\n')
		if !over && len(l.line)+len(frag) > maxStoreLine {
			over = true
			l.line = l.line[:0]
		}
		if !over {
			l.line = append(l.line, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if over {
			l.tooLong.Add(1)
			if err == io.EOF {
				return nil, errCutLong // the answer ended inside it
			}
		}
		return l.line, err
	}
}

// errCutLong is an answer that ended inside a line over maxStoreLine.
var errCutLong = errors.New("it ended inside a line longer than any event")

// onlyMsg reports whether an answer line has no field but _msg.
func onlyMsg(line []byte) bool {
	only := true
	gjson.ParseBytes(line).ForEach(func(k, _ gjson.Result) bool {
		only = k.Str == "_msg"
		return only
	})
	return only
}

// nextPage asks for the next window of a Paged answer.
func (l *StoreLines) nextPage() {
	q := l.pages[0]
	l.pages = l.pages[1:]
	resp, err := l.store.post(l.ctx, "/select/logsql/query", url.Values{"query": {q}})
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		if err == nil {
			resp.Body.Close()
		}
		l.err = io.EOF
	case err != nil:
		l.fail(err.Error())
	default:
		l.queries++
		l.body.Close()
		l.body = resp.Body
		l.counted = &storeCounter{r: resp.Body, n: &l.bytes}
		l.br.Reset(l.counted)
	}
}

// refuse ends the answer: its events keep neither their line nor the
// fields an event needs, so none of them can be read.
func (l *StoreLines) refuse(missing []string, msg string) {
	l.failed = &RebuildError{store: l.store.display, msg: clean([]byte(msg), 60), missing: missing}
	l.err = io.EOF
}

// RebuildError is a store whose events keep neither their line nor the
// fields a request is told by.
type RebuildError struct {
	store, msg string
	missing    []string
}

func (e *RebuildError) Error() string {
	return fmt.Sprintf("the store at %s keeps audit events without their original line (_msg is %q) and without the field %s, so kauditui cannot rebuild them: ship the line as _msg (the collector config of `kauditui setup --ship-to` does), or keep every field of the event", e.store, e.msg, strings.Join(e.missing, " or "))
}

// fail ends the answer early: the loader sees its end (the lines read
// stay), Err says why.
func (l *StoreLines) fail(why string) {
	l.failed = fmt.Errorf("partial result: the answer of the store at %s broke off after %d events (%s): a storage node stopped, or the query ran into the store's time limit (-search.maxQueryDuration); narrow it with -q, --cluster, --node or since=", l.store.display, l.events.Load(), why)
	l.err = io.EOF
}

// Err is why the answer ended early, or nil once it was read whole.
func (l *StoreLines) Err() error { return l.failed }

// Close ends the answer; it may be called while another goroutine reads.
func (l *StoreLines) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	return l.body.Close()
}

// Stats are what the answer cost: events read, bytes transferred (as sent,
// compressed or not), events without the original line, time since the query.
func (l *StoreLines) Stats() (events, bytes, noMsg int64, took time.Duration) {
	return l.events.Load(), l.bytes.Load(), l.noMsg.Load(), time.Since(l.start)
}

// Rebuilt is how many events were rebuilt from their fields (RebuildEvent),
// the store having kept no original line for them.
func (l *StoreLines) Rebuilt() int64 { return l.rebuilt.Load() }

// TooLong is how many answer lines were over the longest an event can be
// (skipped unread).
func (l *StoreLines) TooLong() int64 { return l.tooLong.Load() }

func (s *Store) broken(err error) error {
	var te *TimeoutError
	if errors.As(err, &te) {
		return te
	}
	return fmt.Errorf("partial result: the answer of the store at %s broke off (%s)", s.display, netReason(err))
}

type storeCounter struct {
	r io.Reader
	n *atomic.Int64
}

func (c *storeCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// netReason is the last, most specific part of a network error.
func netReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	return clean([]byte(s), 200)
}

// clean makes text from the store one short printable line: it is shown on
// a terminal, and a store (or whatever answers at that address) is not
// trusted to send only text.
func clean(b []byte, max int) string {
	b = bytes.TrimSpace(b)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	var out strings.Builder
	for _, r := range string(b) {
		if out.Len() >= max {
			out.WriteString("...")
			break
		}
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\uFFFD' {
			r = '?'
		}
		out.WriteRune(r)
	}
	return out.String()
}

// AppendStoreLine appends line (one audit event, JSON) to dst in the form
// VictoriaLogs' /insert/jsonline takes and the shipped collector config
// produces through OTLP: the original line as _msg, then its own fields but
// the request and response bodies (the store flattens them; the bodies stay
// in _msg, and flattened they would double the entry's size and may pass the
// store's limits on fields), then cluster and node. ok is false, and dst
// unchanged, when line is not a JSON object.
func AppendStoreLine(dst, line []byte, cluster, node string) (out []byte, ok bool) {
	line = bytes.TrimSpace(line)
	if len(line) < 2 || line[0] != '{' || !gjson.ValidBytes(line) {
		return dst, false
	}
	dst = append(dst, `{"_msg":`...)
	dst = appendJSONString(dst, line)
	dst = append(dst, `,"cluster":`...)
	dst = appendJSONString(dst, []byte(cluster))
	dst = append(dst, `,"node":`...)
	dst = appendJSONString(dst, []byte(node))
	gjson.ParseBytes(line).ForEach(func(k, v gjson.Result) bool {
		if k.Str == "requestObject" || k.Str == "responseObject" {
			return true
		}
		dst = append(dst, ',')
		dst = append(dst, k.Raw...)
		dst = append(dst, ':')
		dst = append(dst, v.Raw...)
		return true
	})
	return append(dst, '}', '\n'), true
}

func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// The fields of an audit.k8s.io/v1 Event as VictoriaLogs keeps them when it
// is given the event's JSON without the line itself as _msg (Vector, Fluent
// Bit, /insert/jsonline with another _msg_field): nested objects flattened
// with dots (user.username, objectRef.resource, and a map's keys whole:
// annotations.authorization.k8s.io/decision, user.extra.authentication.kubernetes.io/credential-id),
// arrays as their JSON text, numbers as text, empty values and empty
// objects dropped.
var (
	// eventOrder is the order kube-apiserver writes an event's fields in.
	eventOrder = []string{"kind", "apiVersion", "level", "auditID", "stage", "requestURI", "verb", "user", "impersonatedUser",
		"sourceIPs", "userAgent", "objectRef", "responseStatus", "requestReceivedTimestamp", "stageTimestamp", "annotations", "authenticationMetadata"}
	// eventMaps are objects whose keys may hold dots: everything after the
	// prefix is one key (user.extra.<key> too).
	eventMaps = map[string]bool{"annotations": true, "objectRef": true, "authenticationMetadata": true, "user": true, "impersonatedUser": true}
	// eventArrays hold arrays (kept as JSON text).
	eventArrays = map[string]bool{"sourceIPs": true, "user.groups": true, "impersonatedUser.groups": true, "responseStatus.details.causes": true}
	// eventNumbers hold numbers (kept as text).
	eventNumbers = map[string]bool{"responseStatus.code": true, "responseStatus.details.retryAfterSeconds": true, "responseStatus.metadata.remainingItemCount": true}
	// eventNeeds are the fields without which no request can be told.
	eventNeeds = []string{"auditID", "stage", "verb", "requestURI"}
)

// RebuildEvent appends to dst the audit event that line (one answer line of
// the store: every field of an event, flattened) holds, as kube-apiserver
// would have written it, so the loader reads it as it reads a log. The
// request and response bodies are left out: flattened, a key with dots in it
// (a label such as app.kubernetes.io/name) cannot be told from nesting, nor
// a number from text, and a wrong body is worse than none. The stage time
// that the store took as its _time comes back from _time. missing names the
// fields an event cannot be read without, when the line lacks them (dst is
// then unchanged).
func RebuildEvent(dst, line []byte) (out []byte, missing []string) {
	top := map[string]string{}
	sub := map[string]map[string]string{} // eventMaps and responseStatus, by prefix
	var other []string                    // unknown fields, flat
	var at string
	gjson.ParseBytes(line).ForEach(func(k, v gjson.Result) bool {
		name, val := k.String(), v.String()
		if name == "_time" {
			at = val
		}
		if strings.HasPrefix(name, "_") || val == "" {
			return true
		}
		head, rest, dotted := strings.Cut(name, ".")
		switch {
		case head == "requestObject" || head == "responseObject":
		case dotted && (eventMaps[head] || head == "responseStatus"):
			if sub[head] == nil {
				sub[head] = map[string]string{}
			}
			sub[head][rest] = val
		case !dotted && slices.Contains(eventOrder, name):
			top[name] = val
		default:
			top[name] = val
			other = append(other, name)
		}
		return true
	})
	for _, need := range eventNeeds {
		if top[need] == "" {
			missing = append(missing, need)
		}
	}
	// _time is the time field the store was given: it took that field's place.
	switch recv, stage := top["requestReceivedTimestamp"], top["stageTimestamp"]; {
	case recv == "" && stage == "":
		missing = append(missing, "stageTimestamp")
	case recv == "" && at != "":
		top["requestReceivedTimestamp"] = kubeTime(at)
	case stage == "" && at != "":
		top["stageTimestamp"] = kubeTime(at)
	}
	if len(missing) > 0 {
		return dst, missing
	}
	dst = append(dst, '{')
	first := true
	key := func(k string) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendJSONString(dst, []byte(k))
		dst = append(dst, ':')
	}
	for _, name := range eventOrder {
		if m := sub[name]; m != nil {
			key(name)
			dst = appendObject(dst, name, m)
			continue
		}
		if v, ok := top[name]; ok {
			key(name)
			dst = appendValue(dst, name, v)
		}
	}
	slices.Sort(other)
	for _, name := range other {
		key(name)
		dst = appendJSONString(dst, []byte(top[name]))
	}
	return append(dst, '}'), nil
}

// appendObject writes the object prefix (flattened as m: the rest of each
// field's name, its value). A map's keys are whole (user.extra.<key> is a
// map too); responseStatus (a metav1.Status, whose keys have no dots) nests
// by dots.
func appendObject(dst []byte, prefix string, m map[string]string) []byte {
	flat := map[string]string{}
	nested := map[string]map[string]string{}
	for k, v := range m {
		head, rest, ok := strings.Cut(k, ".")
		switch {
		case ok && prefix == "responseStatus" || ok && strings.HasPrefix(prefix, "responseStatus."):
		case ok && head == "extra" && (prefix == "user" || prefix == "impersonatedUser"):
		default:
			flat[k] = v
			continue
		}
		if nested[head] == nil {
			nested[head] = map[string]string{}
		}
		nested[head][rest] = v
	}
	dst = append(dst, '{')
	sep := func(k string) {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, []byte(k))
		dst = append(dst, ':')
	}
	for _, k := range slices.Sorted(maps.Keys(flat)) {
		sep(k)
		dst = appendValue(dst, prefix+"."+k, flat[k])
	}
	for _, h := range slices.Sorted(maps.Keys(nested)) {
		sep(h)
		if h == "extra" && !strings.HasPrefix(prefix, "responseStatus") {
			dst = append(dst, '{')
			for _, k := range slices.Sorted(maps.Keys(nested[h])) {
				sep(k)
				dst = appendArray(dst, nested[h][k])
			}
			dst = append(dst, '}')
			continue
		}
		dst = appendObject(dst, prefix+"."+h, nested[h])
	}
	return append(dst, '}')
}

// appendValue writes the value of field name (its whole flattened name) as
// the event holds it: an array or a number where the event has one and the
// text is one, else a string.
func appendValue(dst []byte, name, v string) []byte {
	switch {
	case eventArrays[name]:
		return appendArray(dst, v)
	case eventNumbers[name]:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return strconv.AppendInt(dst, n, 10)
		}
	}
	return appendJSONString(dst, []byte(v))
}

func appendArray(dst []byte, v string) []byte {
	if strings.HasPrefix(v, "[") && gjson.Valid(v) {
		return append(dst, v...)
	}
	return appendJSONString(dst, []byte(v))
}

// kubeTime writes the store's _time as kube-apiserver writes its times
// (microseconds), or leaves it as it is.
func kubeTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Nanosecond()%1000 != 0 {
		return s
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000Z")
}

// ended reports whether the answer has ended, however, and all of it was
// read (Read, from the reading goroutine).
func (l *StoreLines) ended() bool { return l.err != nil && len(l.pending) == 0 }
