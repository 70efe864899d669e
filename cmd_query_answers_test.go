package main

// The answers (what changed, which admin, exec, why denied) through `kauditui query`, on testdata/answers/ (a
// real kube-apiserver's log; expected.json says what hack/gen-answers.sh did).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/audit/audittest"
	"github.com/kauditui/kauditui/render"
)

// answersDir is testdata/answers (hack/gen-answers.sh).
var answersDir = audittest.Path("answers")

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
		if ee.msg != "" {
			errOut.WriteString(ee.msg + "\n") // as main prints it
		}
	}
	return queryResult{code, out.String(), errOut.String()}
}

// Which admin was it: kubernetes-admin is two people, told apart by their
// certificates; admin.conf of this node is named, the laptop's copy is
// not, until it is named with --kubeconfig-dir.
func TestQueryWhichAdmin(t *testing.T) {
	exp := audittest.Expected(t, "answers")
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

// Exec that survives the WebSocket change: every way in that the script
// took (expected.json) is listed, with its command from the URI or, for
// kubectl debug, from the logged patch.
func TestQueryExec(t *testing.T) {
	exp := audittest.Expected(t, "answers")
	r := runAnswersQuery(t, &queryOptions{Answers: answerFlags{Exec: true}})
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, step := range []string{"exec-pod", "attach-pod", "portforward-pod", "debug-pod", "node-proxy-exec"} {
		a := exp.Get(`actions.#(step=="` + step + `")`)
		if !a.Exists() {
			t.Fatalf("expected.json has no step %s", step)
		}
		res := a.Get("resource").String() + "/" + a.Get("subresource").String()
		found := false
		for _, line := range strings.Split(r.stdout, "\n") {
			found = found || strings.Contains(line, " "+a.Get("verb").String()+" ") && strings.Contains(line, res) &&
				strings.Contains(line, a.Get("user").String())
		}
		if !found {
			t.Errorf("%s: no %s of %s by %s in:\n%s", step, a.Get("verb"), res, a.Get("user"), r.stdout)
		}
	}
	for _, want := range []string{
		`get     pods/exec`, `create  pods/exec`, // WebSocket, then the SPDY fallback
		`sh -c "cat /etc/shop/db-password; id"`, // the command, URL-decoded
		"debug container debugger (registry.k8s.io/e2e-test-images/busybox:1.36.1-1): sh",
		"/exec/shop/debug/debug id -u", // through the kubelet
		"ports 8080",
		"admin.conf on this node", // which admin: a8ea... is this node's admin.conf
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--exec lacks %q:\n%s", want, r.stdout)
		}
	}
	// -q narrows it
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{Exec: true}, Filter: "verb=create resource=pods/*"})
	if n := strings.Count(r.stdout, "\n"); n != 2 || !strings.Contains(r.stdout, "create  pods/exec") {
		t.Errorf("--exec -q 'verb=create resource=pods/*': want the header and the SPDY exec, got:\n%s", r.stdout)
	}
}

