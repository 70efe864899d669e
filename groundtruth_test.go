package main

// These tests hold the committed testdata (or a fresh regeneration in the
// folder named by KAUDITUI_TESTDATA) against testdata/ground-truth.json,
// which hack/gen-testdata.sh wrote from what it did. They read the logs with
// gjson and the standard library only, not with kauditui's own code, so a
// dataset that drifts from its ground truth (a file cut short, a run that did
// not do what the harness recorded) fails here rather than in some later test.

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/kauditui/kauditui/audit/audittest"
)

// readLines returns the lines of a file, gunzipped when it ends in .gz. It
// reads lines of any length (audit lines over 64 KiB are in the data).
func readLines(t *testing.T, path string) []string {
	t.Helper()
	var lines []string
	for l := range bytes.Lines(audittest.ReadLog(t, path)) {
		lines = append(lines, strings.TrimSuffix(string(l), "\n"))
	}
	return lines
}

// request is one API request: the audit events sharing an auditID, merged.
type request struct {
	auditID, user, impersonated                            string
	verb, resource, subresource, apiGroup, namespace, name string
	code                                                   int64
	received                                               time.Time
	events                                                 int
}

type requestSet struct {
	order []string
	byID  map[string]*request
}

// isAuditEvent says whether a line is an audit event (a JSON object of kind Event).
func isAuditEvent(line string) bool {
	return gjson.Valid(line) && gjson.Get(line, "kind").String() == "Event"
}

func mergeEvents(t *testing.T, lines []string) *requestSet {
	t.Helper()
	set := &requestSet{byID: map[string]*request{}}
	for _, line := range lines {
		f := gjson.GetMany(line, "auditID", "user.username", "impersonatedUser.username", "verb",
			"objectRef.resource", "objectRef.subresource", "objectRef.apiGroup", "objectRef.namespace",
			"objectRef.name", "responseStatus.code", "requestReceivedTimestamp")
		id := f[0].String()
		if id == "" {
			t.Fatalf("audit event without auditID: %.200s", line)
		}
		r := set.byID[id]
		if r == nil {
			r = &request{auditID: id}
			set.byID[id] = r
			set.order = append(set.order, id)
		}
		r.events++
		setOnce := func(dst *string, v gjson.Result) {
			if *dst == "" {
				*dst = v.String()
			}
		}
		setOnce(&r.user, f[1])
		setOnce(&r.impersonated, f[2])
		setOnce(&r.verb, f[3])
		setOnce(&r.resource, f[4])
		setOnce(&r.subresource, f[5])
		setOnce(&r.apiGroup, f[6])
		setOnce(&r.namespace, f[7])
		setOnce(&r.name, f[8])
		if f[9].Exists() {
			r.code = f[9].Int()
		}
		if r.received.IsZero() {
			ts, err := time.Parse(time.RFC3339Nano, f[10].String())
			if err != nil {
				t.Fatalf("auditID %s: requestReceivedTimestamp: %v", id, err)
			}
			r.received = ts
		}
	}
	return set
}

func (s *requestSet) counts(code int64) int {
	n := 0
	for _, r := range s.byID {
		if r.code == code {
			n++
		}
	}
	return n
}

// checkCounts compares what the log says with the counts in the ground truth.
func checkCounts(t *testing.T, run gjson.Result, auditLines int, set *requestSet) {
	t.Helper()
	if want := int(run.Get("auditLines").Int()); auditLines != want {
		t.Errorf("audit lines: log has %d, ground truth %d", auditLines, want)
	}
	if want := int(run.Get("requests").Int()); len(set.byID) != want {
		t.Errorf("requests (distinct auditIDs): log has %d, ground truth %d", len(set.byID), want)
	}
	if got, want := set.counts(401), int(run.Get("unauthorized401").Int()); got != want || want == 0 {
		t.Errorf("401s: log has %d, ground truth %d (and there must be some)", got, want)
	}
	if got, want := set.counts(403), int(run.Get("forbidden403").Int()); got != want || want == 0 {
		t.Errorf("403s: log has %d, ground truth %d (and there must be some)", got, want)
	}
	perUser := map[string]int{}
	impersonated := 0
	for _, r := range set.byID {
		perUser[r.user]++
		if r.impersonated != "" {
			impersonated++
		}
	}
	wantPerUser := map[string]int{}
	run.Get("requestsPerUser").ForEach(func(k, v gjson.Result) bool {
		wantPerUser[k.String()] = int(v.Int())
		return true
	})
	for u, n := range wantPerUser {
		if perUser[u] != n {
			t.Errorf("requests of user %q: log has %d, ground truth %d", u, perUser[u], n)
		}
	}
	for u, n := range perUser {
		if _, ok := wantPerUser[u]; !ok {
			t.Errorf("user %q (%d requests) is not in the ground truth", u, n)
		}
	}
	if want := int(run.Get("impersonated").Int()); impersonated != want {
		t.Errorf("impersonated requests: log has %d, ground truth %d", impersonated, want)
	}
}

