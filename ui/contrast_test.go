package ui

import (
	"image/color"
	"math"
	"reflect"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// faintStyles are hints and decoration, not text a user must read: they
// need 3:1, the rest 4.5:1 (WCAG AA).
var faintStyles = map[string]bool{"FilterHint": true, "Border": true, "HelpSep": true, "JSONNull": true, "JSONFolded": true}

// Every style's text stands out from what is behind it (its background, or
// the terminal's) in a dark and in a light terminal.
func TestStylesContrast(t *testing.T) {
	for _, tc := range []struct {
		name string
		dark bool
		bg   color.Color
	}{
		{"dark", true, lipgloss.Color("#1c1c1c")},
		{"black", true, lipgloss.Color("#000000")},
		{"light", false, lipgloss.Color("#ffffff")},
		{"solarized-light", false, lipgloss.Color("#fdf6e3")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := reflect.ValueOf(*newStyles(false, tc.dark))
			checked := 0
			for i := 0; i < st.NumField(); i++ {
				style, ok := st.Field(i).Interface().(lipgloss.Style)
				if !ok {
					continue
				}
				name := st.Type().Field(i).Name
				fg, bg := style.GetForeground(), style.GetBackground()
				if isNoColor(fg) {
					continue // the terminal's own text colour
				}
				if isNoColor(bg) {
					bg = tc.bg
				}
				want := 4.5
				if faintStyles[name] {
					want = 3
				}
				if c := contrast(fg, bg); c < want {
					t.Errorf("%s: contrast %.2f:1 on a %s terminal, want %.1f:1", name, c, tc.name, want)
				}
				checked++
			}
			if checked < 40 {
				t.Fatalf("only %d styles checked", checked)
			}
		})
	}
}

func isNoColor(c color.Color) bool {
	_, ok := c.(lipgloss.NoColor)
	return c == nil || ok
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// The explorer asks the terminal for its background and draws with the
// light palette when the answer is light.
func TestLightTerminalGetsLightColours(t *testing.T) {
	m := sampleModel(t, 100, 30, withColor())
	dark := m.Render()
	send(m, tea.BackgroundColorMsg{Color: color.White})
	light := m.Render()
	if dark == light {
		t.Fatal("the screen is drawn the same after the terminal said it is light")
	}
	// the muted text (times, latencies) in the light palette's grey
	if !strings.Contains(light, "38;5;240") || strings.Contains(light, "38;5;246") {
		t.Errorf("the light screen does not use the light palette's greys")
	}
	send(m, tea.BackgroundColorMsg{Color: color.Black})
	if m.Render() != dark {
		t.Error("back on a dark terminal, the screen differs from the first dark one")
	}
}

// NO_COLOR: no style sets a colour; meaning is bold, underline, reverse.
func TestNoColorStylesHaveNoColour(t *testing.T) {
	st := reflect.ValueOf(*NewStyles(true))
	for i := 0; i < st.NumField(); i++ {
		style, ok := st.Field(i).Interface().(lipgloss.Style)
		if !ok {
			continue
		}
		if !isNoColor(style.GetForeground()) || !isNoColor(style.GetBackground()) {
			t.Errorf("%s has a colour under NO_COLOR", st.Type().Field(i).Name)
		}
	}
}
