package ui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// pageSearch is the search inside a page's text (Detail, the history, RBAC
// and coverage screens, the apiserver log), as less has it: a prompt, then
// n and N go to the next and previous line holding the text (smart case:
// the log filter's matcher), round the end. The page says which lines it
// has and moves its cursor or view to the line found.
type pageSearch struct {
	input   textinput.Model
	editing bool
	query   string // the text searched ("" = no search yet)
}

func newPageSearch(env *Env, prompt string) pageSearch {
	in := pageInput(env)
	in.Prompt = prompt
	in.Placeholder = "text to find (case-insensitive unless it has capitals)"
	in.CharLimit = 512
	return pageSearch{input: in}
}

// open starts editing the text searched.
func (s *pageSearch) open(width int) tea.Cmd {
	s.editing = true
	s.input.SetWidth(max(10, width-len([]rune(s.input.Prompt))-1))
	s.input.SetValue("")
	return s.input.Focus()
}

// edit handles a key while editing: done is true when enter applied the
// text (the page then looks for the first match) or esc gave up.
func (s *pageSearch) edit(msg tea.KeyPressMsg, k *keyMap) (applied, done bool, cmd tea.Cmd) {
	switch {
	case key.Matches(msg, k.FilterApply):
		s.editing = false
		s.input.Blur()
		s.query = s.input.Value()
		return s.query != "", true, nil
	case key.Matches(msg, k.FilterCancel):
		s.editing = false
		s.input.Blur()
		return false, true, nil
	}
	s.input, cmd = s.input.Update(msg)
	return false, false, cmd
}

// find is the next line from from (excluded) in direction dir (+1, -1)
// whose text holds the query, round the end, and a status line saying
// which match it is ("match 2 of 5 for ..."); -1 when none.
func (s *pageSearch) find(n int, line func(i int) string, from, dir int) (int, tea.Cmd) {
	if s.query == "" {
		return -1, statusCmd("nothing to find yet: / (on the apiserver log f) types the text", true)
	}
	m := newTextMatcher(s.query)
	var hits []int
	for i := 0; i < n; i++ {
		if m.match(line(i)) {
			hits = append(hits, i)
		}
	}
	q := sanitize(s.query)
	if len(hits) == 0 {
		return -1, statusCmd(`no line holds "`+q+`"`, true)
	}
	at := -1
	if dir > 0 {
		for j, h := range hits {
			if h > from {
				at = j
				break
			}
		}
		if at < 0 {
			at = 0 // round the end
		}
	} else {
		for j := len(hits) - 1; j >= 0; j-- {
			if hits[j] < from {
				at = j
				break
			}
		}
		if at < 0 {
			at = len(hits) - 1
		}
	}
	return hits[at], statusCmd(fmt.Sprintf("match %d of %d for \"%s\"", at+1, len(hits), q), false)
}

// View is the prompt line while editing.
func (s *pageSearch) View() string { return s.input.View() }
