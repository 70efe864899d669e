package source

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kauditui/kauditui/audit"
)

// Options.Live tells the explorer when the history is read and Load goes on
// following (its status bar says "loading" until then, "following" after):
// once, with every event of the history in the store; never when nothing is
// followed (a snapshot, stdin that ends, a compressed file alone).
func TestLiveAfterHistory(t *testing.T) {
	lines := sampleLines(t)[:20]
	history := strings.Join(lines, "\n") + "\n"
	dir := t.TempDir()
	plain := writeFile(t, filepath.Join(dir, "audit.log"), history)
	packed := filepath.Join(t.TempDir(), "audit.log.gz")
	if err := os.WriteFile(packed, gz(t, history), 0o600); err != nil {
		t.Fatal(err)
	}
	want := load(t, Spec{Paths: []string{plain}}, Options{}).snap.Events

	// run loads with opt until Live is called (then stops it) or Load
	// returns; it says how often Live was called and the events the store
	// held at the first call.
	run := func(t *testing.T, spec Spec, opt Options) (calls, atCall int) {
		t.Helper()
		var mu sync.Mutex
		st := audit.NewStore()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		opt.PollInterval = 5 * time.Millisecond
		opt.Live = func() {
			mu.Lock()
			defer mu.Unlock()
			if calls++; calls == 1 {
				atCall = st.Snapshot().Events
			}
			cancel()
		}
		set, err := Open(context.Background(), spec, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer set.Close()
		done := make(chan error, 1)
		go func() { done <- set.Load(ctx, st) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Load neither called Live nor returned")
		}
		mu.Lock()
		defer mu.Unlock()
		return calls, atCall
	}

	t.Run("file", func(t *testing.T) {
		if calls, at := run(t, Spec{Paths: []string{plain}, Follow: true}, Options{}); calls != 1 || at != want {
			t.Errorf("Live called %d times, at %d events; want once, once the %d events of the history are read", calls, at, want)
		}
	})
	for name, c := range map[string]struct {
		spec Spec
	}{
		"snapshot":    {Spec{Paths: []string{plain}}},
		"stdin":       {Spec{Paths: []string{"-"}, Follow: true, Stdin: strings.NewReader(history)}},
		"gzip alone":  {Spec{Paths: []string{packed}, Follow: true}},
		"stdin, file": {Spec{Paths: []string{"-", plain}, Stdin: strings.NewReader(history)}},
	} {
		t.Run(name, func(t *testing.T) {
			if calls, _ := run(t, c.spec, Options{}); calls != 0 {
				t.Errorf("Live called %d times; nothing is followed", calls)
			}
		})
	}
	t.Run("nodes", func(t *testing.T) {
		f := newFakeNodes(t, "a", "b")
		os.WriteFile(f.log("a"), []byte(history), 0o600)
		os.WriteFile(f.log("b"), nil, 0o600)
		spec := Spec{Follow: true, Nodes: &NodeOptions{Client: f.client(t), Nodes: []string{"a", "b"}}}
		if calls, at := run(t, spec, Options{}); calls != 1 || at != want {
			t.Errorf("Live called %d times, at %d events; want once, once the %d events of the history are read", calls, at, want)
		}
	})
	t.Run("pods", func(t *testing.T) {
		cs := fakePodAPI(t, map[string]string{"kube-apiserver-a": history})
		spec := Spec{Follow: true, Pods: true, Client: func() (kubernetes.Interface, string, error) { return cs, "fake", nil }}
		if calls, at := run(t, spec, Options{}); calls != 1 || at != want {
			t.Errorf("Live called %d times, at %d events; want once, once the %d events of the history are read", calls, at, want)
		}
	})
	t.Run("pods and a file", func(t *testing.T) {
		cs := fakePodAPI(t, map[string]string{"kube-apiserver-a": history})
		other := writeFile(t, filepath.Join(t.TempDir(), "audit.log"), strings.ReplaceAll(history, `"auditID":"`, `"auditID":"x`))
		spec := Spec{Paths: []string{other}, Follow: true, Pods: true, Client: func() (kubernetes.Interface, string, error) { return cs, "fake", nil }}
		if calls, at := run(t, spec, Options{}); calls != 1 || at != 2*want {
			t.Errorf("Live called %d times, at %d events; want once, once the %d events of the history are read", calls, at, 2*want)
		}
	})
}

// fakePodAPI is an API server with one kube-apiserver pod per log (its
// node named for it): the list, each pod's log (with the kubelet's
// timestamps; following, the log and then nothing until the client goes),
// and a watch that stays open.
func fakePodAPI(t *testing.T, logs map[string]string) kubernetes.Interface {
	t.Helper()
	const base = "/api/v1/namespaces/kube-system/pods"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == base && r.URL.Query().Get("watch") == "true":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case r.URL.Path == base:
			var items []string
			for pod := range logs {
				items = append(items, fmt.Sprintf(`{"metadata":{"name":%q,"namespace":"kube-system","uid":"uid-%s"},"spec":{"nodeName":"node-%s"}}`, pod, pod, pod))
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[%s]}`, strings.Join(items, ","))
		case strings.HasPrefix(r.URL.Path, base+"/") && strings.HasSuffix(r.URL.Path, "/log"):
			pod := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, base+"/"), "/log")
			at := podT0
			for _, l := range strings.SplitAfter(logs[pod], "\n") {
				if l != "" {
					at = at.Add(time.Millisecond)
					fmt.Fprintf(w, "%s %s", at.Format(time.RFC3339Nano), l)
				}
			}
			if r.URL.Query().Get("follow") == "true" {
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