// What changed, step by step: every write of deploy shop/web in the order
// the script made them, each with its field-level change, the patches as
// sent, the deleter and the last state before the delete.
func TestQueryHistory(t *testing.T) {
	exp := audittest.Expected(t, "answers")
	r := runAnswersQuery(t, &queryOptions{Answers: answerFlags{History: "deploy/shop/web"}})
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	out := r.stdout
	// the writes, in the script's order
	var steps []string
	for _, a := range exp.Get("actions").Array() {
		if a.Get("name").String() == "web" && a.Get("verb").String() != "get" {
			steps = append(steps, a.Get("verb").String()+" apps/deployments"+map[bool]string{true: "/" + a.Get("subresource").String()}[a.Get("subresource").String() != ""])
		}
	}
	if len(steps) != 7 {
		t.Fatalf("expected.json has %d writes of web, want 7: %v", len(steps), steps)
	}
	at := 0
	for _, s := range steps {
		i := strings.Index(out[at:], "  "+s+"  by ")
		if i < 0 {
			t.Fatalf("write %q missing or out of order in:\n%s", s, out)
		}
		at += i + 1
	}
	for _, want := range []string{
		"History of deploy shop/web: 7 writes; deleted ",
		"    + spec.template.spec.containers[nginx-slim].image: \"registry.k8s.io/nginx-slim:0.27\"",                                         // the create
		"    patch: {\"spec\":{\"replicas\":3}}\n    ~ spec.replicas: 1 → 3\n",                                                               // kubectl scale
		"    ~ spec.template.spec.containers[nginx-slim].image: \"registry.k8s.io/nginx-slim:0.27\" → \"registry.k8s.io/nginx-slim:0.28\"\n", // replace
		"    + spec.template.metadata.annotations.\"shop.example/rollout\": \"2\"\n",
		"    + metadata.labels.tier: \"frontend\"\n",
		"    patch: [{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":1}]\n    ~ spec.replicas: 3 → 1\n", // a JSON patch, from the laptop
		"Last known state before the delete",
		"\"tier\": \"frontend\"",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--history lacks %q:\n%s", want, out)
		}
	}
	// noise is not shown: managedFields, resourceVersion, generation, status, the controller's revision
	body := strings.ReplaceAll(out, "(without managedFields, resourceVersion, generation, status)", "")
	for _, noise := range []string{"managedFields", "resourceVersion", "generation", "status.", "\"status\"", "deployment.kubernetes.io/revision"} {
		if strings.Contains(body, noise) {
			t.Errorf("--history shows %q:\n%s", noise, out)
		}
	}
	// the deleter: the laptop's certificate, not this node's admin.conf
	laptop := exp.Get(`fingerprints.laptop/admin\.conf`).String()
	if !strings.Contains(out, "deleted ") || !strings.Contains(out[:strings.Index(out, "\n")], "unknown certificate "+laptop[:12]) {
		t.Errorf("the summary does not name the laptop's certificate as the deleter:\n%s", out)
	}

	// kubectl's spellings of the same object (the explorer's prompt reads
	// them too: filter.ParseObject) give the same history.
	for _, spelling := range []string{"deploy web -n shop", "deployments.apps/web --namespace=shop", "-n shop deployment.v1.apps web", "apps/deployments/shop/web"} {
		r := runAnswersQuery(t, &queryOptions{Answers: answerFlags{History: spelling}})
		_, body, _ := strings.Cut(r.stdout, ":") // the title names the object as typed
		if _, want, _ := strings.Cut(out, ":"); r.code != 0 || body != want {
			t.Errorf("--history %q: exit %d, stderr %q; want the same history as deploy/shop/web, got:\n%s", spelling, r.code, r.stderr, r.stdout)
		}
	}

	// Metadata level: no diff possible, and the rule that would give one.
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{History: "secret/shop/shop-db"}})
	for _, want := range []string{"History of secret shop/shop-db: 2 writes", "level Metadata: no body logged, so no diff",
		"- level: RequestResponse", `  - group: ""`, `    resources: ["secrets"]`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("history at level Metadata lacks %q:\n%s", want, r.stdout)
		}
	}
	// an object with no writes: exit 1 and a line that says what to check
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{History: "deploy/shop/nope"}})
	if r.code != 1 || r.stdout != "" {
		t.Errorf("history of a missing object: exit %d, stdout %q", r.code, r.stdout)
	}
	// usage errors: one line each
	for _, args := range [][]string{{"--history", "deploy"}, {"--history", "deploy kubyk-*"}, {"--history", "widgets.example.com/shop/w"}, {"--history", "deploy/shop/web", "--count"}, {"--exec", "--history", "deploy/a/b"}, {"--exec", "-o", "json"}} {
		r := runQueryTest(t, "", append(args, filepath.Join(answersDir, "audit.log"))...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q: want 2 and one line", args, r.code, r.stderr)
		}
	}
}

