package source

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Options says how a Set reads its inputs (what it reads is a Spec).
type Options struct {
	// Warn is told about an input that fails part-way (a truncated .gz, an
	// unreadable backup); everything readable is still used. May be nil.
	Warn func(msg string)
	// Progress, when set, is called from Load now and then with the bytes
	// read so far and the total size of the file inputs (stdin excluded).
	Progress func(bytesRead, bytesTotal int64)
	// MaxLine is the longest line kept (default DefaultMaxLine); longer
	// lines become "other" lines.
	MaxLine int
	// PollInterval is how often a followed file is checked for growth
	// (default 250ms).
	PollInterval time.Duration
	// SpoolMemory is how many bytes of the lines kept from streams, gzip
	// and CRI inputs stay in memory before the rest goes to a temporary
	// file (default DefaultSpoolMemory).
	SpoolMemory int64
	// NoRaw says that nothing will ask Raw for a line (a count, a top or a
	// table of fields): the lines of inputs that cannot be read again are
	// then not kept, so a gzipped trail is not written out again to a
	// temporary file (disk, or memory where /tmp is a tmpfs).
	NoRaw bool
	// Live, when set, is called once from Load when the history is read
	// and Load goes on following (Follow): every input read to its end
	// and the live files polled, the nodes' files followed, the pods'
	// history read and their streams followed. It is not called when
	// nothing is left to follow (stdin, compressed files alone): Load
	// returns then.
	Live func()
	// PodState is told whenever a pod's stream changes state (see
	// PodOptions.State); may be nil.
	PodState func(PodState)
	// Keep, when set, is asked about every line that starts like JSON
	// before it is parsed; a line it refuses is counted (Set.Skipped) and
	// neither parsed nor merged: filter.Filter.Prefilter gives one for a
	// query. It must be safe for concurrent use.
	Keep func(line []byte) bool
}

// Input is one stream of a Set: a file (a rotated backup, the live file) or
// stdin.
type Input struct {
	Name   string // the path, or "-" for stdin
	Format string // "audit", "mixed" (audit+klog), "klog", "cri", "unknown"; "gzip+" or "zstd+" prefix when compressed; refined as Load reads
	Size   int64  // bytes on disk (compressed size for gzip and zstd); 0 for stdin and pipes

	// Counted as Load reads: audit events (EventList items and JSON
	// stream values included), klog messages, other lines.
	Events, Klog, Other int
	// Skipped counts the lines Options.Keep refused unparsed: the input
	// was read, and they could not have matched.
	Skipped int
	// Failed: reading it failed (a warning said so); what came before is used.
	Failed bool
	// Looks says, once read, what an input without audit events holds
	// ("legacy audit lines (--audit-log-format=legacy)", "text", ...); it
	// stays empty when the input could not be read at all.
	Looks string
}

// Set is the inputs named on a command line, expanded with rotated backups.
type Set struct {
	opt       Options
	following bool      // Spec.Follow
	stdin     io.Reader // Spec.Stdin
	kinds     []inputKind
	mu        sync.Mutex // guards inputs[i].Input (Format changes while loading)
	inputs    []*input
	skipped   atomic.Int64
	spool     spool
	liveOnce  sync.Once  // Options.Live
	liveMu    sync.Mutex // the pods' histories counted down to Live
}

// Skipped is the number of lines that Options.Keep refused.
func (s *Set) Skipped() int64 { return s.skipped.Load() }

type input struct {
	Input
	file    *os.File      // nil for stdin
	stream  *bufio.Reader // stdin, pipes, FIFOs, character devices: read once, never seeked
	family  string        // inputs of one family (a live log and its backups) are one stream in time
	gz      bool          // compressed (gzip, or zstd when zip says so): read once, through unpack
	zip     string        // "gzip" or "zstd" when gz
	cri     bool
	pretty  bool // a stream of JSON values that span lines (jq . output)
	crOnly  bool // lines end in a lone \r
	live    bool // the file named on the command line (followed with Follow)
	spooled bool // lines are kept in the set's spool (the input cannot be read again)
	warned  bool
	read    bool // something was read without error
	// truncated: the followed file was truncated; its old lines are gone
	truncated bool
	head      []byte
}

