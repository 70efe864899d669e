// Command genlog makes a large audit log out of the real events in
// testdata, for benchmarks: it replays the recorded requests over and over,
// each time with a new auditID, a different user, object name and namespace,
// and later timestamps (the stages of a request keep their spacing). The
// output is never committed: write it under testdata/big/ (git-ignored) or
// /tmp.
//
//	go run ./hack/genlog -size 100MB -o testdata/big/audit-100MB.log
//	go run ./hack/genlog -size 1GB -o testdata/big/audit-1GB.log
//
// With -trail DIR it writes a rotated trail instead of one file: DIR/audit.log
// beside backups of -maxsize each, named and gzipped as the apiserver's log
// rotation does (trail.go):
//
//	go run ./hack/genlog -trail /work/trails/10GB -size 10GB
//
// With -check FILE it is instead a small driver that loads FILE through
// package source the way kauditui does and prints what it found, how fast,
// and the heap it used (for /usr/bin/time -v):
//
//	go run ./hack/genlog -check testdata/big/audit-1GB.log -verb delete
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/source"
	"github.com/tidwall/gjson"
)

func main() {
	var (
		out   = flag.String("o", "", "output file (default testdata/big/audit-SIZE.log)")
		size  = flag.String("size", "100MB", "output size: 100MB, 1GB, ...")
		from  = flag.String("from", "", "comma-separated logs to take events from (default: testdata/file/audit.log and its backups, else testdata/stdout/kube-apiserver.log, else testdata/sample.log)")
		seed  = flag.Uint64("seed", 1, "random seed (same seed, same log)")
		check = flag.String("check", "", "load this log (or a trail's folder) through package source and report instead of generating")
		trail = flag.String("trail", "", "write a rotated trail into this new folder: audit.log and backups of -maxsize, the oldest -gzip of them gzipped")
		maxSz = flag.String("maxsize", "100MB", "with -trail: rotate at this size (--audit-log-maxsize, in MiB like the apiserver's)")
		maxBk = flag.Int("maxbackup", 100, "with -trail: keep at most this many backups (--audit-log-maxbackup)")
		gzN   = flag.Int("gzip", -1, "with -trail: how many of the oldest backups are gzipped (default: a tenth, at least one)")
		verb  = flag.String("verb", "delete", "with -check: also count requests and events with this verb")
	)
	flag.Parse()
	var err error
	switch {
	case *check != "":
		err = runCheck(*check, *verb)
	case *trail != "":
		err = generateTrail(*trail, *size, *from, *seed, *maxSz, *maxBk, *gzN)
	default:
		err = generate(*out, *size, *from, *seed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genlog:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int64, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, suf := range []struct {
		s string
		m int64
	}{{"GB", 1 << 30}, {"G", 1 << 30}, {"MB", 1 << 20}, {"M", 1 << 20}, {"KB", 1 << 10}, {"K", 1 << 10}} {
		if strings.HasSuffix(u, suf.s) {
			u, mult = strings.TrimSuffix(u, suf.s), suf.m
			break
		}
	}
	n, err := strconv.ParseFloat(u, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a number with MB or GB, e.g. 100MB", s)
	}
	return int64(n * float64(mult)), nil
}

// request is the recorded stages of one auditID.
type request struct {
	lines [][]byte
}

func defaultSources() []string {
	live := filepath.Join("testdata", "file", "audit.log")
	if _, err := os.Stat(live); err == nil {
		b, _ := source.Backups(live)
		return append(b, live)
	}
	for _, p := range []string{filepath.Join("testdata", "stdout", "kube-apiserver.log"), filepath.Join("testdata", "sample.log")} {
		if _, err := os.Stat(p); err == nil {
			return []string{p}
		}
	}
	return nil
}

// templates reads the audit events of the source logs, grouped by auditID,
// through package source (so gzip backups and mixed logs work too).
func templates(paths []string) ([]request, error) {
	if len(paths) == 0 {
		return nil, errors.New("no events to copy: run hack/gen-testdata.sh, or give -from LOG (run from the repository root)")
	}
	set, err := source.Open(context.Background(), source.Spec{Paths: paths}, source.Options{Warn: func(m string) { fmt.Fprintln(os.Stderr, "genlog:", m) }})
	if err != nil {
		return nil, err
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		return nil, err
	}
	var reqs []request
	for _, r := range st.Snapshot().Requests {
		var q request
		for _, e := range r.Events {
			raw, err := set.Raw(e.Ref)
			if err != nil {
				return nil, err
			}
			if !audit.IsEvent(raw) {
				continue // an EventList item: no kind of its own
			}
			q.lines = append(q.lines, raw)
		}
		if len(q.lines) > 0 && r.AuditID != "" {
			reqs = append(reqs, q)
		}
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("no audit events in %s", strings.Join(paths, ", "))
	}
	return reqs, nil
}

func generate(out, sizeFlag, from string, seed uint64) error {
	size, err := parseSize(sizeFlag)
	if err != nil {
		return err
	}
	paths := defaultSources()
	if from != "" {
		paths = strings.Split(from, ",")
	}
	reqs, err := templates(paths)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join("testdata", "big", "audit-"+strings.ToUpper(sizeFlag)+".log")
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	// write to a temporary name and rename: never a half-written log
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	g := &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var written int64
	var n int
	needle := false
	for written < size {
		q := reqs[n%len(reqs)]
		n++
		lines := g.vary(q)
		if !needle && written >= size/2 {
			// One request with a rare value in every field, halfway: the
			// benchmarks' "rare value" queries (hack/bench-vs-jq.sh).
			needle = true
			n++
			lines = append(lines, needleRequest(g.clock)...)
		}
		for _, l := range lines {
			w.Write(l)
			w.WriteByte('\n')
			written += int64(len(l)) + 1
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("%s: %d bytes, %d requests from %d recorded ones\n", out, written, n, len(reqs))
	return nil
}

// Needle values: each occurs in the two lines of one request only.
const (
	NeedleUser   = "needle-user-7f3a@example.com"
	NeedleGroup  = "needle-group-7f3a"
	NeedleName   = "needle-object-7f3a"
	NeedleNS     = "needle-ns-7f3a"
	NeedleAgent  = "needle-agent-7f3a/1.0"
	NeedleIP     = "203.0.113.77"
	NeedleID     = "7f3a7f3a-0000-4000-8000-needle7f3a00"
	NeedleReason = "needle-reason-7f3a"
	NeedleMsg    = "needle-message-7f3a"
)

// needleRequest is a denied delete carrying the needle values.
func needleRequest(at time.Time) [][]byte {
	recv := at.Format("2006-01-02T15:04:05.000000Z")
	done := at.Add(1500 * time.Microsecond).Format("2006-01-02T15:04:05.000000Z")
	common := fmt.Sprintf(`"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":%q,"stage":"%%s","requestURI":"/apis/apps/v1/namespaces/%s/deployments/%s","verb":"delete","user":{"username":%q,"groups":[%q,"system:authenticated"]},"sourceIPs":[%q],"userAgent":%q,"objectRef":{"resource":"deployments","namespace":%q,"name":%q,"apiGroup":"apps","apiVersion":"v1"}`,
		NeedleID, NeedleNS, NeedleName, NeedleUser, NeedleGroup, NeedleIP, NeedleAgent, NeedleNS, NeedleName)
	rr := fmt.Sprintf("{"+common+`,"requestReceivedTimestamp":%q,"stageTimestamp":%q}`, "RequestReceived", recv, recv)
	rc := fmt.Sprintf("{"+common+`,"responseStatus":{"metadata":{},"status":"Failure","message":%q,"reason":"Forbidden","code":403},"requestReceivedTimestamp":%q,"stageTimestamp":%q,"annotations":{"authorization.k8s.io/decision":"forbid","authorization.k8s.io/reason":%q}}`,
		"ResponseComplete", NeedleMsg, recv, done, NeedleReason)
	return [][]byte{[]byte(rr), []byte(rc)}
}

type generator struct {
	rng   *rand.Rand
	clock time.Time
	seq   uint64
	buf   [][]byte
	// stamps[i] is buf[i]'s stageTimestamp (the clock when it has none)
	stamps []time.Time
}

var users = func() []string {
	u := []string{"kubernetes-admin", "system:kube-controller-manager", "system:kube-scheduler", "system:anonymous"}
	for i := range 60 {
		u = append(u, fmt.Sprintf("user-%02d@example.com", i))
	}
	for i := range 30 {
		u = append(u, fmt.Sprintf("system:serviceaccount:team-%02d:deployer", i))
	}
	return u
}()

// vary returns a copy of the request's stages as a new request.
func (g *generator) vary(q request) [][]byte {
	g.seq++
	id := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", g.rng.Uint32(), g.seq&0xffff, g.rng.IntN(0x1000), g.rng.IntN(0x1000), g.seq)
	g.clock = g.clock.Add(time.Duration(g.rng.IntN(20_000)) * time.Microsecond)
	first := q.lines[0]
	oldID := gjson.GetBytes(first, "auditID").Str
	base := audit.ParseTime(gjson.GetBytes(first, "requestReceivedTimestamp").Str)
	user := gjson.GetBytes(first, "user.username").Str
	newUser := user
	if user != "" && g.rng.IntN(4) != 0 {
		newUser = users[g.rng.IntN(len(users))]
	}
	name := gjson.GetBytes(first, "objectRef.name").Str
	newName := name
	if len(name) >= 4 {
		newName = fmt.Sprintf("%s-%d", name, g.rng.IntN(5000))
	}
	ns := gjson.GetBytes(first, "objectRef.namespace").Str
	newNS := ns
	if len(ns) >= 4 && !strings.HasPrefix(ns, "kube-") && g.rng.IntN(3) == 0 {
		newNS = fmt.Sprintf("%s-%d", ns, g.rng.IntN(40))
	}
	g.buf, g.stamps = g.buf[:0], g.stamps[:0]
	for _, l := range q.lines {
		stamp := g.clock
		l = bytes.ReplaceAll(l, []byte(`"`+oldID+`"`), []byte(`"`+id+`"`))
		if newUser != user {
			l = bytes.Replace(l, []byte(`"username":"`+user+`"`), []byte(`"username":"`+newUser+`"`), 1)
		}
		if newName != name {
			l = bytes.ReplaceAll(l, []byte(name), []byte(newName))
		}
		if newNS != ns {
			l = bytes.ReplaceAll(l, []byte(`/namespaces/`+ns+`/`), []byte(`/namespaces/`+newNS+`/`))
			l = bytes.ReplaceAll(l, []byte(`"namespace":"`+ns+`"`), []byte(`"namespace":"`+newNS+`"`))
		}
		for _, key := range []string{"requestReceivedTimestamp", "stageTimestamp"} {
			r := gjson.GetBytes(l, key)
			if r.Index <= 0 || base.IsZero() {
				continue
			}
			t := audit.ParseTime(r.Str)
			at := g.clock.Add(t.Sub(base))
			nt := at.Format("2006-01-02T15:04:05.000000Z")
			l = append(l[:r.Index:r.Index], append([]byte(`"`+nt+`"`), l[r.Index+len(r.Raw):]...)...)
			if key == "stageTimestamp" {
				stamp = at.Truncate(time.Microsecond) // as written
			}
		}
		g.buf = append(g.buf, l)
		g.stamps = append(g.stamps, stamp)
	}
	return g.buf
}

func runCheck(path, verb string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "audit.log") // a trail: its live file brings the backups
	}
	start := time.Now()
	var warned int
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{path}, Stdin: os.Stdin}, source.Options{Warn: func(m string) { warned++; fmt.Fprintln(os.Stderr, "warning:", m) }})
	if err != nil {
		return err
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		return err
	}
	took := time.Since(start)
	var bytes int64
	for _, in := range set.Inputs() {
		bytes += in.Size
	}
	snap := st.Snapshot()
	var reqs, events int
	for _, r := range snap.Requests {
		if r.Verb == verb {
			reqs++
			events += len(r.Events)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%s: %d bytes in %v: %.0f MB/s\n", path, bytes, took.Round(time.Millisecond), float64(bytes)/1e6/took.Seconds())
	fmt.Printf("events %d, requests %d, klog %d, other %d, warnings %d\n", snap.Events, len(snap.Requests), len(snap.Klog), len(snap.Other), warned)
	fmt.Printf("verb=%s: %d requests, %d events\n", verb, reqs, events)
	fmt.Printf("live heap after GC: %d MiB (%.0f bytes per request)\n", ms.HeapAlloc>>20, float64(ms.HeapAlloc)/float64(max(1, len(snap.Requests))))
	runtime.KeepAlive(st)
	return nil
}
