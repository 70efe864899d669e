package filter

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kauditui/kauditui/audit"
)

// ids names requests of testdata/sample.log by the last two hex digits of
// their auditID (see the table in TestSample).
func ids(reqs []*audit.Request) string {
	var s []string
	for _, r := range reqs {
		s = append(s, r.AuditID[len(r.AuditID)-2:])
	}
	return strings.Join(s, " ")
}

// TestSample runs the language over a handmade log shaped like the harness's
// (filter/testdata/sample.log), where every request is known:
//
//	01 admin create deployments 201       0c anonymous get /api/v1/namespaces 401 (ResponseStarted only)
//	02 admin get deployments/kubyk-web     0d admin delete deployments/kubyk-web
//	03 admin patch deployments/scale       0e garbage-collector delete replicasets
//	04 alice get secrets/db-password       0f garbage-collector delete pods
//	05 alice list secrets                  10 anonymous get /livez from ::1
//	06 bob get secret in kube-system 403   11 admin create clusterrolebindings 201
//	07 bob list nodes 403                  12 admin watch events (60 s)
//	08 bob delete deployment 403           13 admin get widgets.example.com/w1 404
//	09 admin as carol get pod (10.1.2.3)   14 admin update deployments/status 409
//	0a admin exec in pod (2.5 s, 101)      15 admin deletecollection configmaps in test
//	0b carol get pods/log with curl
func TestSample(t *testing.T) {
	c := loadFiles(t, "../testdata/sample.log")
	if len(c.reqs) != 21 {
		t.Fatalf("sample has %d requests, want 21", len(c.reqs))
	}
	for _, tt := range sampleTests {
		if got := ids(c.query(t, tt.expr)); got != tt.want {
			t.Errorf("%q matches %q, want %q", tt.expr, got, tt.want)
		}
	}
}

