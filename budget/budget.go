// Package budget is what kauditui may take of a machine while it reads:
// the memory budget (--max-memory, or what the machine or its cgroup has
// available), the Go memory limit kept within it (HeapLimit), and the low
// CPU and IO priority on a control-plane node (--priority).
package budget

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

// Memory and priority on a control-plane node: kauditui is run on a master
// during an incident, where etcd and the apiserver need the memory and the
// CPU. What kauditui may take is a budget: a quarter of the memory the
// machine (or its cgroup) has available, at most 1 GiB, or --max-memory.
// The Go memory limit is set from it, the in-memory part of the spool is
// sized from it, and near it what can be read back again (the spool's
// lines) goes to disk, and the user is told. On a control-plane node the
// trail is read at low CPU and IO priority.

// maxDefaultBudget caps the default budget.
const maxDefaultBudget = 1 << 30

// minBudget is the least budget kauditui runs in: below it a streaming
// query's own working set (the read-ahead, the requests in flight) does
// not fit.
const minBudget = 64 << 20

// sysRoot is where /proc and /sys are read from (a test points it at a
// crafted tree).
var sysRoot = "/"

// Flags are --max-memory and --priority, for the explorer and query.
// Manifest is the apiserver manifest whose existence marks a control-plane
// node (kubeadm's, set by main).
type Flags struct {
	MaxMemory string
	Priority  string
	Manifest  string
}

// Register adds --max-memory and --priority to fs.
func (m *Flags) Register(fs *pflag.FlagSet) {
	fs.StringVar(&m.MaxMemory, "max-memory", "", "the most memory to use, e.g. 300MiB or 1GiB (default: a quarter of the memory available, at most 1 GiB); near it, lines kept for reading back go to disk")
	fs.StringVar(&m.Priority, "priority", "auto", "CPU and IO priority while reading: low, normal, or auto (low on a control-plane node)")
}

// Budget is what kauditui may use.
type Budget struct {
	Limit int64  // bytes
	Why   string // how it was found, for messages
}

// Budget computes the budget from --max-memory or what is available. Its
// error is a usage error's one line.
func (m *Flags) Budget() (Budget, error) {
	if m.MaxMemory != "" {
		n, err := parseBytes(m.MaxMemory)
		if err != nil {
			return Budget{}, fmt.Errorf("--max-memory %q: %v (e.g. 300MiB, 1GiB)", m.MaxMemory, err)
		}
		if n < minBudget {
			return Budget{}, fmt.Errorf("--max-memory %s is too little: kauditui needs at least %d MiB", m.MaxMemory, minBudget>>20)
		}
		return Budget{Limit: n, Why: "--max-memory"}, nil
	}
	avail, from := availableMemory()
	if avail <= 0 {
		return Budget{Limit: maxDefaultBudget, Why: "the default (the available memory is unknown)"}, nil
	}
	b := min(avail/4, maxDefaultBudget)
	b = max(b, minBudget)
	return Budget{Limit: b, Why: fmt.Sprintf("a quarter of the %d MiB available (%s)", avail>>20, from)}, nil
}

func (b Budget) String() string { return fmt.Sprintf("%d MiB", b.Limit>>20) }

// parseBytes reads a size: a number with an optional unit (B, K/KB/KiB,
// M/MB/MiB, G/GB/GiB, T...; units are powers of 1024).
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("not a size")
	}
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "b"), "i")
	mult := map[string]float64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("unknown unit %q", strings.TrimSpace(t[i:]))
	}
	if v*mult > 1<<50 {
		return 0, fmt.Errorf("too large")
	}
	return int64(v * mult), nil
}

// availableMemory is the memory kauditui could take without pushing
// others out: MemAvailable of /proc/meminfo, or less when a cgroup limit
// (v2 memory.max, v1 memory.limit_in_bytes, of this process's cgroup or
// one above it) leaves less room; 0 when nothing says.
func availableMemory() (int64, string) {
	var best int64
	from := ""
	if v := memAvailable(); v > 0 {
		best, from = v, "MemAvailable"
	}
	if room, what := cgroupRoom(); room > 0 && (best == 0 || room < best) {
		best, from = room, what
	}
	return best, from
}

