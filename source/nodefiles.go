package source

// Other masters' audit files, read through the API server's proxy to each
// node's kubelet: GET /api/v1/nodes/<node>/proxy/logs/<path under /var/log>.
// The kubelet serves /var/log there with net/http's FileServer (when its
// system log handler is on, the default): a folder comes as an HTML list of
// links, a file honours Range requests. Nothing else is asked of the node.
//
// History: each node's folder is listed, and its rotated backups (lumberjack
// names, oldest first) and live file become inputs of the set named
// "NODE:/path", one family per node, so Load reads each node's files in order
// and merges the nodes (and any local file) by time. Their bytes come from
// HTTP bodies, so they are streams: kept in the spool like stdin's.
//
// Follow: the live file is followed by the tailer (tailer.go: how a rotated
// file is followed, the same rules as for local files); the node's folder is
// what it asks (nodeFile's tailDir methods): the folder listed for backups,
// the first bytes of a file asked for with `Range: bytes=0-1023`, and what
// the live file (or the backup it became) holds past the offset with
// `Range: bytes=<offset-len(tail)>-`, where tail is the last bytes read: they
// must come again, because each request names the file anew (a rotation
// between the tailer's look and the request would give another file's bytes
// there). A .gz is unpacked from its start.
//
// History: the live file is opened before the folder is listed again (as
// the tailer opens a new live file before listing backups): a rotation
// during a long history read leaves a backup the first listing did not
// have; it is read before the live file, in the same input, unless it is
// the very file that was opened (same first bytes), which was rotated after
// it was opened and is followed into its backup at the next poll.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kauditui/kauditui/audit"
)

// DefaultNodeLogPath is the audit log of kubeadm's documented setup (and
// of `kauditui setup`).
const DefaultNodeLogPath = "/var/log/kubernetes/audit/audit.log"

// ControlPlaneLabel is the label of control-plane nodes (kubeadm sets it).
const ControlPlaneLabel = "node-role.kubernetes.io/control-plane"

// NodeOptions says whose audit files Load reads through the API server's
// node proxy.
type NodeOptions struct {
	// Client is the API server; its REST client's HTTP client (TLS,
	// credentials) carries the proxy requests.
	Client kubernetes.Interface
	// Nodes names the nodes; empty: every node that Selector matches.
	Nodes []string
	// Selector picks the nodes when Nodes is empty (default
	// ControlPlaneLabel).
	Selector string
	// Path is the audit log on every node (default DefaultNodeLogPath). It
	// must be under /var/log, the folder the kubelet serves.
	Path string
	// State, when set, is told whenever the state of a node's file changes
	// (StreamState, Node set and Pod empty): streaming while it is read;
	// reconnecting (RetryIn: the next poll) or forbidden while reading it
	// fails; gone while the file (or the node) is not there; done once its
	// history is read without Follow, when following ends, or when the
	// node could not be read at the start (Err says why). Calls never
	// overlap.
	State func(StreamState)
}

// NodeLogRel checks an audit log path for the node proxy and returns it
// relative to /var/log.
func NodeLogRel(p string) (string, error) {
	if p == "" {
		p = DefaultNodeLogPath
	}
	c := path.Clean(p)
	rel, ok := strings.CutPrefix(c, "/var/log/")
	if !ok || rel == "" || strings.HasSuffix(p, "/") {
		return "", fmt.Errorf("%s: the kubelet serves only files under /var/log: give the path of the audit log file there (default %s)", p, DefaultNodeLogPath)
	}
	return rel, nil
}

// nodeHeadKeep bounds the first line of a file kept to tell it from others
// when the live file is first read (history).
const nodeHeadKeep = 64 << 10

// nodeGoneQuiet is how long a live file may be missing before it is said
// (lumberjack renames it, then makes the new one).
const nodeGoneQuiet = 2 * time.Second

// nodeHeaderTimeout bounds the wait for an answer's headers (not its body).
const nodeHeaderTimeout = 30 * time.Second

// nodeSet is the node files of one Load.
type nodeSet struct {
	set      *Set
	api      *nodeAPI
	st       *audit.Store
	files    []*nodeFile
	wg       sync.WaitGroup
	state    func(StreamState) // NodeOptions.State (may be nil)
	followed int               // files being followed
	mu       sync.Mutex        // serialises state
}

// nodeFile is one node's audit log: its backups and the live file. It is
// the folder its tailer follows the live file in (tailDir).
type nodeFile struct {
	ns     *nodeSet
	node   string
	dir    string // the folder, relative to /var/log, ending in /
	base   string // the live file's name
	family string
	t      *tailer              // follows the live file (its reader once following)
	in     *input               // the first live file's input
	lives  map[*input]*nodeLive // live files' inputs opened (the one read, the next)
	gone   time.Time            // since when polls find no live file
	state  StreamState          // last reported (nodeSet.report)
}

// nodeLive is the bytes of a live file's input and how much was read of the
// file.
type nodeLive struct {
	stream *nodeStream
	cur    *fileCursor
}

