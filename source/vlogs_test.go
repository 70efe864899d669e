package source

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
