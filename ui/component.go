package ui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
)

// Component is a piece of the screen that can be sized (soft-serve's
// Component). Pages and reusable widgets both implement it.
type Component interface {
	Init() tea.Cmd
	Update(tea.Msg) (Component, tea.Cmd)
	View() string
	SetSize(width, height int)
}

// Page is one screen the root model switches between (requests, detail,
// apiserver log, summary, answers). The root routes messages to the active
// page; a page asks for changes by returning the messages below as commands.
type Page interface {
	Component
	// Title is the tab label.
	Title() string
	// ShortHelp lists the bindings shown in the footer for this page.
	ShortHelp() []KeyHelp
}

// KeyHelp is one key and what it does, as drawn in help views.
type KeyHelp struct{ Key, Desc string }

// Data is what pages read: the demixed store and a way to read raw event
// lines again (for the detail view and bare-word filters).
type Data struct {
	Store *audit.Store
	Raw   func(audit.Ref) ([]byte, error)
}

// Messages pages send to the root (typed messages routed by the root, as in glow).

// SetFilterMsg asks the root to apply a filter expression (and show it in the bar).
type SetFilterMsg struct{ Expr string }

// ShowPageMsg asks the root to switch to a page by its state.
type ShowPageMsg struct{ Page State }

// OpenRequestMsg asks the root to open the detail view of one request.
type OpenRequestMsg struct{ Req *audit.Request }

// State is the root model's state machine: which page is in front.
type State int

const (
	StateRequests State = iota
	StateDetail
	StateKlog
	StateSummary
	StateAnswers
	StateHelp
)