// rbacDocs reads the YAML documents of --rbac strictly into RBAC objects,
// as kubectl apply would refuse an unknown field.
func rbacDocs(t *testing.T, out string) (roles []rbacv1.Role, croles []rbacv1.ClusterRole, bindings []rbacv1.RoleBinding) {
	t.Helper()
	for _, doc := range strings.Split(out, "\n---\n") {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		var err error
		switch meta.Kind {
		case "Role":
			var r rbacv1.Role
			err = yaml.UnmarshalStrict([]byte(doc), &r)
			roles = append(roles, r)
		case "ClusterRole":
			var r rbacv1.ClusterRole
			err = yaml.UnmarshalStrict([]byte(doc), &r)
			croles = append(croles, r)
		case "RoleBinding", "ClusterRoleBinding":
			var b rbacv1.RoleBinding
			err = yaml.UnmarshalStrict([]byte(doc), &b)
			bindings = append(bindings, b)
		default:
			t.Fatalf("a document of kind %q:\n%s", meta.Kind, doc)
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", meta.Kind, err, doc)
		}
	}
	return
}

// Why denied, and what would allow it: dev-dana's 403s in words, and the
// Role that allows exactly what she was seen doing, never resourceNames on
// create, list or watch.
func TestQueryRBAC(t *testing.T) {
	exp := audittest.Expected(t, "answers")
	r := runAnswersQuery(t, &queryOptions{Answers: answerFlags{RBAC: "user=dev-dana"}})
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, step := range []string{"dana-create-deployment", "dana-list-secrets"} {
		a := exp.Get(`actions.#(step=="` + step + `")`)
		res := a.Get("resource").String()
		if g := a.Get("apiGroup").String(); g != "" {
			res += "." + g
		}
		want := "(403): dev-dana may not " + a.Get("verb").String() + " " + res + " in namespace " + a.Get("namespace").String()
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--rbac does not say %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "(groups kubyk:contractors, system:authenticated)") {
		t.Errorf("--rbac does not name dana's groups:\n%s", r.stdout)
	}
	roles, croles, bindings := rbacDocs(t, r.stdout)
	if len(roles) != 1 || len(croles) != 0 || len(bindings) != 1 || roles[0].Namespace != "shop" {
		t.Fatalf("want one Role and one RoleBinding in shop, got %d roles, %d cluster roles, %d bindings:\n%s", len(roles), len(croles), len(bindings), r.stdout)
	}
	got := map[string]bool{}
	for _, rule := range roles[0].Rules {
		for _, v := range rule.Verbs {
			got[rule.APIGroups[0]+"/"+rule.Resources[0]+":"+v] = true
			if len(rule.ResourceNames) > 0 && (v == "create" || v == "list" || v == "watch") {
				t.Errorf("resourceNames with %s: %+v", v, rule)
			}
		}
	}
	for _, want := range []string{"apps/deployments:create", "/secrets:list", "/pods:list"} {
		if !got[want] {
			t.Errorf("the Role does not grant %s: %v", want, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("the Role grants more than dana did: %v", got)
	}
	if s := bindings[0].Subjects; len(s) != 1 || s[0].Kind != "User" || s[0].Name != "dev-dana" || bindings[0].RoleRef.Name != roles[0].Name {
		t.Errorf("the binding: %+v", bindings[0])
	}

	// the denials only: what would allow them and nothing more
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{RBAC: "user=dev-dana"}, Filter: "code=403"})
	roles, _, _ = rbacDocs(t, r.stdout)
	if len(roles) != 1 || len(roles[0].Rules) != 2 || !strings.Contains(r.stdout, "# what would allow them, and nothing more:") {
		t.Errorf("--rbac for dana's denials: want two rules:\n%s", r.stdout)
	}
	// a service account is bound as one
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{RBAC: "user=system:serviceaccount:shop:deployer"}})
	_, _, bindings = rbacDocs(t, r.stdout)
	if len(bindings) != 1 || bindings[0].Subjects[0].Kind != "ServiceAccount" || bindings[0].Subjects[0].Namespace != "shop" || bindings[0].Subjects[0].Name != "deployer" {
		t.Errorf("the deployer's binding: %+v\n%s", bindings, r.stdout)
	}
	// the admin's exec: get and create on pods/exec, named; create of the
	// pod itself unnamed; cluster-scoped writes in a ClusterRole
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{RBAC: "user=kubernetes-admin"}})
	roles, croles, _ = rbacDocs(t, r.stdout)
	if len(roles) != 1 || len(croles) != 1 {
		t.Fatalf("kubernetes-admin: want a Role in shop and a ClusterRole (namespaces):\n%s", r.stdout)
	}
	for _, rule := range roles[0].Rules {
		switch rule.Resources[0] {
		case "pods/exec":
			if strings.Join(rule.Verbs, ",") != "get,create" || strings.Join(rule.ResourceNames, ",") != "debug" {
				t.Errorf("pods/exec rule: %+v", rule)
			}
		case "deployments":
			if len(rule.ResourceNames) > 0 && slices.Contains(rule.Verbs, "create") {
				t.Errorf("create of deployments limited to names: %+v", rule)
			}
		}
	}
	// several users: one line saying how to narrow
	r = runAnswersQuery(t, &queryOptions{Answers: answerFlags{RBAC: "code=403"}})
	if r.code != 1 || !strings.Contains(r.stderr, "narrow to one with user=NAME") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("--rbac code=403 (two users): exit %d, stderr %q", r.code, r.stderr)
	}
}

