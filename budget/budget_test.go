package budget

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSys writes a crafted /proc and /sys tree (files: path -> content)
// and points sysRoot at it for the test.
func fakeSys(t *testing.T, files map[string]string) {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := sysRoot
	sysRoot = root
	t.Cleanup(func() { sysRoot = old })
}

func meminfo(availMiB int64) string {
	return fmt.Sprintf("MemTotal:        2000000 kB\nMemFree:          100000 kB\nMemAvailable:   %8d kB\n", availMiB<<10)
}

// The budget is a quarter of what is really available, at most 1 GiB: a
// cgroup's limit (v2 on the cgroup or above it, v1) less what it uses
// when that is tighter than MemAvailable (crafted /proc and /sys trees of
// a kubelet pod, a docker container, a bare 2 GB master, a big machine).
func TestBudgetIsAQuarterOfWhatIsAvailable(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name  string
		files map[string]string
		flag  string
		want  int64
		why   string
	}{
		{"cgroup v2 limit above the cgroup", map[string]string{
			"proc/meminfo":                                   meminfo(8000),
			"proc/self/cgroup":                               "0::/kubepods/pod1/c1\n",
			"sys/fs/cgroup/kubepods/pod1/memory.max":         "536870912\n", // 512 MiB
			"sys/fs/cgroup/kubepods/pod1/memory.current":     "117440512\n", // 112 MiB
			"sys/fs/cgroup/kubepods/pod1/c1/memory.max":      "max\n",
			"sys/fs/cgroup/kubepods/pod1/c1/memory.current":  "117440512\n",
			"sys/fs/cgroup/kubepods/memory.max":              "max\n",
			"sys/fs/cgroup/kubepods/pod1/c1/memory.pressure": "",
		}, "", 100 * mib, "cgroup memory.max"},
		{"cgroup v1 limit", map[string]string{
			"proc/meminfo":     meminfo(16000),
			"proc/self/cgroup": "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "2147483648\n",
			"sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes": "0\n",
		}, "", 512 * mib, "cgroup memory.limit_in_bytes"},
		{"v1 without a limit", map[string]string{
			"proc/meminfo":     meminfo(1536),
			"proc/self/cgroup": "4:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n",
		}, "", 384 * mib, "MemAvailable"},
		{"a big machine: at most 1 GiB", map[string]string{
			"proc/meminfo": meminfo(64000),
		}, "", 1024 * mib, "MemAvailable"},
		{"--max-memory", map[string]string{"proc/meminfo": meminfo(1536)}, "300MiB", 300 * mib, "--max-memory"},
		{"--max-memory in G", map[string]string{"proc/meminfo": meminfo(1536)}, "1.5G", 1536 * mib, "--max-memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeSys(t, tc.files)
			m := Flags{MaxMemory: tc.flag, Priority: "auto"}
			b, err := m.Budget()
			if err != nil {
				t.Fatal(err)
			}
			if b.Limit != tc.want || !strings.Contains(b.Why, tc.why) {
				t.Errorf("budget %d MiB (%s), want %d MiB (%s)", b.Limit>>20, b.Why, tc.want>>20, tc.why)
			}
		})
	}
}

