package render

import "testing"

func TestExecCommand(t *testing.T) {
	for uri, want := range map[string]string{
		"/api/v1/namespaces/a/pods/p/exec?command=cat&command=%2Fetc%2Fkubyk%2Fdb-password&container=c&stdin=true": "cat /etc/kubyk/db-password",
		"/api/v1/namespaces/a/pods/p/exec?command=sh&command=-c&command=echo+hi+there":                             `sh -c "echo hi there"`,
		"/api/v1/namespaces/a/pods/p/attach?container=c":                                                           "",
		"/api/v1/namespaces/a/pods/p/exec":                                                                         "",
	} {
		if got := execCommand(uri); got != want {
			t.Errorf("%s: %q, want %q", uri, got, want)
		}
	}
}