var sampleTests = []struct{ expr, want string }{
	{"", "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15"},
	// Who deleted the deployment (bob tried and was refused).
	{"verb=delete resource=deploy", "08 0d"},
	{"verb=delete resource=deploy code=2xx", "0d"},
	{"verb=delete,deletecollection resource=deploy,cm", "08 0d 15"},
	{"verb=delete resource=deploy ns=default name=kubyk*", "08 0d"},
	// The low-rights user's denials.
	{"code=403", "06 07 08"},
	{"decision=forbid", "06 07 08"},
	{"user=bob code!=403", ""},
	// Impersonation: carol is both an impersonated user and a real one.
	{"user=carol", "09 0b"},
	{"user=kubernetes-admin resource=pods", "09"},
	{"group=ops", "09 0b"},
	{"group=system:serviceaccounts:kube-system", "0e 0f"},
	{"user=system:serviceaccount:kube-system:*", "0e 0f"},
	{"user=SYSTEM:ANONYMOUS", "0c 10"},
	{"user!=kubernetes-admin,system:*", "04 05 06 07 08 0b"},
	// Secret reads.
	{"resource=secret verb=get,list", "04 05 06"},
	{"resource=secrets verb=get,list code<400", "04 05"},
	// Resource forms.
	{"resource=pods", "09 0f"},
	{"resource=po,pod", "09 0f"},
	{"resource=pods/*", "09 0a 0b 0f"},
	{"resource=pods/exec", "0a"},
	{"resource=*/exec", "0a"},
	{"resource=*/*", "01 02 03 04 05 06 07 08 09 0a 0b 0d 0e 0f 11 12 13 14 15"},
	{"resource=deployments/scale", "03"},
	{"resource=apps/deployments", "01 02 08 0d"},
	{"resource=apps/deploy/*", "01 02 03 08 0d 14"},
	{"resource=apps/*", "01 02 08 0d 0e"},
	{"resource=core/pods", "09 0f"},
	{"resource=core/deployments", ""},
	{"resource=rbac.authorization.k8s.io/clusterrolebindings", "11"},
	{"resource=clusterrolebinding", "11"},
	{"resource=widget", "13"},
	{"resource=widgets.example.com/widgets", "13"},
	{"resource=ev", "12"},
	{"resource=rs,ds", "0e"},
	{`resource=""`, "0c 10"},
	{"resource!=pods/*,deploy/*", "04 05 06 07 0c 0e 10 11 12 13 15"},
	// Namespace and name.
	{`ns=""`, "07 0c 10 11"},
	{"ns=kube-*", "06"},
	{"ns=test", "15"},
	{"name=kubyk-web", "02 03 08 0d 14"},
	{"name=KUBYK-web-*", "09 0a 0b 0e 0f"},
	{"name=*-abcde", "09 0a 0b 0f"},
	// Status codes.
	{"code=404", "13"},
	{"code=4xx", "06 07 08 0c 13 14"},
	{"code=40x", "06 07 08 0c 13 14"},
	{"code>=400", "06 07 08 0c 13 14"},
	{"code=>=400", "06 07 08 0c 13 14"},
	{"code<200", "0a"},
	{"code>404", "14"},
	{"code<=101", "0a"},
	{"code=401,404", "0c 13"},
	{"code!=2xx,101", "06 07 08 0c 13 14"},
	{"!code>=300", "01 02 03 04 05 09 0a 0b 0d 0e 0f 10 11 12 15"},
	// Stage, level, decision.
	{"stage=started", "0c"},
	{"stage=ResponseStarted", "0c"},
	{"stage!=complete", "0c"},
	{"level=requestresponse", "01"},
	{`decision=""`, "0c"},
	{"decision=allow ns=test", "15"},
	// Source IP: any of sourceIPs, CIDR, glob, IPv6.
	{"ip=10.0.0.0/8", "09"},
	{"ip=10.1.2.3", "09"},
	{"ip=192.0.2.10", "09 0e 0f"},
	{"ip=192.0.2.*", "09 0e 0f"},
	{"ip=::1", "10"},
	{"ip=::/0", "10"},
	{"ip=203.0.113.0/24,::1", "0c 10"},
	// User agent and URI: '*' crosses '/'.
	{`agent="kubectl/v1.37 (linux)"`, "15"},
	{`agent=kubectl/v1.37" (linux)"`, "15"},
	{"agent=*garbage-collector", "0e 0f"},
	{"agent=curl/*", "0b"},
	{"agent=kube-probe*", "10"},
	{"uri=/livez", "10"},
	{"uri=/api/v1/namespaces/default/*", "04 05 09 0a 0b 0f 12"},
	{"uri=*command=id*", "0a"},
	{"uri=*?watch=true", "12"},
	// auditID, reason, message.
	{"id=00000000-0000-0000-0000-00000000100d", "0d"},
	{"id=*0d", "0d"},
	{"reason=*secret-reader*", "04"},
	{`msg=*"cannot list"*`, "07"},
	// Time: now is the last request (03:03:30).
	{"since=30s", "12 13 14 15"},
	{"since=2026-11-26T03:03:10Z", "13 14 15"},
	{"until=2026-11-26T03:00:20Z", "01 02"},
	{"since=2026-11-26T03:02:00Z until=2026-11-26T03:02:20Z", "0c 0d 0e"},
	{"since=1d", "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15"},
	{"until=3m", "01 02 03"},
	// Latency.
	{"latency>1s", "0a 12"},
	{"latency>=1m", "12"},
	{"latency<1s user=bob", "06 07 08"},
	// Bare words search the raw lines, case-insensitive, AND-ed.
	{"bootstrap-token", "06"},
	{"BOOTSTRAP-token", "06"},
	{`"command=id"`, "0a"},
	{"kubyk verb=delete", "08 0d 0e 0f"},
	{"kubyk !default", ""},
	{"!kubyk ns=default", "01 04 05 12 13"},
	{"forbidden not*found", ""},
	{`"not found"`, "13"},
	{"widgets*not*found", "13"},
	{`'"verb":"deletecollection"'`, "15"},
	// Field names are case-insensitive and have aliases.
	{"USER=bob Verb=list", "07"},
	{"namespace=test", "15"},
	{"status=404", "13"},
	{"useragent=curl*", "0b"},
}

