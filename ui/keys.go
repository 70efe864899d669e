package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// keyMap is THE keymap of the explorer: every key any page reacts to is a
// binding here, so the help overlay (Groups) and each page's footer
// (ShortHelp) are generated from the same place the keys are matched.
//
// Keys that only matter on one page may reuse a letter another page uses
// (the root sends keys to the active page only), but never a global one:
// q ctrl+c ? / tab shift+tab 1-5 y Y ctrl+s M L. Detail and the text
// screens take / for their search (Search), the apiserver log for its text
// filter (KlogSearch); v and e (Pager, Editor) reach the pages that have a
// text, so v stays "only this verb" on Requests.
type keyMap struct {
	// Global (handled by the root).
	Quit     key.Binding
	Help     key.Binding
	Filter   key.Binding
	NextPage key.Binding
	PrevPage key.Binding
	GotoPage [5]key.Binding // 1-5: Requests, Detail, Apiserver log, Summary, Answers
	Back     key.Binding    // esc: back to the requests list, close help
	ClearAll key.Binding    // drop the filter
	// LoadWhole loads a store's answer whole where it is read in pages
	// (storelazy.go): what a page reading every request needs.
	LoadWhole key.Binding

	// Navigation, shared by every list and document.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	HalfUp   key.Binding
	HalfDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Open     key.Binding
	Follow   key.Binding
	Pause    key.Binding // pause following (the list holds its row), or resume

	// Filter bar (while editing).
	FilterApply  key.Binding
	FilterCancel key.Binding
	FilterClear  key.Binding
	HistoryPrev  key.Binding
	HistoryNext  key.Binding
	Complete     key.Binding // complete the term being typed

	// Quick filters from the selected request (requests page).
	OnlyUser      key.Binding
	OnlyVerb      key.Binding
	OnlyResource  key.Binding
	OnlyNamespace key.Binding
	Exclude       key.Binding // then u, v, r or n

	// Detail page.
	FoldToggle key.Binding
	ExpandAll  key.Binding
	NextEvent  key.Binding
	PrevEvent  key.Binding
	Write      key.Binding
	Secrets    key.Binding // show the secrets a command line put in a URI, or redact them again

	// Page-specific bindings: summary, answers, klog
	// (add fields here, set them in DefaultKeyMap's marked section, and list
	// them in Groups' marked section so the help shows them)
	SummaryNarrow   key.Binding // enter on a value or time bar
	SummaryExclude  key.Binding
	SummaryPrevBox  key.Binding
	SummaryNextBox  key.Binding
	AnswersChoose   key.Binding
	AnswersResults  key.Binding // into the answer's result list
	AnswersMenu     key.Binding // back to the menu
	AnswersHistory  key.Binding // the history of the selected result's object
	AnswersRBAC     key.Binding // the RBAC the selected result's user needs
	TimelineNarrow  key.Binding // enter on a timeline row
	TimelineZoomIn  key.Binding
	TimelineZoomOut key.Binding
	KlogSearch      key.Binding // "/" on the apiserver-log page edits its own text filter
	KlogOther       key.Binding
	KlogSeverity    key.Binding
	KlogWrap        key.Binding
	KlogFind        key.Binding // search the log's lines (its / is the text filter)
	KlogOpen        key.Binding // enter on a line naming an audit-ID: that request's detail

	// Take the answer with you (take.go, export.go, pager.go): handled by
	// the root for whatever is in front.
	Copy       key.Binding // y: the value in focus, or the request's auditID
	CopyEvents key.Binding // Y: the request's events as JSON lines
	Export     key.Binding // ctrl+s: what the page shows, to a file (asks where)
	Pager      key.Binding // the page's text in $PAGER (not on Requests: v is "only this verb")
	Editor     key.Binding // the page's text in $EDITOR
	Mouse      key.Binding // the mouse off (the terminal selects text) and on

	// Search in a page's text (search.go): Detail, History, RBAC.
	Search     key.Binding
	SearchNext key.Binding
	SearchPrev key.Binding

	// The order of the Requests list (sort.go).
	Sort        key.Binding
	SortReverse key.Binding
}

