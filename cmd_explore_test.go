package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/source"
)

// Usage problems stop before the terminal is taken over: one line, exit 2.
func TestExploreUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-q", "code=4x", "testdata/sample.log"}, `term 1 "code=4x"`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"--demo", "testdata/sample.log"}, "--demo reads the built-in sample data"},
		{[]string{"/nonexistent/audit.log"}, "/nonexistent/audit.log"},
		{[]string{"--follow", "--no-follow", "testdata/sample.log"}, "--follow and --no-follow: give one or the other"},
	} {
		var out, errb bytes.Buffer
		io := &IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }}
		code := run(c.args, io)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, errb.String())
		}
		if !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, errb.String(), c.want)
		}
		if lines := strings.Count(strings.TrimSpace(errb.String()), "\n"); c.args[0] != "--bogus" && lines > 0 {
			t.Errorf("%v: the error takes %d lines: %q", c.args, lines+1, errb.String())
		}
	}
}

// What the explorer follows when neither --follow nor --no-follow is given:
// everything (what cannot grow is read to its end and shown as a
// snapshot), except the demo and the store.
func TestExploreFollowsByDefault(t *testing.T) {
	for _, c := range []struct {
		o    exploreOptions
		want bool
	}{
		{exploreOptions{Sources: []string{"/var/log/kubernetes/audit/audit.log"}}, true},
		{exploreOptions{Pods: source.PodFlags{Pods: true}}, true},
		{exploreOptions{Nodes: source.NodeFlags{All: true}}, true},
		{exploreOptions{}, true}, // the manifest's log, on a master
		{exploreOptions{Sources: []string{"/var/log/kubernetes/audit/audit.log"}, NoFollow: true}, false},
		{exploreOptions{Demo: true}, false},
		{exploreOptions{Store: source.StoreFlags{URL: "http://vlogs:9428"}}, false},
	} {
		if got := c.o.followByDefault(); got != c.want {
			t.Errorf("%+v: follows %v, want %v", c.o, got, c.want)
		}
	}
}
