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

// Done reports whether r has had its last stage: nothing more will be
// logged for it. This is the one rule of "this request is done" that every
// engine calls (the streaming store, the explorer's re-filter, following).
//
//   - ResponseComplete and Panic end every request.
//   - A ResponseStarted 401 ends a request only when authentication failed:
//     the apiserver then logs that stage alone, with no user (the request
//     was never authenticated). A 401 from a backend (a kubelet answering
//     pods/log, exec or nodes/proxy, a proxied service) comes to an
//     authenticated user and is followed by ResponseComplete or Panic,
//     whose code may differ.
//   - Anything else may still get a later stage.
func (r *Request) Done() bool {
	switch r.Stage {
	case "ResponseComplete", "Panic":
		return true
	case "ResponseStarted":
		return r.Code == 401 && r.User == "" && !r.hasStage(stageReceived)
	}
	return false
}

// MayBeDone reports whether r may have had its last stage although Done
// cannot tell: a ResponseStarted with an error (a 401 of an anonymous
// client, a failed exec's 400) ends some requests and not others, so a
// follower waits a while for a later stage before it calls it done.
func (r *Request) MayBeDone() bool {
	return r.Done() || r.Stage == "ResponseStarted" && r.Code >= 400
}

const stageReceived stageID = 1

func (r *Request) hasStage(id stageID) bool {
	for _, e := range r.Events {
		if e.stage == id {
			return true
		}
	}
	return false
}
