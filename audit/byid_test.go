package audit

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// byIDTable answers as a map of auditID to request does, through puts
// that replace, removals that shift entries back over long probe runs
// (hashes crafted to share a few slots, and to wrap around the end), and
// growth.
func TestByIDTableIsAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var tab byIDTable
	want := map[string]*Request{}
	hash := map[string]uint64{}
	ids := make([]string, 3000)
	for i := range ids {
		ids[i] = fmt.Sprint("id-", i)
		// a few starting slots, some at the end of the table, so probes
		// run long and wrap
		hash[ids[i]] = uint64(rng.IntN(8))<<1 | uint64(rng.IntN(2))<<10 - 6 | 1
	}
	check := func(step int) {
		t.Helper()
		if tab.n != len(want) {
			t.Fatalf("step %d: %d entries, want %d", step, tab.n, len(want))
		}
		for _, id := range ids {
			if got := tab.get(hash[id], id); got != want[id] {
				t.Fatalf("step %d: get(%s) = %p, want %p", step, id, got, want[id])
			}
		}
	}
	for step := range 20000 {
		id := ids[rng.IntN(len(ids))]
		h := hash[id]
		switch rng.IntN(4) {
		case 0, 1:
			r := &Request{AuditID: id}
			tab.put(h, r)
			want[id] = r
		case 2:
			if r := want[id]; r != nil {
				tab.remove(h, r)
				delete(want, id)
			}
		case 3:
			if r := want[id]; r != nil {
				tab.remove(h, &Request{AuditID: id}) // not the one there: kept
				n := &Request{AuditID: id}
				if !tab.replace(h, r, n) {
					t.Fatalf("step %d: replace(%s) found nothing", step, id)
				}
				want[id] = n
			}
		}
		if step%500 == 0 {
			check(step)
		}
	}
	check(-1)
}