// Open resolves spec (spec.go: what to read) into inputs of their kinds
// (kind.go) and opens those known before reading: every path, each with its
// rotated backups before it (oldest first), standard input, the store's
// answer. Missing or unreadable paths are named through Options.Warn; the
// error (one line, saying what to do) comes when nothing can be read: no
// path at all can be opened, no Kubernetes client, the store refused.
func Open(ctx context.Context, spec Spec, opt Options) (*Set, error) {
	if opt.MaxLine <= 0 {
		opt.MaxLine = defaultMaxLine
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = 250 * time.Millisecond
	}
	if opt.SpoolMemory <= 0 {
		opt.SpoolMemory = defaultSpoolMemory
	}
	s := &Set{opt: opt, following: spec.Follow, stdin: spec.Stdin}
	s.spool.memLimit = opt.SpoolMemory
	kinds, err := spec.resolve(s.warn, opt.PodState)
	if err != nil {
		return nil, err
	}
	s.kinds = kinds
	var problems []string
	for _, k := range kinds {
		p, err := k.open(ctx, s)
		if err != nil {
			s.Close()
			return nil, err
		}
		problems = append(problems, p...)
	}
	if len(s.inputs) == 0 && len(problems) > 0 { // paths were named, none opens
		s.Close()
		return nil, fmt.Errorf("cannot read any input: %s (give the path of a readable audit log, or - for stdin)", strings.Join(problems, "; "))
	}
	for _, p := range problems {
		s.warn(p)
	}
	return s, nil
}

// Incomplete is why what was read lacks part of its answer: a store's
// answer that broke off (what came is used), or nil. Ask it after Load.
func (s *Set) Incomplete() error {
	for _, k := range s.kinds {
		if err := k.incomplete(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Set) warn(msg string) {
	if s.opt.Warn != nil {
		s.opt.Warn(msg)
	}
}

// openStream reads r once, from its start: stdin, a pipe (<(cmd), a FIFO,
// /dev/stdin), anything that cannot be seeked or read again.
// Nothing is read here: a pipe that stays open must not hold up Open (the
// explorer starts before the first line arrives); Load sniffs it.
func (in *input) openStream(r io.Reader) {
	in.stream = bufio.NewReaderSize(r, 1<<20)
	in.spooled = true
}

// sniffStream looks at the start of a stream once its first line is complete
// (or 64 KiB or the end came), without consuming it.
func (in *input) sniffStream() {
	br := in.stream
	n := 1
	for {
		head, err := br.Peek(n)
		if err != nil || len(head) >= 64<<10 || bytes.IndexByte(head, '\n') >= 0 || bytes.IndexByte(head, '\r') >= 0 && len(head) > 4096 {
			if z := compression(head); z == "gzip" || z == "zstd" {
				in.gz, in.zip = true, z
				head = unpackHead(z, head)
			}
			in.sniff(head)
			return
		}
		n = min(64<<10, max(len(head)+1, br.Buffered()))
	}
}

// unpackHead returns the first bytes that head, compressed with z, unpacks to.
func unpackHead(z string, head []byte) []byte {
	zr, err := unpack(z, bytes.NewReader(head))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, 64<<10))
	return out
}

// zstdMaxWindow is the largest zstd window read (what the zstd command
// allows without --memory): a hostile header cannot ask for gigabytes.
const zstdMaxWindow = 128 << 20

// unpack reads src, compressed with z ("gzip" or "zstd"). Backups
// compressed by logrotate with zstd (compresscmd zstd) are read as the
// apiserver's own gzipped ones are.
func unpack(z string, src io.Reader) (io.Reader, error) {
	if z == "zstd" {
		// one decoder goroutine-free (concurrency 1): nothing to close
		zr, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, err
		}
		return zr, nil
	}
	// klauspost's gzip reads the same streams (several members too) with
	// the same errors, a sixth faster than compress/gzip: decompressing a
	// backup is one core's work that nothing can share
	return gzip.NewReader(src)
}

// unpack wraps src in the input's decompressor.
func (in *input) unpack(src io.Reader) (io.Reader, error) {
	zr, err := unpack(in.zip, src)
	if err != nil {
		return nil, fmt.Errorf("%s: not readable as %s: %v", in.Name, in.zip, err)
	}
	return zr, nil
}