// checkActions finds, for every scripted action, the request it made: same
// user (and impersonated user), verb, object and code, received inside the
// action's time window in this run.
func checkActions(t *testing.T, truth gjson.Result, runName string, set *requestSet) {
	t.Helper()
	actions := truth.Get("actions").Array()
	if len(actions) < 20 {
		t.Fatalf("ground truth lists %d actions; the harness scripts more than 20", len(actions))
	}
	for _, a := range actions {
		step := a.Get("step").String()
		from, err1 := time.Parse(time.RFC3339Nano, a.Get("windows."+runName+".from").String())
		to, err2 := time.Parse(time.RFC3339Nano, a.Get("windows."+runName+".to").String())
		if err1 != nil || err2 != nil {
			t.Errorf("action %s: bad %s window: %v %v", step, runName, err1, err2)
			continue
		}
		var found []*request
		for _, id := range set.order {
			r := set.byID[id]
			if r.user == a.Get("user").String() &&
				r.impersonated == a.Get("impersonatedUser").String() &&
				r.verb == a.Get("verb").String() &&
				r.resource == a.Get("resource").String() &&
				r.subresource == a.Get("subresource").String() &&
				r.apiGroup == a.Get("apiGroup").String() &&
				r.namespace == a.Get("namespace").String() &&
				(a.Get("name").String() == "" || r.name == a.Get("name").String()) &&
				r.code == a.Get("code").Int() &&
				!r.received.Before(from) && !r.received.After(to) {
				found = append(found, r)
			}
		}
		if len(found) == 0 {
			t.Errorf("action %s (%s %s %s/%s %s/%s by %q as %q, code %d) is not in the %s run's log",
				step, a.Get("verb"), a.Get("resource"), a.Get("subresource"), a.Get("apiGroup"),
				a.Get("namespace"), a.Get("name"), a.Get("user"), a.Get("impersonatedUser"), a.Get("code").Int(), runName)
		}
	}
}

func checkFacts(t *testing.T, truth gjson.Result, runName string, set *requestSet) {
	t.Helper()
	del := truth.Get("facts.deploymentDeletedBy")
	if del.Get("user").String() == "" || del.Get("name").String() == "" {
		t.Fatalf("ground truth names nobody as the deployment's deleter: %s", del.Raw)
	}
	var deletes []*request
	for _, r := range set.byID {
		if r.verb == "delete" && r.resource == "deployments" && r.subresource == "" &&
			r.namespace == del.Get("namespace").String() && r.name == del.Get("name").String() && r.code == 200 {
			deletes = append(deletes, r)
		}
	}
	if len(deletes) != 1 {
		t.Fatalf("%s run: %d successful deletes of deployment %s/%s, want 1",
			runName, len(deletes), del.Get("namespace"), del.Get("name"))
	}
	if deletes[0].user != del.Get("user").String() {
		t.Errorf("%s run: deployment deleted by %q, ground truth says %q", runName, deletes[0].user, del.Get("user"))
	}

	imp := truth.Get("facts.impersonation")
	ok := false
	for _, r := range set.byID {
		if r.user == imp.Get("user").String() && r.impersonated == imp.Get("impersonatedUser").String() &&
			r.impersonated != "" && r.verb == imp.Get("verb").String() {
			ok = true
		}
	}
	if !ok {
		t.Errorf("%s run: no request by %q impersonating %q", runName, imp.Get("user"), imp.Get("impersonatedUser"))
	}
}

var lumberjackBackup = regexp.MustCompile(`^audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log(\.gz)?$`)