// nodeKind is other masters' audit files: listed when Load starts (each
// node's backups and live file are inputs of a family of its own), the
// live files followed by tailers of their own (nodeFile is their folder).
type nodeKind struct {
	noKind
	opt   NodeOptions
	alone bool // nothing else is read: a node that cannot be read is an error, not a warning
	ns    *nodeSet
}

// start lists the nodes' folders and adds their files as inputs. It fails
// only when no node can be read and nothing else is to be read; otherwise
// a node that cannot be read is named through Options.Warn.
func (k *nodeKind) start(ctx context.Context, s *Set) error {
	ns, err := s.newNodeSet(ctx, &k.opt)
	if err != nil {
		if k.alone {
			return err
		}
		s.warn(err.Error())
	}
	k.ns = ns
	return nil
}

func (k *nodeKind) describe() []string {
	if len(k.opt.Nodes) > 0 {
		return []string{"audit logs of " + strings.Join(k.opt.Nodes, ", ")}
	}
	return []string{"audit logs of the control-plane nodes"}
}

func (k *nodeKind) follow(ctx context.Context, st *audit.Store, live []*reader) []*reader {
	return k.ns.follow(ctx, st, live)
}

func (k *nodeKind) following() bool { return k.ns.following() }

// run returns when every follower has ended (after ctx ended).
func (k *nodeKind) run(context.Context, *Set, *audit.Store) error {
	k.ns.wait()
	return nil
}

func (s *Set) newNodeSet(ctx context.Context, opt *NodeOptions) (*nodeSet, error) {
	rel, err := NodeLogRel(opt.Path)
	if err != nil {
		return nil, err
	}
	api, err := newNodeAPI(opt.Client)
	if err != nil {
		return nil, err
	}
	names, err := nodeNames(ctx, opt)
	if err != nil {
		return nil, err
	}
	ns := &nodeSet{set: s, api: api, state: opt.State}
	dir, base := path.Split(rel)
	type listed struct {
		backups []string
		live    bool
		err     error
	}
	res := make([]listed, len(names))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res[i].backups, res[i].live, res[i].err = api.listLog(ctx, n, dir, base)
		}()
	}
	wg.Wait()
	var failed []error
	for i, n := range names {
		if res[i].err != nil {
			failed = append(failed, res[i].err)
			// not read, and not asked again: done, unless it was refused
			// or is not there
			st := StreamState{Node: n, State: streamStateOf(res[i].err), Err: podErrLine(res[i].err)}
			if st.State == StateReconnecting {
				st.State = StateDone
			}
			ns.report(nil, st)
			continue
		}
		f := &nodeFile{ns: ns, node: n, dir: dir, base: base, family: "node " + n + ":" + rel, lives: map[*input]*nodeLive{}}
		f.t = newTailer(s, nil, nil, f, base, nil, nil)
		for _, b := range res[i].backups {
			f.t.done[trimCompressed(b)] = true
			g := &nodeGet{ctx: ctx, api: api, node: n, rel: dir + b}
			s.addNodeInput(f.name(b), f.family, &nodeStream{parts: []nodePart{{r: g, c: g}}}, false)
		}
		if !res[i].live {
			s.warn(fmt.Sprintf("%s: not found; reading its %d rotated backups", f.name(base), len(res[i].backups)))
		}
		cur := &fileCursor{}
		stream := f.liveStream(ctx, cur)
		f.in, _ = s.addNodeInput(f.name(base), f.family, stream, true)
		f.lives[f.in] = &nodeLive{stream: stream, cur: cur}
		ns.files = append(ns.files, f)
	}
	if len(ns.files) == 0 {
		if len(failed) > 1 {
			for _, e := range failed[1:] {
				s.warn(e.Error())
			}
		}
		return nil, failed[0]
	}
	for _, e := range failed {
		s.warn(e.Error())
	}
	return ns, nil
}

// name is an input's name: the node and the file's path on it.
func (f *nodeFile) name(file string) string {
	return f.node + ":/var/log/" + f.dir + file
}

func (s *Set) addNodeInput(name, family string, ns *nodeStream, live bool) (*input, int32) {
	in := &input{Input: Input{Name: name}, family: family, live: live}
	in.openStream(ns)
	s.mu.Lock()
	s.inputs = append(s.inputs, in)
	idx := int32(len(s.inputs) - 1)
	s.mu.Unlock()
	return in, idx
}

