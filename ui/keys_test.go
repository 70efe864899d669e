package ui

import (
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
)

// bindings lists every binding of the keymap by field name.
func bindings(k *keyMap) map[string]key.Binding {
	out := map[string]key.Binding{}
	v := reflect.ValueOf(k).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		switch f := v.Field(i).Interface().(type) {
		case key.Binding:
			out[name] = f
		case [5]key.Binding:
			for j, b := range f {
				out[name+string(rune('1'+j))] = b
			}
		}
	}
	return out
}

// No page binding uses a global key: the root takes those first, so the
// page's binding would never fire. (KlogSearch is "/" on purpose: the root
// gives / to the apiserver-log page, where the request filter does not apply;
// Search is "/" on Detail and the text screens, which search their text;
// Complete is tab in the filter bar, which takes every key while it is open.)
func TestKeymapNoClashWithGlobals(t *testing.T) {
	k := DefaultKeyMap()
	global := map[string]string{}
	for _, name := range []string{"Quit", "Help", "Filter", "ClearAll", "NextPage", "PrevPage",
		"Copy", "CopyEvents", "Export", "Mouse", "GotoPage1", "GotoPage2", "GotoPage3", "GotoPage4", "GotoPage5"} {
		for _, key := range bindings(k)[name].Keys() {
			global[key] = name
		}
	}
	for name, b := range bindings(k) {
		if _, isGlobal := map[string]bool{"Quit": true, "Help": true, "Filter": true, "ClearAll": true,
			"NextPage": true, "PrevPage": true, "Copy": true, "CopyEvents": true, "Export": true,
			"Mouse": true}[name]; isGlobal || strings.HasPrefix(name, "GotoPage") || name == "KlogSearch" || name == "Search" || name == "Complete" {
			continue
		}
		for _, key := range b.Keys() {
			if g, ok := global[key]; ok {
				t.Errorf("%s uses %q, the global key of %s", name, key, g)
			}
		}
	}
}

// Every binding is in the help, with a key and a description.
func TestKeymapAllInHelp(t *testing.T) {
	k := DefaultKeyMap()
	inHelp := map[string]bool{}
	for _, g := range k.Groups() {
		for _, b := range g.Bindings {
			inHelp[strings.Join(b.Keys(), ",")+b.Help().Desc] = true
		}
	}
	for name, b := range bindings(k) {
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("%s has no help text", name)
		}
		if !inHelp[strings.Join(b.Keys(), ",")+b.Help().Desc] {
			t.Errorf("%s is not in the help", name)
		}
	}
	if md := k.Markdown(); !strings.Contains(md, "| `x u/v/r/n` | exclude this user/verb/… |") {
		t.Errorf("markdown table:\n%s", md)
	}
}
