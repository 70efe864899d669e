package main

import (
	"strings"
	"testing"

	"github.com/kauditui/kauditui/budget"
)

// The memory budget and the priority as query's users meet them (the
// rules themselves are tested in package budget).

// A --max-memory or --priority that is not one is a one-line usage error,
// before anything is read.
func TestMemoryFlagsRefuseNonsense(t *testing.T) {
	log, _ := fileRun(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--max-memory", "lots"}, `--max-memory "lots": not a size (e.g. 300MiB, 1GiB)`},
		{[]string{"--max-memory", "300 potatoes"}, `unknown unit "potatoes"`},
		{[]string{"--max-memory", "10MiB"}, "is too little: kauditui needs at least 64 MiB"},
		{[]string{"--priority", "high"}, `--priority "high": use low, normal or auto`},
	} {
		r := runQueryTest(t, "", append(tc.args, "--count", log)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
	if r := runQueryTest(t, "", "--max-memory", "256MiB", "--count", log); r.code != exitOK || r.stderr != "" {
		t.Errorf("--max-memory 256MiB: exit %d, %q", r.code, r.stderr)
	}
}

// On a control-plane node the trail is read at low priority, and query
// says so on stderr, with the flag that turns it off; --priority normal
// does not lower it; elsewhere nothing is said or done.
func TestLowPriorityOnAControlPlaneNode(t *testing.T) {
	log, _ := fileRun(t)
	lowered := 0
	oldCP, oldSet := budget.ControlPlane, budget.SetLowPriority
	t.Cleanup(func() { budget.ControlPlane, budget.SetLowPriority = oldCP, oldSet })
	budget.SetLowPriority = func() error { lowered++; return nil }
	cp := true
	budget.ControlPlane = func(string) (bool, string) { return cp, "/etc/kubernetes/manifests/kube-apiserver.yaml exists" }

	r := runQueryTest(t, "", "--count", log)
	if r.code != exitOK || lowered != 1 || !strings.Contains(r.stderr, "kauditui: reading at low CPU and IO priority (nice 19, IO best-effort 7): this is a control-plane node (/etc/kubernetes/manifests/kube-apiserver.yaml exists); --priority normal reads at full speed\n") {
		t.Errorf("on a control-plane node: exit %d, lowered %d times, stderr %q", r.code, lowered, r.stderr)
	}
	lowered = 0
	if r := runQueryTest(t, "", "--priority", "normal", "--count", log); lowered != 0 || r.stderr != "" {
		t.Errorf("--priority normal: lowered %d times, stderr %q", lowered, r.stderr)
	}
	cp = false
	if r := runQueryTest(t, "", "--count", log); lowered != 0 || r.stderr != "" {
		t.Errorf("not a control-plane node: lowered %d times, stderr %q", lowered, r.stderr)
	}
	if r := runQueryTest(t, "", "--priority", "low", "--count", log); lowered != 1 || !strings.Contains(r.stderr, "low CPU and IO priority (nice 19, IO best-effort 7): --priority low;") {
		t.Errorf("--priority low: lowered %d times, stderr %q", lowered, r.stderr)
	}
}