// nodeNames are the nodes named, or those the selector picks.
func nodeNames(ctx context.Context, opt *NodeOptions) ([]string, error) {
	if len(opt.Nodes) > 0 {
		var out []string
		seen := map[string]bool{}
		for _, n := range opt.Nodes {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		return out, nil
	}
	sel := opt.Selector
	if sel == "" {
		sel = ControlPlaneLabel
	}
	list, err := opt.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		msg := podErrLine(err)
		switch {
		case apierrors.IsForbidden(err):
			return nil, fmt.Errorf("listing the nodes (-l %s): %s; --nodes needs list on nodes (docs/kauditui-reader.yaml), or name the nodes with --node", sel, msg)
		case apierrors.IsUnauthorized(err):
			return nil, fmt.Errorf("listing the nodes: %s; the API server did not accept the credentials: check the kubeconfig or log in again", msg)
		}
		return nil, fmt.Errorf("listing the nodes (-l %s): %s", sel, msg)
	}
	var out []string
	for _, n := range list.Items {
		out = append(out, n.Name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no node has the label %s: name the masters with --node", sel)
	}
	sort.Strings(out)
	return out, nil
}

// follow hands the live readers of node files to followers of their own and
// returns the other live readers.
func (ns *nodeSet) follow(ctx context.Context, st *audit.Store, live []*reader) []*reader {
	if ns == nil {
		return live
	}
	ns.st = st
	var rest []*reader
	followed := map[*nodeFile]bool{}
next:
	for _, r := range live {
		for _, f := range ns.files {
			if f.in == r.in {
				f.t.st = st
				f.t.start(r)
				followed[f] = true
				ns.followed++
				ns.wg.Add(1)
				go f.follow(ctx)
				continue next
			}
		}
		rest = append(rest, r)
	}
	for _, f := range ns.files {
		if !followed[f] { // its history is read (without Follow)
			f.done()
		}
	}
	return rest
}

// following says whether any node's file is being followed.
func (ns *nodeSet) following() bool { return ns != nil && ns.followed > 0 }

// report tells NodeOptions.State of a node's state when it changed (f nil:
// a node that has no nodeFile, not read at the start).
func (ns *nodeSet) report(f *nodeFile, st StreamState) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if f != nil {
		st.Node = f.node
		if st == f.state {
			return
		}
		f.state = st
	}
	if ns.state != nil {
		ns.state(st)
	}
}

// done: the file's history is read, or following it ended. A failure said
// before (Err) stays said.
func (f *nodeFile) done() {
	st := StreamState{State: StateDone}
	if f.state.State != StateStreaming {
		st.Err = f.state.Err
	}
	f.ns.report(f, st)
}

// failed says what a failure to read the live file means for its stream,
// the next try in retry.
func (f *nodeFile) failed(err error, retry time.Duration) {
	st := StreamState{State: streamStateOf(err), Err: podErrLine(err)}
	if st.State != StateGone {
		st.RetryIn = retry
	}
	f.ns.report(f, st)
}

// wait returns when every follower has ended (after ctx ended).
func (ns *nodeSet) wait() {
	if ns != nil {
		ns.wg.Wait()
	}
}

// follow polls the live file until ctx ends.
func (f *nodeFile) follow(ctx context.Context) {
	defer f.ns.wg.Done()
	defer f.done()
	poll := f.ns.set.opt.PollInterval
	t := time.NewTimer(poll)
	defer t.Stop()
	fails := 0
	for {
		select {
		case <-ctx.Done():
			f.t.end()
			return
		case <-t.C:
		}
		if f.t.r == nil {
			return // ended inside a rotation (ctx), or the new file could not be read
		}
		grew, gone, err := f.t.poll(ctx)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			fails++
			f.say(err.Error() + " (trying again)")
		case fails > 0:
			fails = 0
			f.say(fmt.Sprintf("%s: reading %s again", f.node, f.name(f.base)))
		}
		switch {
		case !gone:
			f.gone = time.Time{}
		case f.gone.IsZero():
			f.gone = time.Now() // between a rename and the new file (lumberjack), or removed
		case time.Since(f.gone) > nodeGoneQuiet:
			f.say(fmt.Sprintf("%s: not there any more; waiting for it", f.name(f.base)))
			f.ns.report(f, StreamState{State: StateGone, Err: f.name(f.base) + ": not there any more"})
		}
		if !grew && f.t.r != nil {
			f.t.r.flushKlog() // no continuation line came: the message is complete
		}
		wait := poll
		if fails > 0 {
			wait = min(poll<<min(fails, 8), 30*time.Second)
		}
		switch {
		case ctx.Err() != nil:
		case err != nil:
			f.failed(err, wait)
		case !gone:
			f.ns.report(f, StreamState{State: StateStreaming})
		}
		t.Reset(wait)
	}
}

// say tells a problem once (until another one is told).
func (f *nodeFile) say(msg string) { f.t.say(msg) }

// --- the folder, as the tailer asks it (tailDir) ----------------------------

func (f *nodeFile) backups(ctx context.Context) ([]string, error) {
	names, err := f.ns.api.list(ctx, f.node, f.dir)
	if err != nil {
		return nil, err
	}
	backups, _ := nodeBackups(names, f.base)
	return backups, nil
}

