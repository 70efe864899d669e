package ui

// history is the text screen (history, RBAC, coverage) in front of the
// Answers menu, or nil.
func (p *answersPage) history() *historyScreen {
	h, _ := p.screens.top().(*historyScreen)
	return h
}

// timeline is the timeline screen in front of the Answers menu, or nil.
func (p *answersPage) timeline() *timelineScreen {
	s, _ := p.screens.top().(*timelineScreen)
	return s
}