func openFile(path string, live bool) (*input, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, oneLine(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, oneLine(err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s: is a directory (give the log file inside it)", path)
	}
	in := &input{Input: Input{Name: path, Size: fi.Size()}, file: f, live: live}
	if !fi.Mode().IsRegular() {
		// a pipe or device: read it as a stream (ReadAt and Seek fail)
		in.Size = 0
		in.live = false
		in.openStream(f)
		return in, nil
	}
	head := make([]byte, 64<<10)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	switch z := compression(head); z {
	case "gzip", "zstd":
		in.gz, in.zip = true, z
		in.spooled = true
		head = unpackHead(z, head)
	case "xz":
		// Not read: a pure-Go xz reader would be a new dependency for a
		// format neither the apiserver nor logrotate's default writes.
		f.Close()
		return nil, fmt.Errorf("%s: xz-compressed, which kauditui does not read: decompress it beside the log with `xz -dk %s` and run again", path, path)
	}
	in.sniff(head)
	return in, nil
}

// oneLine shortens an *os.PathError to "path: reason".
func oneLine(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func isGzip(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
}

// compression names the format of compressed data by its magic number:
// "gzip", "zstd", "xz", or "" for none of them.
func compression(head []byte) string {
	switch {
	case isGzip(head):
		return "gzip"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return "xz"
	}
	return ""
}

// compressedExts are the endings of compressed backups, trimmed to find
// the backup's own name.
var compressedExts = []string{".gz", ".zst", ".xz"}

// trimCompressed removes a compressed backup's ending.
func trimCompressed(name string) string {
	for _, e := range compressedExts {
		if s, ok := strings.CutSuffix(name, e); ok {
			return s
		}
	}
	return name
}

// sniff guesses the format from the first lines; Load refines it.
func (in *input) sniff(head []byte) {
	var audit, klog bool
	head = bytes.TrimPrefix(head, utf8BOM)
	in.head = append([]byte(nil), head[:min(len(head), 4096)]...)
	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		in.crOnly = true // classic Mac line ends: read \r as \n
		head = bytes.ReplaceAll(head, []byte{'\r'}, []byte{'\n'})
	}
	first := true
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 {
			break // a partial line tells nothing reliable
		}
		l := head[:i]
		head = head[i+1:]
		t := bytes.TrimSpace(l)
		if len(t) == 0 {
			continue
		}
		if first && (string(t) == "{" || t[0] == '[') {
			in.pretty = true // pretty-printed JSON values (jq ., an EventList) or an array of events
		}
		first = false
		if _, ok := ParseCRI(l); ok {
			in.cri = true
			break
		}
		if l[0] == '{' {
			audit = true
		} else if isKlogHeader(l) {
			klog = true
		}
	}
	if in.cri {
		in.spooled = true
	}
	in.Format = in.formatName(audit, klog)
}

func (in *input) formatName(audit, klog bool) string {
	f := "unknown"
	switch {
	case in.cri:
		f = "cri"
	case audit && klog:
		f = "mixed"
	case audit:
		f = "audit"
	case klog:
		f = "klog"
	}
	if in.gz {
		f = in.zip + "+" + f
	}
	return f
}

// input returns input i (inputs are added while following rotations).
func (s *Set) input(i int32) (*input, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < 0 || int(i) >= len(s.inputs) {
		return nil, false
	}
	return s.inputs[i], true
}

// Inputs lists the inputs in reading order.
func (s *Set) Inputs() []Input {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Input, len(s.inputs))
	for i, in := range s.inputs {
		out[i] = in.Input
	}
	return out
}