// head asks for the first n bytes of name (a backup: maybe gzipped since
// it was listed); a .gz comes whole, and is unpacked until n bytes came.
func (f *nodeFile) head(ctx context.Context, name string, n int) ([]byte, error) {
	api := f.ns.api
	gz := strings.HasSuffix(name, ".gz")
	var resp *http.Response
	var err error
	if gz {
		resp, err = api.get(ctx, f.node, f.dir+name, 0)
	} else {
		resp, err = api.getRange(ctx, f.node, f.dir+name, 0, int64(n))
	}
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable: // empty
		resp.Body.Close()
		return []byte{}, nil
	default:
		err := api.refusal(f.node, f.dir+name, resp)
		if errors.Is(err, errNodeNoFile) {
			if !gz && name != f.base {
				return f.head(ctx, name+".gz", n) // gzipped since it was listed
			}
			return nil, nil
		}
		return nil, err
	}
	body, err := skipTo(resp, 0)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	out := make([]byte, n)
	k, err := io.ReadFull(&unzipped{r: body}, out)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF && !gz {
		return nil, fmt.Errorf("%s: reading %s: %v", f.node, "/var/log/"+f.dir+name, err)
	}
	return out[:k], nil
}

// open: a backup is asked for on its first read; the live file now, and its
// first bytes read, so that it is what it was when the folder is listed
// after (the tailer's rule).
func (f *nodeFile) open(ctx context.Context, name string) (*input, []byte, error) {
	if name != f.base {
		g := &nodeGet{ctx: ctx, api: f.ns.api, node: f.node, rel: f.dir + name}
		in := &input{Input: Input{Name: f.name(name)}, family: f.family}
		in.openStream(&nodeStream{parts: []nodePart{{r: g, c: g}}})
		return in, nil, nil
	}
	api := f.ns.api
	resp, err := api.get(ctx, f.node, f.dir+f.base, 0)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		err := api.refusal(f.node, f.dir+f.base, resp)
		if errors.Is(err, errNodeNoFile) {
			return nil, nil, errTailGone
		}
		return nil, nil, err
	}
	buf := make([]byte, fpSize)
	n, _ := io.ReadFull(resp.Body, buf)
	buf = buf[:n]
	cur := &fileCursor{}
	ns := &nodeStream{parts: []nodePart{{r: io.MultiReader(bytes.NewReader(buf), resp.Body), c: resp.Body, cur: cur}}}
	f.quiet(ctx, ns)
	in := &input{Input: Input{Name: f.name(f.base)}, family: f.family, live: true}
	in.openStream(ns)
	f.lives[in] = &nodeLive{stream: ns, cur: cur}
	return in, buf, nil
}

// readOn asks for name from the bytes read last before off (a .gz from its
// start, unpacked and skipped to there): they must come again. The tailer
// saw the first bytes at the name, but each request names the file anew: a
// rotation between that look and this request would give another file's
// bytes at off (a local file is read through the handle that was looked
// at). They also show that the file holds off bytes when nothing follows
// (a range that starts at the end is refused).
func (f *nodeFile) readOn(ctx context.Context, in *input, name string, off int64, _ []byte, still func() bool) (bool, error) {
	lv := f.lives[in]
	if lv == nil || name == "" {
		return false, nil
	}
	api := f.ns.api
	gz := strings.HasSuffix(name, ".gz")
	tail := lv.cur.tail
	if lv.cur.off != off {
		return false, nil // not this file's reader (cannot be)
	}
	at := off - int64(len(tail))
	if gz {
		at = 0
	}
	resp, err := api.get(ctx, f.node, f.dir+name, at)
	if err != nil {
		return false, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusPartialContent:
	case http.StatusRequestedRangeNotSatisfiable: // shorter
		resp.Body.Close()
		return false, nil
	default:
		err := api.refusal(f.node, f.dir+name, resp)
		if errors.Is(err, errNodeNoFile) {
			if !gz && name != f.base {
				return f.readOn(ctx, in, name+".gz", off, nil, still) // gzipped since it was listed
			}
			return false, nil
		}
		return false, err
	}
	body, err := skipTo(resp, at)
	if errors.Is(err, errNodeShort) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var src io.Reader = body
	if gz {
		zr, err := gzip.NewReader(body)
		if err != nil {
			body.Close()
			return false, nil
		}
		src = zr
	}
	if skip := off - int64(len(tail)) - at; skip > 0 {
		if n, _ := io.CopyN(io.Discard, src, skip); n < skip {
			body.Close()
			return false, nil
		}
	}
	if same, err := startsWith(src, tail); err != nil || !same {
		body.Close()
		return false, err
	}
	one := make([]byte, 1)
	if k, err := io.ReadFull(src, one); k == 0 {
		body.Close()
		if err != io.EOF {
			return false, err
		}
		return true, nil // nothing more
	}
	if still != nil && !still() {
		body.Close()
		return false, nil
	}
	lv.stream.add(nodePart{r: io.MultiReader(bytes.NewReader(one), src), c: body, cur: lv.cur})
	return true, nil
}

