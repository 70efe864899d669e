package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
)

// query --history of the configmap dev-pat created and labelled in
// testdata/admission (hack/gen-admission.sh: a mutating webhook stamps it,
// two webhooks whose server is down fail open): each write names the
// webhook expected.json says patched it, with its patch, and every webhook
// it says failed open.
func TestQueryHistorySaysWhatAdmissionChanged(t *testing.T) {
	exp := audittest.Expected(t, "admission")
	var steps int
	for _, a := range exp.Get("actions").Array() {
		if a.Get("patchedBy").String() == "" {
			continue
		}
		steps++
		obj := "configmap " + a.Get("namespace").String() + "/" + a.Get("name").String()
		r := runQueryTest(t, "", "--history", obj, filepath.Join(admissionDir, "audit.log"))
		if r.code != 0 {
			t.Fatalf("%s: exit %d, stderr %q", obj, r.code, r.stderr)
		}
		// the write of this step: its line, then its indented lines
		var block []string
		in := false
		for _, l := range strings.Split(r.stdout, "\n") {
			switch {
			case strings.Contains(l, "  "+a.Get("verb").String()+" configmaps  by "+a.Get("user").String()):
				in = true
			case in && !strings.HasPrefix(l, "    "):
				in = false
			}
			if in {
				block = append(block, l)
			}
		}
		text := strings.Join(block, "\n")
		if !strings.Contains(text, `admission: patched by mutating webhook "`+a.Get("patchedBy").String()+`"`) ||
			!strings.Contains(text, `kauditui.example~1stamped-by`) {
			t.Errorf("%s: the %s does not say %s patched it:\n%s", a.Get("step"), a.Get("verb"), a.Get("patchedBy"), r.stdout)
		}
		for _, w := range strings.Split(a.Get("failedOpen").String(), ",") {
			if !strings.Contains(text, `webhook "`+w+`" failed open`) {
				t.Errorf("%s: does not say %s failed open:\n%s", a.Get("step"), w, text)
			}
		}
	}
	if steps == 0 {
		t.Fatal("no patched step in testdata/admission/expected.json: regenerate it with hack/gen-admission.sh")
	}
}

// query --exec and the table redact a password an exec's command line put
// in the requestURI; --show-secrets shows it; -o json is the evidence, as
// logged. Crafted: the harness's apiserver has no kubelet to exec into.
func TestQueryRedactsSecretsUnlessShowSecrets(t *testing.T) {
	defer render.SetShowSecrets(false)
	line := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"x1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/a/pods/db/exec?command=psql\u0026command=--password%3Dhunter2\u0026container=db","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"pods","subresource":"exec","namespace":"a","name":"db","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":101},"requestReceivedTimestamp":"2026-12-06T01:00:00.000000Z","stageTimestamp":"2026-12-06T01:00:01.000000Z"}`
	log := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(log, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runQueryTest(t, "", "--exec", log)
	if r.code != 0 || strings.Contains(r.stdout, "hunter2") || !strings.Contains(r.stdout, "psql --password="+render.Redacted) {
		t.Errorf("--exec: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := runQueryTest(t, "", "--exec", "--show-secrets", log); !strings.Contains(r.stdout, "psql --password=hunter2") {
		t.Errorf("--exec --show-secrets: stdout %q", r.stdout)
	}
	if r := runQueryTest(t, "", "-o", "json", log); strings.TrimSpace(r.stdout) != line {
		t.Errorf("-o json is not the line as logged: %q", r.stdout)
	}
}
