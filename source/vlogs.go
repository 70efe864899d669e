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
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
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
	Token  string
	Client *http.Client
}

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
}

// OpenStore checks the options; it does not contact the store.
func OpenStore(o StoreOptions) (*Store, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--store %q is not a URL: give http://host:9428 (the VictoriaLogs address, a front node in cluster mode)", o.URL)
	}
	s := &Store{user: u.User, client: o.Client, account: o.AccountID, project: o.ProjectID, token: o.Token}
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
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			ResponseHeaderTimeout: 5 * time.Minute, // a sorted answer is written when the scan ends
			TLSHandshakeTimeout:   10 * time.Second,
			TLSClientConfig:       tlsConfig,
			DisableKeepAlives:     true, // one query a run: no idle connection left behind
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

func (s *Store) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	u := *s.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("store %s: %v", s.display, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
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
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("the store at %s refused the query (%s): give its user in the URL (http://user@host:9428) and the password in KAUDITUI_STORE_PASSWORD (or a bearer token in KAUDITUI_STORE_TOKEN), and check --account/--project", s.display, resp.Status)
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("the store at %s has no %s (%s): is it VictoriaLogs? give its address, with any path prefix of a proxy in front of it", s.display, path, resp.Status)
	case strings.Contains(msg, "vlstorage") || strings.Contains(msg, "storage node") || strings.Contains(msg, "storageNode"):
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
	pending []byte
	bytes   atomic.Int64
	events  atomic.Int64
	noMsg   atomic.Int64
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

// Clusters is how many events of a Paged answer each cluster has ("" for
// events without a cluster field); nil when the answer did not count them.
func (sl *StoreLines) Clusters() map[string]int64 { return sl.clusters }

// Queries is how many answers were asked for: more than one for the pages
// of a big Paged answer. Call it once reading is done.
func (l *StoreLines) Queries() int { return l.queries }

// Read gives the _msg of each answer line, each followed by a newline.
func (l *StoreLines) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		raw, err := l.br.ReadBytes('\n')
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
			if !msg.Exists() {
				l.noMsg.Add(1)
			} else {
				l.pending = append(l.pending[:0], msg.String()...)
				l.pending = append(l.pending, '\n')
				l.events.Add(1)
			}
		}
		if l.err == nil && err == io.EOF && len(l.pages) > 0 {
			l.nextPage()
		} else if l.err == nil && err == io.EOF {
			l.err = io.EOF
		} else if l.err == nil && err != nil {
			l.fail(netReason(err))
		}
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
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

func (s *Store) broken(err error) error {
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
// produces through OTLP: the original line as _msg, then its own fields
// (the store flattens them), then cluster and node. ok is false, and dst
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
	if rest := bytes.TrimSpace(line[1:]); len(rest) > 0 && rest[0] != '}' {
		dst = append(dst, ',')
	}
	dst = append(dst, line[1:]...)
	return append(dst, '\n'), true
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
