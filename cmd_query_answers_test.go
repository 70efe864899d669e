package main

// The answers of issue 13 through `kauditui query`, on testdata/answers/ (a
// real kube-apiserver's log; expected.json says what hack/gen-answers.sh did).

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit"
)

var answersDir = filepath.Join("testdata", "answers")

func answersExpected(t *testing.T) gjson.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(answersDir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	return gjson.ParseBytes(b)
}

// runAnswersQuery runs query on testdata/answers/audit.log, with
// testdata/answers/etc-kubernetes standing in for this node's /etc/kubernetes.
func runAnswersQuery(t *testing.T, o *queryOptions) queryResult {
	t.Helper()
	var out, errOut bytes.Buffer
	o.IO = &IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: func(string) string { return "" }}
	o.Now = time.Now
	if o.Output == "" {
		o.Output = "table"
	}
	o.Creds.Node = filepath.Join(answersDir, "etc-kubernetes")
	o.Sources = []string{filepath.Join(answersDir, "audit.log")}
	t.Cleanup(func() { audit.SetCredentialNames(nil) })
	code := 0
	if err := runQuery(context.Background(), o); err != nil {
		var ee *exitError
		if !errors.As(err, &ee) {
			t.Fatalf("query: %v", err)
		}
		code = ee.code
	}
	return queryResult{code, out.String(), errOut.String()}
}

// Which admin was it: kubernetes-admin is two people, told apart by their
// certificates; admin.conf of this node is named, the laptop's copy is
// not, until it is named with --kubeconfig-dir.
func TestQueryWhichAdmin(t *testing.T) {
	exp := answersExpected(t)
	laptop := exp.Get(`fingerprints.laptop/admin\.conf`).String()
	r := runAnswersQuery(t, &queryOptions{Top: "cred", Filter: "user=kubernetes-admin"})
	for _, want := range []string{"admin.conf on this node", "unknown certificate " + laptop[:12]} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--top cred of kubernetes-admin lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "super-admin") {
		t.Errorf("super-admin.conf is kubernetes-super-admin, not kubernetes-admin:\n%s", r.stdout)
	}
	// Who deleted the deployment: the laptop, as --top cred says and cred= finds.
	r = runAnswersQuery(t, &queryOptions{Top: "cred", Filter: "verb=delete resource=deploy name=web",
		Creds: credFlags{Paths: []string{filepath.Join(answersDir, "laptop", "admin.conf")}}})
	if want := "1  " + filepath.Join(answersDir, "laptop", "admin.conf") + "\n"; r.stdout != want {
		t.Errorf("who deleted web, by certificate: %q, want %q (stderr %q)", r.stdout, want, r.stderr)
	}
	r = runAnswersQuery(t, &queryOptions{Count: true, Filter: `cred="super-admin.conf on this node"`})
	if r.stdout == "0\n" || r.code != 0 {
		t.Errorf("cred=super-admin.conf on this node: %q (exit %d)", r.stdout, r.code)
	}
	// a path that is not there is a warning that says what to name
	r = runAnswersQuery(t, &queryOptions{Count: true, Creds: credFlags{Paths: []string{"no/such/dir"}}})
	if !strings.Contains(r.stderr, "--kubeconfig-dir no/such/dir: no such file or folder") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("a missing --kubeconfig-dir: stderr %q", r.stderr)
	}
}
