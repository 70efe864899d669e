package ui

import "charm.land/lipgloss/v2"

// Styles is every style the explorer draws with, in one place. Colour carries
// meaning (destructive verbs, writes, errors, denials); NewStyles(true) gives
// the plain set used under NO_COLOR, where meaning falls back to bold,
// underline and reverse video so it survives without colour.
type Styles struct {
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

// NewStyles returns the colour style set, or the plain one when noColor is
// set (NO_COLOR in the environment, https://no-color.org).
func NewStyles(noColor bool) *Styles {
	s := lipgloss.NewStyle
	if noColor {
		return &Styles{
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
	var (
		fg      = lipgloss.Color("252")
		dim     = lipgloss.Color("245")
		faint   = lipgloss.Color("240")
		accent  = lipgloss.Color("39")  // blue
		accent2 = lipgloss.Color("141") // violet
		green   = lipgloss.Color("114")
		yellow  = lipgloss.Color("221")
		orange  = lipgloss.Color("215")
		red     = lipgloss.Color("203")
		brightR = lipgloss.Color("196")
		cyan    = lipgloss.Color("80")
		barBg   = lipgloss.Color("236")
		selBg   = lipgloss.Color("238")
	)
	return &Styles{
		TabActive:    s().Bold(true).Foreground(lipgloss.Color("231")).Background(accent).Padding(0, 1),
		TabInactive:  s().Foreground(dim).Padding(0, 1),
		Brand:        s().Bold(true).Foreground(accent2),
		StatusBar:    s().Background(barBg),
		StatusKey:    s().Foreground(dim).Background(barBg),
		StatusValue:  s().Foreground(lipgloss.Color("231")).Background(barBg).Bold(true),
		StatusInfo:   s().Foreground(green).Background(barBg),
		StatusError:  s().Foreground(red).Background(barBg).Bold(true),
		Follow:       s().Foreground(green).Background(barBg).Bold(true),
		Progress:     s().Foreground(yellow).Background(barBg),
		FilterPrompt: s().Foreground(accent).Bold(true),
		FilterText:   s().Foreground(lipgloss.Color("231")),
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
		Forbid:       s().Foreground(lipgloss.Color("231")).Background(lipgloss.Color("124")).Bold(true),
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
		SevFatal:     s().Foreground(lipgloss.Color("231")).Background(lipgloss.Color("124")).Bold(true),
		Bar:          s().Foreground(accent),
		BarLabel:     s().Foreground(fg),
		BarValue:     s().Foreground(dim),
		MenuItem:     s().Foreground(fg),
		MenuActive:   s().Background(selBg).Foreground(lipgloss.Color("231")).Bold(true),
		// Page-specific styles (colour): summary, answers, klog
		PageFollow: s().Foreground(green).Bold(true),
	}
}

// Verb is the style of a verb: destructive, write, read or other.
func (st *Styles) Verb(verb string) lipgloss.Style {
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
func (st *Styles) Code(code int) lipgloss.Style {
	switch {
	case code >= 500:
		return st.Code5xx
	case code >= 400:
		return st.Code4xx
	}
	return st.Code2xx
}

// Severity is the style of a klog severity letter (I, W, E, F).
func (st *Styles) Severity(sev byte) lipgloss.Style {
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