func memAvailable() int64 {
	f, err := os.Open(filepath.Join(sysRoot, "proc/meminfo"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemAvailable:")); ok {
			fs := strings.Fields(string(rest))
			if len(fs) >= 1 {
				if n, err := strconv.ParseInt(fs[0], 10, 64); err == nil {
					return n << 10 // kB
				}
			}
		}
	}
	return 0
}

// cgroupRoom is the tightest cgroup limit on this process less what its
// cgroup uses, and which file said so.
func cgroupRoom() (int64, string) {
	data, err := os.ReadFile(filepath.Join(sysRoot, "proc/self/cgroup"))
	if err != nil {
		return 0, ""
	}
	var best int64
	from := ""
	consider := func(limit, used int64, what string) {
		if limit <= 0 || limit >= 1<<60 {
			return // "max", or v1's "no limit" (a huge page-rounded number)
		}
		if room := max(limit-used, 0); best == 0 || room < best {
			best, from = max(room, 1), what
		}
	}
	for _, ln := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(ln, ":", 3)
		if len(parts) != 3 {
			continue
		}
		ctrls, path := parts[1], parts[2]
		switch {
		case parts[0] == "0" && ctrls == "":
			// v2: the unified hierarchy, limits on the cgroup or above it
			for _, root := range []string{"sys/fs/cgroup", "sys/fs/cgroup/unified"} {
				for dir := path; ; dir = filepath.Dir(dir) {
					d := filepath.Join(sysRoot, root, dir)
					used := readCgroupInt(filepath.Join(d, "memory.current"))
					consider(readCgroupInt(filepath.Join(d, "memory.max")), used, "cgroup memory.max")
					if dir == "/" || dir == "." {
						break
					}
				}
			}
		case hasController(ctrls, "memory"):
			// v1: the memory controller's hierarchy; in a container it is
			// often mounted at its own cgroup
			for _, d := range []string{filepath.Join(sysRoot, "sys/fs/cgroup/memory", path), filepath.Join(sysRoot, "sys/fs/cgroup/memory")} {
				used := readCgroupInt(filepath.Join(d, "memory.usage_in_bytes"))
				consider(readCgroupInt(filepath.Join(d, "memory.limit_in_bytes")), used, "cgroup memory.limit_in_bytes")
			}
		}
	}
	return best, from
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// readCgroupInt reads a cgroup file holding one number; 0 for "max", a
// missing file or anything else.
func readCgroupInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// SpoolMemory is how much of the spool (lines of gzip, stdin and CRI
// inputs kept for reading back) may stay in memory within the budget.
func (b Budget) SpoolMemory() int64 { return min(64<<20, b.Limit/8) }

// HeapLimit keeps the Go memory limit above the live heap and within the
// budget: the one place that sets it while kauditui reads. A limit the live
// heap reached would make the collector run without pause, several times
// slower on a busy machine, so it is raised with the live heap (the set
// that recognises repeats grows 12 bytes a request), up to the budget.
// Near the budget, it sheds what can be read back (Shed) once and says so
// (Tell).
type HeapLimit struct {
	Shed func() string // gives up what can be read back; says what (or "")
	Tell func(string)  // tells the user, once

	mu     sync.Mutex
	limit  int64
	budget Budget
	sample [1]metrics.Sample
	told   bool  // near the budget: shed and said
	over   bool  // over it: said
	user   bool  // GOMEMLIMIT is the user's: never set
	prev   int64 // the limit before, put back by Restore
}

// limitRoom is the least room above the live heap the limit leaves for
// garbage: the collector then runs about once per limitRoom allocated.
const limitRoom = 24 << 20