func (f *nodeFile) read(r *reader) (int64, []byte) {
	for in := range f.lives {
		if in != r.in && in.read {
			delete(f.lives, in) // read to its end
		}
	}
	lv := f.lives[r.in]
	if lv == nil {
		return 0, nil
	}
	return lv.cur.off, lv.cur.head
}

// headOf: what was opened is what the answer held then.
func (f *nodeFile) headOf(_ *input, h []byte) []byte { return h }

func (f *nodeFile) display(name string) string { return f.name(name) }

func (f *nodeFile) discard(in *input) {
	if lv := f.lives[in]; lv != nil {
		for _, p := range lv.stream.parts {
			if p.c != nil {
				p.c.Close()
			}
		}
		delete(f.lives, in)
	}
}

// quiet makes a live file's failures to read end its bytes for now: the
// next poll reads on from its cursor.
func (f *nodeFile) quiet(ctx context.Context, ns *nodeStream) {
	if f.ns.set.following {
		ns.quiet = func(err error) {
			if ctx.Err() == nil {
				f.say(err.Error() + " (trying again)")
			}
		}
	}
}

// liveStream is the bytes of the live file, opened on the first read.
func (f *nodeFile) liveStream(ctx context.Context, c *fileCursor) *nodeStream {
	ns := &nodeStream{lazy: func() ([]nodePart, error) {
		parts, err := f.liveParts(ctx, c)
		if err != nil && ctx.Err() == nil {
			var retry time.Duration
			if f.ns.set.following {
				retry = f.ns.set.opt.PollInterval // read on at the next poll
			}
			f.failed(err, retry)
		}
		return parts, err
	}}
	f.quiet(ctx, ns)
	return ns
}

// liveParts opens the live file from its start (the first read of its
// input). The folder is listed again once it is open: backups not read yet
// were rotated before the file now open, and are read first, in the same
// input, unless one of them is that file itself (the same first bytes),
// rotated since it was opened: the next poll follows it into its backup.
func (f *nodeFile) liveParts(ctx context.Context, c *fileCursor) ([]nodePart, error) {
	api := f.ns.api
	resp, err := api.get(ctx, f.node, f.dir+f.base, 0)
	if err != nil {
		return nil, err
	}
	var body nodePart
	if resp.StatusCode != http.StatusOK {
		err := api.refusal(f.node, f.dir+f.base, resp)
		if !errors.Is(err, errNodeNoFile) {
			return nil, err
		}
		body = nodePart{r: strings.NewReader(""), cur: c} // not there (yet): polls will tell
	} else {
		f.ns.report(f, StreamState{State: StateStreaming})
		buf := make([]byte, nodeHeadKeep)
		n, _ := io.ReadFull(resp.Body, buf)
		buf = buf[:n]
		body = nodePart{r: io.MultiReader(bytes.NewReader(buf), resp.Body), c: resp.Body, cur: c}
		head := buf // the first line tells a file (its auditID and times)
		if i := bytes.IndexByte(head, '\n'); i >= 0 {
			head = head[:i+1]
		}
		fresh, err := f.t.fresh(ctx)
		if err == nil && len(fresh) > 0 {
			mine := len(fresh)
			for i := len(fresh) - 1; i >= 0 && len(head) > 0; i-- {
				if f.t.is(ctx, fresh[i], head) {
					mine = i
					break
				}
			}
			var parts []nodePart
			for _, b := range fresh[:mine] {
				f.t.done[trimCompressed(b)] = true
				g := &nodeGet{ctx: ctx, api: api, node: f.node, rel: f.dir + b}
				parts = append(parts, nodePart{r: &unzipped{r: g}, c: g, sep: true})
			}
			body.sep = true
			return append(parts, body), nil
		}
	}
	return []nodePart{body}, nil
}

// --- the bytes of one input ---------------------------------------------------

// fileCursor is how much of one file was read, its first bytes (its
// fingerprint, tailer.go) and its last ones (nodeTailKeep).
type fileCursor struct {
	off  int64
	head []byte
	tail []byte
}

// nodeTailKeep is how many bytes read last readOn asks for again.
const nodeTailKeep = 256

func (c *fileCursor) saw(b []byte) {
	c.off += int64(len(b))
	if k := fpSize - len(c.head); k > 0 {
		c.head = append(c.head, b[:min(k, len(b))]...)
	}
	if len(b) >= nodeTailKeep {
		c.tail = append(c.tail[:0], b[len(b)-nodeTailKeep:]...)
		return
	}
	c.tail = append(c.tail, b...)
	if drop := len(c.tail) - nodeTailKeep; drop > 0 {
		c.tail = append(c.tail[:0], c.tail[drop:]...)
	}
}

// nodePart is a piece of an input's bytes: one file, or the rest of it.
type nodePart struct {
	r   io.Reader
	c   io.Closer   // closed at its end (may be nil)
	cur *fileCursor // counts the bytes of the file it is (may be nil)
	sep bool        // another file starts here: the line before it ends
}

