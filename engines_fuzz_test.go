package main

// FuzzEnginesAgree: a real log, mutated the ways logs are mishandled or
// re-encoded (escaped keys and values, key order, stages reordered or lost,
// lines repeated next to each other or more than 4,096 requests later),
// answers a filter of the corpus the same through `query --count`,
// `--top code`, `-o wide` and `-o json` as through a full store (see
// engines_diff_test.go). hack/fuzz.sh runs it.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/filter"
	"github.com/kauditui/kauditui/render"
	"github.com/kauditui/kauditui/source"
)

// mutateLog applies ops to the lines of a log: each op is two bytes, what
// to do and to which line.
func mutateLog(log []byte, ops []byte) []byte {
	lines := strings.Split(strings.TrimRight(string(log), "\n"), "\n")
	farDone := false
	for i := 0; i+1 < len(ops) && len(lines) > 0; i += 2 {
		k := int(ops[i+1]) % len(lines)
		l := lines[k]
		switch ops[i] % 8 {
		case 0: // escape a key
			keys := [][2]string{{`"code":`, `"c\u006fde":`}, {`"stage":`, `"st\u0061ge":`},
				{`"authorization.k8s.io/decision":`, `"authorization.k8s.io\/decision":`},
				{`"authorization.k8s.io/reason":`, `"authorization.k8s.io\/reason":`},
				{`"message":`, `"m\u0065ssage":`}, {`"reason":`, `"re\u0061son":`}, {`"verb":`, `"v\u0065rb":`},
				{`"auditID":`, `"audit\u0049D":`}, {`"username":`, `"user\u006eame":`}}
			kv := keys[int(ops[i])/8%len(keys)]
			lines[k] = strings.Replace(l, kv[0], kv[1], 1)
		case 1: // escape a character of a value
			vals := [][2]string{{`"ResponseComplete"`, `"Response\u0043omplete"`}, {`"ResponseStarted"`, `"Response\u0053tarted"`},
				{`"RequestReceived"`, `"Request\u0052eceived"`}, {`"forbid"`, `"f\u006frbid"`}, {`"allow"`, `"\u0061llow"`},
				{`"Forbidden"`, `"F\u006frbidden"`}, {`"delete"`, `"d\u0065lete"`}, {`RBAC`, `R\u0042AC`}, {`forbidden`, `f\u006frbidden`}}
			kv := vals[int(ops[i])/8%len(vals)]
			lines[k] = strings.Replace(l, kv[0], kv[1], 1)
		case 2: // reorder the top-level keys
			lines[k] = reorderKeys(l, int(ops[i])/8)
		case 3: // swap with the next line, of another request
			// (The stages of one request stay in the order the apiserver
			// writes them: the streaming engines rely on it, see
			// knownDisagreements (g).)
			if k+1 < len(lines) && gjson.Get(lines[k], "auditID").String() != gjson.Get(lines[k+1], "auditID").String() {
				lines[k], lines[k+1] = lines[k+1], lines[k]
			}
		case 4: // lose the line (a missing stage)
			lines = slices.Delete(lines, k, k+1)
		case 5: // repeat it at once
			lines = slices.Insert(lines, k+1, l)
		case 6: // repeat it more than 4,096 requests later
			if !farDone {
				farDone = true
				lines = append(lines, fillerRequests(4100)...)
				lines = append(lines, l)
			}
		case 7: // JSON whitespace between tokens
			lines[k] = strings.NewReplacer(`":`, `": `, `,"`, `, "`).Replace(l)
		}
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// reorderKeys writes line's top-level members in another order (rotated by
// n, reversed on odd n); a line that is not an object is left alone.
func reorderKeys(line string, n int) string {
	r := gjson.Parse(line)
	if !r.IsObject() {
		return line
	}
	var m []string
	r.ForEach(func(k, v gjson.Result) bool {
		m = append(m, k.Raw+":"+v.Raw)
		return true
	})
	if len(m) == 0 {
		return line
	}
	s := n % len(m)
	m = append(m[s:], m[:s]...)
	if n%2 == 1 {
		slices.Reverse(m)
	}
	return "{" + strings.Join(m, ",") + "}"
}

// fillerRequests are n small complete requests (one ResponseComplete
// line each, the fewest fields kauditui reads), later than the testdata.
func fillerRequests(n int) []string {
	out := make([]string, 0, n)
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000000Z")
		out = append(out, fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete",`+
			`"requestURI":"/api/v1/namespaces/fill/configmaps/f%d","verb":"get","user":{"username":"filler"},"responseStatus":{"code":200},`+
			`"requestReceivedTimestamp":"%s","stageTimestamp":"%s"}`, craftID(900000+i), i, at, at))
	}
	return out
}

