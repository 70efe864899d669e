package filter

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
)

// groundTruth is the part of testdata/ground-truth.json these tests use
// (see testdata/README.md): what the harness did, written by the harness.
type groundTruth struct {
	Actions []gtAction `json:"actions"`
	Facts   struct {
		DeploymentDeletedBy gtAction `json:"deploymentDeletedBy"`
		NamespaceDeletedBy  gtAction `json:"namespaceDeletedBy"`
		SecretReadBy        gtAction `json:"secretReadBy"`
		ExecInto            gtAction `json:"execInto"`
		Impersonation       gtAction `json:"impersonation"`
	} `json:"facts"`
	Runs struct {
		File struct {
			Requests        int            `json:"requests"`
			RequestsPerUser map[string]int `json:"requestsPerUser"`
			Unauthorized401 int            `json:"unauthorized401"`
			Forbidden403    int            `json:"forbidden403"`
			Impersonated    int            `json:"impersonated"`
			PollerRequests  int            `json:"pollerRequests"`
		} `json:"file"`
	} `json:"runs"`
}

type gtAction struct {
	Step, User, ImpersonatedUser, Verb string
	Resource, Subresource, APIGroup    string
	Namespace, Name                    string
	Code                               int
	Command                            string
	Windows                            struct {
		File struct{ From, To string }
	}
}

// filter is the expression that finds the action: every field the harness
// recorded, and its time window in the file run.
func (a gtAction) filter() string {
	user := a.User
	if a.ImpersonatedUser != "" {
		user = a.ImpersonatedUser // user= matches the impersonated user too
	}
	expr := With("", "user", user, false)
	res := a.Resource
	if a.APIGroup != "" {
		res = a.APIGroup + "/" + res
	} else {
		res = "core/" + res
	}
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	expr = With(expr, "verb", a.Verb, false)
	expr = With(expr, "resource", res, false)
	expr = With(expr, "ns", a.Namespace, false)
	if a.Name != "" {
		expr = With(expr, "name", a.Name, false)
	}
	expr += " code=" + itoa(a.Code)
	return expr + " since=" + a.Windows.File.From + " until=" + a.Windows.File.To
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func loadGroundTruth(t *testing.T) (*groundTruth, *corpus) {
	t.Helper()
	var gt groundTruth
	audittest.ReadJSON(t, "ground-truth.json", &gt)
	return &gt, loadFiles(t, audittest.Logs(t, "file")...)
}

func users(reqs []*audit.Request) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range reqs {
		if u := r.Actor(); !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// TestGroundTruth answers the harness's facts with filters over the real logs
// of the file run (rotated backups, gzip included).
func TestGroundTruth(t *testing.T) {
	gt, c := loadGroundTruth(t)
	file := gt.Runs.File
	count := func(expr string) int { return len(c.query(t, expr)) }

	if n := count(""); n != file.Requests {
		t.Errorf("the empty filter matches %d requests, ground truth has %d", n, file.Requests)
	}

	// Every scripted action is found by the filter made of what the harness recorded.
	for _, a := range gt.Actions {
		if got := c.query(t, a.filter()); len(got) == 0 {
			t.Errorf("action %s: %q matches nothing", a.Step, a.filter())
		}
	}

	// Who deleted the deployment: exactly one successful top-level delete.
	d := gt.Facts.DeploymentDeletedBy
	got := c.query(t, "verb=delete resource=deploy ns="+d.Namespace+" name="+d.Name+" code=2xx")
	if len(got) != 1 || got[0].User != d.User {
		t.Errorf("deployment deleted by %q (%d requests), want %s", users(got), len(got), d.User)
	}
	// Attempts included, the refused viewer shows up too.
	if got := c.query(t, "verb=delete resource=deployments name="+d.Name); len(got) < 2 {
		t.Errorf("delete attempts on %s: %s; want the deleter and the refused viewer", d.Name, users(got))
	}

	n := gt.Facts.NamespaceDeletedBy
	got = c.query(t, "verb=delete resource=ns name="+n.Name)
	if len(got) == 0 || got[0].User != n.User {
		t.Errorf("namespace %s deleted by %q, want %s", n.Name, users(got), n.User)
	}

	// Denials: the counts match the ground truth; the low-rights users are among them.
	if n := count("code=403"); n != file.Forbidden403 {
		t.Errorf("code=403 matches %d requests, ground truth has %d", n, file.Forbidden403)
	}
	if n := count("code=401"); n != file.Unauthorized401 {
		t.Errorf("code=401 matches %d requests, ground truth has %d", n, file.Unauthorized401)
	}
	if n, m := count("decision=forbid"), count("code=403"); n != m {
		t.Errorf("decision=forbid matches %d, code=403 %d", n, m)
	}
	for _, step := range []string{"viewer-read-secret", "viewer-delete-deployment", "bot-delete-configmap"} {
		for _, a := range gt.Actions {
			if a.Step == step {
				if got := c.query(t, "code=403 "+With("", "user", a.User, false)+" resource="+a.Resource); len(got) == 0 {
					t.Errorf("%s: no 403 for %s on %s", step, a.User, a.Resource)
				}
			}
		}
	}

	// Secret reads: the admin's read and the viewer's refused one.
	s := gt.Facts.SecretReadBy
	got = c.query(t, "resource=secret verb=get name="+s.Name)
	if u := users(got); !strings.Contains(u, s.User) || !strings.Contains(u, "lou-viewer") {
		t.Errorf("readers of secret %s: %q, want %s and lou-viewer", s.Name, u, s.User)
	}

	// Impersonation: user= finds the request under both users.
	imp := gt.Facts.Impersonation
	for _, u := range []string{imp.User, imp.ImpersonatedUser} {
		got := c.query(t, With("", "user", u, false)+" verb=list resource=deploy since="+imp.Windows.File.From+" until="+imp.Windows.File.To)
		found := false
		for _, r := range got {
			found = found || (r.User == imp.User && r.ImpersonatedUser == imp.ImpersonatedUser)
		}
		if !found {
			t.Errorf("user=%s does not find the request made as %s by %s", u, imp.ImpersonatedUser, imp.User)
		}
	}

	// Requests per user: user=X counts X's own requests, plus those made as X.
	for u, want := range file.RequestsPerUser {
		if u == imp.ImpersonatedUser {
			want += file.Impersonated
		}
		if n := count(With("", "user", u, false)); n != want {
			t.Errorf("%s matches %d requests, want %d", With("", "user", u, false), n, want)
		}
	}

	// Exec: the command is only in the URI.
	e := gt.Facts.ExecInto
	cmd := strings.Fields(e.Command)[0]
	got = c.query(t, "resource=pods/exec name="+e.Name+" uri=*command="+cmd+"*")
	if len(got) == 0 || got[0].User != e.User {
		t.Errorf("exec into %s: %q, want %s", e.Name, users(got), e.User)
	}

	// The poller: by user agent, and by a bare word over the raw lines.
	if n := count("agent=kubyk-bot-poller/*"); n != file.PollerRequests {
		t.Errorf("agent=kubyk-bot-poller/* matches %d, ground truth has %d poller requests", n, file.PollerRequests)
	}
	if n := count("KUBYK-BOT-POLLER"); n < file.PollerRequests {
		t.Errorf("bare word KUBYK-BOT-POLLER matches %d, want at least %d", n, file.PollerRequests)
	}
}
