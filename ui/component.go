package ui

import (
	"time"

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

// ---- Added by the explorer core (root.go, keys.go, styles.go) ----

// Env is what every page is built with: the data, the one style set, the one
// keymap and the clock (fixed in tests). The root builds one Env and passes
// the same pointer to every page constructor:
//
//	NewRequestsPage(env *Env) *RequestsPage   ui/requests.go
//	NewDetailPage(env *Env) *DetailPage       ui/detail.go
//	NewKlogPage(env *Env) Page                ui/klog.go
//	NewSummaryPage(env *Env) Page             ui/summary.go
//	NewAnswersPage(env *Env) Page             ui/answers.go
type Env struct {
	Data   Data
	Styles *Styles // ui/styles.go
	Keys   *KeyMap // ui/keys.go
	Now    func() time.Time
}

// DataMsg is sent by the root to every page (active or not) when the store
// grew or the applied filter changed. Pages keep what they need from it and
// draw from that; they never filter requests themselves.
type DataMsg struct {
	Snap    audit.Snapshot   // the store at this moment (Klog, Other, counts)
	Filter  string           // the applied filter expression ("" = everything)
	Shown   []*audit.Request // the requests matching Filter, in store order
	Reset   bool             // the filter changed (Shown is new, not an extension)
	Loading bool             // the loader is still reading the sources
}

// InputCapturer is implemented by a page that is editing text of its own
// (a prompt, a text filter): while CapturesInput is true the root sends it
// every key except ctrl+c, so global keys (q, /, tab, 1-5, ?) type letters.
type InputCapturer interface {
	CapturesInput() bool
}

// StatusMsg asks the root to show a short message in the status bar (for
// example "wrote ./kauditui-<id>.json"). Err marks it as an error.
type StatusMsg struct {
	Text string
	Err  bool
}