// NewHeapLimit sets the memory limit to start (at most the budget), unless
// GOMEMLIMIT is set (getenv may be nil: then it is not). Call Restore when
// done.
func NewHeapLimit(b Budget, start int64, getenv func(string) string) *HeapLimit {
	if b.Limit <= 0 {
		b = Budget{Limit: maxDefaultBudget, Why: "the default"}
	}
	h := &HeapLimit{budget: b, limit: min(start, b.Limit)}
	if getenv != nil && getenv("GOMEMLIMIT") != "" {
		h.user = true
		return h
	}
	h.prev = debug.SetMemoryLimit(h.limit)
	return h
}

// Restore puts back the limit there was before.
func (h *HeapLimit) Restore() {
	if h != nil && !h.user {
		debug.SetMemoryLimit(h.prev)
	}
}

// Watch checks the heap every quarter second until stop is called: for
// loads that do not call Check themselves (a full store).
func (h *HeapLimit) Watch() (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				h.Check()
			}
		}
	}()
	return sync.OnceFunc(func() {
		close(done)
		<-finished
	})
}

// Hold keeps the Go memory limit at the budget while an index is held
// (the explorer's, read in the background) and checks the heap every
// quarter second until stop, which puts the limit back. Near the budget it
// sheds, warns with what HeapLimit says and notes, for a status bar,
// "memory near its budget" (past it, "memory over its budget"). A nil
// getenv is os.Getenv.
func Hold(b Budget, getenv func(string) string, shed func() string, warn, note func(string)) (stop func()) {
	if getenv == nil {
		getenv = os.Getenv
	}
	h := NewHeapLimit(b, b.Limit, getenv)
	h.Shed = shed
	h.Tell = func(msg string) {
		warn(msg)
		if h.over {
			note("memory over its budget")
		} else {
			note("memory near its budget")
		}
	}
	stopWatch := h.Watch()
	return func() {
		stopWatch()
		h.Restore()
	}
}

// growingGC is the collector's GOGC while a heap only grows.
const growingGC = 20

// GrowingHeap is for the explorer's first read of a trail: the heap only
// grows then (every request becomes a row of the index, mostly memory
// without pointers, cheap to collect), and at the default GOGC of 100 the
// collector lets it reach twice what is live: 746 MiB at the peak for 434
// settled on a 10 GB trail, 506 at GOGC 25, 488 at 20 and no slower
// (hack/bench-explorer.sh). It sets GOGC to 20 unless GOGC is the user's
// (a nil getenv is os.Getenv); the func it returns, called when the read is
// done, puts it back and gives what is no longer needed back to the system
// in the background (the explorer is in use).
func GrowingHeap(getenv func(string) string) (done func()) {
	if getenv == nil {
		getenv = os.Getenv
	}
	prev, set := 0, getenv("GOGC") == ""
	if set {
		prev = debug.SetGCPercent(growingGC)
	}
	return func() {
		if set {
			debug.SetGCPercent(prev)
		}
		go debug.FreeOSMemory()
	}
}

// live is the live heap as the last collection measured it.
func (h *HeapLimit) live() int64 {
	h.sample[0].Name = "/gc/heap/live:bytes"
	metrics.Read(h.sample[:])
	if h.sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(h.sample[0].Value.Uint64())
}

