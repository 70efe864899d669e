package source

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// A store's answer that breaks off keeps the events read and says why. The
// real VictoriaLogs cuts an answer only at its time limit or when a node dies
// mid-write, which a test cannot time, so these two use httptest.
func TestStoreLinesBrokenAnswer(t *testing.T) {
	event := `{"_msg":"{\"kind\":\"Event\",\"auditID\":\"a\"}"}` + "\n"
	for _, c := range []struct {
		name  string
		write func(w http.ResponseWriter)
		why   string
	}{
		{"error text after the answer started", func(w http.ResponseWriter) {
			io.WriteString(w, event+event+"cannot execute query: \x1b[31mdeadline exceeded\n")
		}, "it wrote: cannot execute query: ?[31mdeadline exceeded"},
		{"connection closed mid-line", func(w http.ResponseWriter) {
			io.WriteString(w, event+event+`{"_msg":"{\"kind\":`)
			w.(http.Flusher).Flush()
			conn, buf, _ := w.(http.Hijacker).Hijack()
			buf.Flush()
			conn.Close()
		}, "unexpected EOF"},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.write(w) }))
		st, err := OpenStore(StoreOptions{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		lines, err := st.Lines(context.Background(), "*")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		sc := bufio.NewScanner(lines)
		for sc.Scan() {
			got = append(got, sc.Text())
		}
		if sc.Err() != nil || len(got) != 2 || got[0] != `{"kind":"Event","auditID":"a"}` {
			t.Errorf("%s: read %q, %v; want the two events whole", c.name, got, sc.Err())
		}
		e := lines.Err()
		if e == nil || !strings.Contains(e.Error(), "partial result") || !strings.Contains(e.Error(), "after 2 events") || !strings.Contains(e.Error(), c.why) {
			t.Errorf("%s: Err() = %v, want a partial result after 2 events naming %q", c.name, e, c.why)
		}
		lines.Close()
		srv.Close()
	}
}

func TestAppendStoreLine(t *testing.T) {
	got, ok := AppendStoreLine(nil, []byte(`{"kind":"Event","userAgent":"a\"b\u001b"}`), "c1", "m\n1")
	want := `{"_msg":"{\"kind\":\"Event\",\"userAgent\":\"a\\\"b\\u001b\"}","cluster":"c1","node":"m\u000a1","kind":"Event","userAgent":"a\"b\u001b"}` + "\n"
	if !ok || string(got) != want {
		t.Errorf("got %s want %s", got, want)
	}
	for _, bad := range []string{"", "klog line", `{"broken"`, `[1]`} {
		if out, ok := AppendStoreLine([]byte("x"), []byte(bad), "c", "n"); ok || string(out) != "x" {
			t.Errorf("%q: accepted as %q", bad, out)
		}
	}
	if got, _ := AppendStoreLine(nil, []byte(`{}`), "c", "n"); string(got) != `{"_msg":"{}","cluster":"c","node":"n"}`+"\n" {
		t.Errorf("empty object: %s", got)
	}
	// The bodies stay in the line only.
	got, _ = AppendStoreLine(nil, []byte(`{"verb":"create","requestObject":{"a.b":1},"responseObject":{"c":[2]},"code":201}`), "c", "n")
	want = `{"_msg":"{\"verb\":\"create\",\"requestObject\":{\"a.b\":1},\"responseObject\":{\"c\":[2]},\"code\":201}","cluster":"c","node":"n","verb":"create","code":201}` + "\n"
	if string(got) != want {
		t.Errorf("bodies:\n got %s\nwant %s", got, want)
	}
}

