// Package source reads kube-apiserver logs into an audit.Store.
//
// # API
//
//	set, err := source.Open(paths, source.Options{Follow, Stdin, Warn, Progress, MaxLine, PollInterval, Keep})
//	set.Inputs()            // []Input{Name, Format, Size}, in reading order
//	set.Load(ctx, store)    // audit events -> AddEvent/AddEventItem, klog -> AddKlog, the rest -> AddOther
//	set.Raw(ref)            // the raw line (or EventList item) again, for detail views and -o json
//	set.Skipped()           // lines refused by Options.Keep
//	set.Close()
//
//	source.Backups(path)                 // rotated backups beside path, oldest first
//	source.Classify(line) Kind           // blank, audit, eventlist, klog, json, bad-json, binary, text
//	source.ParseKlog(line, near)         // klog header line -> audit.KlogLine (year from near)
//	source.ParseCRI(line)                // CRI record -> CRIRecord{Time, Stderr, Partial, Text}
//
// # Inputs
//
// Open expands each path with its rotated backups, oldest first: lumberjack's
// <name>-<2006-01-02T15-04-05.000><ext>[.gz] (kube-apiserver's own rotation)
// and the kubelet's <name>.<20060102-150405>[.gz] (container logs); a backup
// may also end in .zst (read, as zstd data is anywhere) or .xz (named in a
// warning with the xz -dk that makes it readable). "-" is Options.Stdin. A missing live file whose backups exist is a warning, not
// an error; Open fails (one line, saying what to do) only when no input at
// all can be opened, and names the others through Options.Warn.
//
// Gzip is detected by its magic bytes, whatever the name. Each input is
// sniffed: CRI container logs (<RFC3339Nano> <stdout|stderr> <P|F> <text>)
// have their P records joined, per stream, up to the next F. Every line (or
// joined CRI text) is then classified on its own: a JSON audit event, a
// webhook EventList batch (each item merged on its own, its Ref the item's
// bytes inside the line), a klog header line, or other. A line that is not
// JSON and not a klog header, directly after a klog line, continues that
// klog message (up to 1000 lines or 1 MiB). Blank lines are skipped.
// Input.Format says what was found: audit, mixed (audit and klog), klog, cri,
// unknown; prefixed by "gzip+" or "zstd+".
//
// Nothing is fatal and nothing is dropped: invalid JSON, JSON that is not an
// audit event, binary data, unknown text, a line over Options.MaxLine
// (default 128 MiB; the line is skipped without being buffered) and a line
// cut by the end of a truncated .gz are AddOther'd with input, line number
// and reason. An input that fails part-way (truncated gzip, read error) is
// named through Options.Warn and what came before the failure is kept.
//
// # Raw lines and memory
//
// Requests keep audit.Refs, not bytes. Raw reads plain files again with
// ReadAt. Inputs that cannot be read again (stdin, pipes and FIFOs, gzip,
// CRI logs, whose joined lines exist nowhere whole) copy what they keep into
// the set's spool as they are read: audit lines, klog messages with their
// continuation lines, and the first 64 KiB of other lines while a 64 MiB
// budget lasts. A Ref into the spool has a negative Off (raw.go). The first
// Options.SpoolMemory bytes (64 MiB) stay in memory, in pointer-free chunks;
// the rest goes to a temporary file, mode 0600, unlinked as soon as it is
// made, so a gzip bomb costs disk, not memory, and nothing is left behind.
// A line that repeats a stage already read (the store drops it) is taken
// back out of the spool.
//
// # Several inputs
//
// The inputs of one family (a live log and its rotated backups) are read in
// rotation order, one after another. Separate families (two masters' logs,
// stdin beside a file) are read side by side and merged line by line in
// time order (stageTimestamp, the klog or CRI time; lines without a time go
// with the line before them), so the store's requests and klog lines form
// one timeline. Paths that are not regular files (<(cmd), FIFOs,
// /dev/stdin) are read once, as streams; among the backups beside a live
// log, anything that is not a regular file is skipped (a FIFO named like a
// backup would hang open()). Load fails, saying so in one line, when not
// one input could be read; Input counts what each held, and Input.Looks
// says what an input without audit events looks like.
//
// # The apiserver pods' logs
//
// With Options.Pods, Load also streams the kube-apiserver pods' logs through
// the Kubernetes API (StreamPods, pods.go): every pod's history merged by
// time, then, following, each pod in arrival order, reconnecting with backoff
// from the last timestamp seen and dropping what was already handed on; new
// pods join, deleted ones end as gone, and PodOptions.State hears of every
// change. Each pod is an input of its own ("pod NAME on NODE"), kept in the
// spool (podset.go).
//
// With Options.Nodes, other masters' audit files are read through the API
// server's proxy to each kubelet's /logs/ file server (nodefiles.go): a
// node's rotated backups and live file are inputs of one family, so nodes
// merge by time; following, the live file is polled with Range requests
// and a rotation is followed into the backup the old file became.
//
// # JSON streams and other line ends
//
// An input whose first line is "{" or starts with "[" is read as a stream
// of JSON values that may span lines (jq . output, a pretty EventList, an
// array of events): lines are gathered, following the nesting without
// recursion, until the value closes; a value starting at column 0 before
// the last one closed ends that one as an "other" line, so a broken value
// hides nothing after it. An input whose first 64 KiB hold carriage
// returns but no newline has its lone \r read as line ends. JSON lines with
// "ts" and "msg" (--logging-format=json) are the apiserver's log, like klog.
// JSON is validated with a nesting bound (audit.ValidJSON): a line of ten
// million '[' is an other line, not a stack overflow.

