package detect

import (
	"fmt"
	"slices"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// burst is a rule over several requests: at least min refusals (401, 403)
// from one source within window. One finding per run of refusals from that
// source in which no two follow each other by more than window, and some
// window holds min of them; its requests are the whole run.
//
// A source is the address that connected (the last of sourceIPs: the
// earlier ones are X-Forwarded-For, which clients choose) and the user: the
// 401s of one address (no user) are one source, each identity refused from
// it another, so clients behind one proxy or NAT are told apart when they
// authenticate.
type burst struct {
	min    int
	window time.Duration
}

func (b *burst) run(rule *Rule, reqs []*audit.Request) []Finding {
	type source struct{ ip, user string }
	bySource := map[source][]*audit.Request{}
	var sources []source
	for _, r := range reqs {
		if r.Code != 401 && r.Code != 403 {
			continue
		}
		src := source{r.SourceIP(), r.User}
		if _, ok := bySource[src]; !ok {
			sources = append(sources, src)
		}
		bySource[src] = append(bySource[src], r)
	}
	var out []Finding
	for _, src := range sources {
		ip, list := src.ip, bySource[src]
		slices.SortStableFunc(list, func(a, b *audit.Request) int { return a.First().Compare(b.First()) })
		for i := 0; i < len(list); {
			j := i + 1
			for j < len(list) && list[j].First().Sub(list[j-1].First()) <= b.window {
				j++
			}
			run := list[i:j]
			if b.dense(run) {
				out = append(out, Finding{Rule: rule, Requests: slices.Clone(run), Detail: burstDetail(ip, run)})
			}
			i = j
		}
	}
	return out
}

// dense reports whether some window of the run holds min requests.
func (b *burst) dense(run []*audit.Request) bool {
	for i, k := 0, 0; k < len(run); k++ {
		for run[k].First().Sub(run[i].First()) > b.window {
			i++
		}
		if k-i+1 >= b.min {
			return true
		}
	}
	return false
}

func burstDetail(ip string, run []*audit.Request) string {
	n401, n403 := 0, 0
	for _, r := range run {
		if r.Code == 401 {
			n401++
		} else {
			n403++
		}
	}
	span := run[len(run)-1].First().Sub(run[0].First())
	if ip == "" {
		ip = "(no source address)"
	}
	return fmt.Sprintf("%d refused requests (%d × 401, %d × 403) from %s in %s",
		len(run), n401, n403, ip, span.Round(time.Millisecond).String())
}
