package main

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
			m := memoryFlags{MaxMemory: tc.flag, Priority: "auto"}
			b, err := m.budget()
			if err != nil {
				t.Fatal(err)
			}
			if b.limit != tc.want || !strings.Contains(b.why, tc.why) {
				t.Errorf("budget %d MiB (%s), want %d MiB (%s)", b.limit>>20, b.why, tc.want>>20, tc.why)
			}
		})
	}
}

// A --max-memory or --priority that is not one is a one-line usage error,
// before anything is read.
func TestMemoryFlagsRefuseNonsense(t *testing.T) {
	log, _ := fileRun(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-memory", "lots"}, `--max-memory "lots": not a size (e.g. 300MiB, 1GiB)`},
		{[]string{"--max-memory", "300 potatoes"}, `unknown unit "potatoes"`},
		{[]string{"--max-memory", "10MiB"}, "is too little: kauditui needs at least 64 MiB"},
		{[]string{"--priority", "high"}, `--priority "high": use low, normal or auto`},
	} {
		r := runQueryTest(t, "", append(tc.args, "--count", log)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := runQueryTest(t, "", "--max-memory", "256MiB", "--count", log); r.code != exitOK || r.stderr != "" {
		t.Errorf("--max-memory 256MiB: exit %d, %q", r.code, r.stderr)
	}
}

// On a control-plane node the trail is read at low priority, and query
// says so on stderr, with the flag that turns it off; --priority normal
// does not lower it; elsewhere nothing is said or done.
func TestLowPriorityOnAControlPlaneNode(t *testing.T) {
	log, _ := fileRun(t)
	lowered := 0
	oldCP, oldSet := controlPlane, setLowPriority
	t.Cleanup(func() { controlPlane, setLowPriority = oldCP, oldSet })
	setLowPriority = func() error { lowered++; return nil }
	cp := true
	controlPlane = func() (bool, string) { return cp, "/etc/kubernetes/manifests/kube-apiserver.yaml exists" }

	r := runQueryTest(t, "", "--count", log)
	if r.code != exitOK || lowered != 1 || !strings.Contains(r.stderr, "kauditui: reading at low CPU and IO priority (nice 19, IO best-effort 7): this is a control-plane node (/etc/kubernetes/manifests/kube-apiserver.yaml exists); --priority normal reads at full speed\n") {
		t.Errorf("on a control-plane node: exit %d, lowered %d times, stderr %q", r.code, lowered, r.stderr)
	}
	lowered = 0
	if r := runQueryTest(t, "", "--priority", "normal", "--count", log); lowered != 0 || r.stderr != "" {
		t.Errorf("--priority normal: lowered %d times, stderr %q", lowered, r.stderr)
	}
	cp = false
	if r := runQueryTest(t, "", "--count", log); lowered != 0 || r.stderr != "" {
		t.Errorf("not a control-plane node: lowered %d times, stderr %q", lowered, r.stderr)
	}
	if r := runQueryTest(t, "", "--priority", "low", "--count", log); lowered != 1 || !strings.Contains(r.stderr, "low CPU and IO priority (nice 19, IO best-effort 7): --priority low;") {
		t.Errorf("--priority low: lowered %d times, stderr %q", lowered, r.stderr)
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
	b := budget{limit: 64 << 20, why: "--max-memory"}
	var told []string
	shed := 0
	h := newHeapLimit(b, 32<<20, func(string) string { return "" })
	defer h.restore()
	h.shed = func() string {
		shed++
		return "9 MiB of lines kept for reading back (gzip, stdin) moved to a temporary file"
	}
	h.tell = func(s string) { told = append(told, s) }
	if got := debug.SetMemoryLimit(-1); got != 32<<20 {
		t.Errorf("limit %d, want 32 MiB", got)
	}
	debug.SetMemoryLimit(32 << 20)
	hold := make([]byte, 56<<20) // live: over 80% of the budget
	for i := range hold {
		hold[i] = byte(i)
	}
	runtime.GC()
	h.check()
	h.check()
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
	h.check()
	h.check()
	runtime.KeepAlive(hold)
	runtime.KeepAlive(more)
	if shed != 1 || len(told) != 2 || !strings.Contains(told[1], "over the budget of 64 MiB (--max-memory): what was read cannot be given up; --max-memory raises the budget") {
		t.Errorf("past the budget: shed %d times, told %q", shed, told)
	}

	debug.SetMemoryLimit(5 << 30)
	u := newHeapLimit(b, 32<<20, func(k string) string { return map[string]string{"GOMEMLIMIT": "5GiB"}[k] })
	u.check()
	u.restore()
	if got := debug.SetMemoryLimit(-1); got != 5<<30 {
		t.Errorf("with GOMEMLIMIT set, the limit became %d", got)
	}
}