// # Follow
//
// With Options.Follow, Load reads every input, then polls the live files
// (not backups, not gzip; stdin is simply read to its end) every
// PollInterval (250ms) for growth until ctx is done, and then returns nil.
// A line still being written (no newline yet) waits for its newline; a klog
// message is handed on once no continuation line came in one poll. Polling
// rather than fsnotify: no new dependency, and it works the same on every
// file system (network mounts, overlay, hostPath) where inotify may not;
// four stat-free reads a second cost nothing. Rotation, truncation, deletion
// and re-creation are followed with tail -F semantics (follow.go).
//
// # Speed
//
// Lines are split by a reader with a growing buffer (1 MiB reads, no
// per-line allocation, no bufio.Scanner limit). Events are read by
// audit.Store in one validating pass (see audit/scan.go); repeated strings
// are interned and kept ones are copied into pointer-free arenas, so a load
// makes about 0.05 allocations per event.
//
// Plain and gzip inputs read to their end are loaded on every core
// (pipeline.go): the reader hands whole buffers of lines to GOMAXPROCS
// workers, which scan the event lines (audit.Prescan), and the loading
// goroutine merges them in input order, so the store is exactly that of a
// sequential load. CRI inputs and followed files are read sequentially.
//
// Options.Keep is asked about every line that starts like JSON before it
// is scanned; a refused line is counted in Set.Skipped and goes no
// further (it is not kept as an "other" line even if it was broken JSON),
// unless it may be the first part of a spliced event (splice.go: it does
// not end with '}' and holds a klog header), whose rest Keep has not seen.
// `kauditui query` passes filter.Filter.Prefilter in one-shot runs, which
// refuses only lines of requests the filter cannot match (see
// filter/prefilter.go), so most lines of a narrow query are never parsed.
//
// BenchmarkLoad measures it on a log made by hack/genlog:
//
//	go run ./hack/genlog -size 100MB        # testdata/big/audit-100MB.log (git-ignored)
//	go test ./source -run XXX -bench Load   # Load, LoadSequential, LoadPrefiltered
//	go run ./hack/genlog -check FILE        # load FILE once: MB/s, counts, heap
//	hack/bench-vs-jq.sh                     # kauditui query --count vs jq vs grep, 1 GB
package source
