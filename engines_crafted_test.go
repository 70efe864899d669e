package main

// The crafted logs of testdata/diff (see its README): hostile shapes that
// the real apiserver writes rarely or that a reader meets when logs are
// mishandled, for the differential test (engines_diff_test.go). They are
// made here, so each shape says why it is there; TestDiffCraftedLogsAreCurrent
// keeps the files equal to what this code makes, and
//
//	go test -run TestDiffCraftedLogsAreCurrent -diff.regen .
//
// writes them again.

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var diffRegen = flag.Bool("diff.regen", false, "rewrite the crafted logs of testdata/diff")

// ev is one audit event written as the apiserver writes it, with hooks to
// change how it is spelled.
type ev struct {
	id, stage, verb, uri, user string
	groups                     []string
	res, sub, ns, name, group  string
	code                       int
	status, reason, message    string // responseStatus fields
	decision, authzReason      string // annotations
	level                      string
	ip, agent                  string
	recv, at                   time.Time
}

// line is e as JSON, in the apiserver's key order.
func (e ev) line() string { return e.spell(nil) }

// spell writes e; key may respell a key (escapes).
func (e ev) spell(key func(string) string) string {
	if key == nil {
		key = func(k string) string { return k }
	}
	q := func(k string) string { return `"` + key(k) + `":` }
	level := e.level
	if level == "" {
		level = "Metadata"
	}
	ip := e.ip
	if ip == "" {
		ip = "127.0.0.1"
	}
	agent := e.agent
	if agent == "" {
		agent = "kubectl/v1.37.2 (linux/amd64) kubernetes/unknown"
	}
	var m []string
	m = append(m, q("kind")+`"Event"`, q("apiVersion")+`"audit.k8s.io/v1"`, q("level")+jstr(level),
		q("auditID")+jstr(e.id), q("stage")+e.stageValue(), q("requestURI")+jstr(e.uri), q("verb")+jstr(e.verb))
	u := q("username") + jstr(e.user)
	if len(e.groups) > 0 {
		var g []string
		for _, s := range e.groups {
			g = append(g, jstr(s))
		}
		u += "," + q("groups") + "[" + strings.Join(g, ",") + "]"
	}
	m = append(m, q("user")+"{"+u+"}", q("sourceIPs")+`[`+jstr(ip)+`]`, q("userAgent")+jstr(agent))
	if e.res != "" {
		o := []string{q("resource") + jstr(e.res)}
		if e.ns != "" {
			o = append(o, q("namespace")+jstr(e.ns))
		}
		if e.name != "" {
			o = append(o, q("name")+jstr(e.name))
		}
		if e.group != "" {
			o = append(o, q("apiGroup")+jstr(e.group))
		}
		o = append(o, q("apiVersion")+`"v1"`)
		if e.sub != "" {
			o = append(o, q("subresource")+jstr(e.sub))
		}
		m = append(m, q("objectRef")+"{"+strings.Join(o, ",")+"}")
	}
	if e.code != 0 {
		s := []string{q("metadata") + "{}"}
		if e.status != "" {
			s = append(s, q("status")+jstr(e.status))
		}
		if e.message != "" {
			s = append(s, q("message")+jstr(e.message))
		}
		if e.reason != "" {
			s = append(s, q("reason")+jstr(e.reason))
		}
		s = append(s, q("code")+fmt.Sprint(e.code))
		m = append(m, q("responseStatus")+"{"+strings.Join(s, ",")+"}")
	}
	at := e.at
	if at.IsZero() {
		at = e.recv
	}
	m = append(m, q("requestReceivedTimestamp")+jstr(e.recv.Format("2006-01-02T15:04:05.000000Z")),
		q("stageTimestamp")+jstr(at.Format("2006-01-02T15:04:05.000000Z")))
	if e.decision != "" {
		m = append(m, q("annotations")+"{"+q("authorization.k8s.io/decision")+jstr(e.decision)+","+
			q("authorization.k8s.io/reason")+jstr(e.authzReason)+"}")
	}
	return "{" + strings.Join(m, ",") + "}"
}

// stageValue is set apart so a test can spell the stage escaped.
func (e ev) stageValue() string { return jstr(e.stage) }