func TestGroundTruthFileRun(t *testing.T) {
	dir, truth := audittest.Dir(), audittest.Truth(t)
	run := truth.Get("runs.file")
	entries, err := os.ReadDir(filepath.Join(dir, "file"))
	if err != nil {
		t.Fatal(err)
	}
	var onDisk, listed []string
	for _, e := range entries {
		onDisk = append(onDisk, e.Name())
	}
	var all []string
	plain, gz := 0, 0
	for _, f := range run.Get("files").Array() {
		name := f.Get("name").String()
		listed = append(listed, name)
		lines := readLines(t, filepath.Join(dir, "file", name))
		if got := len(lines); got != int(f.Get("auditLines").Int()) {
			t.Errorf("%s: %d lines, ground truth %d", name, got, f.Get("auditLines").Int())
		}
		for i, l := range lines {
			if !isAuditEvent(l) {
				t.Errorf("%s:%d is not an audit event: %.100q", name, i+1, l)
				break
			}
		}
		all = append(all, lines...)
		switch {
		case name == "audit.log":
		case !lumberjackBackup.MatchString(name):
			t.Errorf("%s is not named like a lumberjack backup", name)
		case strings.HasSuffix(name, ".gz"):
			gz++
		default:
			plain++
		}
	}
	slices.Sort(onDisk)
	sortedListed := slices.Clone(listed)
	slices.Sort(sortedListed)
	if !slices.Equal(onDisk, sortedListed) {
		t.Errorf("files in %s/file: %v, ground truth lists %v", dir, onDisk, listed)
	}
	if gz < 1 || plain < 1 {
		t.Errorf("backups: %d gzipped, %d plain; want at least one of each", gz, plain)
	}
	if listed[len(listed)-1] != "audit.log" {
		t.Errorf("ground truth lists %v; the live audit.log must come last", listed)
	}
	set := mergeEvents(t, all)
	checkCounts(t, run, len(all), set)
	// the harness counted the poller's requests itself: the log must hold at least those
	bot := truth.Get("identities.serviceAccount").String()
	if polls := run.Get("pollerRequests").Int(); polls == 0 || run.Get("requestsPerUser").Get(gjson.Escape(bot)).Int() < polls {
		t.Errorf("the poller made %d requests as %s; the log has %d of that user",
			polls, bot, run.Get("requestsPerUser").Get(gjson.Escape(bot)).Int())
	}
	checkActions(t, truth, "file", set)
	checkFacts(t, truth, "file", set)
}

var klogHeader = regexp.MustCompile(`^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [^ ]+:\d+\] `)

func TestGroundTruthStdoutRun(t *testing.T) {
	truth := audittest.Truth(t)
	run := truth.Get("runs.stdout")
	lines := readLines(t, audittest.Path("stdout", "kube-apiserver.log"))
	var audit []string
	klog, httplog, broken := 0, 0, 0
	for _, l := range lines {
		switch {
		case isAuditEvent(l):
			audit = append(audit, l)
		case strings.HasPrefix(l, `{"kind":"Event"`):
			broken++
		case klogHeader.MatchString(l):
			klog++
			if strings.Contains(l, `httplog.go`) && strings.Contains(l, `] "HTTP"`) {
				httplog++
			}
		}
	}
	if want := int(run.Get("lines").Int()); len(lines) != want {
		t.Errorf("lines: log has %d, ground truth %d", len(lines), want)
	}
	if want := int(run.Get("klogLines").Int()); klog != want || klog == 0 {
		t.Errorf("klog lines: log has %d, ground truth %d", klog, want)
	}
	if want := int(run.Get("httplogLines").Int()); httplog != want || httplog == 0 {
		t.Errorf("httplog lines: log has %d, ground truth %d", httplog, want)
	}
	if want := int(run.Get("otherLines").Int()); len(lines)-klog-len(audit) != want {
		t.Errorf("other lines: log has %d, ground truth %d", len(lines)-klog-len(audit), want)
	}
	if want := int(run.Get("brokenAuditLines").Int()); broken != want {
		t.Errorf("broken audit lines: log has %d, ground truth %d", broken, want)
	}
	set := mergeEvents(t, audit)
	checkCounts(t, run, len(audit), set)
	// Every action is checked on the CRI log's rebuilt stdout (TestGroundTruthCRILog):
	// here a long line may be cut by a stderr record, as in real `kubectl logs`.
	// The facts' lines are short (one record each), so they are always whole.
	checkFacts(t, truth, "stdout", set)
}

// criRecord is `<RFC3339Nano> <stdout|stderr> <P|F> <text>`.
var criRecord = regexp.MustCompile(`^(\S+) (stdout|stderr) ([PF]) (.*)$`)