// Without a way to read raw lines, bare words search the request's fields.
func TestBareWordWithoutRaw(t *testing.T) {
	c := loadFiles(t, "../testdata/sample.log")
	f, err := Parse("bootstrap-token", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if !f.NeedsRaw() {
		t.Error("NeedsRaw() = false for a bare word")
	}
	var got []*audit.Request
	for _, r := range c.reqs {
		if !f.Match(r) {
			t.Fatalf("Match(%s) = false: Match must ignore bare words", r.AuditID)
		}
		if f.MatchRaw(r, nil) {
			got = append(got, r)
		}
	}
	if ids(got) != "06" {
		t.Errorf("bare word without raw found %q, want 06", ids(got))
	}
	failing := func(audit.Ref) ([]byte, error) { return nil, errors.New("gone") }
	if !f.MatchRaw(c.reqs[5], failing) {
		t.Error("a raw reader that fails should fall back to the fields")
	}
}

func TestEmpty(t *testing.T) {
	for _, expr := range []string{"", "   ", "\t\n"} {
		f, err := Parse(expr, time.Time{})
		if err != nil {
			t.Fatalf("Parse(%q): %v", expr, err)
		}
		if !f.Empty() || f.NeedsRaw() || f.String() != "" || !f.Match(audit.NewRequest(audit.Who{}, audit.What{}, "", "", "")) {
			t.Errorf("Parse(%q) is not the empty filter", expr)
		}
	}
	f, _ := Parse("verb=get", time.Time{})
	if f.Empty() || f.NeedsRaw() {
		t.Error("verb=get: Empty or NeedsRaw is true")
	}
}

var syntaxErrorTests = []struct {
	expr string
	err  string // the whole Error()
	pos  int
}{
	{"user=alice verb=get code=4x5",
		`filter: term 3 "code=4x5" at column 26: expected a status code like 404, 4xx or >=400`, 25},
	{"usr=alice",
		`filter: term 1 "usr=alice" at column 1: expected a field name: did you mean "user"? (fields: ` + fieldNames() + ")", 0},
	{"colour=red",
		`filter: term 1 "colour=red" at column 1: expected a field name (` + fieldNames() + ")", 0},
	{"namespce=x", `did you mean "ns"?`, 0},
	{"verb=get user =alice", `filter: term 3 "=alice" at column 15: expected a field name before =, like user=alice (no spaces around =)`, 14},
	{"user=", `term 1 "user=" at column 6: expected a value after =, like user=alice (use "" to match an empty field)`, 5},
	{"verb=get,,list", `at column 10: expected a value between the commas`, 9},
	{"verb=get,", `at column 10: expected a value between the commas`, 9},
	{`agent="kubectl`, `filter: term 1 "agent=\"kubectl" at column 7: expected a closing " for the quote opened here`, 6},
	{`user=a 'b`, `term 2 "'b" at column 8: expected a closing '`, 7},
	{"verb>get", `at column 5: expected = or != (only code and latency compare with < and >)`, 4},
	{"code>=4xx", "expected a status code", 6},
	{"code>=400,500", "one value after >=", 9},
	{"code=4*", "(use 4xx, not 4*)", 5},
	{"code=1234", "expected a status code", 5},
	{"stage=done", "expected a stage", 6},
	{"level=verbose", "expected one of none, metadata, request, requestresponse", 6},
	{"decision=deny", "expected one of allow, forbid", 9},
	{"since=yesterday", "expected a duration before now like 30m, 2h, 7d", 6},
	{"since>2h", "expected = (since and until take one time", 5},
	{"since=1h,2h", "one time (no commas)", 8},
	{"latency=1s", "expected a comparison with a duration", 8},
	{"latency>fast", "expected a comparison with a duration", 8},
	{"ip=10.0.0.0/33", "a CIDR like 10.0.0.0/8", 3},
	{"resource=a/b/c/d", "group/resource/subresource", 9},
	{"resource=pods/", "a subresource after the slash", 9},
	{"resource=apps//x", "a resource name between the slashes", 9},
	{"!", "a search word or a field=value after !", 1},
	{"a.b=c", `quote a search word that holds =`, 3},
	{"é=1 user=x", `term 1 "é=1" at column 2:`, 2},
	{"ns=default é user=", `term 3 "user=" at column 19:`, 19},
}

func TestSyntaxErrors(t *testing.T) {
	for _, tt := range syntaxErrorTests {
		_, err := Parse(tt.expr, time.Time{})
		var se *syntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tt.expr, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.err) || strings.Contains(msg, "\n") {
			t.Errorf("Parse(%q) error:\n got %s\nwant %s", tt.expr, msg, tt.err)
		}
		if se.Pos != tt.pos {
			t.Errorf("Parse(%q): Pos = %d, want %d", tt.expr, se.Pos, tt.pos)
		}
		if !strings.Contains(tt.expr, se.Term) {
			t.Errorf("Parse(%q): Term %q is not part of the expression", tt.expr, se.Term)
		}
	}
}

