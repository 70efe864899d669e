// Command managedlog wraps the real audit events of testdata into the shapes
// in which managed Kubernetes services export them, so that the requests the
// tests expect are those of the plain log (and of its ground truth):
//
//	go run ./hack/managedlog -in testdata/stdout/kube-apiserver.log -cri testdata/stdout/cri/0.log -out testdata/managed
//
// It writes, from the audit lines of -in (the stdout run: its klog lines
// only where the export has them too):
//
//	eks-filter-log-events.json   aws logs filter-log-events output (the AWS CLI's JSON, indented by 4)
//	eks-get-log-events.json      aws logs get-log-events output
//	eks-events.jsonl             one FilteredLogEvent a line (jq -c '.events[]'), with the
//	                             first 20 klog lines of the kube-apiserver stream before them
//	aks-eventhub.json            {"records":[...]} a line, 10 records each, properties.log a string
//	aks-storage.json             one record a line, properties.log an object
//	gke-logging-read.json        gcloud logging read --format=json (an array, indented by 2)
//	gke-entries.jsonl            one LogEntry a line (a Cloud Storage sink's file)
//	kubectl-timestamps.log.gz    kubectl logs --timestamps of -cri: each line after the time
//	                             of the record that starts it, gzipped
//
// testdata/managed/README.md says where each shape comes from. The output
// is the same for the same input (no random IDs, no clock).
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kauditui/kauditui/audit"
	"github.com/kauditui/kauditui/source"
)

func main() {
	in := flag.String("in", "testdata/stdout/kube-apiserver.log", "a stdout-mode log: audit JSON lines and klog lines")
	cri := flag.String("cri", "testdata/stdout/cri/0.log", "the same run's CRI container log (for kubectl logs --timestamps)")
	out := flag.String("out", "testdata/managed", "folder to write into")
	flag.Parse()
	if err := run(*in, *cri, *out); err != nil {
		fmt.Fprintln(os.Stderr, "managedlog:", err)
		os.Exit(1)
	}
}

// line is one audit event line of the input with what the wrappers need.
type line struct {
	raw []byte
	ev  event
}

type event struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	SourceIPs []string `json:"sourceIPs"`
	UserAgent string   `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		APIVersion  string `json:"apiVersion"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"responseStatus"`
	RequestObject  json.RawMessage   `json:"requestObject"`
	StageTimestamp string            `json:"stageTimestamp"`
	Annotations    map[string]string `json:"annotations"`
}

func run(in, cri, out string) error {
	events, klog, err := readLog(in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	write := func(name string, data []byte) error {
		return os.WriteFile(filepath.Join(out, name), data, 0o644)
	}
	for _, f := range []struct {
		name string
		make func([]line, [][]byte) ([]byte, error)
	}{
		{"eks-filter-log-events.json", filterLogEvents},
		{"eks-get-log-events.json", getLogEvents},
		{"eks-events.jsonl", eventsPerLine},
		{"aks-eventhub.json", aksEventHub},
		{"aks-storage.json", aksStorage},
		{"gke-logging-read.json", gkeArray},
		{"gke-entries.jsonl", gkeLines},
	} {
		data, err := f.make(events, klog)
		if err != nil {
			return fmt.Errorf("%s: %v", f.name, err)
		}
		if err := write(f.name, data); err != nil {
			return err
		}
	}
	data, err := kubectlTimestamps(cri)
	if err != nil {
		return err
	}
	return write("kubectl-timestamps.log.gz", data)
}

// readLog reads a stdout-mode log as kauditui does (source: a line the
// container runtime spliced with a klog line is repaired, see
// source/splice.go): its audit events in the order of the log, as the
// apiserver wrote them, and its first 20 klog lines. A line it cannot read
// is an error: the exports would miss it.
func readLog(in string) ([]line, [][]byte, error) {
	ctx := context.Background()
	set, err := source.Open(ctx, source.Spec{Paths: []string{in}}, source.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer set.Close()
	st := audit.NewStore()
	if err := set.Load(ctx, st); err != nil {
		return nil, nil, err
	}
	snap := st.Snapshot()
	if len(snap.Other) > 0 {
		o := snap.Other[0]
		return nil, nil, fmt.Errorf("%s: %d lines are neither audit events nor klog (line %d: %s)", in, len(snap.Other), o.Line, o.Why)
	}
	var refs []audit.Ref
	for _, r := range snap.Requests {
		for _, e := range r.Events {
			refs = append(refs, e.Ref)
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Line < refs[j].Line })
	var events []line
	for _, ref := range refs {
		raw, err := set.Raw(ref)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %v", in, ref.Line, err)
		}
		var e event
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %v", in, ref.Line, err)
		}
		events = append(events, line{raw: raw, ev: e})
	}
	var klog [][]byte
	for _, k := range snap.Klog[:min(20, len(snap.Klog))] {
		raw, err := set.Raw(k.Ref)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: line %d: %v", in, k.Line, err)
		}
		klog = append(klog, raw)
	}
	return events, klog, nil
}

// encode is json.Marshal without HTML escapes, so an event kept as an
// object (json.RawMessage) keeps its bytes.
func encode(v any, indent string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	err := enc.Encode(v)
	return b.Bytes(), err
}

func stamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// digits is a deterministic number of n digits made from s.
func digits(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	d := new(big.Int).SetBytes(append(h[:], h[:]...)).String()
	for len(d) < n {
		d += d
	}
	return d[:n]
}

func hexOf(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}

// CloudWatch Logs: FilteredLogEvent and OutputLogEvent (API reference).
type cwEvent struct {
	LogStreamName string `json:"logStreamName,omitempty"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId,omitempty"`
}

