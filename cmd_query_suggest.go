package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/source"
)

// suggestIfNone says on stderr, when err is the query's "nothing matched",
// which values near those of the filter's terms the log holds and how many
// requests each would match (filter.Suggest):
//
//	kauditui: 0 requests; user=erin-editor has 20 (user=*erin* 20)
//
// The query read the log through a prefilter and forgot its requests, so
// this reads the files again, only now that nothing matched: through a
// streaming store (memory as for the query) and for at most
// filter.SuggestBudget. Inputs that cannot be read again (stdin, pipes, the
// pods' or nodes' logs through the API) are not; a second read cut short
// says nothing, since its counts would not be exact.
func (o *queryOptions) suggestIfNone(ctx context.Context, err error, flush func() error, read *source.Set, f *filter.Filter) {
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitNoMatch || ee.msg != "" {
		return // something matched, or the inputs held nothing to match
	}
	if o.Follow || o.Answers.given() || !f.CanSuggest() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, filter.SuggestBudget)
	defer cancel()
	set := read.Again(ctx, source.Options{Keep: f.SuggestPrefilter()})
	if set == nil {
		return
	}
	defer set.Close()
	flush() // the query's own answer first, while the log is read again
	defer o.heapLimit(set, queryMemoryLimit).Restore()
	var loadErr error
	s := filter.Suggest(f, set.Requests(ctx, &loadErr), set.Raw)
	if loadErr != nil || ctx.Err() != nil || s.Empty() {
		return
	}
	fmt.Fprintln(o.IO.Err, "kauditui: 0 requests; "+sanitize(s.String()))
}
