package ui

import (
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// Progress is shared between the loader (which writes) and the explorer
// (which reads it on every tick).
type Progress struct {
	read, total atomic.Int64
	live        atomic.Bool // the history is read and the sources are followed
	mu          sync.Mutex
	warnings    []string
	streams     map[streamKey]streamState // the live streams: pods' logs, nodes' files
	notes       map[string]string         // short states the status bar shows, by what they are of
}

// Note sets a short state the status bar shows for as long as it holds
// ("low priority", "memory 200/256 MiB"), by key; an empty text removes it.
func (p *Progress) Note(key, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.notes == nil {
		p.notes = map[string]string{}
	}
	if text == "" {
		delete(p.notes, key)
		return
	}
	p.notes[key] = text
}

// noteSummary is the notes, in the order of their keys.
func (p *Progress) noteSummary() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([]string, 0, len(p.notes))
	for k := range p.notes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, p.notes[k])
	}
	return strings.Join(parts, ", ")
}

// streamKey names a live stream: its kind ("pods", "nodes") and name.
type streamKey struct{ kind, name string }

// streamKinds are the kinds of stream, in the status bar's order.
var streamKinds = []string{"pods", "nodes"}

// streamStates are the states a stream is in (source.StreamState's
// vocabulary, for pods and nodes alike), in the status bar's order.
var streamStates = []string{"streaming", "reconnecting", "forbidden", "gone", "done"}

// streamState is what the loader last said of one live stream.
type streamState struct {
	state string // one of streamStates
	retry time.Time
	err   string
}

// Stream records the state of a pod's log stream (source.PodOptions.State):
// the status bar counts the streams by state.
func (p *Progress) Stream(pod, state string, retryIn time.Duration, err string) {
	p.setStream(streamKey{"pods", pod}, state, retryIn, err)
}

// NodeStream records the state of a node's audit log file, followed
// through the node proxy (source.NodeOptions.State): counted as the pods'
// streams are.
func (p *Progress) NodeStream(node, state string, retryIn time.Duration, err string) {
	p.setStream(streamKey{"nodes", node}, state, retryIn, err)
}

func (p *Progress) setStream(k streamKey, state string, retryIn time.Duration, err string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.streams == nil {
		p.streams = map[streamKey]streamState{}
	}
	st := streamState{state: state, err: err}
	if retryIn > 0 {
		st.retry = time.Now().Add(retryIn)
	}
	p.streams[k] = st
}

// Live records that the history is read and the sources are followed
// (source.Options.Live): the status bar says "following", not "loading".
func (p *Progress) Live() { p.live.Store(true) }

// streamSummary is "pods: 2 streaming, 1 reconnecting in 4s", then
// "; nodes: ..." ("" without streams).
func (p *Progress) streamSummary(now time.Time) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var kinds []string
	for _, kind := range streamKinds {
		count := map[string]int{}
		var retry time.Time
		for k, st := range p.streams {
			if k.kind != kind {
				continue
			}
			count[st.state]++
			if st.state == "reconnecting" && (retry.IsZero() || st.retry.Before(retry)) {
				retry = st.retry
			}
		}
		var parts []string
		for _, s := range streamStates {
			if n := count[s]; n > 0 {
				part := strconv.Itoa(n) + " " + s
				if s == "reconnecting" && !retry.IsZero() {
					part += " in " + strconv.Itoa(max(0, int(retry.Sub(now).Round(time.Second).Seconds()))) + "s"
				}
				parts = append(parts, part)
			}
		}
		if len(parts) > 0 {
			kinds = append(kinds, kind+": "+strings.Join(parts, ", "))
		}
	}
	return strings.Join(kinds, "; ")
}

// Set records how far the loader is: bytes read of total (total 0: unknown).
// It matches source.Options.Progress.
func (p *Progress) Set(read, total int64) {
	p.read.Store(read)
	p.total.Store(total)
}

// Get returns the bytes read and the total.
func (p *Progress) Get() (read, total int64) { return p.read.Load(), p.total.Load() }

// Warn records a loader warning (source.Options.Warn).
func (p *Progress) Warn(msg string) {
	p.mu.Lock()
	p.warnings = append(p.warnings, msg)
	p.mu.Unlock()
}

// Warnings returns the warnings so far.
func (p *Progress) Warnings() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.warnings...)
}

// statusInfo is what the status bar shows.
type statusInfo struct {
	Sources      []string
	Shown, Total int
	Cursor       int // 1-based position in the list, 0 when empty
	Klog, Other  int
	SharedIDs    int    // requests whose auditID another request carries too
	Streams      string // the live streams (pods, nodes) by state
	Source       sourceState
	Paused       bool // following, the list does not stick to the newest request
	Read, Size   int64
	Rate         float64 // events per second
	Message      string
	MessageErr   bool
	Warnings     int
	Notes        string // Progress.Note: low priority, memory near the budget
}