// KAUDITUI_STORE_TOKEN is sent as a bearer token (vmauth in front of the
// store checks it; VictoriaLogs itself only knows Basic auth, so httptest
// stands in for vmauth), and never with a user as well.
func TestStoreBearerToken(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		io.WriteString(w, `{"hits":0}`)
	}))
	defer srv.Close()
	st, err := OpenStore(StoreOptions{URL: srv.URL, Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	st.Count(context.Background(), "*")
	if got != "Bearer t0ken" {
		t.Errorf("Authorization %q, want the bearer token", got)
	}
	if _, err := OpenStore(StoreOptions{URL: "http://u@" + strings.TrimPrefix(srv.URL, "http://"), Token: "t0ken"}); err == nil || !strings.Contains(err.Error(), "use one") {
		t.Errorf("a user and a token: %v", err)
	}
}

// An answer line of the real VictoriaLogs v1.52.1 for an event sent to
// /insert/jsonline without _msg (_time_field=stageTimestamp): the event comes
// back as kube-apiserver wrote it, but its body.
func TestRebuildEvent(t *testing.T) {
	answer := `{"_msg":"missing _msg field; see https://docs.victoriametrics.com/victorialogs/keyconcepts/#message-field","_stream":"{}","_stream_id":"0000000000000000e934a84adb05276890d7f7bfcadabe92","_time":"2026-11-26T03:57:47.86372Z","annotations.authorization.k8s.io/decision":"allow","apiVersion":"audit.k8s.io/v1","auditID":"f0b32235-a621-49e8-9c4c-9fede7765c7e","kind":"Event","level":"Request","objectRef.apiVersion":"v1","objectRef.name":"team-a","objectRef.resource":"namespaces","requestObject.apiVersion":"v1","requestObject.kind":"Namespace","requestObject.metadata.labels.kubernetes.io/metadata.name":"team-a","requestObject.metadata.name":"team-a","requestReceivedTimestamp":"2026-11-26T03:57:47.860141Z","requestURI":"/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict","responseStatus.code":"201","responseStatus.details.causes":"[{\"reason\":\"x\"}]","responseStatus.details.name":"team-a","sourceIPs":"[\"127.0.0.1\"]","stage":"ResponseComplete","user.extra.authentication.kubernetes.io/credential-id":"[\"X509SHA256=a3074a\"]","user.groups":"[\"system:masters\",\"system:authenticated\"]","user.username":"kubernetes-admin","userAgent":"kubectl/v1.37.2","verb":"create","cluster":"c1"}`
	ev, missing := RebuildEvent(nil, []byte(answer))
	if missing != nil || !gjson.ValidBytes(ev) {
		t.Fatalf("missing %v, event %s", missing, ev)
	}
	want := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"f0b32235-a621-49e8-9c4c-9fede7765c7e","stage":"ResponseComplete","requestURI":"/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict","verb":"create",` +
		`"user":{"groups":["system:masters","system:authenticated"],"username":"kubernetes-admin","extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=a3074a"]}},"sourceIPs":["127.0.0.1"],"userAgent":"kubectl/v1.37.2",` +
		`"objectRef":{"apiVersion":"v1","name":"team-a","resource":"namespaces"},"responseStatus":{"code":201,"details":{"causes":[{"reason":"x"}],"name":"team-a"}},` +
		`"requestReceivedTimestamp":"2026-11-26T03:57:47.860141Z","stageTimestamp":"2026-11-26T03:57:47.863720Z","annotations":{"authorization.k8s.io/decision":"allow"},"cluster":"c1"}`
	if string(ev) != want {
		t.Errorf("rebuilt\n%s\nwant\n%s", ev, want)
	}
	// A store given another field as the message (_msg_field=requestURI)
	// has lost that field: nothing to rebuild a request from.
	_, missing = RebuildEvent(nil, []byte(`{"_msg":"/api/v1/pods","_time":"2026-11-26T03:57:47Z","requestReceivedTimestamp":"2026-11-26T03:57:46Z","auditID":"a","stage":"ResponseComplete","verb":"list"}`))
	if !slices.Equal(missing, []string{"requestURI"}) {
		t.Errorf("missing %v, want requestURI", missing)
	}
	// Hostile values stay text, escaped; a code that is not a number stays a string.
	ev, _ = RebuildEvent(nil, []byte(`{"_time":"x","auditID":"a\u001b[2J","stage":"s","verb":"v","requestURI":"/","stageTimestamp":"t","responseStatus.code":"20x","user.groups":"[broken","annotations.a\"b":"c\nd"}`))
	if !gjson.ValidBytes(ev) || gjson.GetBytes(ev, "auditID").Str != "a\x1b[2J" || gjson.GetBytes(ev, "responseStatus.code").Str != "20x" || gjson.GetBytes(ev, "user.groups").Str != "[broken" || gjson.GetBytes(ev, `annotations.a"b`).Str != "c\nd" {
		t.Errorf("hostile fields: %s", ev)
	}
}

