package ui

import "charm.land/lipgloss/v2"

// styles is every style the explorer draws with, in one place. Colour carries
// meaning (destructive verbs, writes, errors, denials); NewStyles(true) gives
// the plain set used under NO_COLOR, where meaning falls back to bold,
// underline and reverse video so it survives without colour.
type styles struct {
	NoColor bool

	// Chrome.
	App         lipgloss.Style // the whole screen (nothing by default)
	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	TabBar      lipgloss.Style
	Brand       lipgloss.Style
	StatusBar   lipgloss.Style
	StatusKey   lipgloss.Style // "req", "klog", ... labels
	StatusValue lipgloss.Style
	StatusInfo  lipgloss.Style // a transient message
	StatusError lipgloss.Style
	Follow      lipgloss.Style // "following" marker
	Progress    lipgloss.Style

	FilterPrompt lipgloss.Style
	FilterText   lipgloss.Style
	FilterHint   lipgloss.Style // placeholder text when no filter is set
	FilterError  lipgloss.Style

	HelpTitle lipgloss.Style
	HelpKey   lipgloss.Style
	HelpDesc  lipgloss.Style
	HelpSep   lipgloss.Style

	Title   lipgloss.Style // a heading inside a page
	Label   lipgloss.Style // "user:", "verb:" in detail views
	Muted   lipgloss.Style
	Empty   lipgloss.Style // "no requests match" and such
	Border  lipgloss.Style
	Cursor  lipgloss.Style // the cursor line in scrollable documents
	Warning lipgloss.Style

	// Tables.
	Header   lipgloss.Style
	Selected lipgloss.Style // the selected row (applied over cell styles)
	Cell     lipgloss.Style

	// Meaning in request rows.
	VerbDelete   lipgloss.Style // delete, deletecollection
	VerbWrite    lipgloss.Style // create, update, patch
	VerbRead     lipgloss.Style // get, list, watch
	VerbOther    lipgloss.Style
	RowDelete    lipgloss.Style // the whole row of a destructive request
	Code2xx      lipgloss.Style
	Code4xx      lipgloss.Style
	Code5xx      lipgloss.Style
	Forbid       lipgloss.Style // decision forbid
	Impersonated lipgloss.Style // the "(as ...)" part of the actor
	Time         lipgloss.Style
	Latency      lipgloss.Style
	SlowLatency  lipgloss.Style

	// JSON.
	JSONKey    lipgloss.Style
	JSONString lipgloss.Style
	JSONNumber lipgloss.Style
	JSONBool   lipgloss.Style
	JSONNull   lipgloss.Style
	JSONPunct  lipgloss.Style
	JSONFolded lipgloss.Style // "{…} 12 keys"

	// Apiserver log severities.
	SevInfo  lipgloss.Style
	SevWarn  lipgloss.Style
	SevError lipgloss.Style
	SevFatal lipgloss.Style

	// Summary histograms and menus.
	Bar        lipgloss.Style
	BarLabel   lipgloss.Style
	BarValue   lipgloss.Style
	MenuItem   lipgloss.Style
	MenuActive lipgloss.Style

	// Page-specific styles: summary, answers, klog
	// (add fields here, and set them in both branches of NewStyles)
	PageFollow lipgloss.Style // "following" in a page's own header (no status-bar background)
}

// NewStyles returns the colour style set for a dark terminal, or the plain
// one when noColor is set (NO_COLOR in the environment, https://no-color.org).
func NewStyles(noColor bool) *styles { return newStyles(noColor, true) }

// palette is the colours of one background. Every style's text keeps a
// contrast of 4.5:1 with what is behind it (3:1 for the faint ones), in
// both (TestStylesContrast).
type palette struct {
	fg, dim, faint, accent, accent2, green, yellow, orange, red, brightR, cyan, barBg, selBg, strong, alertBg string
	tabFg, tabBg                                                                                              string
}

var (
	darkPalette = palette{
		fg: "252", dim: "246", faint: "243", accent: "39", accent2: "141", green: "114", yellow: "221",
		orange: "215", red: "210", brightR: "203", cyan: "80", barBg: "235", selBg: "238", strong: "231", alertBg: "124",
		tabFg: "231", tabBg: "25",
	}
	lightPalette = palette{
		fg: "235", dim: "240", faint: "244", accent: "25", accent2: "91", green: "22", yellow: "58",
		orange: "94", red: "124", brightR: "124", cyan: "23", barBg: "254", selBg: "252", strong: "232", alertBg: "224",
		tabFg: "231", tabBg: "25",
	}
)

