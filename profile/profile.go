// Package profile writes the CPU and heap profiles that KAUDITUI_CPUPROFILE
// and KAUDITUI_MEMPROFILE name: how the benchmark figures in the README are
// explained.
package profile

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// Start writes a CPU profile to cpu (when set) until stop is called, and
// then the heap's profile to heap (when set). A profile that cannot be
// written is said on standard error; the program runs all the same.
func Start(cpu, heap string) (stop func()) {
	stopCPU := startCPU(cpu)
	return func() {
		stopCPU()
		writeHeap(heap)
	}
}

// writeHeapProfile writes the heap's profile at exit (when path is set).
func writeHeap(path string) {
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kauditui: KAUDITUI_MEMPROFILE:", err)
	}
}

// startProfile writes a CPU profile to path (when set) until stop is called:
// how the benchmark figures in the README are explained.
func startCPU(path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kauditui: KAUDITUI_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