var auditStream = "kube-apiserver-audit-" + hexOf("audit", 32)
var klogStream = "kube-apiserver-" + hexOf("klog", 32)

func cwEvents(events []line, filtered bool) []cwEvent {
	var out []cwEvent
	for i, l := range events {
		at := stamp(l.ev.StageTimestamp).UnixMilli()
		e := cwEvent{Timestamp: at, Message: string(l.raw), IngestionTime: at + 731}
		if filtered {
			e.LogStreamName = auditStream
			e.EventID = digits(fmt.Sprint("event", i), 56)
		}
		out = append(out, e)
	}
	return out
}

func filterLogEvents(events []line, _ [][]byte) ([]byte, error) {
	return encode(map[string]any{
		"events": cwEvents(events, true),
		"searchedLogStreams": []map[string]any{
			{"logStreamName": auditStream, "searchedCompletely": true},
		},
	}, "    ")
}

func getLogEvents(events []line, _ [][]byte) ([]byte, error) {
	return encode(map[string]any{
		"events":            cwEvents(events, false),
		"nextForwardToken":  "f/" + digits("forward", 56) + "/s",
		"nextBackwardToken": "b/" + digits("backward", 56) + "/s",
	}, "    ")
}

func eventsPerLine(events []line, klog [][]byte) ([]byte, error) {
	var b bytes.Buffer
	first := stamp(events[0].ev.StageTimestamp)
	for i, k := range klog {
		at := first.Add(-time.Duration(len(klog)-i) * time.Second).UnixMilli()
		e := cwEvent{LogStreamName: klogStream, Timestamp: at, Message: string(k), IngestionTime: at + 731, EventID: digits(fmt.Sprint("klog", i), 56)}
		if err := appendLine(&b, e); err != nil {
			return nil, err
		}
	}
	for _, e := range cwEvents(events, true) {
		if err := appendLine(&b, e); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func appendLine(b *bytes.Buffer, v any) error {
	data, err := encode(v, "")
	b.Write(data)
	return err
}

// AKS: Azure Monitor's top-level schema of resource logs, as diagnostic
// settings send them to an event hub ({"records":[...]}) or a storage
// account (one record a line).
type aksRecord struct {
	Time          string        `json:"time"`
	ResourceID    string        `json:"resourceId"`
	Category      string        `json:"category"`
	OperationName string        `json:"operationName"`
	Properties    aksProperties `json:"properties"`
}

type aksProperties struct {
	Log    any    `json:"log"`
	Stream string `json:"stream"`
	Pod    string `json:"pod"`
}

const aksResource = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/KUBYK-RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/KUBYK"

func aksRecords(events []line, object bool) []aksRecord {
	var out []aksRecord
	for _, l := range events {
		var log any = string(l.raw)
		if object {
			log = json.RawMessage(l.raw)
		}
		out = append(out, aksRecord{
			Time: l.ev.StageTimestamp, ResourceID: aksResource, Category: "kube-audit",
			OperationName: "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
			Properties:    aksProperties{Log: log, Stream: "stdout", Pod: "kube-apiserver-" + hexOf("pod", 10) + "-" + hexOf("pod2", 5)},
		})
	}
	return out
}

func aksEventHub(events []line, _ [][]byte) ([]byte, error) {
	var b bytes.Buffer
	recs := aksRecords(events, false)
	for i := 0; i < len(recs); i += 10 {
		if err := appendLine(&b, map[string]any{"records": recs[i:min(i+10, len(recs))]}); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func aksStorage(events []line, _ [][]byte) ([]byte, error) {
	var b bytes.Buffer
	for _, r := range aksRecords(events, true) {
		if err := appendLine(&b, r); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// GKE: a LogEntry with an AuditLog protoPayload, one a request (the last
// stage the apiserver logged), as GKE writes Kubernetes audit logs; see
// testdata/managed/README.md for which fields it has no place for.
func gkeEntries(events []line) []map[string]any {
	last := map[string]int{}
	var order []string
	for i, l := range events {
		if l.ev.Stage == "RequestReceived" {
			continue
		}
		if _, ok := last[l.ev.AuditID]; !ok {
			order = append(order, l.ev.AuditID)
		}
		if j, ok := last[l.ev.AuditID]; !ok || stamp(l.ev.StageTimestamp).After(stamp(events[j].ev.StageTimestamp)) ||
			stamp(l.ev.StageTimestamp).Equal(stamp(events[j].ev.StageTimestamp)) && l.ev.Stage != "ResponseStarted" {
			last[l.ev.AuditID] = i
		}
	}
	var out []map[string]any
	for _, id := range order {
		e := events[last[id]].ev
		if e.ObjectRef == nil {
			continue // a non-resource request: GKE's entries name resources
		}
		o := e.ObjectRef
		group := o.APIGroup
		if group == "" {
			group = "core"
		}
		name := group + "/" + o.APIVersion
		if o.Namespace != "" && o.Resource != "namespaces" {
			name += "/namespaces/" + o.Namespace
		}
		name += "/" + o.Resource
		if o.Name != "" {
			name += "/" + o.Name
			if o.Subresource != "" {
				name += "/" + o.Subresource
			}
		}
		method := "io.k8s." + methodGroup(o.APIGroup) + "." + o.APIVersion + "." + o.Resource
		if o.Subresource != "" {
			method += "." + o.Subresource
		}
		method += "." + e.Verb
		code, msg := 0, ""
		if e.ResponseStatus != nil {
			code, msg = e.ResponseStatus.Code, e.ResponseStatus.Message
		}
		status := map[string]any{}
		if g := httpToGRPC(code); g != 0 {
			status["code"] = g
			if msg != "" {
				status["message"] = msg
			}
		}
		payload := map[string]any{
			"@type":              "type.googleapis.com/google.cloud.audit.AuditLog",
			"authenticationInfo": map[string]any{},
			"authorizationInfo": []map[string]any{{
				"granted":    e.Annotations["authorization.k8s.io/decision"] == "allow",
				"permission": method,
				"resource":   name,
			}},
			"methodName":      method,
			"requestMetadata": map[string]any{"callerSuppliedUserAgent": e.UserAgent},
			"resourceName":    name,
			"serviceName":     "k8s.io",
			"status":          status,
		}
		if e.User.Username != "" {
			payload["authenticationInfo"] = map[string]any{"principalEmail": e.User.Username}
		}
		if len(e.SourceIPs) > 0 {
			payload["requestMetadata"].(map[string]any)["callerIp"] = e.SourceIPs[len(e.SourceIPs)-1]
		}
		if len(e.RequestObject) > 0 {
			payload["request"] = e.RequestObject
		}
		labels := map[string]string{}
		for _, k := range []string{"authorization.k8s.io/decision", "authorization.k8s.io/reason"} {
			if v, ok := e.Annotations[k]; ok {
				labels[k] = v
			}
		}
		kind := "activity"
		switch e.Verb {
		case "get", "list", "watch":
			kind = "data_access"
		}
		at := stamp(e.StageTimestamp)
		entry := map[string]any{
			"protoPayload": payload,
			"insertId":     id,
			"resource": map[string]any{
				"type":   "k8s_cluster",
				"labels": map[string]string{"project_id": "kubyk-demo", "location": "europe-west1", "cluster_name": "kubyk"},
			},
			"timestamp":        at.Format(time.RFC3339Nano),
			"severity":         "NOTICE",
			"logName":          "projects/kubyk-demo/logs/cloudaudit.googleapis.com%2F" + kind,
			"operation":        map[string]any{"id": id, "producer": "k8s.io", "first": true, "last": true},
			"receiveTimestamp": at.Add(1234567 * time.Microsecond).Format(time.RFC3339Nano),
		}
		if len(labels) > 0 {
			entry["labels"] = labels
		}
		out = append(out, entry)
	}
	// gcloud logging read prints newest first
	sort.SliceStable(out, func(i, j int) bool { return out[i]["timestamp"].(string) > out[j]["timestamp"].(string) })
	return out
}

// methodGroup spells an API group as GKE's methodName does
// (io.k8s.authorization.rbac.v1 for rbac.authorization.k8s.io).
func methodGroup(g string) string {
	if g == "" {
		return "core"
	}
	g = strings.TrimSuffix(g, ".k8s.io")
	p := strings.Split(g, ".")
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return strings.Join(p, ".")
}

// httpToGRPC is the google.rpc.Code of an HTTP code (code.proto's mapping,
// taken backwards); 0 (OK) for 1xx and 2xx.
func httpToGRPC(code int) int {
	switch {
	case code < 300:
		return 0
	case code == 401:
		return 16
	case code == 403:
		return 7
	case code == 404:
		return 5
	case code == 409:
		return 10
	case code == 429:
		return 8
	case code == 499:
		return 1
	case code == 501:
		return 12
	case code == 503:
		return 14
	case code == 504:
		return 4
	case code >= 400 && code < 500:
		return 3
	}
	return 13
}

func gkeArray(events []line, _ [][]byte) ([]byte, error) {
	return encode(gkeEntries(events), "  ")
}

func gkeLines(events []line, _ [][]byte) ([]byte, error) {
	var b bytes.Buffer
	entries := gkeEntries(events)
	for i := len(entries) - 1; i >= 0; i-- { // a sink writes them as they come
		if err := appendLine(&b, entries[i]); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

// kubectlTimestamps is what kubectl logs --timestamps prints for the pod
// whose CRI log is path, as the kubelet's log reader (kuberuntime/logs)
// writes it: the records in file order, partial ones not joined (a stderr
// record may fall inside a long stdout line, as in kubectl logs without
// --timestamps, which ../stdout/kube-apiserver.log is), and the time of a
// record, RFC3339Nano, before each record that starts a line.
func kubectlTimestamps(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	newLine := true
	for sc.Scan() {
		l := sc.Text()
		parts := strings.SplitN(l, " ", 4)
		if len(parts) < 3 {
			return nil, fmt.Errorf("%s: not a CRI record: %.60q", path, l)
		}
		at, err := time.Parse(time.RFC3339Nano, parts[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		text := ""
		if len(parts) == 4 {
			text = parts[3]
		}
		if newLine {
			fmt.Fprintf(zw, "%s ", at.Format(time.RFC3339Nano))
		}
		newLine = !strings.HasPrefix(parts[2], "P")
		if newLine {
			text += "\n"
		}
		io.WriteString(zw, text)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
