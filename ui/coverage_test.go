package ui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/render/policytext"
	"github.com/kauditui/kauditui/setup"
)

// "What the log cannot see" on the real answers log (a rotation after a
// pause) names the gap between the two files, and ends with what the
// policy the log was written under does not log (hack/policy-answers.yaml,
// read and matched as the apiserver does), as query --coverage prints it.
func TestAnswerCoverageScreenEndsWithThePolicy(t *testing.T) {
	p, _, snap := newTestAnswersPage(t, "answers/audit.log", 200, 60)
	rep, err := setup.PolicyFile("../hack/policy-answers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p.policyText = func(reqs []*audit.Request) []string {
		d := policytext.CountDrops(rep, reqs)
		return policytext.Text(rep, nil, &d)
	}
	for range answerIndex(t, "coverage") {
		pgPress(p, "j")
	}
	pgPress(p, "enter")
	if p.history() == nil {
		t.Fatal("enter on What the log cannot see opens nothing")
	}
	var all strings.Builder
	for range 6 {
		all.WriteString(ansi.Strip(p.View()))
		pgPress(p, "space")
	}
	v := all.String()
	for _, want := range []string{
		"Covered: ", thousands(len(snap.Requests)) + " requests",
		policytext.Heading, "rule 1 drops: user groups system:serviceaccounts:kube-system, system:nodes",
	} {
		if !strings.Contains(strings.ReplaceAll(v, ",", ""), strings.ReplaceAll(want, ",", "")) {
			t.Errorf("the coverage screen lacks %q:\n%s", want, v)
		}
	}
}
