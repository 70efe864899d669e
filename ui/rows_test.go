package ui

import (
	"math/rand/v2"
	"testing"
)

// A filter's result kept as a bit a row (rowSet) lists the same rows, in
// the same order, as the list of them: by position (sel), by row (rank),
// and walked from any position.
func TestRowSetListsItsRows(t *testing.T) {
	for _, density := range []float64{0, 0.001, 0.3, 0.97, 1} {
		r := rand.New(rand.NewPCG(1, uint64(density*1000)))
		const n = 5000
		words := make([]uint64, (n+63)/64)
		var want []int
		for row := range n {
			if r.Float64() < density {
				words[row>>6] |= 1 << (row & 63)
				want = append(want, row)
			}
		}
		ir := &indexRows{set: newRowSet(words), n: len(want)}
		for i, row := range want {
			if got := ir.Key(i); got != row {
				t.Fatalf("density %v: Key(%d) = %d, want %d", density, i, got, row)
			}
			if got := ir.find(row); got != i {
				t.Fatalf("density %v: find(%d) = %d, want %d", density, row, got, i)
			}
		}
		if len(want) < n && ir.find(n-1) >= 0 != (len(want) > 0 && want[len(want)-1] == n-1) {
			t.Fatalf("density %v: find of a row not in the set", density)
		}
		for _, from := range []int{0, 1, len(want) / 2, len(want) - 1, len(want)} {
			if from < 0 || from > len(want) {
				continue
			}
			k := from
			ir.walk(from, func(i, row int) bool {
				if i != k || row != want[k] {
					t.Fatalf("density %v: walk from %d gave (%d, %d), want (%d, %d)", density, from, i, row, k, want[k])
				}
				k++
				return true
			})
			if k != len(want) {
				t.Fatalf("density %v: walk from %d stopped at %d of %d", density, from, k, len(want))
			}
		}
	}
}
