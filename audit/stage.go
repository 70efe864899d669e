package audit

import (
	"sync"
	"sync/atomic"
)

// stageID numbers the stage names events carry, so that an EventRef holds
// a byte, not a string. The four stages of audit.k8s.io/v1 come first;
// other names (a log can say anything) are numbered as they come, up to
// stageOther, which stands for every name past the table's room.
type stageID uint8

const stageOther stageID = 255

var stages struct {
	mu    sync.Mutex
	names atomic.Pointer[[]string] // read without the lock; replaced, never changed
	ids   map[string]stageID
}

func init() {
	names := []string{"", "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"}
	stages.ids = map[string]stageID{}
	for i, n := range names {
		stages.ids[n] = stageID(i)
	}
	stages.names.Store(&names)
}

// stageIDOf numbers a stage name.
func stageIDOf(name string) stageID {
	names := *stages.names.Load()
	for i := 0; i < 5; i++ {
		if names[i] == name {
			return stageID(i)
		}
	}
	stages.mu.Lock()
	defer stages.mu.Unlock()
	if id, ok := stages.ids[name]; ok {
		return id
	}
	names = *stages.names.Load()
	if len(names) >= int(stageOther) {
		return stageOther
	}
	id := stageID(len(names))
	grown := append(names[:len(names):len(names)], string([]byte(name))) // name may alias a reader's buffer
	stages.ids[grown[id]] = id
	stages.names.Store(&grown)
	return id
}

// stageName is the name a stageID stands for.
func stageName(id stageID) string {
	if id == stageOther {
		return "(another stage)"
	}
	names := *stages.names.Load()
	if int(id) < len(names) {
		return names[id]
	}
	return ""
}