// One answer line longer than any event is read to its end without being
// held, counted and skipped; the events after it are read.
func TestStoreLinesSkipsAHugeLine(t *testing.T) {
	defer func(m int) { maxStoreLine = m }(maxStoreLine)
	maxStoreLine = 1 << 20
	event := `{"_msg":"{\"kind\":\"Event\",\"auditID\":\"a\"}"}` + "\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, event)
		io.WriteString(w, `{"_msg":"`)
		chunk := strings.Repeat("x", 64<<10)
		for range 64 { // 4 MiB
			io.WriteString(w, chunk)
		}
		io.WriteString(w, "\"}\n"+event)
	}))
	defer srv.Close()
	st, err := OpenStore(StoreOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := st.Lines(context.Background(), "*")
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	b, err := io.ReadAll(lines)
	if err != nil || lines.Err() != nil || strings.Count(string(b), "\n") != 2 || lines.TooLong() != 1 {
		t.Errorf("read %q (%v, %v), %d too long; want the two events and one line skipped", b, err, lines.Err(), lines.TooLong())
	}
	if c := cap(lines.line); c > 2*maxStoreLine {
		t.Errorf("held %d bytes of a line, at most %d are read", c, maxStoreLine)
	}
}

// An answer that ends inside a line too long to be an event was cut off.
func TestStoreLinesCutInsideAHugeLine(t *testing.T) {
	defer func(m int) { maxStoreLine = m }(maxStoreLine)
	maxStoreLine = 1 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"_msg":"{\"kind\":\"Event\",\"auditID\":\"a\"}"}`+"\n"+`{"_msg":"`+strings.Repeat("x", 4<<10))
	}))
	defer srv.Close()
	st, _ := OpenStore(StoreOptions{URL: srv.URL})
	lines, err := st.Lines(context.Background(), "*")
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	io.Copy(io.Discard, lines)
	if e := lines.Err(); e == nil || !strings.Contains(e.Error(), "partial result") || !strings.Contains(e.Error(), "longer than any event") {
		t.Errorf("Err() = %v", e)
	}
}

// A store that sends its headers and then trickles is given up on at the
// timeout, with one line naming --store-timeout.
func TestStoreTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for range 100 {
			if _, err := io.WriteString(w, "{"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}))
	defer srv.Close()
	st, err := OpenStore(StoreOptions{URL: srv.URL, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	lines, err := st.Lines(context.Background(), "*")
	if err != nil {
		t.Fatal(err)
	}
	defer lines.Close()
	io.Copy(io.Discard, lines)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("gave up after %v", took)
	}
	if e := lines.Err(); e == nil || !strings.Contains(e.Error(), "within 300ms") || !strings.Contains(e.Error(), "--store-timeout") {
		t.Errorf("Err() = %v", e)
	}
	if _, err := st.Count(context.Background(), "*"); err == nil || !strings.Contains(err.Error(), "--store-timeout") {
		t.Errorf("a count: %v", err)
	}
}

// A front node that loses a storage node while it sets up an `in` subquery
// quotes the query twice before it names the node (crafted after the
// message hack/vlogs-e2e.sh met): the answer is still "could not read all
// of its storage nodes", naming the node, however long the query.
func TestStoreStorageNodeDownAfterALongQuery(t *testing.T) {
	q := `{cluster="big"} kind:=Event auditID:in({cluster="big"} kind:=Event ~"(?is)erin-editor" | fields auditID) | sort by (_time) | fields _msg`
	body := "cannot execute query [" + q + "]: cannot initialize `in` subqueries: cannot obtain unique values for in(" + q +
		`): cannot query storage node at "http://127.0.0.1:4321/internal/select/query": dial tcp 127.0.0.1:4321: connect: connection refused`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	st, err := OpenStore(StoreOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Lines(context.Background(), q)
	if err == nil || !strings.Contains(err.Error(), "could not read all of its storage nodes") || !strings.Contains(err.Error(), "storage node 127.0.0.1:4321: ") {
		t.Errorf("a storage node down: %v", err)
	}
}