// checkLogAgrees runs expr on log (given on standard input) through the
// query engines and the full store, and reports every difference.
func checkLogAgrees(t *testing.T, log []byte, expr string) {
	t.Helper()
	f, err := filter.Parse(expr, time.Now())
	if err != nil {
		t.Skip()
	}
	set, err := source.Open(context.Background(), source.Spec{Paths: []string{"-"}, Stdin: bytes.NewReader(log)}, source.Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(context.Background(), st); err != nil {
		t.Skip() // not a log kauditui reads: the engines' errors are tested elsewhere
	}
	snap := st.Snapshot()
	if snap.Events == 0 {
		t.Skip()
	}
	matched := f.Select(snap.Requests, set.Raw)
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	render.NewTablePrinter(0, true, false).Print(w, matched)
	w.Flush()
	wantTable := tableRows(b.String())
	b.Reset()
	writeLines(w, render.TopText(filter.TopCounts(matched, "code"), len(matched)))
	w.Flush()
	wantTop := b.String()
	b.Reset()
	if err := set.WriteRequests(w, matched); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	wantJSON := sortedLines(b.String())
	l := diffLog{name: "stdin", args: []string{"-"}, stdin: log}
	repro := func() string {
		p := filepath.Join(os.TempDir(), "kauditui-fuzz-engines.log")
		os.WriteFile(p, log, 0o644)
		return fmt.Sprintf("(log written to %s; kauditui query -q %q %s)", p, expr, p)
	}
	if r := queryRun(l, "--count", "-q", expr); strings.TrimSpace(r.stdout) != fmt.Sprint(len(matched)) {
		t.Errorf("-q %q: --count says %q, the full store %d %s", expr, strings.TrimSpace(r.stdout), len(matched), repro())
	}
	if r := queryRun(l, "--top", "code", "-q", expr); r.stdout != wantTop {
		t.Errorf("-q %q: --top code gives\n%s  the full store\n%s%s", expr, indent(r.stdout), indent(wantTop), repro())
	}
	if r := queryRun(l, "-o", "wide", "--no-color", "-q", expr); !slices.Equal(tableRows(r.stdout), wantTable) {
		t.Errorf("-q %q: -o wide: %s %s", expr, multisetDiff(wantTable, tableRows(r.stdout)), repro())
	}
	if r := queryRun(l, "-o", "json", "-q", expr); !slices.Equal(sortedLines(r.stdout), wantJSON) {
		t.Errorf("-q %q: -o json: %s %s", expr, multisetDiff(shortLines(wantJSON), shortLines(sortedLines(r.stdout))), repro())
	}
}

func FuzzEnginesAgree(f *testing.F) {
	filters := diffFilters(f)
	var seeds [][]byte
	// The seeds are real logs and the crafted shapes that once made the
	// engines disagree (contradicting stages, a kubelet's 401, escapes).
	for _, p := range []string{"testdata/sample.log", "testdata/hostile/audit.log", "testdata/trust/reused-id/audit.log",
		"testdata/diff/missing-stages.log", "testdata/diff/key-order.log", "testdata/diff/contradicting-stages.log",
		"testdata/diff/kubelet-401.log", "testdata/diff/escaped.log"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for i, s := range seeds {
		for j, ops := range [][]byte{nil, {0, 1, 16, 3}, {2, 2, 10, 1}, {4, 5}, {5, 1}, {7, 4, 2, 3}, {1, 2, 9, 3}, {3, 1, 3, 4}, {6, 2}} {
			f.Add(s, ops, uint16((i*7+j*31)%len(filters)))
		}
	}
	f.Fuzz(func(t *testing.T, log []byte, ops []byte, fi uint16) {
		if len(log) > 1<<16 || len(ops) > 16 {
			t.Skip()
		}
		checkLogAgrees(t, mutateLog(log, ops), filters[int(fi)%len(filters)])
	})
}
