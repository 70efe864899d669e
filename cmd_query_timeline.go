package main

import (
	"time"

	"github.com/spf13/pflag"
)

// timelineFlags is `query --timeline`: what happened minute by minute.
type timelineFlags struct {
	On   bool
	Step time.Duration
}

func (t *timelineFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&t.On, "timeline", false, "what happened when: requests per --step with their users, verbs and codes, latency percentiles and where the slow ones spent their time (the apiserver's latency breakdown); -q narrows it")
	fs.DurationVar(&t.Step, "step", time.Minute, "with --timeline: the width of a row (10s, 1m, 1h, 24h)")
}

func (t *timelineFlags) validate(o *queryOptions) error {
	if !t.On {
		return nil
	}
	switch {
	case t.Step < time.Second:
		return usageError("query: --step takes a duration of a second or more, like 1m")
	case o.Answers.given():
		return usageError("query: --timeline and the other answers (--exec, --history, --rbac, --coverage) are separate questions: ask one")
	case o.Count || o.Top != "":
		return usageError("query: --timeline prints its own answer; it does not go with --count or --top (drop one)")
	case o.Follow:
		return usageError("query: --timeline answers from what is logged so far; it does not go with --follow")
	case o.Output != "table":
		return usageError("query: --timeline prints its own answer; -o %s is for requests", o.Output)
	}
	return nil
}