func TestSyntaxErrorEscapesControlCharacters(t *testing.T) {
	_, err := Parse("user=\x1b[31m,,", time.Time{})
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Errorf("error %q holds a raw escape character", err)
	}
}

var stringTests = []struct{ expr, want string }{
	{"  USER=alice   verb=get ", "user=alice verb=get"},
	{"namespace!=default", "ns!=default"},
	{"!user=bob", "user!=bob"},
	{"!user!=bob", "user=bob"},
	{"code=>=400", "code>=400"},
	{"code!=>=400", "!code>=400"},
	{"code=4xx,>=500", `code=4xx,">=500"`},
	{`agent="kubectl/v1.37 (linux)"`, `agent="kubectl/v1.37 (linux)"`},
	{`agent='a "b"'`, `agent="a \"b\""`},
	{`name="a*b"*`, `name="a*b"*`},
	{`ns=""`, `ns=""`},
	{`"a=b" !forbidden`, `"a=b" !forbidden`},
	{`"!x"`, `"!x"`},
	{`name=a,"b,c"`, `name=a,"b,c"`},
	{"since=30m until=2026-11-26T10:00:00Z", "since=30m until=2026-11-26T10:00:00Z"},
	{"latency>=1s", "latency>=1s"},
	{"resource=apps/deploy/*", "resource=apps/deploy/*"},
}

func TestString(t *testing.T) {
	for _, tt := range stringTests {
		f, err := Parse(tt.expr, time.Time{})
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.expr, err)
			continue
		}
		if got := f.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.expr, got, tt.want)
		}
		g, err := Parse(f.String(), time.Time{})
		if err != nil || g.String() != f.String() {
			t.Errorf("String %q does not parse back to itself: %v %q", f.String(), err, g)
		}
	}
}

func TestWith(t *testing.T) {
	tests := []struct {
		expr, field, value string
		exclude            bool
		want               string
	}{
		{"", "user", "alice", false, "user=alice"},
		{"verb=get", "user", "alice", false, "verb=get user=alice"},
		{"user=bob verb=get", "user", "alice", false, "user=alice verb=get"},
		{"user=bob verb=get user!=carol", "user", "alice", false, "user=alice verb=get"},
		{"username=bob", "USER", "alice", false, "user=alice"},
		{"verb=get", "user", "alice", true, "verb=get user!=alice"},
		{"user!=bob", "user", "alice", true, "user!=bob,alice"},
		{"user!=bob,alice", "user", "alice", true, "user!=bob,alice"},
		{"user=alice verb=get", "user", "alice", true, "verb=get user!=alice"},
		{"user=alice,bob", "user", "alice", true, "user=alice,bob user!=alice"},
		{"", "agent", "kubectl/v1.37 (linux)", false, `agent="kubectl/v1.37 (linux)"`},
		{"", "name", "a*b", false, `name="a*b"`},
		{"", "ns", "", false, `ns=""`},
		{"code>=400", "code", "404", true, "code>=400 code!=404"},
		{"bogus=1 kubyk", "user", "x", false, "bogus=1 kubyk user=x"},
		{`user="open`, "verb", "get", false, `user="open`},
	}
	for _, tt := range tests {
		got := With(tt.expr, tt.field, tt.value, tt.exclude)
		if got != tt.want {
			t.Errorf("With(%q, %q, %q, %v) = %q, want %q", tt.expr, tt.field, tt.value, tt.exclude, got, tt.want)
		}
	}
}

