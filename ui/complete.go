package ui

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
)

// completeScan is how many of the newest requests the filter bar reads for
// the values it completes: enough to know who and what is in the log, a
// bounded cost however large the store (a few ms).
const completeScan = 200_000

// completeMax is how many values of a field are offered, most requests first.
const completeMax = 200

// valueLister gives the filter bar the values of a field in the loaded
// requests (the fields --top counts), most frequent first; what it counted
// is kept until the store grows.
type valueLister struct {
	env     *Env
	version uint64
	cache   map[string][]string
}

func (v *valueLister) values(field string) []string {
	src := v.env.src
	if src == nil || src.store == nil {
		return nil
	}
	if ver := src.store.Version(); ver != v.version || v.cache == nil {
		v.cache, v.version = map[string][]string{}, ver
	}
	if c, ok := v.cache[field]; ok {
		return c
	}
	_, n := src.update()
	counts := map[string]int{}
	eachRowFrom(&indexRows{src: src, n: n}, max(0, n-completeScan), false, func(_ int, r *audit.Request) bool {
		if s := filter.TopValue(r, field); s != "" {
			if _, ok := counts[s]; !ok {
				s = strings.Clone(s) // r's text may be its Probe's until the next row
			}
			counts[s]++
		}
		return true
	})
	var out []string
	for s := range counts {
		// a value the bar could not show as it is (hostile text) is not offered
		if s == sanitize(s) && !strings.ContainsAny(s, " \t'\"\\") {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(counts[b]-counts[a], cmp.Compare(a, b))
	})
	out = out[:min(len(out), completeMax)]
	slices.Sort(out) // candidates read in order; the cut kept the frequent ones
	v.cache[field] = out
	return out
}

// loadFilterHistory reads the filters kept by earlier runs, oldest first,
// one a line; a missing or unreadable file is an empty history.
func loadFilterHistory(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) > 1<<20 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// saveFilterHistory keeps the history for the next run, written whole and
// renamed into place (a second explorer writing at the same time loses
// only its own last filter). It fails quietly: a read-only home must not
// stop an investigation.
func saveFilterHistory(path string, h []string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	var b strings.Builder
	for _, e := range h {
		if !strings.ContainsAny(e, "\n\r") {
			b.WriteString(e + "\n")
		}
	}
	_ = writeFileAtomic(path, []byte(b.String()))
}

// StateFile is where the explorer keeps a file across runs:
// $XDG_STATE_HOME/kauditui/NAME, else ~/.local/state/kauditui/NAME; "" when
// there is no home (the state is then kept for this run only).
func StateFile(name string) string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil || home == "" {
			return ""
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "kauditui", name)
}