// Close closes every file.
func (s *Set) Close() error {
	for _, k := range s.kinds {
		k.close()
	}
	first := s.spool.close()
	for _, in := range s.inputs {
		if in.file != nil {
			if err := in.file.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// backupLayout is lumberjack's time format in backup names.
const backupLayout = "2006-01-02T15-04-05.000"

// Backups lists the rotated backups of path that exist beside it, oldest
// first: lumberjack's <name>-<2006-01-02T15-04-05.000><ext>[.gz|.zst|.xz] (the
// apiserver's own rotation) and the kubelet's <name>.<20060102-150405>[.gz]
// (container logs), also ending in .zst or .xz (logrotate). The live file
// itself is not included.
func Backups(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil // the live file's own error says it
		}
		return nil, oneLine(err)
	}
	type backup struct {
		name string
		at   time.Time
	}
	var found []backup
	for _, e := range entries {
		if !e.Type().IsRegular() && !regularBehindLink(dir, e) {
			continue // a FIFO named like a backup would hang open()
		}
		name := e.Name()
		rest := trimCompressed(name)
		if at, ok := lumberjackTime(rest, stem, ext); ok {
			found = append(found, backup{name, at})
			continue
		}
		if strings.HasPrefix(rest, base+".") {
			if at, err := time.Parse("20060102-150405", rest[len(base)+1:]); err == nil {
				found = append(found, backup{name, at})
			}
		}
	}
	// A backup being compressed exists twice for a moment (lumberjack writes
	// X.gz, then removes X): the plain one is whole, the .gz may not be yet.
	// So does one decompressed by hand beside its .zst or .xz.
	plain := map[string]bool{}
	for _, b := range found {
		plain[b.name] = true
	}
	kept := found[:0]
	for _, b := range found {
		if trimCompressed(b.name) == b.name || !plain[trimCompressed(b.name)] {
			kept = append(kept, b)
		}
	}
	found = kept
	sort.SliceStable(found, func(i, j int) bool {
		if !found[i].at.Equal(found[j].at) {
			return found[i].at.Before(found[j].at)
		}
		return found[i].name < found[j].name
	})
	out := make([]string, len(found))
	for i, b := range found {
		out[i] = filepath.Join(dir, b.name)
		if dir == "." && !strings.HasPrefix(path, "./") {
			out[i] = b.name
		}
	}
	return out, nil
}

func regularBehindLink(dir string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	fi, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && fi.Mode().IsRegular()
}

func lumberjackTime(name, stem, ext string) (time.Time, bool) {
	if !strings.HasPrefix(name, stem+"-") || !strings.HasSuffix(name, ext) {
		return time.Time{}, false
	}
	ts := name[len(stem)+1 : len(name)-len(ext)]
	if len(ts) != len(backupLayout) {
		return time.Time{}, false
	}
	at, err := time.Parse(backupLayout, ts)
	return at, err == nil
}

// plannedFile is one file Open will read: a live log or a rotated backup of
// its family (the live file's path).
type plannedFile struct {
	path    string
	family  string
	at      time.Time // rotation time of a backup
	live    bool
	backups int // for a live file: how many backups it brought
}

// plan expands one command-line path: a live log brings its rotated backups;
// a path that is itself a backup is read alone, in its family's order.
func plan(path string) ([]plannedFile, error) {
	if family, at, ok := backupOf(path); ok {
		return []plannedFile{{path: path, family: family, at: at}}, nil
	}
	backups, err := Backups(path)
	var out []plannedFile
	for _, b := range backups {
		_, at, _ := backupOf(b)
		out = append(out, plannedFile{path: b, family: path, at: at})
	}
	return append(out, plannedFile{path: path, family: path, live: true, backups: len(backups)}), err
}

// backupOf says whether path is named as a rotated backup, of which live
// file, and when it was rotated.
func backupOf(path string) (family string, at time.Time, ok bool) {
	dir, name := filepath.Split(path)
	rest := trimCompressed(name)
	// lumberjack: <stem>-<2006-01-02T15-04-05.000><ext>
	for cut := 1; cut+len(backupLayout) <= len(rest); cut++ {
		stem, ext := rest[:cut-1], rest[cut+len(backupLayout):]
		if rest[cut-1] != '-' || ext != "" && ext[0] != '.' {
			continue
		}
		if at, ok := lumberjackTime(rest, stem, ext); ok {
			return dir + stem + ext, at, true
		}
	}
	// kubelet: <name>.<20060102-150405>
	if i := strings.LastIndex(rest, "."); i > 0 {
		if at, err := time.Parse("20060102-150405", rest[i+1:]); err == nil {
			return dir + rest[:i], at, true
		}
	}
	return "", time.Time{}, false
}

// orderFiles drops files named twice (by path or by identity: a shell glob
// and a live file's backups often overlap) and puts each family's files in
// rotation order, backups oldest first, the live file last; families keep the
// order in which they were first named.
func orderFiles(files []plannedFile) []plannedFile {
	familyRank := map[string]int{}
	for _, f := range files {
		key := filepath.Clean(f.family)
		if _, ok := familyRank[key]; !ok {
			familyRank[key] = len(familyRank)
		}
	}
	var kept []plannedFile
	var infos []os.FileInfo
next:
	for _, f := range files {
		fi, statErr := os.Stat(f.path)
		for i, k := range kept {
			if filepath.Clean(k.path) == filepath.Clean(f.path) || statErr == nil && infos[i] != nil && os.SameFile(infos[i], fi) {
				if f.live && !k.live { // named live after being listed as a backup: keep it live
					kept[i].live, kept[i].backups = true, f.backups
				}
				continue next
			}
		}
		kept = append(kept, f)
		if statErr != nil {
			fi = nil
		}
		infos = append(infos, fi)
	}
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i], kept[j]
		if ra, rb := familyRank[filepath.Clean(a.family)], familyRank[filepath.Clean(b.family)]; ra != rb {
			return ra < rb
		}
		if a.live != b.live {
			return b.live
		}
		return a.at.Before(b.at)
	})
	return kept
}