// A quick filter made from a row's values matches that row, and its
// exclusion does not: every field the explorer can pick from a request.
func TestWithMatchesItsRow(t *testing.T) {
	c := loadFiles(t, "../testdata/sample.log")
	for _, r := range c.reqs {
		for field, v := range map[string]string{
			"user": r.User, "verb": r.Verb, "resource": r.ResourcePath(), "ns": r.Namespace,
			"name": r.Name, "code": strconv.Itoa(r.Code), "agent": r.UserAgent, "uri": r.RequestURI(),
			"ip": r.SourceIP(), "id": r.AuditID, "stage": r.Stage, "decision": r.Decision,
		} {
			for _, exclude := range []bool{false, true} {
				expr := With("", field, v, exclude)
				f, err := Parse(expr, time.Time{})
				if err != nil {
					t.Errorf("With(%s, %q): %v", field, v, err)
					continue
				}
				if f.Match(r) == exclude {
					t.Errorf("%s: %s matches=%v", r.AuditID, expr, !exclude)
				}
			}
		}
	}
}

func TestFields(t *testing.T) {
	seen := map[string]bool{}
	for _, fh := range Fields() {
		if fh.Name == "" || fh.Help == "" || fh.Example == "" {
			t.Errorf("field %+v lacks a name, help or example", fh)
		}
		for _, n := range append([]string{fh.Name}, fh.Aliases...) {
			if seen[n] {
				t.Errorf("field name %q twice", n)
			}
			seen[n] = true
		}
		if _, err := Parse(fh.Example, time.Time{}); err != nil {
			t.Errorf("example of %s: %v", fh.Name, err)
		}
	}
	for _, n := range []string{"user", "group", "verb", "resource", "ns", "name", "code", "stage", "level",
		"ip", "agent", "uri", "decision", "id", "since", "until"} {
		if !seen[n] {
			t.Errorf("field %s missing from Fields()", n)
		}
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("-race: sync.Pool drops buffers on purpose under the race detector (uri= matches in a pooled buffer); run without -race")
	}
	c := loadFiles(t, "../testdata/sample.log")
	for _, expr := range []string{
		"user=kubernetes-admin verb=get,list resource=pods",
		"user=*admin* ns!=kube-* name=kubyk* agent=kubectl/* uri=*/deployments/*",
		"ip=10.0.0.0/8,192.0.2.*,::1 code>=400 group=system:* since=1h latency<1s",
	} {
		f, err := Parse(expr, c.now())
		if err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(100, func() {
			for _, r := range c.reqs {
				f.Match(r)
			}
		})
		if allocs != 0 {
			t.Errorf("Match(%q) allocates %.1f times per run", expr, allocs)
		}
	}
}

func TestIndexFold(t *testing.T) {
	tests := []struct {
		s, sub string
		want   int
	}{
		{"", "", 0}, {"abc", "", 0}, {"", "a", -1},
		{"Hello World", "world", 6}, {"hello", "hellox", -1},
		{"aAaAb", "aab", 2}, {"aAaAc", "aab", -1}, {"aAaAb", "aab"[0:2], 0}, {"xxAAB", "aab", 2},
		{"ab/Cd", "/cd", 2}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaab", "ab", 27},
		{"ÉCOLE", "cole", 2}, {"zzzZ", "zz", 0}, {"xyZ", "z", 2},
	}
	for _, tt := range tests {
		if got := indexFold(tt.s, tt.sub); got != tt.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tt.s, tt.sub, got, tt.want)
		}
	}
}