// A command is chosen by whoever execs: an escape sequence or a bidi
// override in it reaches the terminal escaped, in --exec as in the explorer.
func TestQueryExecHostileCommand(t *testing.T) {
	r := audit.NewRequest(audit.Who{User: "mallory"}, audit.What{Verb: "get", Resource: "pods", Subresource: "exec", Namespace: "shop", Code: 101},
		"", "/api/v1/namespaces/shop/pods/debug/exec?command=sh&command=-c&command=%1B%5B2J%E2%80%AEecho+hi%C2%9B31m", "debug")
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	writeLines(w, render.ExecText([]*audit.Request{r}, nil))
	w.Flush()
	s := out.String()
	if strings.ContainsAny(s, "\x1b\u202e\u009b") {
		t.Fatalf("--exec prints a control character raw: %q", s)
	}
	if !strings.Contains(s, `sh -c "`) || !strings.Contains(s, "echo hi") {
		t.Errorf("--exec lost the command: %q", s)
	}
}

// A denial a client repeated (ci-bot's 25 lists of secrets) is told once in
// --rbac, with how often; the Role still allows it.
func TestQueryRBACTellsARepeatedDenialOnce(t *testing.T) {
	n := audittest.Expected(t, "answers").Get(`actions.#(step=="ci-bot-list-secrets").count`).Int()
	if n < 2 {
		t.Fatalf("expected.json has %d repeated denials of ci-bot: the test checks nothing", n)
	}
	res := runAnswersQuery(t, &queryOptions{Answers: answerFlags{RBAC: "user=ci-bot"}})
	var denied []string
	for _, l := range strings.Split(res.stdout, "\n") {
		if strings.HasPrefix(l, "# denied") {
			denied = append(denied, l)
		}
	}
	if len(denied) != 1 || !strings.Contains(denied[0], strconv.FormatInt(n, 10)+" times") || !strings.Contains(denied[0], "ci-bot may not list secrets in namespace shop") {
		t.Errorf("want one line for the %d denials, got %q", n, denied)
	}
	if !strings.Contains(res.stdout, `resources: ["secrets"]`) {
		t.Errorf("the Role does not allow listing secrets:\n%s", res.stdout)
	}
}