// DefaultKeyMap is the explorer's keymap: vim keys and arrows.
func DefaultKeyMap() *keyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := &keyMap{
		Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
		Help:     b([]string{"?"}, "?", "help"),
		Filter:   b([]string{"/"}, "/", "filter"),
		NextPage: b([]string{"tab"}, "tab", "next page"),
		PrevPage: b([]string{"shift+tab"}, "shift+tab", "previous page"),
		GotoPage: [5]key.Binding{
			b([]string{"1"}, "1", "requests"),
			b([]string{"2"}, "2", "detail"),
			b([]string{"3"}, "3", "apiserver log"),
			b([]string{"4"}, "4", "summary"),
			b([]string{"5"}, "5", "answers"),
		},
		Back:      b([]string{"esc"}, "esc", "back"),
		ClearAll:  b([]string{"ctrl+l"}, "ctrl+l", "clear the filter"),
		LoadWhole: b([]string{"L"}, "L", "load a paged store's whole answer"),

		Up:       b([]string{"k", "up"}, "↑/k", "up"),
		Down:     b([]string{"j", "down"}, "↓/j", "down"),
		PageUp:   b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+f", "space"}, "pgdn", "page down"),
		HalfUp:   b([]string{"ctrl+u"}, "ctrl+u", "half page up"),
		HalfDown: b([]string{"ctrl+d"}, "ctrl+d", "half page down"),
		Top:      b([]string{"g", "home"}, "g/home", "first"),
		Bottom:   b([]string{"G", "end"}, "G/end", "last"),
		Open:     b([]string{"enter"}, "enter", "open"),
		Follow:   b([]string{"F"}, "F", "follow newest"),
		Pause:    b([]string{"p"}, "p", "pause/resume following"),

		FilterApply:  b([]string{"enter"}, "enter", "apply"),
		FilterCancel: b([]string{"esc"}, "esc", "cancel"),
		FilterClear:  b([]string{"ctrl+u"}, "ctrl+u", "clear"),
		HistoryPrev:  b([]string{"up"}, "↑", "older filter"),
		HistoryNext:  b([]string{"down"}, "↓", "newer filter"),
		Complete:     b([]string{"tab"}, "tab", "complete the field or value (again: the next)"),

		OnlyUser:      b([]string{"u"}, "u", "only this user"),
		OnlyVerb:      b([]string{"v"}, "v", "only this verb"),
		OnlyResource:  b([]string{"r"}, "r", "only this resource"),
		OnlyNamespace: b([]string{"n"}, "n", "only this namespace"),
		Exclude:       b([]string{"x"}, "x u/v/r/n", "exclude this user/verb/…"),

		FoldToggle: b([]string{"space", "z"}, "space/z", "fold/unfold here"),
		ExpandAll:  b([]string{"E"}, "E", "expand/fold all"),
		NextEvent:  b([]string{"]"}, "]", "next stage event"),
		PrevEvent:  b([]string{"["}, "[", "previous stage event"),
		Write:      b([]string{"w"}, "w", "export the events"),
		Secrets:    b([]string{"U"}, "U", "show/redact secrets in commands and URIs"),

		// Page-specific bindings: summary, answers, klog
		SummaryNarrow:   b([]string{"enter"}, "enter", "narrow the filter to this value or time"),
		SummaryExclude:  b([]string{"x"}, "x", "exclude this value"),
		SummaryPrevBox:  b([]string{"h", "left"}, "←/h", "previous box (or time bar)"),
		SummaryNextBox:  b([]string{"l", "right"}, "→/l", "next box (or time bar)"),
		AnswersChoose:   b([]string{"enter"}, "enter", "ask (set filter and view)"),
		AnswersResults:  b([]string{"l", "right"}, "→/l", "into the matching requests"),
		AnswersMenu:     b([]string{"h", "left"}, "←/h", "back to the questions"),
		AnswersHistory:  b([]string{"H"}, "H", "history of this object"),
		AnswersRBAC:     b([]string{"R"}, "R", "RBAC for this user"),
		TimelineNarrow:  b([]string{"enter"}, "enter", "the requests of this time"),
		TimelineZoomIn:  b([]string{"+", "="}, "+", "shorter steps (zoom in)"),
		TimelineZoomOut: b([]string{"-"}, "-", "longer steps (zoom out)"),
		KlogSearch:      b([]string{"/"}, "/", "filter the log text"),
		KlogOther:       b([]string{"o"}, "o", "show/hide lines neither audit nor klog"),
		KlogSeverity:    b([]string{"s"}, "s", "all / warnings+ / errors only"),
		KlogWrap:        b([]string{"w"}, "w", "wrap long lines"),
		KlogFind:        b([]string{"f"}, "f", "find in the log"),
		KlogOpen:        b([]string{"enter"}, "enter", "open the line's request"),

		Copy:       b([]string{"y"}, "y", "copy value/auditID/line"),
		CopyEvents: b([]string{"Y"}, "Y", "copy events (JSON lines)"),
		Export:     b([]string{"ctrl+s"}, "ctrl+s", "export the page to a file"),
		Pager:      b([]string{"v"}, "v", "page's text in $PAGER"),
		Editor:     b([]string{"e"}, "e", "page's text in $EDITOR"),
		Mouse:      b([]string{"M"}, "M", "mouse off/on (select text)"),

		Search:     b([]string{"/"}, "/", "search in the page"),
		SearchNext: b([]string{"n"}, "n", "next match"),
		SearchPrev: b([]string{"N"}, "N", "previous match"),

		Sort:        b([]string{"s"}, "s", "sort by the next column"),
		SortReverse: b([]string{"S"}, "S", "reverse the order"),
	}
	return k
}