// newStyles is NewStyles for a dark or a light terminal background (the
// explorer asks the terminal which it has).
func newStyles(noColor, dark bool) *styles {
	s := lipgloss.NewStyle
	if noColor {
		return &styles{
			NoColor:      true,
			TabActive:    s().Bold(true).Reverse(true).Padding(0, 1),
			TabInactive:  s().Padding(0, 1),
			Brand:        s().Bold(true),
			StatusKey:    s(),
			StatusValue:  s().Bold(true),
			StatusInfo:   s().Bold(true),
			StatusError:  s().Bold(true).Underline(true),
			Follow:       s().Bold(true),
			FilterPrompt: s().Bold(true),
			FilterError:  s().Underline(true),
			HelpTitle:    s().Bold(true).Underline(true),
			HelpKey:      s().Bold(true),
			Title:        s().Bold(true),
			Label:        s().Bold(true),
			Cursor:       s().Reverse(true),
			Warning:      s().Bold(true),
			Header:       s().Bold(true).Underline(true),
			Selected:     s().Reverse(true),
			VerbDelete:   s().Bold(true).Underline(true),
			VerbWrite:    s().Bold(true),
			Code4xx:      s().Bold(true),
			Code5xx:      s().Bold(true).Underline(true),
			Forbid:       s().Bold(true).Underline(true),
			JSONKey:      s().Bold(true),
			JSONFolded:   s().Italic(true),
			SevWarn:      s().Bold(true),
			SevError:     s().Bold(true).Underline(true),
			SevFatal:     s().Bold(true).Underline(true).Reverse(true),
			Bar:          s(),
			BarLabel:     s(),
			BarValue:     s().Bold(true),
			MenuActive:   s().Reverse(true),
			// Page-specific styles (plain): summary, answers, klog
			PageFollow: s().Bold(true),
		}
	}
	p := darkPalette
	if !dark {
		p = lightPalette
	}
	var (
		fg, dim, faint  = lipgloss.Color(p.fg), lipgloss.Color(p.dim), lipgloss.Color(p.faint)
		accent, accent2 = lipgloss.Color(p.accent), lipgloss.Color(p.accent2) // blue, violet
		green, yellow   = lipgloss.Color(p.green), lipgloss.Color(p.yellow)
		orange, red     = lipgloss.Color(p.orange), lipgloss.Color(p.red)
		brightR, cyan   = lipgloss.Color(p.brightR), lipgloss.Color(p.cyan)
		barBg, selBg    = lipgloss.Color(p.barBg), lipgloss.Color(p.selBg)
		strong, alertBg = lipgloss.Color(p.strong), lipgloss.Color(p.alertBg)
		tabFg, tabBg    = lipgloss.Color(p.tabFg), lipgloss.Color(p.tabBg)
	)
	return &styles{
		TabActive:    s().Bold(true).Foreground(tabFg).Background(tabBg).Padding(0, 1),
		TabInactive:  s().Foreground(dim).Padding(0, 1),
		Brand:        s().Bold(true).Foreground(accent2),
		StatusBar:    s().Background(barBg),
		StatusKey:    s().Foreground(dim).Background(barBg),
		StatusValue:  s().Foreground(strong).Background(barBg).Bold(true),
		StatusInfo:   s().Foreground(green).Background(barBg),
		StatusError:  s().Foreground(red).Background(barBg).Bold(true),
		Follow:       s().Foreground(green).Background(barBg).Bold(true),
		Progress:     s().Foreground(yellow).Background(barBg),
		FilterPrompt: s().Foreground(accent).Bold(true),
		FilterText:   s().Foreground(strong),
		FilterHint:   s().Foreground(faint),
		FilterError:  s().Foreground(red),
		HelpTitle:    s().Bold(true).Foreground(accent2),
		HelpKey:      s().Foreground(accent).Bold(true),
		HelpDesc:     s().Foreground(dim),
		HelpSep:      s().Foreground(faint),
		Title:        s().Bold(true).Foreground(accent2),
		Label:        s().Foreground(dim),
		Muted:        s().Foreground(dim),
		Empty:        s().Foreground(dim).Italic(true),
		Border:       s().Foreground(faint),
		Cursor:       s().Background(selBg),
		Warning:      s().Foreground(yellow),
		Header:       s().Bold(true).Foreground(dim).Underline(true),
		Selected:     s().Background(selBg).Bold(true),
		VerbDelete:   s().Foreground(brightR).Bold(true),
		VerbWrite:    s().Foreground(orange),
		VerbRead:     s().Foreground(green),
		VerbOther:    s().Foreground(cyan),
		RowDelete:    s().Foreground(red),
		Code2xx:      s().Foreground(dim),
		Code4xx:      s().Foreground(yellow).Bold(true),
		Code5xx:      s().Foreground(brightR).Bold(true),
		Forbid:       s().Foreground(strong).Background(alertBg).Bold(true),
		Impersonated: s().Foreground(accent2),
		Time:         s().Foreground(dim),
		Latency:      s().Foreground(dim),
		SlowLatency:  s().Foreground(yellow),
		JSONKey:      s().Foreground(accent),
		JSONString:   s().Foreground(green),
		JSONNumber:   s().Foreground(orange),
		JSONBool:     s().Foreground(accent2),
		JSONNull:     s().Foreground(faint),
		JSONPunct:    s().Foreground(dim),
		JSONFolded:   s().Foreground(faint).Italic(true),
		SevInfo:      s().Foreground(dim),
		SevWarn:      s().Foreground(yellow),
		SevError:     s().Foreground(red),
		SevFatal:     s().Foreground(strong).Background(alertBg).Bold(true),
		Bar:          s().Foreground(accent),
		BarLabel:     s().Foreground(fg),
		BarValue:     s().Foreground(dim),
		MenuItem:     s().Foreground(fg),
		MenuActive:   s().Background(selBg).Foreground(strong).Bold(true),
		// Page-specific styles (colour): summary, answers, klog
		PageFollow: s().Foreground(green).Bold(true),
	}
}

// Verb is the style of a verb: destructive, write, read or other.
func (st *styles) Verb(verb string) lipgloss.Style {
	switch verb {
	case "delete", "deletecollection":
		return st.VerbDelete
	case "create", "update", "patch", "post", "put":
		return st.VerbWrite
	case "get", "list", "watch", "head":
		return st.VerbRead
	}
	return st.VerbOther
}

// Code is the style of an HTTP status code.
func (st *styles) Code(code int) lipgloss.Style {
	switch {
	case code >= 500:
		return st.Code5xx
	case code >= 400:
		return st.Code4xx
	}
	return st.Code2xx
}

// Severity is the style of a klog severity letter (I, W, E, F).
func (st *styles) Severity(sev byte) lipgloss.Style {
	switch sev {
	case 'W':
		return st.SevWarn
	case 'E':
		return st.SevError
	case 'F':
		return st.SevFatal
	}
	return st.SevInfo
}