// lowPriority lowers every thread of the process, those there are and
// those made after (run in a child process: priority cannot be raised
// back without privileges).
func TestLowPriorityLowersEveryThread(t *testing.T) {
	if os.Getenv("KAUDITUI_TEST_LOWPRIO") == "1" {
		if err := lowPriority(); err != nil {
			fmt.Println("error:", err)
			return
		}
		// new threads, made after
		var wg sync.WaitGroup
		ready, hold := make(chan struct{}), make(chan struct{})
		for range 4 {
			wg.Go(func() {
				runtime.LockOSThread()
				ready <- struct{}{}
				<-hold
			})
		}
		for range 4 {
			<-ready
		}
		tids, _ := os.ReadDir("/proc/self/task")
		for _, d := range tids {
			tid, _ := strconv.Atoi(d.Name())
			nice, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
			io, _, _ := unix.Syscall(unix.SYS_IOPRIO_GET, 1, uintptr(tid), 0)
			fmt.Printf("thread %d nice %d ioprio %d/%d %v\n", tid, 20-nice, io>>13, io&0xff, err)
		}
		close(hold)
		wg.Wait()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLowPriorityLowersEveryThread$")
	cmd.Env = append(os.Environ(), "KAUDITUI_TEST_LOWPRIO=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	n := 0
	for _, ln := range strings.Split(string(out), "\n") {
		if !strings.HasPrefix(ln, "thread ") {
			continue
		}
		n++
		if !strings.Contains(ln, " nice 19 ioprio 2/7 <nil>") {
			t.Errorf("%s: want nice 19, IO best-effort 7", ln)
		}
	}
	if n < 5 {
		t.Errorf("%d threads seen, want at least 5:\n%s", n, out)
	}
}

// Near the budget the heap limit gives up what can be read back once and
// says what, and how much is in use; it never sets the limit above the
// budget, nor at all when GOMEMLIMIT is the user's.
func TestHeapLimitShedsNearTheBudget(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	b := Budget{Limit: 64 << 20, Why: "--max-memory"}
	var told []string
	shed := 0
	h := NewHeapLimit(b, 32<<20, func(string) string { return "" })
	defer h.Restore()
	h.Shed = func() string {
		shed++
		return "9 MiB of lines kept for reading back (gzip, stdin) moved to a temporary file"
	}
	h.Tell = func(s string) { told = append(told, s) }
	if got := debug.SetMemoryLimit(-1); got != 32<<20 {
		t.Errorf("limit %d, want 32 MiB", got)
	}
	debug.SetMemoryLimit(32 << 20)
	hold := make([]byte, 56<<20) // live: over 80% of the budget
	for i := range hold {
		hold[i] = byte(i)
	}
	runtime.GC()
	h.Check()
	h.Check()
	runtime.KeepAlive(hold)
	if shed != 1 || len(told) != 1 || !strings.Contains(told[0], "near the budget of 64 MiB (--max-memory); 9 MiB of lines kept for reading back (gzip, stdin) moved to a temporary file") {
		t.Errorf("shed %d times, told %q", shed, told)
	}
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("limit %d MiB, want the budget, 64 MiB", got>>20)
	}
	// past the budget: said once more, with what to do
	more := make([]byte, 16<<20)
	for i := range more {
		more[i] = byte(i)
	}
	runtime.GC()
	h.Check()
	h.Check()
	runtime.KeepAlive(hold)
	runtime.KeepAlive(more)
	if shed != 1 || len(told) != 2 || !strings.Contains(told[1], "over the budget of 64 MiB (--max-memory): what was read cannot be given up; --max-memory raises the budget") {
		t.Errorf("past the budget: shed %d times, told %q", shed, told)
	}

	debug.SetMemoryLimit(5 << 30)
	u := NewHeapLimit(b, 32<<20, func(k string) string { return map[string]string{"GOMEMLIMIT": "5GiB"}[k] })
	u.Check()
	u.Restore()
	if got := debug.SetMemoryLimit(-1); got != 5<<30 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d", got)
	}
}

// The explorer's hold on the heap: near the budget its watch sheds once,
// warns, and notes "memory near its budget" for the status bar; stop puts
// back the limit there was.
func TestHoldNotesNearTheBudget(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	debug.SetMemoryLimit(5 << 30)
	var mu sync.Mutex
	var warned, noted []string
	shed := 0
	stop := Hold(Budget{Limit: 64 << 20, Why: "--max-memory"}, func(string) string { return "" },
		func() string { shed++; return "" },
		func(s string) { mu.Lock(); warned = append(warned, s); mu.Unlock() },
		func(s string) { mu.Lock(); noted = append(noted, s); mu.Unlock() })
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("limit %d MiB while held, want the budget, 64 MiB", got>>20)
	}
	hold := make([]byte, 56<<20) // live: over 80% of the budget
	for i := range hold {
		hold[i] = byte(i)
	}
	runtime.GC()
	for range 40 {
		mu.Lock()
		n := len(noted)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	runtime.KeepAlive(hold)
	stop()
	if shed != 1 || len(warned) != 1 || !strings.Contains(warned[0], "near the budget of 64 MiB (--max-memory)") || len(noted) != 1 || noted[0] != "memory near its budget" {
		t.Errorf("shed %d times, warned %q, noted %q", shed, warned, noted)
	}
	if got := debug.SetMemoryLimit(-1); got != 5<<30 {
		t.Errorf("after stop the limit is %d MiB, want the one before", got>>20)
	}
}

// The explorer's first read keeps the heap near what is live (GOGC 20:
// 488 MiB at the peak on a 10 GB trail where GOGC 100 took 746), then puts
// the collector back; a GOGC the user set is left alone.
func TestGrowingHeapCollectsOftenWhileReading(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	done := GrowingHeap(func(string) string { return "" })
	if got := debug.SetGCPercent(growingGC); got != growingGC {
		t.Fatalf("while reading GOGC is %d, want %d", got, growingGC)
	}
	done()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after the read GOGC is %d, want 100 back", got)
	}

	done = GrowingHeap(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set by the user: kauditui changed the collector to %d", got)
	}
	done()
}
