//go:build !unix

package filter

// cpuTime is not measured here; cpu-ns/req then reads 0.
func cpuTime() int64 { return 0 }