// jstr quotes s as JSON (s holds no control characters here); a value
// already holding an escape (\u0043) is written as it is.
func jstr(s string) string {
	if strings.Contains(s, `\u`) || strings.Contains(s, `\/`) || strings.Contains(s, `\"`) {
		return `"` + s + `"`
	}
	return fmt.Sprintf("%q", s)
}

var craftT0 = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

func craftID(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// craftedLogs are the crafted files by name.
func craftedLogs() map[string][]byte {
	admin := []string{"kubeadm:cluster-admins", "system:authenticated"}
	allow := func(e ev) ev {
		e.decision, e.authzReason = "allow", `RBAC: allowed by ClusterRoleBinding "kubeadm:cluster-admins" of ClusterRole "cluster-admin" to Group "kubeadm:cluster-admins"`
		return e
	}
	at := func(s float64) time.Time { return craftT0.Add(time.Duration(s * float64(time.Second))) }
	stages := func(base ev, parts ...ev) []string {
		var out []string
		for _, p := range parts {
			e := base
			e.stage, e.code, e.at = p.stage, p.code, p.at
			e.status, e.reason, e.message = p.status, p.reason, p.message
			if p.decision != "" {
				e.decision, e.authzReason = p.decision, p.authzReason
			}
			out = append(out, e.line())
		}
		return out
	}
	logs := map[string][]byte{}
	join := func(lines []string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

	// (a) a long-running request whose last stage contradicts an earlier
	// one: a watch that started 200 and panicked 500, an exec upgraded
	// (101) that ended 500, a node proxy 200 then 502. The request's code
	// is the last stage's; none of them is both.
	{
		var l []string
		watch := allow(ev{id: craftID(1), verb: "watch", uri: "/apis/apps/v1/namespaces/team-a/deployments?watch=true", user: "kubernetes-admin", groups: admin,
			res: "deployments", group: "apps", ns: "team-a", recv: at(1)})
		l = append(l, stages(watch, ev{stage: "RequestReceived", at: at(1)}, ev{stage: "ResponseStarted", code: 200, at: at(1.001)},
			ev{stage: "Panic", code: 500, status: "Failure", message: "APIServer panic'd: runtime error: invalid memory address", reason: "InternalError", at: at(9)})...)
		exec := allow(ev{id: craftID(2), verb: "get", uri: "/api/v1/namespaces/team-a/pods/web-0/exec?command=sh&container=web&stdin=true&stdout=true&tty=true", user: "kubernetes-admin", groups: admin,
			res: "pods", sub: "exec", ns: "team-a", name: "web-0", recv: at(2)})
		l = append(l, stages(exec, ev{stage: "RequestReceived", at: at(2)}, ev{stage: "ResponseStarted", code: 101, at: at(2.01)},
			ev{stage: "ResponseComplete", code: 500, status: "Failure", message: "error dialing backend: EOF", reason: "InternalError", at: at(12)})...)
		proxy := allow(ev{id: craftID(3), verb: "get", uri: "/api/v1/nodes/node-1/proxy/logs/", user: "kubernetes-admin", groups: admin,
			res: "nodes", sub: "proxy", name: "node-1", recv: at(3)})
		l = append(l, stages(proxy, ev{stage: "RequestReceived", at: at(3)}, ev{stage: "ResponseStarted", code: 200, at: at(3.2)},
			ev{stage: "ResponseComplete", code: 502, status: "Failure", message: "error trying to reach service: EOF", reason: "ServiceUnavailable", at: at(3.5)})...)
		pf := allow(ev{id: craftID(4), verb: "get", uri: "/api/v1/namespaces/team-a/pods/web-0/portforward", user: "erin-editor", groups: []string{"kubyk:developers", "system:authenticated"},
			res: "pods", sub: "portforward", ns: "team-a", name: "web-0", recv: at(4)})
		l = append(l, stages(pf, ev{stage: "RequestReceived", at: at(4)}, ev{stage: "ResponseStarted", code: 101, at: at(4.01)},
			ev{stage: "ResponseComplete", code: 101, at: at(30)})...)
		get := allow(ev{id: craftID(5), verb: "get", uri: "/api/v1/namespaces/team-a/configmaps/kubyk-config", user: "kubernetes-admin", groups: admin,
			res: "configmaps", ns: "team-a", name: "kubyk-config", recv: at(5)})
		l = append(l, stages(get, ev{stage: "RequestReceived", at: at(5)}, ev{stage: "ResponseComplete", code: 200, at: at(5.003)})...)
		logs["contradicting-stages.log"] = join(l)
	}

	// (b) a kubelet answering 401 to pods/log, exec and nodes/proxy: the
	// apiserver logs ResponseStarted 401 (with a RequestReceived before it,
	// unlike a failed authentication) and then ResponseComplete. Also a
	// real failed authentication (ResponseStarted 401 alone).
	{
		var l []string
		dev := []string{"kubyk:developers", "system:authenticated"}
		podlog := allow(ev{id: craftID(11), verb: "get", uri: "/api/v1/namespaces/team-a/pods/web-0/log?container=web&follow=true", user: "erin-editor", groups: dev,
			res: "pods", sub: "log", ns: "team-a", name: "web-0", recv: at(11)})
		l = append(l, stages(podlog, ev{stage: "RequestReceived", at: at(11)},
			ev{stage: "ResponseStarted", code: 401, status: "Failure", message: "Unauthorized", reason: "Unauthorized", at: at(11.02)},
			ev{stage: "ResponseComplete", code: 401, status: "Failure", message: "Unauthorized", reason: "Unauthorized", at: at(14)})...)
		exec := allow(ev{id: craftID(12), verb: "create", uri: "/api/v1/namespaces/team-a/pods/web-0/exec?command=id&container=web&stdout=true", user: "erin-editor", groups: dev,
			res: "pods", sub: "exec", ns: "team-a", name: "web-0", recv: at(12)})
		l = append(l, stages(exec, ev{stage: "RequestReceived", at: at(12)},
			ev{stage: "ResponseStarted", code: 401, status: "Failure", message: "Unauthorized", reason: "Unauthorized", at: at(12.01)},
			ev{stage: "ResponseComplete", code: 500, status: "Failure", message: "error dialing backend: remote error: tls: bad certificate", reason: "InternalError", at: at(13)})...)
		proxy := allow(ev{id: craftID(13), verb: "get", uri: "/api/v1/nodes/node-1/proxy/logs/audit/audit.log", user: "kubernetes-admin", groups: admin,
			res: "nodes", sub: "proxy", name: "node-1", recv: at(13)})
		l = append(l, stages(proxy, ev{stage: "RequestReceived", at: at(13)},
			ev{stage: "ResponseStarted", code: 401, status: "Failure", message: "Unauthorized", reason: "Unauthorized", at: at(13.1)},
			ev{stage: "ResponseComplete", code: 401, status: "Failure", message: "Unauthorized", reason: "Unauthorized", at: at(13.2)})...)
		anon := ev{id: craftID(14), verb: "get", uri: "/api/v1/namespaces", user: "", ip: "203.0.113.7", agent: "curl/8.5.0", recv: at(14),
			stage: "ResponseStarted", code: 401, status: "Failure", message: "Unauthorized", reason: "Unauthorized", at: at(14)}
		l = append(l, anon.line())
		get := allow(ev{id: craftID(15), verb: "list", uri: "/api/v1/namespaces/team-a/pods", user: "erin-editor", groups: dev,
			res: "pods", ns: "team-a", recv: at(15)})
		l = append(l, stages(get, ev{stage: "RequestReceived", at: at(15)}, ev{stage: "ResponseComplete", code: 200, at: at(15.004)})...)
		logs["kubelet-401.log"] = join(l)
	}

	// (d) JSON escapes where the apiserver writes none (a collector or a
	// re-encoder may add them; JSON allows them anywhere): escaped keys,
	// escaped slashes in annotation keys, escaped stage, verb and values.
	{
		var l []string
		esc := func(k string) string {
			switch k {
			case "code":
				return `c\u006fde`
			case "authorization.k8s.io/decision":
				return `authorization.k8s.io\/decision`
			case "authorization.k8s.io/reason":
				return `authorization.k8s.io\/reas\u006fn`
			case "message":
				return `m\u0065ssage`
			case "stage":
				return `st\u0061ge`
			case "username":
				return `user\u006eame`
			}
			return k
		}
		lou := []string{"kubyk:interns", "system:authenticated"}
		denied := ev{id: craftID(21), verb: "get", uri: "/api/v1/namespaces/team-a/secrets/kubyk-db-password", user: "lou-viewer", groups: lou,
			res: "secrets", ns: "team-a", name: "kubyk-db-password", recv: at(21)}
		e := denied
		e.stage = "RequestReceived"
		l = append(l, e.spell(esc))
		e.stage, e.code, e.at = "ResponseComplete", 403, at(21.002)
		e.status, e.reason, e.message = "Failure", "Forbidden", `secrets \"kubyk-db-password\" is forbidden: User \"lou-viewer\" cannot get resource \"secrets\" in API group \"\" in the namespace \"team-a\"`
		e.decision, e.authzReason = "forbid", ""
		l = append(l, e.spell(esc))

		// escaped values: stage, verb, decision, reason, message, code as usual
		del := ev{id: craftID(22), verb: `d\u0065lete`, uri: "/apis/apps/v1/namespaces/team-a/deployments/kubyk-web", user: `erin\u002deditor`, groups: []string{"kubyk:developers", "system:authenticated"},
			res: "deployments", group: "apps", ns: "team-a", name: "kubyk-web", recv: at(22)}
		e = del
		e.stage = `Request\u0052eceived`
		l = append(l, e.spell(nil))
		e.stage, e.code, e.at = `Response\u0043omplete`, 200, at(22.01)
		e.status = "Success"
		e.decision, e.authzReason = `\u0061llow`, `RBAC: allowed by RoleBinding \"kubyk-edit\/team-a\" of ClusterRole \"edit\" to Group \"kubyk:developers\"`
		l = append(l, e.spell(nil))

		// a 404 whose message and reason are escaped, keys plain
		nf := allow(ev{id: craftID(23), verb: "get", uri: "/api/v1/namespaces/team-a/configmaps/nope", user: "kubernetes-admin", groups: admin,
			res: "configmaps", ns: "team-a", name: "nope", recv: at(23)})
		e = nf
		e.stage, e.code, e.at = "ResponseComplete", 404, at(23.001)
		e.status, e.reason, e.message = "Failure", `N\u006ftFound`, `configmaps \u0022nope\u0022 not found`
		l = append(l, e.spell(nil))

		// everything escaped at once, and a 201
		cr := allow(ev{id: craftID(24), verb: "create", uri: "/api/v1/namespaces/team-a/configmaps", user: "kubernetes-admin", groups: admin,
			res: "configmaps", ns: "team-a", recv: at(24)})
		e = cr
		e.stage, e.code, e.at = `Response\u0043omplete`, 201, at(24.005)
		e.decision = `\u0061llow`
		l = append(l, e.spell(esc))

		// each escape alone, on a denied request (RequestReceived plain)
		for i, variant := range []struct {
			stage string
			key   func(string) string
		}{
			{`Response\u0043omplete`, nil}, // the stage value only
			{`Response\u0043omplete`, func(k string) string { // the stage value and the code key
				if k == "code" {
					return `c\u006fde`
				}
				return k
			}},
			{"ResponseComplete", func(k string) string { // annotation keys with \/ only
				return strings.ReplaceAll(k, "authorization.k8s.io/", `authorization.k8s.io\/`)
			}},
			{`Response\u0043omplete`, func(k string) string { // \/ in annotation keys, the stage value
				return strings.ReplaceAll(k, "authorization.k8s.io/", `authorization.k8s.io\/`)
			}},
			{`Response\u0043omplete`, func(k string) string { // the message and reason keys, the stage value
				switch k {
				case "message":
					return `m\u0065ssage`
				case "authorization.k8s.io/reason":
					return `authorization.k8s.io\/reason`
				}
				return k
			}},
		} {
			r := ev{id: craftID(25 + i), verb: "delete", uri: "/api/v1/namespaces/team-a/secrets/kubyk-db-password", user: "lou-viewer", groups: lou,
				res: "secrets", ns: "team-a", name: "kubyk-db-password", recv: at(25 + float64(i))}
			e := r
			e.stage = "RequestReceived"
			l = append(l, e.line())
			e.stage, e.code, e.at = variant.stage, 403, at(25+float64(i)+0.004)
			e.status, e.reason, e.message = "Failure", "Forbidden", `secrets "kubyk-db-password" is forbidden: User "lou-viewer" cannot delete resource "secrets"`
			e.decision, e.authzReason = "forbid", `RBAC: no rule allows it`
			l = append(l, e.spell(variant.key))
		}
		logs["escaped.log"] = join(l)
	}

	// Stages in reverse order (a log merged by stageTimestamp from nodes
	// whose clocks differ, or `tac`), interleaved with other requests.
	{
		var l []string
		for i := 0; i < 4; i++ {
			r := allow(ev{id: craftID(31 + i), verb: []string{"update", "patch", "delete", "watch"}[i], uri: "/apis/apps/v1/namespaces/team-a/deployments/kubyk-web",
				user: "kubernetes-admin", groups: admin, res: "deployments", group: "apps", ns: "team-a", name: "kubyk-web", recv: at(31 + float64(i))})
			codes := []int{200, 409, 403, 200}
			last := ev{stage: "ResponseComplete", code: codes[i], at: at(31 + float64(i) + 0.5)}
			if codes[i] == 403 {
				last.decision, last.status, last.reason, last.message = "forbid", "Failure", "Forbidden", "deployments.apps \"kubyk-web\" is forbidden"
			}
			parts := []ev{{stage: "RequestReceived", at: at(31 + float64(i))}}
			if i == 3 {
				parts = append(parts, ev{stage: "ResponseStarted", code: 200, at: at(34.1)})
			}
			parts = append(parts, last)
			s := stages(r, parts...)
			for a, b := 0, len(s)-1; a < b; a, b = a+1, b-1 {
				s[a], s[b] = s[b], s[a]
			}
			l = append(l, s...)
		}
		// one request's RequestReceived comes after the next request's stages
		a := allow(ev{id: craftID(35), verb: "get", uri: "/api/v1/namespaces/team-a/secrets/kubyk-db-password", user: "kubernetes-admin", groups: admin,
			res: "secrets", ns: "team-a", name: "kubyk-db-password", recv: at(35)})
		b := allow(ev{id: craftID(36), verb: "list", uri: "/api/v1/namespaces/team-a/secrets", user: "kubernetes-admin", groups: admin,
			res: "secrets", ns: "team-a", recv: at(35.5)})
		as := stages(a, ev{stage: "RequestReceived", at: at(35)}, ev{stage: "ResponseComplete", code: 200, at: at(35.2)})
		bs := stages(b, ev{stage: "RequestReceived", at: at(35.5)}, ev{stage: "ResponseComplete", code: 200, at: at(35.6)})
		l = append(l, as[1], bs[0], bs[1], as[0])
		logs["reversed-stages.log"] = join(l)
	}

	// Missing stages: a policy's omitStages, a log cut mid-request, a lost
	// line. A request with only RequestReceived, only ResponseStarted (a
	// watch still open), only ResponseComplete, RequestReceived and Panic.
	{
		var l []string
		base := func(n int, verb, res, name string, s float64) ev {
			return allow(ev{id: craftID(n), verb: verb, uri: "/api/v1/namespaces/default/" + res + "/" + name, user: "kubernetes-admin", groups: admin,
				res: res, ns: "default", name: name, recv: at(s)})
		}
		l = append(l, stages(base(41, "get", "pods", "only-received", 41), ev{stage: "RequestReceived", at: at(41)})...)
		l = append(l, stages(base(42, "watch", "pods", "only-started", 42), ev{stage: "ResponseStarted", code: 200, at: at(42.001)})...)
		l = append(l, stages(base(43, "delete", "pods", "only-complete", 43), ev{stage: "ResponseComplete", code: 200, at: at(43.01)})...)
		l = append(l, stages(base(44, "get", "pods", "received-panic", 44), ev{stage: "RequestReceived", at: at(44)}, ev{stage: "Panic", code: 500, at: at(44.3)})...)
		l = append(l, stages(base(45, "watch", "configmaps", "started-complete", 45), ev{stage: "ResponseStarted", code: 200, at: at(45.01)}, ev{stage: "ResponseComplete", code: 200, at: at(75)})...)
		l = append(l, stages(base(46, "get", "secrets", "received-started-403", 46), ev{stage: "RequestReceived", at: at(46)},
			ev{stage: "ResponseStarted", code: 403, decision: "forbid", status: "Failure", reason: "Forbidden", message: "forbidden", at: at(46.01)})...)
		logs["missing-stages.log"] = join(l)
	}

	// Key order changed (another writer, a collector re-encoding the
	// event) and JSON whitespace between tokens.
	{
		var l []string
		dev := []string{"kubyk:developers", "system:authenticated"}
		for i := 0; i < 6; i++ {
			r := allow(ev{id: craftID(51 + i), verb: []string{"get", "create", "delete", "patch", "list", "get"}[i], uri: "/api/v1/namespaces/team-a/configmaps/kubyk-config",
				user: []string{"erin-editor", "lou-viewer"}[i%2], groups: dev, res: "configmaps", ns: "team-a", name: "kubyk-config", recv: at(51 + float64(i))})
			code := []int{200, 201, 403, 200, 200, 404}[i]
			for s, st := range []string{"RequestReceived", "ResponseComplete"} {
				e := r
				e.stage, e.at = st, at(51+float64(i)+0.01*float64(s))
				if st == "ResponseComplete" {
					e.code = code
					if code == 403 {
						e.decision, e.authzReason, e.status, e.reason, e.message = "forbid", "", "Failure", "Forbidden", `configmaps "kubyk-config" is forbidden`
					}
				}
				line := reorderKeys(e.line(), 3+5*i+s) // every member kept, in another order
				if i%2 == 1 {
					line = strings.NewReplacer(`":`, `": `, `,"`, `, "`).Replace(line)
				}
				l = append(l, line)
			}
		}
		logs["key-order.log"] = join(l)
	}

	// Lines repeated more than 4,096 requests later: a log named twice
	// (`cat a.log a.log`), a rotated file read again. 4,300 requests (a
	// ResponseComplete line each, as under a policy that omits
	// RequestReceived), then the first 120 requests' lines again: each is
	// counted once.
	{
		var b bytes.Buffer
		users := []string{"kubernetes-admin", "erin-editor", "lou-viewer", "system:serviceaccount:team-a:kubyk-bot"}
		var head []string
		for i := 0; i < 4300; i++ {
			r := ev{id: craftID(100000 + i), verb: []string{"get", "list", "delete", "update"}[i%4], uri: fmt.Sprintf("/api/v1/namespaces/ns-%d/configmaps/cm-%d", i%7, i),
				user: users[i%len(users)], res: "configmaps", ns: fmt.Sprintf("ns-%d", i%7), name: fmt.Sprintf("cm-%d", i), recv: craftT0.Add(time.Hour + time.Duration(i)*time.Second)}
			code := []int{200, 200, 403, 404, 200}[i%5]
			r.decision = "allow"
			last := ev{stage: "ResponseComplete", code: code, at: r.recv.Add(time.Duration(1+i%300) * time.Millisecond)}
			if code == 403 {
				last.decision, last.status, last.reason, last.message = "forbid", "Failure", "Forbidden", "configmaps is forbidden"
			}
			s := stages(r, last) // one line a request: the log stays small
			if i < 120 {
				head = append(head, s...)
			}
			for _, x := range s {
				b.WriteString(x)
				b.WriteByte('\n')
			}
		}
		for _, x := range head {
			b.WriteString(x)
			b.WriteByte('\n')
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(b.Bytes())
		zw.Close()
		logs["repeated-far-apart.log.gz"] = z.Bytes()
	}
	return logs
}

// The crafted files are what craftedLogs makes (-diff.regen writes them).
func TestDiffCraftedLogsAreCurrent(t *testing.T) {
	dir := filepath.Join("testdata", "diff")
	for name, want := range craftedLogs() {
		path := filepath.Join(dir, name)
		if *diffRegen {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test -run TestDiffCraftedLogsAreCurrent -diff.regen . writes it)", err)
		}
		if strings.HasSuffix(name, ".gz") {
			got, want = gunzip(t, got), gunzip(t, want)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what engines_crafted_test.go makes: run go test -run TestDiffCraftedLogsAreCurrent -diff.regen .", path)
		}
	}
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
