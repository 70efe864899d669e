package audit

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/kauditui/kauditui/audit/audittest"
)

// A real apiserver's credential ids reach the request: two certificates of
// kubernetes-admin apart, a service-account token as its JTI; the labels
// name the certificates known and shorten the rest.
func TestCredentialFromRealLog(t *testing.T) {
	// the apiserver rotated the log: its backups (oldest first, as their
	// names sort) hold the events before audit.log's
	st := NewStore()
	for in, p := range audittest.Logs(t, "answers") {
		b := audittest.ReadLog(t, p)
		for i, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if _, _, ok := st.AddEvent(l, Ref{Input: int32(in), Line: int64(i + 1)}); !ok {
				t.Fatalf("%s:%d does not parse", p, i+1)
			}
			if ev, ok := ParseEvent(l); !ok || !strings.Contains(string(l), ev.CredentialID) || ev.CredentialID == "" {
				t.Fatalf("%s:%d: ParseEvent credential id %q", p, i+1, ev.CredentialID)
			}
		}
	}
	certs := map[string]bool{}
	var token string
	for _, r := range st.Snapshot().Requests {
		switch {
		case r.User == "kubernetes-admin" && strings.HasPrefix(r.CredentialID, "X509SHA256="):
			certs[r.CredentialID] = true
		case r.User == "system:serviceaccount:shop:deployer":
			token = r.CredentialID
		}
	}
	if len(certs) != 2 {
		t.Fatalf("kubernetes-admin used %d certificates, want 2 (admin.conf and the laptop's): %v", len(certs), certs)
	}
	if !strings.HasPrefix(token, "JTI=") {
		t.Fatalf("the deployer's credential id is %q, want JTI=...", token)
	}
	var known string
	for id := range certs {
		known = id
	}
	SetCredentialNames(map[string]string{strings.ToUpper(strings.TrimPrefix(known, "X509SHA256=")): "admin.conf on this node"})
	t.Cleanup(func() { SetCredentialNames(nil) })
	for id := range certs {
		want := "unknown certificate " + id[len("X509SHA256="):][:12]
		if id == known {
			want = "admin.conf on this node"
		}
		if got := credentialLabel(id); got != want {
			t.Errorf("CredentialLabel(%s) = %q, want %q", id, got, want)
		}
	}
	if got, want := credentialLabel(token), "token "+token[4:16]; got != want {
		t.Errorf("CredentialLabel(%s) = %q, want %q", token, got, want)
	}
}

// Merging the credential id allocates nothing once its value is interned.
func TestCredentialMergeAllocs(t *testing.T) {
	line := []byte(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a","stage":"ResponseComplete","requestURI":"/x","verb":"get","user":{"username":"u","extra":{"authentication.kubernetes.io/credential-id":["X509SHA256=ab"]}},"requestReceivedTimestamp":"2026-11-26T04:00:00.000000Z","stageTimestamp":"2026-11-26T04:00:00.000000Z"}`)
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var e rawEvent
	if !scanEventBytes(line, &e) || e.credID != `["X509SHA256=ab"]` {
		t.Fatalf("credID %q", e.credID)
	}
	if n := testing.AllocsPerRun(100, func() {
		e = rawEvent{}
		scanEventBytes(line, &e)
		firstString(e.credID)
	}); n != 0 {
		t.Errorf("scanning a credential id allocates %v times, want 0", n)
	}
}

// With no names set, the loader reads them once, when a label is first
// asked for (the explorer names this node's kubeconfigs so).
func TestCredentialLoaderOnFirstUse(t *testing.T) {
	credNames.Store(nil)
	credLoad.once = sync.Once{}
	calls := 0
	SetCredentialLoader(func() map[string]string {
		calls++
		return map[string]string{"AB12": "admin.conf on this node"}
	})
	t.Cleanup(func() { SetCredentialLoader(nil); SetCredentialNames(nil) })
	for range 3 {
		if got := credentialLabel("X509SHA256=ab12"); got != "admin.conf on this node" {
			t.Fatalf("label %q", got)
		}
	}
	if calls != 1 {
		t.Errorf("the loader ran %d times, want once", calls)
	}
}
