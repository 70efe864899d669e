package ui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// subScreen is a component shown in front of a page until it is left (k9s'
// page stack): a request's detail (on the root's stack, in front of the
// page that opened it), an object's history, a user's RBAC, the coverage
// report, the timeline (on the Answers page's stack). It says its own keys.
//
// A screen done with itself (it set a filter and sent the user to another
// page) returns a nil component from Update: the stack pops it.
type subScreen interface {
	component
	ShortHelp() []keyHelp
}

// screenStack is the screens in front of a page, the newest on top. Keys
// go to the top one; the back keys pop it, which shows the one under it or
// the page itself, with its cursor on the row it was on (the page is not
// told: it kept its state while covered).
type screenStack struct {
	screens       []subScreen
	back          []key.Binding // the keys that pop the top screen
	width, height int
}

// push puts s in front, at the stack's size.
func (st *screenStack) push(s subScreen) {
	s.SetSize(st.width, st.height)
	st.screens = append(st.screens, s)
}

// top is the screen in front, or nil.
func (st *screenStack) top() subScreen {
	if len(st.screens) == 0 {
		return nil
	}
	return st.screens[len(st.screens)-1]
}

func (st *screenStack) empty() bool { return len(st.screens) == 0 }

// pop takes the top screen away.
func (st *screenStack) pop() {
	if n := len(st.screens); n > 0 {
		st.screens[n-1] = nil
		st.screens = st.screens[:n-1]
	}
}

// clear takes every screen away (the user went to another page).
func (st *screenStack) clear() {
	for len(st.screens) > 0 {
		st.pop()
	}
}

// SetSize sizes every screen on the stack (and those pushed later).
func (st *screenStack) SetSize(width, height int) {
	st.width, st.height = width, height
	for _, s := range st.screens {
		s.SetSize(width, height)
	}
}

// update sends msg to the top screen; a back key pops it instead. ok is
// false when the stack is empty (msg is the page's).
func (st *screenStack) update(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	s := st.top()
	if s == nil {
		return nil, false
	}
	if k, isKey := msg.(tea.KeyPressMsg); isKey && key.Matches(k, st.back...) {
		st.pop()
		return nil, true
	}
	next, cmd := s.Update(msg)
	if next == nil {
		st.pop()
	} else {
		st.screens[len(st.screens)-1] = next.(subScreen)
	}
	return cmd, true
}
