package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// These tests run the explorer on the real testdata (a real kube-apiserver's
// logs, hack/gen-testdata.sh) and check what a person sees against the
// ground truth the harness wrote from what it did.

// "Who deleted my deployment?": typed in the filter bar, the list shows the
// one successful delete, by the user the harness used, and enter opens it.
func TestWhoDeletedMyDeployment(t *testing.T) {
	truth := audittest.Truth(t)
	fact := truth.Get("facts.deploymentDeletedBy")
	st, set := loadStore(t, audittest.Path("file", "audit.log"))
	m := newTestModel(t, st, set.Raw, 120, 40)
	if got, want := len(m.flt.shownReqs()), int(truth.Get("runs.file.requests").Int()); got != want {
		t.Fatalf("the list has %d requests, the ground truth %d", got, want)
	}
	press(m, "/")
	typeText(m, "verb=delete resource=deploy code=2xx")
	press(m, "enter")
	if len(m.flt.shownReqs()) != 1 {
		t.Fatalf("%d requests match:\n%s", len(m.flt.shownReqs()), screen(m))
	}
	s := screen(m)
	row := ""
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "delete") && strings.Contains(l, "deployments") {
			row = l
		}
	}
	for _, want := range []string{fact.Get("user").Str, fact.Get("namespace").Str + "/" + fact.Get("name").Str, "200"} {
		if !strings.Contains(row, want) {
			t.Errorf("the row %q lacks %q", row, want)
		}
	}
	press(m, "enter")
	s = screen(m)
	for _, want := range []string{"delete apps/deployments " + fact.Get("namespace").Str + "/" + fact.Get("name").Str,
		`"verb": "delete"`} {
		if !strings.Contains(s, want) {
			t.Errorf("the detail lacks %q:\n%s", want, s)
		}
	}
	if user := regexp.MustCompile(`(?m)^ *User +` + regexp.QuoteMeta(fact.Get("user").Str) + ` `); !user.MatchString(s) {
		t.Errorf("the detail lacks the field User %s:\n%s", fact.Get("user").Str, s)
	}
}

// On the stdout-mode log, the requests view counts exactly the audit
// requests and the apiserver-log tab exactly the klog lines.
func TestStdoutModeDemixed(t *testing.T) {
	truth := audittest.Truth(t)
	st, set := loadStore(t, audittest.Path("stdout", "kube-apiserver.log"))
	m := newTestModel(t, st, set.Raw, 120, 40)
	// counted on the CRI log (nothing broken there): kauditui joins an
	// audit line that the runtime spliced with a klog line (source/splice.go)
	reqs := int(truth.Get("runs.stdout.cri.requests").Int())
	klog := int(truth.Get("runs.stdout.klogLines").Int())
	if c := truth.Get("runs.stdout.cri.klogLines"); c.Exists() {
		klog = int(c.Int())
	}
	if len(m.flt.shownReqs()) != reqs {
		t.Errorf("the list has %d requests, the ground truth %d", len(m.flt.shownReqs()), reqs)
	}
	status := strings.Split(screen(m), "\n")[38]
	for _, want := range []string{thousands(reqs) + " req", thousands(klog) + " klog"} {
		if !strings.Contains(status, want) {
			t.Errorf("the status bar %q lacks %q", status, want)
		}
	}
}

// Golden views on the real file-mode testdata: the list, and the detail of
// the deployment's delete (regenerate with -update after regenerating
// testdata: times and IDs change with every run).
func TestGoldenRealViews(t *testing.T) {
	truth := audittest.Truth(t)
	fact := truth.Get("facts.deploymentDeletedBy")
	st, set := loadStore(t, audittest.Path("file", "audit.log"))
	for _, sz := range sizes {
		m := newTestModel(t, st, set.Raw, sz.w, sz.h)
		name := func(what string) string { return "real-" + what + "-" + itoa(sz.w) + "x" + itoa(sz.h) + ".txt" }
		checkFrame(t, m, sz.w, sz.h)
		golden(t, name("requests"), screen(m))
		send(m, setFilterMsg{Expr: "verb=delete resource=deploy name=" + fact.Get("name").Str})
		checkFrame(t, m, sz.w, sz.h)
		golden(t, name("deletes"), screen(m))
		m.requests.table.SetCursor(rowOf(t, m, isDeploymentDelete))
		press(m, "enter")
		checkFrame(t, m, sz.w, sz.h)
		golden(t, name("detail"), screen(m))
	}
}

func itoa(n int) string { return thousands(n) }

// Columns are sized by their content: on a wide terminal no object name or
// resource group is cut while a column holds room it does not use, VERB is
// as wide as its longest verb on screen, and the wide columns (agent,
// auditID...) join only when the main ones are whole. When space is short a
// service account reads sa:NAMESPACE:NAME.
func TestColumnsFitContent(t *testing.T) {
	st, set := loadStore(t, audittest.Path("file", "audit.log"))
	for _, w := range []int{160, 240} {
		m := newTestModel(t, st, set.Raw, w, 40)
		lines := strings.Split(screen(m), "\n")
		header := lines[2]
		verbAt, resAt := strings.Index(header, "VERB"), strings.Index(header, "RESOURCE")
		longest := 0
		for _, l := range lines[3:36] {
			if f := strings.Fields(l[verbAt:resAt]); len(f) > 0 {
				longest = max(longest, len(f[0]))
			}
		}
		if got := resAt - verbAt - 1; got != max(longest, len("VERB")) {
			t.Errorf("%d columns: VERB is %d wide, its longest verb on screen %d:\n%s", w, got, longest, header)
		}
		wide := strings.Contains(header, "AUDIT-ID")
		nameAt, codeAt := strings.Index(header, "NAMESPACE/NAME"), strings.Index(header, "CODE")
		for _, l := range lines[3:36] {
			if wide && strings.Contains(l[nameAt:codeAt], "…") {
				t.Errorf("%d columns: the wide columns are shown while an object's name is cut:\n%s", w, l)
			}
		}
		if w == 240 && !wide {
			t.Errorf("240 columns: no AUDIT-ID column:\n%s", header)
		}
	}
	m := newTestModel(t, st, set.Raw, 80, 24)
	if s := screen(m); !strings.Contains(s, " sa:team") {
		t.Errorf("80 columns: a service account is not shortened to sa:NS:NAME:\n%s", s)
	}
}