// nodeStream is an input's bytes: parts read one after another. At the end
// of the parts it says io.EOF; a follower may add more.
type nodeStream struct {
	lazy  func() ([]nodePart, error) // the first parts, opened on the first Read
	parts []nodePart
	last  byte // the last byte handed out (0: none)
	// quiet, when set, is told of a failure to open the file, and any
	// failure then ends the parts like io.EOF: a followed live file is read
	// on from its cursor at the next poll (a reader's other errors are
	// final).
	quiet func(error)
}

func (s *nodeStream) add(p nodePart) { s.parts = append(s.parts, p) }

func (s *nodeStream) Read(b []byte) (int, error) {
	if s.lazy != nil {
		parts, err := s.lazy()
		s.lazy = nil
		if err != nil {
			return 0, s.fail(err, true)
		}
		s.parts = append(parts, s.parts...)
	}
	for len(s.parts) > 0 {
		p := &s.parts[0]
		if p.sep {
			p.sep = false
			if s.last != 0 && s.last != '\n' {
				s.last = '\n'
				if len(b) == 0 {
					return 0, nil
				}
				b[0] = '\n'
				return 1, nil
			}
		}
		n, err := p.r.Read(b)
		if n > 0 {
			s.last = b[n-1]
			if p.cur != nil {
				p.cur.saw(b[:n])
			}
		}
		if err == nil {
			return n, nil
		}
		if p.c != nil {
			p.c.Close()
		}
		s.parts = s.parts[1:]
		if err != io.EOF {
			return n, s.fail(err, false)
		}
		if n > 0 {
			return n, nil
		}
	}
	return 0, io.EOF
}

func (s *nodeStream) fail(err error, opening bool) error {
	if s.quiet == nil {
		return err
	}
	for _, p := range s.parts {
		if p.c != nil {
			p.c.Close()
		}
	}
	s.parts = nil
	if opening {
		s.quiet(err) // a body cut short needs no word: the next poll reads on from the cursor
	}
	return io.EOF
}

// unzipped is r, gunzipped if it is gzip (a backup read inside a plain
// input).
type unzipped struct {
	r io.Reader
	z io.Reader
}

func (u *unzipped) Read(b []byte) (int, error) {
	if u.z == nil {
		br := bufio.NewReader(u.r)
		if head, _ := br.Peek(2); isGzip(head) {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return 0, err
			}
			u.z = zr
		} else {
			u.z = br
		}
	}
	return u.z.Read(b)
}

// nodeGet is one file on a node from byte off, asked for on the first Read.
// A connection that breaks is resumed with a Range request (backups do not
// change); a plain backup gzipped since it was listed is read as .gz.
type nodeGet struct {
	ctx   context.Context
	api   *nodeAPI
	node  string
	rel   string
	off   int64
	limit int64 // >0: ask only for bytes [off, limit)
	body  io.ReadCloser
	tries int
	done  bool
}

func (g *nodeGet) Read(p []byte) (int, error) {
	for {
		if g.done {
			return 0, io.EOF
		}
		if g.body == nil {
			if err := g.open(); err != nil {
				return 0, err
			}
		}
		n, err := g.body.Read(p)
		g.off += int64(n)
		switch {
		case err == io.EOF:
			g.Close()
			g.done = true
			return n, io.EOF
		case err == nil || n > 0:
			return n, nil
		}
		g.body.Close()
		g.body = nil
		if g.tries++; g.tries > 3 || g.ctx.Err() != nil {
			return 0, fmt.Errorf("%s: reading %s: %v", g.node, "/var/log/"+g.rel, err)
		}
		podSleep(g.ctx, time.Duration(g.tries)*time.Second)
	}
}

func (g *nodeGet) open() error {
	resp, err := g.api.getRange(g.ctx, g.node, g.rel, g.off, g.limit)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		err := g.api.refusal(g.node, g.rel, resp)
		if errors.Is(err, errNodeNoFile) && g.off == 0 && !strings.HasSuffix(g.rel, ".gz") {
			g.rel += ".gz" // gzipped since it was listed (the plain copy is removed last)
			g.limit = 0
			return g.open()
		}
		return err
	}
	body, err := skipTo(resp, g.off)
	if err != nil {
		return err
	}
	g.body = body
	return nil
}

func (g *nodeGet) Close() error {
	if g.body != nil {
		g.body.Close()
		g.body = nil
	}
	return nil
}

// skipTo checks that an answer starts at byte from of the file (206 with
// that Content-Range), or skips to it (a 200 with the whole file).
func skipTo(resp *http.Response, from int64) (io.ReadCloser, error) {
	if resp.StatusCode == http.StatusPartialContent {
		cr := resp.Header.Get("Content-Range")
		var start int64 = -1
		if rest, ok := strings.CutPrefix(cr, "bytes "); ok {
			if i := strings.IndexByte(rest, '-'); i > 0 {
				start, _ = strconv.ParseInt(rest[:i], 10, 64)
			}
		}
		if start != from {
			resp.Body.Close()
			return nil, fmt.Errorf("asked for bytes from %d, got %q", from, cr)
		}
		return resp.Body, nil
	}
	if from > 0 {
		// (a Range on an empty file is answered with 200 and nothing)
		if n, err := io.CopyN(io.Discard, resp.Body, from); n < from {
			resp.Body.Close()
			if err == io.EOF {
				err = errNodeShort
			}
			return nil, err
		}
	}
	return resp.Body, nil
}

