package filter

import (
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// answersExpected is the part of testdata/answers/expected.json (written by
// hack/gen-answers.sh from what it did) that these tests use.
type answersExpected struct {
	Fingerprints map[string]string `json:"fingerprints"`
	Actions      []struct {
		Step, User, Verb, Resource, Subresource, Namespace, Name string
		Code                                                     int
	} `json:"actions"`
}

func readAnswersExpected(t *testing.T) answersExpected {
	t.Helper()
	var e answersExpected
	audittest.ReadJSON(t, "answers/expected.json", &e)
	return e
}

// Two people with admin.conf certificates are both kubernetes-admin; cred=
// tells them apart by the certificate the real apiserver logged.
func TestCredOnRealLog(t *testing.T) {
	exp := readAnswersExpected(t)
	c := loadFiles(t, audittest.Logs(t, "answers")...)
	admin, laptop := exp.Fingerprints["etc-kubernetes/admin.conf"], exp.Fingerprints["laptop/admin.conf"]
	audit.SetCredentialNames(map[string]string{admin: "admin.conf on this node"})
	t.Cleanup(func() { audit.SetCredentialNames(nil) })
	now := time.Now()
	count := func(expr string) int {
		t.Helper()
		f, err := Parse(expr, now)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range c.reqs {
			if f.Match(r) {
				n++
			}
		}
		return n
	}
	// The deployment was deleted from the laptop, whose certificate is not
	// on this node: the delete matches its short fingerprint, not admin.conf.
	if n := count("verb=delete resource=deploy name=web cred=\"unknown certificate " + laptop[:12] + "\""); n != 1 {
		t.Errorf("delete of web by the laptop's certificate: %d requests, want 1", n)
	}
	if n := count(`verb=delete resource=deploy name=web cred="admin.conf on this node"`); n != 0 {
		t.Errorf("delete of web by admin.conf: %d requests, want 0", n)
	}
	if n := count("verb=create resource=deploy name=web cred=*admin.conf*"); n != 1 {
		t.Errorf("create of web by admin.conf: %d requests, want 1", n)
	}
	// the fingerprint with or without X509SHA256=, and a glob on it
	if a, b, g := count("cred=X509SHA256="+laptop), count("cred="+laptop), count("cred="+laptop[:8]+"*"); a == 0 || a != b || a != g {
		t.Errorf("cred by fingerprint: %d with X509SHA256=, %d bare, %d glob: want the same, not 0", a, b, g)
	}
	// both certificates are kubernetes-admin: together they are all its requests
	if all, byCert := count("user=kubernetes-admin"), count("user=kubernetes-admin cred="+admin+","+laptop); all != byCert {
		t.Errorf("kubernetes-admin: %d requests, %d by the two certificates", all, byCert)
	}
	// a service-account token is named by its JTI
	if n := count("user=system:serviceaccount:shop:deployer cred=token*"); n == 0 {
		t.Errorf("the deployer's token requests do not match cred=token*")
	}
}
