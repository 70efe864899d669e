package filter

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// On the real log, filters that match nothing get the near values the log
// holds, and every count is that of the filter with the term replaced.
func TestSuggestOnRealLog(t *testing.T) {
	_, c := loadGroundTruth(t)
	for _, tt := range []struct{ expr, want string }{
		{"user=erin", "user=erin-editor has 20 (user=*erin* 20)"},
		{"user=erin-edtor", "user=erin-editor has 20"},
		{"user=erin verb=delete", "user=erin-editor has 1 (user=*erin* 1)"},
		{"verb=delte", "verb=delete has 4"},
		{"resource=deploymnts", "resource=deployments has 12, resource=deployments/scale has 1"},
		{"ns=team", "ns=team-a has 1185 (ns=*team* 1185)"},
		{"group=system:master", "group=system:masters has 19 (group=*system:master* 19)"},
		{"name=kubyk", "name=kubyk-web has 10, name=kubyk-config has 5, name=kubyk-debug has 4 (name=*kubyk* 27)"},
		{"verb=delete user=lou kubyk", "user=lou-viewer has 1 (user=*lou* 1)"},
		{"user=nobody-at-all", ""},
		{"user=erin,nobody", ""}, // a list of values: not looked at
		{"message=forbidden", "message=*forbidden* has 3"},
		{"reason=clusterrole", `reason=*clusterrole* has 21`},
		{"user!=erin-editor ns=nowhere", ""},
	} {
		f, err := Parse(tt.expr, c.now())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(c.query(t, tt.expr)); n != 0 {
			t.Fatalf("%q matches %d requests; the test wants filters that match none", tt.expr, n)
		}
		s := Suggest(f, slices.Values(c.reqs), c.raw)
		if got := s.String(); got != tt.want {
			t.Errorf("Suggest(%q) = %q\nwant %q", tt.expr, got, tt.want)
		}
		// Honest: each count is the filter's with the term replaced.
		for _, ts := range s.Terms {
			for _, v := range append(slices.Clone(ts.Values), ts.Glob) {
				expr := strings.Replace(tt.expr, ts.Term, v.Term, 1)
				if n := len(c.query(t, expr)); n != v.Count {
					t.Errorf("Suggest(%q) says %s has %d; %q matches %d", tt.expr, v.Term, v.Count, expr, n)
				}
			}
		}
	}
}

// Suggest reads requests once, as a second read of a log hands them over,
// and keeps none of them: the store may reuse them (crafted requests).
func TestSuggestKeepsNoRequest(t *testing.T) {
	f, _ := Parse("user=dana", time.Time{})
	names := []string{"dev-dana", "dana2", "bob", "dev-dana"}
	s := Suggest(f, func(yield func(*audit.Request) bool) {
		buf := []byte("xxxxxxxx")
		for _, n := range names {
			copy(buf, n+"        ")
			u := string(buf[:len(n)]) // a fresh string each time, as the store's would be reused
			if !yield(audit.NewRequest(audit.Who{User: u}, audit.What{Verb: "get"}, "", "", "")) {
				return
			}
		}
	}, nil)
	if got, want := s.String(), "user=dev-dana has 2, user=dana2 has 1 (user=*dana* 3)"; got != want {
		t.Errorf("Suggest = %q, want %q", got, want)
	}
}

// More near values than can be counted exactly: none is named, the glob's
// count (exact) still is (crafted requests).
func TestSuggestTooManyNearValues(t *testing.T) {
	f, _ := Parse("name=pod", time.Time{})
	n := maxNearKeys + 10
	s := Suggest(f, func(yield func(*audit.Request) bool) {
		for i := range n {
			yield(audit.NewRequest(audit.Who{}, audit.What{}, "", "", fmt.Sprintf("pod-%d", i)))
		}
	}, nil)
	if len(s.Terms) != 1 || !s.Terms[0].Inexact || len(s.Terms[0].Values) != 0 {
		t.Fatalf("Suggest = %+v, want the glob alone", s)
	}
	if got, want := s.String(), fmt.Sprintf("name=*pod* has %d", n); got != want {
		t.Errorf("Suggest = %q, want %q", got, want)
	}
}