// errNodeShort: the file is shorter than the offset asked for.
var errNodeShort = errors.New("the file is shorter than what was read of it")

// startsWith reads len(want) bytes of r and says whether they are want.
func startsWith(r io.Reader, want []byte) (bool, error) {
	got := make([]byte, len(want))
	_, err := io.ReadFull(r, got)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return bytes.Equal(got, want), nil
}

// --- the folder ---------------------------------------------------------------

var hrefRE = regexp.MustCompile(`(?i)<a\s[^>]*href="([^"]*)"`)

// parseListing reads the names in a folder listing of net/http's
// FileServer (folders end in /). The API server's proxy rewrites links
// that start with /; the FileServer's are relative.
func parseListing(page []byte) []string {
	var out []string
	for _, m := range hrefRE.FindAllSubmatch(page, -1) {
		h := html.UnescapeString(string(m[1]))
		if u, err := url.Parse(h); err == nil {
			h = u.Path
		}
		h = strings.TrimPrefix(h, "./")
		if h != "" && !strings.Contains(strings.TrimSuffix(h, "/"), "/") {
			out = append(out, h)
		}
	}
	return out
}

// nodeBackups picks base's rotated backups from a folder's names, oldest
// first (lumberjack's <stem>-<2006-01-02T15-04-05.000><ext>[.gz]; of a
// backup being gzipped, the plain copy), and says whether base is there.
func nodeBackups(names []string, base string) (backups []string, live bool) {
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	type backup struct {
		name string
		at   time.Time
	}
	var found []backup
	plain := map[string]bool{}
	for _, n := range names {
		if n == base {
			live = true
			continue
		}
		if at, ok := lumberjackTime(strings.TrimSuffix(n, ".gz"), stem, ext); ok {
			found = append(found, backup{n, at})
			if !strings.HasSuffix(n, ".gz") {
				plain[n] = true
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool {
		if !found[i].at.Equal(found[j].at) {
			return found[i].at.Before(found[j].at)
		}
		return found[i].name < found[j].name
	})
	for _, b := range found {
		if strings.HasSuffix(b.name, ".gz") && plain[strings.TrimSuffix(b.name, ".gz")] {
			continue
		}
		backups = append(backups, b.name)
	}
	return backups, live
}

// --- the API server's node proxy --------------------------------------------

type nodeAPI struct {
	client *http.Client
	rc     *rest.RESTClient
}

func newNodeAPI(cs kubernetes.Interface) (*nodeAPI, error) {
	if cs == nil {
		return nil, errors.New("reading the nodes' audit logs: no Kubernetes client")
	}
	rc, ok := cs.CoreV1().RESTClient().(*rest.RESTClient)
	if !ok || rc == nil || rc.Client == nil {
		return nil, errors.New("reading the nodes' audit logs: the Kubernetes client has no HTTP client")
	}
	return &nodeAPI{client: rc.Client, rc: rc}, nil
}

// get asks for rel (under /var/log; a folder ends in /) from byte from.
func (a *nodeAPI) get(ctx context.Context, node, rel string, from int64) (*http.Response, error) {
	return a.getRange(ctx, node, rel, from, 0)
}

// getRange asks for bytes [from, to) of rel (to 0: to its end). Only the
// wait for the headers is bounded; the body is read as long as it takes.
func (a *nodeAPI) getRange(ctx context.Context, node, rel string, from, to int64) (*http.Response, error) {
	u := a.rc.Get().AbsPath("/api/v1/nodes/" + url.PathEscape(node) + "/proxy/logs/" + rel).URL()
	rctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, err
	}
	switch {
	case to > from:
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to-1))
	case from > 0:
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", from))
	}
	timer := time.AfterFunc(nodeHeaderTimeout, cancel)
	resp, err := a.client.Do(req)
	timer.Stop()
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: the API server did not answer (%s): check the kubeconfig's server and the network", node, oneLineText(err.Error()))
	}
	resp.Body = &cancelBody{resp.Body, cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// list reads a folder's names.
func (a *nodeAPI) list(ctx context.Context, node, dir string) ([]string, error) {
	resp, err := a.get(ctx, node, dir, 0)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, a.refusal(node, dir, resp)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: listing /var/log/%s: %v", node, dir, err)
	}
	return parseListing(page), nil
}

