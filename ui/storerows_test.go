package ui

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// fakeStore is a store's answer of n requests, counted as it is paged.
type fakeStore struct {
	n     int
	mu    sync.Mutex
	asked []int // offsets asked for
}

func (f *fakeStore) Rows(_ context.Context, offset, n int) ([]*audit.Request, error) {
	f.mu.Lock()
	f.asked = append(f.asked, offset)
	f.mu.Unlock()
	var out []*audit.Request
	for i := offset; i < min(offset+n, f.n); i++ {
		out = append(out, audit.NewRequest(audit.Who{User: "u"}, audit.What{Verb: "get"}, fmt.Sprint(i), "/", ""))
	}
	return out, nil
}

func (f *fakeStore) Raw(audit.Ref) ([]byte, error) { return nil, nil }

// A store read lazily: its length is the store's count before any row is
// fetched; a row not fetched is nil and its page is asked for once, in the
// background, and the next moment (Next) holds it; scrolling through a
// million rows keeps a few pages, not the answer; Open fetches at once.
func TestStoreRowsArePagedLazily(t *testing.T) {
	src := &fakeStore{n: 1_000_000}
	arrived := make(chan struct{}, 100)
	rows := NewStoreRows(context.Background(), src, src.n, func() {
		select {
		case arrived <- struct{}{}:
		default:
		}
	})
	if rows.Len() != 1_000_000 {
		t.Fatalf("Len %d before any fetch, want the store's count", rows.Len())
	}
	if rows.At(5) != nil || rows.At(6) != nil {
		t.Fatal("a row not fetched yet is not nil")
	}
	select {
	case <-arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the page was not fetched")
	}
	if rows.At(5) != nil {
		t.Error("the moment handed out changed under its holder")
	}
	next := rows.Next()
	if r := next.At(5); r == nil || r.AuditID != "5" {
		t.Fatalf("the next moment's row 5: %v", r)
	}
	if len(src.asked) != 1 {
		t.Errorf("one page asked %d times", len(src.asked))
	}
	for i := 0; i < src.n; i += 997 { // scrolling to the end, Open on the way
		if r, err := next.Open(i); err != nil || r.AuditID != fmt.Sprint(i) {
			t.Fatalf("Open(%d): %v %v", i, r, err)
		}
	}
	if n := len(next.Next().view); n > storePagesKept {
		t.Errorf("%d pages kept after scrolling the answer, want at most %d", n, storePagesKept)
	}
	if r, err := next.Open(src.n - 1); err != nil || r.AuditID != fmt.Sprint(src.n-1) {
		t.Errorf("the last row: %v %v", r, err)
	}
}
