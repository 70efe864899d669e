package e2e

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Main runs run and, when it fails, says "name: FAIL: err" on stderr and
// exits 1.
func Main(name string, run func() error) {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, name+": FAIL:", err)
		os.Exit(1)
	}
}

// WaitUntil polls ok every 20 ms until it holds, or fails after limit
// saying what it waited for.
func WaitUntil(limit time.Duration, ok func() bool, what string) error {
	end := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(end) {
			return fmt.Errorf("%s: not after %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// SelfCPU is the CPU time this process has used (user and system).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ProcCPU is the CPU time of pid (utime+stime in /proc/pid/stat, in clock
// ticks of 10 ms); 0 for pid 0 or a process that is gone.
func ProcCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * 10 * time.Millisecond
}