// sourceState is what the sources do now, as the status bar tells it.
type sourceState int

const (
	sourceLoading   sourceState = iota // the history is being read
	sourceFollowing                    // read, and followed: what is appended shows up
	sourceSnapshot                     // read, and not followed (--no-follow, stdin, backups alone)
	sourceEnded                        // it was followed, and the loader ended (or failed)
)

// renderStatus draws the status bar, exactly width cells wide. Parts are
// dropped from the right end when they do not fit; the message goes first.
func renderStatus(st *styles, in statusInfo, width int) string {
	sep := st.StatusKey.Render(" │ ")
	var parts []string
	kv := func(v, k string) string {
		return st.StatusValue.Render(v) + st.StatusKey.Render(" "+k)
	}
	if len(in.Sources) > 0 {
		src := sanitize(filepath.Base(in.Sources[0]))
		if len(in.Sources) > 1 {
			src += " +" + strconv.Itoa(len(in.Sources)-1)
		}
		parts = append(parts, st.StatusValue.Render(src))
	}
	req := thousands(in.Shown)
	if in.Shown != in.Total {
		req += "/" + thousands(in.Total)
	}
	parts = append(parts, kv(req, "req"))
	if in.Cursor > 0 {
		parts = append(parts, st.StatusKey.Render("row ")+st.StatusValue.Render(thousands(in.Cursor)))
	}
	if in.SharedIDs > 0 {
		// a client chose an auditID another request has: each is its own row
		parts = append(parts, st.StatusError.Render(thousands(in.SharedIDs)+" shared IDs"))
	}
	parts = append(parts, kv(thousands(in.Klog), "klog"))
	if in.Other > 0 {
		parts = append(parts, kv(thousands(in.Other), "other"))
	}
	switch in.Source {
	case sourceLoading:
		p := "loading"
		if in.Size > 0 {
			pct := int(in.Read * 100 / max(1, in.Size))
			p += " " + progressBar(pct, 10) + " " + strconv.Itoa(pct) + "%"
		} else if in.Read > 0 {
			p += " " + humanBytes(in.Read)
		}
		parts = append(parts, st.Progress.Render(p))
	case sourceFollowing:
		if in.Paused {
			parts = append(parts, st.StatusKey.Render("○ paused (p)"))
		} else {
			parts = append(parts, st.Follow.Render("● following"))
		}
	case sourceSnapshot:
		parts = append(parts, st.StatusKey.Render("snapshot"))
	case sourceEnded:
		parts = append(parts, st.StatusError.Render("■ source ended"))
	}
	if in.Streams != "" {
		parts = append(parts, st.StatusKey.Render(in.Streams))
	}
	if in.Notes != "" {
		parts = append(parts, st.StatusKey.Render(sanitize(in.Notes)))
	}
	if in.Rate >= 1 && (in.Source == sourceLoading || in.Source == sourceFollowing) {
		parts = append(parts, kv(humanCount(in.Rate), "ev/s"))
	}
	if in.Warnings > 0 {
		parts = append(parts, st.StatusError.Render(strconv.Itoa(in.Warnings)+" warning(s)"))
	}
	var b strings.Builder
	b.WriteString(st.StatusKey.Render(" "))
	used := 1
	if in.Message != "" {
		ms := st.StatusInfo
		if in.MessageErr {
			ms = st.StatusError
		}
		m := ansi.Truncate(in.Message, max(0, width-2), "…")
		b.WriteString(ms.Render(m))
		used += ansi.StringWidth(m)
		parts = parts[:0]
		if used+3 < width {
			b.WriteString(sep)
			used += 3
		}
	}
	for i, p := range parts {
		w := ansi.StringWidth(ansi.Strip(p))
		extra := 0
		if i > 0 {
			extra = 3
		}
		if used+extra+w > width {
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
		used += extra + w
	}
	if used < width {
		b.WriteString(st.StatusBar.Render(strings.Repeat(" ", width-used)))
	}
	return ansi.Truncate(b.String(), width, "")
}

func progressBar(pct, w int) string {
	full := min(w, pct*w/100)
	return strings.Repeat("█", full) + strings.Repeat("░", w-full)
}

// thousands writes n with thin separators: 1,234,567.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 || len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

func humanCount(f float64) string {
	switch {
	case f >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 1, 64) + "M"
	case f >= 1e3:
		return strconv.FormatFloat(f/1e3, 'f', 1, 64) + "k"
	}
	return strconv.Itoa(int(f))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}
