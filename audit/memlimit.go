package audit

import (
	"runtime/debug"
	"runtime/metrics"
)

// StreamMemoryLimit is the heap a streaming read (NewStreamingStore) asks
// the collector to stay under: a 1 GB and a 5 GB log both fit in about
// 95 MiB resident (a tighter limit costs a tenth more time in the
// collector).
const StreamMemoryLimit = 72 << 20

// limitRoom is the least room above the live heap the limit leaves for
// garbage: the collector then runs about once per limitRoom allocated.
const limitRoom = 24 << 20

// HeapLimit keeps the memory limit above the live heap. The live heap of a
// streaming read is the requests in flight and the read-ahead, and grows a
// little with the log (the set that recognises repeats, 12 bytes a
// request): a limit it reached would make the collector run without
// pause, several times slower on a busy machine.
type HeapLimit struct {
	limit  int64
	sample [1]metrics.Sample
}

// LimitHeap sets the memory limit to StreamMemoryLimit, unless the user set
// one (GOMEMLIMIT, which getenv reads): then it returns nil. restore puts
// back the limit there was.
func LimitHeap(getenv func(string) string) (h *HeapLimit, restore func()) {
	if getenv("GOMEMLIMIT") != "" {
		return nil, func() {}
	}
	old := debug.SetMemoryLimit(StreamMemoryLimit)
	return &HeapLimit{limit: StreamMemoryLimit}, func() { debug.SetMemoryLimit(old) }
}

// Check raises the limit when the live heap comes within limitRoom of it
// (call it now and then; nil does nothing).
func (h *HeapLimit) Check() {
	if h == nil {
		return
	}
	h.sample[0].Name = "/gc/heap/live:bytes"
	metrics.Read(h.sample[:])
	if h.sample[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	if live := int64(h.sample[0].Value.Uint64()); live > h.limit-limitRoom {
		h.limit = live + 2*limitRoom
		debug.SetMemoryLimit(h.limit)
	}
}