// listLog lists the folder of the audit log on node: its backups, and
// whether the live file is there. Its errors say what to do.
func (a *nodeAPI) listLog(ctx context.Context, node, dir, base string) ([]string, bool, error) {
	names, err := a.list(ctx, node, dir)
	if errors.Is(err, errNodeNoFile) {
		// the folder is not there, or the kubelet serves no /logs/ at all
		if _, rerr := a.list(ctx, node, ""); rerr != nil {
			if errors.Is(rerr, errNodeNoFile) {
				return nil, false, fmt.Errorf("%s: the kubelet does not serve /logs/ (404): its system log handler is off: set enableSystemLogHandler: true in its KubeletConfiguration, or read the file on the node", node)
			}
			return nil, false, rerr
		}
		return nil, false, fmt.Errorf("%s: no folder /var/log/%s: is the API server on %s writing its audit log there? Give its --audit-log-path with --node-log-path", node, dir, node)
	}
	if err != nil {
		return nil, false, err
	}
	backups, live := nodeBackups(names, base)
	if !live && len(backups) == 0 {
		var files []string
		for _, n := range names {
			if !strings.HasSuffix(n, "/") {
				files = append(files, n)
			}
		}
		holds := "nothing"
		if len(files) > 0 {
			holds = strings.Join(files[:min(len(files), 5)], ", ")
			if len(files) > 5 {
				holds += ", …"
			}
		}
		return nil, false, fmt.Errorf("%s: no /var/log/%s%s (the folder holds %s): give the audit log's path with --node-log-path", node, dir, base, holds)
	}
	return backups, live, nil
}

// errNodeNoFile: the kubelet answered 404 (no such file or folder).
var errNodeNoFile = errors.New("not found on the node")

type nodeNoFileError struct{ msg string }

func (e *nodeNoFileError) Error() string        { return e.msg }
func (e *nodeNoFileError) Is(target error) bool { return target == errNodeNoFile }

// refusal words a failed answer to GET rel on node in one line: who refused
// what, and what to do. It closes the body.
func (a *nodeAPI) refusal(node, rel string, resp *http.Response) error {
	st, err := a.refusalText(node, rel, resp)
	if st == nil {
		return err
	}
	return &nodeRefusal{msg: err.Error(), status: st}
}

// nodeRefusal is a failed answer worded for the user that keeps the API's
// Status, so that streamStateOf reads it as it reads the pods' errors.
type nodeRefusal struct {
	msg    string
	status *apierrors.StatusError
}

func (e *nodeRefusal) Error() string { return e.msg }
func (e *nodeRefusal) Unwrap() error { return e.status }

// refusalText is the Status a failed answer means (nil: none), and
// refusal's text.
func (a *nodeAPI) refusalText(node, rel string, resp *http.Response) (*apierrors.StatusError, error) {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	code := resp.StatusCode
	var st metav1.Status
	isStatus := strings.Contains(resp.Header.Get("Content-Type"), "json") && json.Unmarshal(b, &st) == nil && st.Kind == "Status"
	msg := oneLineText(string(b))
	if isStatus {
		msg = oneLineText(st.Message)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	what := node + ": reading /var/log/" + rel + " through the API server's node proxy"
	var status *apierrors.StatusError
	switch {
	case isStatus:
		status = &apierrors.StatusError{ErrStatus: st}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// the kubelet refused the API server: waiting will not cure it
		status = &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: int32(code), Reason: metav1.StatusReasonForbidden}}
	}
	switch {
	case isStatus && code == http.StatusForbidden:
		return status, fmt.Errorf("%s: %s; this needs get on nodes/proxy (docs/kauditui-reader.yaml, ClusterRole kauditui-node-files; a powerful right, see the README)", what, msg)
	case isStatus && code == http.StatusUnauthorized:
		return status, fmt.Errorf("%s: %s; the API server did not accept the credentials: check the kubeconfig or log in again", what, msg)
	case isStatus && code == http.StatusNotFound && st.Details != nil && st.Details.Kind == "nodes":
		return status, fmt.Errorf("%s: no node %q in the cluster (kubectl get nodes lists them)", node, node)
	case isStatus && code >= 500:
		return status, fmt.Errorf("%s: the node is unreachable (%s): is it up, with its kubelet serving on the address and port in its Node status?", node, msg)
	case isStatus:
		return status, fmt.Errorf("%s: HTTP %d: %s", what, code, msg)
	case code == http.StatusMethodNotAllowed:
		return status, fmt.Errorf("%s: the kubelet does not serve /logs/ (405 %s): its system log handler is off: set enableSystemLogHandler: true in its KubeletConfiguration, or read the file on the node", node, msg)
	case code == http.StatusNotFound:
		return status, &nodeNoFileError{fmt.Sprintf("%s: /var/log/%s: not found on the node", node, rel)}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return status, fmt.Errorf("%s: the kubelet refused the API server (%d %s): the API server's kubelet client (--kubelet-client-certificate) needs nodes/proxy on the kubelet", what, code, msg)
	}
	return status, fmt.Errorf("%s: HTTP %d: %s", what, code, msg)
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }
