package ui

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/kauditui/kauditui/audit"
)

// component is a piece of the screen that can be sized (soft-serve's
// Component). Pages and reusable widgets both implement it.
type component interface {
	Init() tea.Cmd
	Update(tea.Msg) (component, tea.Cmd)
	View() string
	SetSize(width, height int)
}

// page is one screen the root model switches between (requests, detail,
// apiserver log, summary, answers). The root routes messages to the active
// page; a page asks for changes by returning the messages below as commands.
// A screen shown in front of a page until esc (a request's detail, an
// object's history) is a subScreen on a screenStack (stack.go).
type page interface {
	component
	// Title is the tab label.
	Title() string
	// shortHelp lists the bindings shown in the footer for this page.
	ShortHelp() []keyHelp
}

// keyHelp is one key and what it does, as drawn in help views.
type keyHelp struct{ Key, Desc string }

// Data is what pages read: the demixed store and a way to read raw event
// lines again (for the detail view and bare-word filters).
type Data struct {
	Store *audit.Store
	// Index holds the store's requests as rows (audit.NewIndexingStore
	// feeds it: the explorer's load path); nil: ui makes one and syncs it
	// from Store, a full store (audit.Index.Sync).
	Index *audit.Index
	Raw   func(audit.Ref) ([]byte, error)
}

// Messages pages send to the root (typed messages routed by the root, as in glow).

// setFilterMsg asks the root to apply a filter expression (and show it in the bar).
type setFilterMsg struct{ Expr string }

// showPageMsg asks the root to switch to a page by its state.
type showPageMsg struct{ Page state }

// openRequestMsg asks the root to open the detail view of one request, in
// front of the page that asks (esc comes back to it).
type openRequestMsg struct{ Req *audit.Request }

// openHistoryMsg asks the root to show the history of the object a request
// wrote or read, in front of the page or screen that asks (any request row,
// the detail, an answer's results: H).
type openHistoryMsg struct{ Req *audit.Request }

// openRBACMsg asks the root to show the RBAC a request's user needs (R).
type openRBACMsg struct{ Req *audit.Request }

// state is the root model's state machine: which page is in front.
type state int

const (
	stateRequests state = iota
	stateDetail
	stateKlog
	stateSummary
	stateAnswers
	stateHelp
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
	Styles *styles // ui/styles.go
	Keys   *keyMap // ui/keys.go
	Now    func() time.Time
	// Following says whether the sources are followed now (their history
	// read, what is appended shows up); nil: never.
	Following func() bool

	// src is the index of the store's requests every page reads (rows.go).
	src *indexSource
}

// DataMsg is sent by the root to every page (active or not) when the store
// grew or the applied filter changed. Pages keep what they need from it and
// draw from that. One matcher serves every page: the incremental re-filter
// (filtered, refilter.go); a page with filters of its own (the Answers
// page's questions) runs them with it too, never with a loop of its own.
type DataMsg struct {
	Snap    audit.Snapshot // the store at this moment (Klog, Other, counts; its Requests may be none: read All)
	Filter  string         // the applied filter expression ("" = everything)
	Shown   Rows           // the requests matching Filter, in store order
	All     Rows           // every request, in store order
	Reset   bool           // the filter changed (Shown is new, not an extension)
	Loading bool           // the loader is still reading the sources
	// Store is the store's answer when it is read a page at a time
	// (Options.Pager): Shown fetches a page for each row not fetched, so a
	// page that reads every row asks the store (Top) or says it cannot.
	Store StoreAnswer
}

// inputCapturer is implemented by a page that is editing text of its own
// (a prompt, a text filter): while CapturesInput is true the root sends it
// every key except ctrl+c, so global keys (q, /, tab, 1-5, ?) type letters.
type inputCapturer interface {
	CapturesInput() bool
}

// statusMsg asks the root to show a short message in the status bar (for
// example "wrote ./kauditui-<id>.json"). Err marks it as an error.
type statusMsg struct {
	Text string
	Err  bool
}