// Check raises the limit when the live heap comes within limitRoom of it,
// up to the budget; near the budget it sheds and tells, once; past it
// (what is held cannot be read back: the requests themselves) it tells
// that too, once.
func (h *HeapLimit) Check() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	live := h.live()
	if !h.user && live > h.limit-limitRoom && h.limit < h.budget.Limit {
		h.limit = min(live+2*limitRoom, h.budget.Limit)
		debug.SetMemoryLimit(h.limit)
	}
	if live >= h.budget.Limit*8/10 && !h.told {
		h.told = true
		what := ""
		if h.Shed != nil {
			what = h.Shed()
		}
		debug.FreeOSMemory()
		msg := fmt.Sprintf("memory: %d MiB in use, near the budget of %s (%s)", live>>20, h.budget, h.budget.Why)
		if what != "" {
			msg += "; " + what
		}
		if h.Tell != nil {
			h.Tell(msg)
		}
		live = h.live()
	}
	if live > h.budget.Limit && !h.over {
		h.over = true
		if h.Tell != nil {
			h.Tell(fmt.Sprintf("memory: %d MiB in use, over the budget of %s (%s): what was read cannot be given up; --max-memory raises the budget, -q or fewer SOURCEs need less", live>>20, h.budget, h.budget.Why))
		}
	}
}

// Priority.

// ControlPlane is onControlPlane (a variable: the tests of the commands
// run on machines where an apiserver may be running).
var ControlPlane = onControlPlane

// onControlPlane reports whether this machine runs (or is set up to run)
// the control plane: the apiserver manifest (kubeadm's) exists, or a
// kube-apiserver or etcd process is visible.
func onControlPlane(manifest string) (bool, string) {
	if manifest != "" {
		if _, err := os.Stat(manifest); err == nil {
			return true, manifest + " exists"
		}
	}
	procs, _ := filepath.Glob(filepath.Join(sysRoot, "proc/[0-9]*/comm"))
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		switch name := strings.TrimSpace(string(b)); name {
		case "kube-apiserver", "etcd":
			return true, "the process " + name + " runs here"
		}
	}
	return false, ""
}

// lowPriority lowers the CPU (nice 19) and IO (best-effort, level 7: the
// lowest that is still served when the disk is busy, where the idle class
// could wait forever) priority of every thread of the process. On Linux
// both are per thread; threads made later inherit them from the thread that
// makes them, so every existing one is set (twice over, for threads born
// meanwhile).
func lowPriority() error {
	const (
		ioprioWhoProcess = 1
		ioprioClassBE    = 2
		ioprioClassShift = 13
	)
	seen := map[int]bool{}
	var firstErr error
	for round := 0; round < 3; round++ {
		tids, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		fresh := false
		for _, t := range tids {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || seen[tid] {
				continue
			}
			seen[tid], fresh = true, true
			if err := unix.Setpriority(unix.PRIO_PROCESS, tid, 19); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("setpriority: %v", err)
			}
			if _, _, e := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, uintptr(tid), ioprioClassBE<<ioprioClassShift|7); e != 0 && firstErr == nil {
				firstErr = fmt.Errorf("ioprio_set: %v", e)
			}
		}
		if !fresh {
			break
		}
	}
	return firstErr
}

// Validate checks the flags' values before anything is read. Its error is
// a usage error's one line.
func (m *Flags) Validate() error {
	switch m.Priority {
	case "low", "normal", "auto", "":
	default:
		return fmt.Errorf("--priority %q: use low, normal or auto", m.Priority)
	}
	_, err := m.Budget()
	return err
}

// ApplyPriority lowers the priority when asked to, or (auto) on a
// control-plane node, and says so with tell; lowered is whether it did. It
// is for reading a trail of files on this machine.
func (m *Flags) ApplyPriority(tell func(string)) (lowered bool) {
	if m.Priority == "normal" {
		return false
	}
	why := "--priority low"
	if m.Priority != "low" {
		cp, what := ControlPlane(m.Manifest)
		if !cp {
			return false
		}
		why = "this is a control-plane node (" + what + ")"
	}
	if err := SetLowPriority(); err != nil {
		tell(fmt.Sprintf("could not lower the CPU and IO priority (%v): %s", err, why))
		return false
	}
	tell(fmt.Sprintf("reading at low CPU and IO priority (nice 19, IO best-effort 7): %s; --priority normal reads at full speed", why))
	return true
}

// SetLowPriority is lowPriority (a variable so that tests of the commands
// leave the test process's priority alone).
var SetLowPriority = lowPriority