// keyGroup is a titled set of bindings in the help overlay.
type keyGroup struct {
	Title    string
	Bindings []key.Binding
}

// Groups is what the help overlay shows, in order.
func (k *keyMap) Groups() []keyGroup {
	return []keyGroup{
		{"Global", []key.Binding{k.Quit, k.Help, k.Filter, k.ClearAll, k.NextPage, k.PrevPage,
			k.GotoPage[0], k.GotoPage[1], k.GotoPage[2], k.GotoPage[3], k.GotoPage[4], k.Back, k.LoadWhole}},
		{"Move", []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom,
			k.Open, k.Follow, k.Pause}},
		{"Filter bar", []key.Binding{k.FilterApply, k.FilterCancel, k.FilterClear, k.HistoryPrev, k.HistoryNext, k.Complete}},
		{"Requests: quick filters", []key.Binding{k.OnlyUser, k.OnlyVerb, k.OnlyResource, k.OnlyNamespace, k.Exclude}},
		{"Any request row", []key.Binding{k.AnswersHistory, k.AnswersRBAC}},
		{"Requests: order", []key.Binding{k.Sort, k.SortReverse}},
		{"Take the answer with you", []key.Binding{k.Copy, k.CopyEvents, k.Export, k.Pager, k.Editor, k.Mouse}},
		{"Search in a page", []key.Binding{k.Search, k.SearchNext, k.SearchPrev}},
		{"Detail", []key.Binding{k.FoldToggle, k.ExpandAll, k.NextEvent, k.PrevEvent, k.Write, k.Secrets}},
		// Page-specific bindings: summary, answers, klog
		// (add a KeyGroup per page here)
		{"Summary", []key.Binding{k.SummaryNarrow, k.SummaryExclude, k.SummaryPrevBox, k.SummaryNextBox}},
		{"Answers", []key.Binding{k.AnswersChoose, k.AnswersResults, k.AnswersMenu}},
		{"Timeline", []key.Binding{k.TimelineNarrow, k.TimelineZoomIn, k.TimelineZoomOut}},
		{"Apiserver log", []key.Binding{k.KlogOpen, k.KlogSearch, k.KlogOther, k.KlogSeverity, k.KlogWrap, k.KlogFind, k.Follow, k.Pause}},
	}
}

// shortHelp turns bindings into the footer's key/description pairs.
func shortHelp(bindings ...key.Binding) []keyHelp {
	out := make([]keyHelp, 0, len(bindings))
	for _, b := range bindings {
		if !b.Enabled() {
			continue
		}
		h := b.Help()
		out = append(out, keyHelp{Key: h.Key, Desc: h.Desc})
	}
	return out
}

// Markdown is the key table for the README, generated from the keymap.
func (k *keyMap) Markdown() string {
	var b strings.Builder
	for _, g := range k.Groups() {
		b.WriteString("| " + g.Title + " | |\n|---|---|\n")
		for _, bd := range g.Bindings {
			h := bd.Help()
			if h.Key == "" {
				continue
			}
			b.WriteString("| `" + h.Key + "` | " + h.Desc + " |\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}