// TestGroundTruthCRILog checks that the CRI log is the same run as
// kube-apiserver.log: its records, in file order, give that file byte for
// byte (the kubelet serves `kubectl logs` so: partial records are not joined
// per stream). Joined per stream, as a CRI reader must, the stdout stream
// holds every scripted action whole.
func TestGroundTruthCRILog(t *testing.T) {
	truth := audittest.Truth(t)
	cri := truth.Get("runs.stdout.cri")
	lines := readLines(t, audittest.Path("stdout", "cri", "0.log"))
	var joined bytes.Buffer
	pending := map[string]string{}
	byStream := map[string][]string{}
	partial, streams := 0, map[string]int{}
	var last time.Time
	for i, l := range lines {
		m := criRecord.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("cri/0.log:%d is not a CRI record: %.100q", i+1, l)
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatalf("cri/0.log:%d: %v", i+1, err)
		}
		if ts.Before(last) {
			t.Errorf("cri/0.log:%d: time goes backwards", i+1)
		}
		last = ts
		streams[m[2]]++
		joined.WriteString(m[4])
		pending[m[2]] += m[4]
		if m[3] == "F" {
			byStream[m[2]] = append(byStream[m[2]], pending[m[2]])
			pending[m[2]] = ""
		}
		if m[3] == "P" {
			partial++
			if len(m[4]) != 16*1024 {
				t.Errorf("cri/0.log:%d: partial record of %d bytes, want 16384", i+1, len(m[4]))
			}
		} else {
			joined.WriteByte('\n')
		}
	}
	if want := int(cri.Get("records").Int()); len(lines) != want {
		t.Errorf("records: %d, ground truth %d", len(lines), want)
	}
	if want := int(cri.Get("partialRecords").Int()); partial != want || partial == 0 {
		t.Errorf("partial records: %d, ground truth %d (the CRD's audit lines must be split)", partial, want)
	}
	if streams["stdout"] != int(cri.Get("stdoutRecords").Int()) || streams["stderr"] != int(cri.Get("stderrRecords").Int()) {
		t.Errorf("records per stream: %v, ground truth %s", streams, cri.Raw)
	}
	text, err := os.ReadFile(audittest.Path("stdout", "kube-apiserver.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(joined.Bytes(), text) {
		t.Errorf("cri/0.log joined (%d bytes) differs from kube-apiserver.log (%d bytes)", joined.Len(), len(text))
	}
	if len(byStream["stdout"]) != int(cri.Get("stdoutLines").Int()) || len(byStream["stderr"]) != int(cri.Get("stderrLines").Int()) {
		t.Errorf("lines per stream: stdout %d, stderr %d; ground truth %s",
			len(byStream["stdout"]), len(byStream["stderr"]), cri.Raw)
	}
	var audit []string
	for i, l := range byStream["stdout"] {
		if !isAuditEvent(l) {
			t.Fatalf("stdout line %d of the CRI log is not an audit event: %.100q", i+1, l)
		}
		audit = append(audit, l)
	}
	set := mergeEvents(t, audit)
	checkCounts(t, cri, len(audit), set)
	checkActions(t, truth, "stdout", set)
	checkFacts(t, truth, "stdout", set)
}

func TestGroundTruthKubeadm(t *testing.T) {
	manifest, err := os.ReadFile(audittest.Path("kubeadm", "kube-apiserver.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: Pod", "component: kube-apiserver", "- kube-apiserver",
		"--advertise-address=192.0.2.10", "hostPath:", "/etc/kubernetes/pki", "kube-apiserver:v1.37.2"} {
		if !bytes.Contains(manifest, []byte(want)) {
			t.Errorf("kubeadm/kube-apiserver.yaml lacks %q", want)
		}
	}
	if bytes.Contains(manifest, []byte("--audit-")) {
		t.Errorf("kubeadm/kube-apiserver.yaml already has audit flags; it must be kubeadm's vanilla manifest")
	}
	config, err := os.ReadFile(audittest.Path("kubeadm", "kubeadm-config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: ClusterConfiguration", "advertiseAddress: 192.0.2.10", "kubernetesVersion: v1.37.2"} {
		if !bytes.Contains(config, []byte(want)) {
			t.Errorf("kubeadm/kubeadm-config.yaml lacks %q", want)
		}
	}
	defaults, err := os.ReadFile(audittest.Path("kubeadm", "init-defaults.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"kind: InitConfiguration", "kind: ClusterConfiguration", "kubernetesVersion: 1.37"} {
		if !bytes.Contains(defaults, []byte(want)) {
			t.Errorf("kubeadm/init-defaults.yaml lacks %q", want)
		}
	}
}
