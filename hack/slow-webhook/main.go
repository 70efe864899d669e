// Command slow-webhook is a slow admission webhook for hack/gen-answers.sh
// (and, at /deny, a refusing one for hack/gen-admission.sh):
// it answers AdmissionReview v1 requests over HTTPS after a delay, so the
// kube-apiserver's audit events of the writes it checks carry the
// apiserver.latency.k8s.io/validating-webhook and .../mutating-webhook
// annotations (written only for requests slower than 500 ms).
//
//	/validate  allows, unless the object's data has the key "forbidden"
//	           (denied, with an audit annotation saying why)
//	/mutate    allows and adds the annotation kauditui.example/stamped-by
//	/deny      denies every object it is sent, at once, with HTTP code 403
//	           and reason Forbidden in its status (as policy engines answer;
//	           without a code the apiserver answers 400)
//	/healthz   ok, at once
//
// Standard library only.
//
// usage: slow-webhook -addr 127.0.0.1:PORT -cert tls.crt -key tls.key [-validate-delay 800ms] [-mutate-delay 700ms]
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"time"
)

// review is the part of an admission.k8s.io/v1 AdmissionReview this server reads and writes.
type review struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Request    *request  `json:"request,omitempty"`
	Response   *response `json:"response,omitempty"`
}

type request struct {
	UID       string          `json:"uid"`
	Operation string          `json:"operation"`
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Object    json.RawMessage `json:"object"`
	OldObject json.RawMessage `json:"oldObject"`
}

type response struct {
	UID              string            `json:"uid"`
	Allowed          bool              `json:"allowed"`
	Status           *status           `json:"status,omitempty"`
	Patch            string            `json:"patch,omitempty"`
	PatchType        string            `json:"patchType,omitempty"`
	AuditAnnotations map[string]string `json:"auditAnnotations,omitempty"`
}

type status struct {
	Message string `json:"message"`
	Reason  string `json:"reason,omitempty"`
	Code    int    `json:"code,omitempty"`
}

type object struct {
	Metadata struct {
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address")
	cert := flag.String("cert", "", "TLS certificate (PEM)")
	key := flag.String("key", "", "TLS key (PEM)")
	validateDelay := flag.Duration("validate-delay", 800*time.Millisecond, "how long /validate takes to answer")
	mutateDelay := flag.Duration("mutate-delay", 700*time.Millisecond, "how long /mutate takes to answer")
	flag.Parse()
	if *cert == "" || *key == "" {
		fmt.Fprintln(os.Stderr, "slow-webhook: -cert and -key are required")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/validate", handle(*validateDelay, validate))
	mux.HandleFunc("/mutate", handle(*mutateDelay, mutate))
	mux.HandleFunc("/deny", handle(0, deny))
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Printf("slow-webhook: listening on %s", *addr)
	log.Fatal(srv.ListenAndServeTLS(*cert, *key))
}

// handle decodes the review, waits delay, and answers with decide's response.
func handle(delay time.Duration, decide func(*request) *response) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in review
		if err := json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&in); err != nil || in.Request == nil {
			http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
			return
		}
		time.Sleep(delay)
		resp := decide(in.Request)
		resp.UID = in.Request.UID
		log.Printf("%s %s %s/%s: allowed %v after %s", r.URL.Path, in.Request.Operation, in.Request.Namespace, in.Request.Name, resp.Allowed, delay)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(review{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview", Response: resp})
	}
}

// validate denies an object whose data has the key "forbidden".
func validate(req *request) *response {
	var o object
	json.Unmarshal(req.Object, &o) // a DELETE has no object: allowed
	if _, bad := o.Data["forbidden"]; bad {
		return &response{Allowed: false,
			Status:           &status{Message: `the data key "forbidden" is not allowed`},
			AuditAnnotations: map[string]string{"reason": "forbidden-data-key"}}
	}
	return &response{Allowed: true}
}

// mutate stamps the object with an annotation (a JSON patch).
func mutate(req *request) *response {
	var o object
	json.Unmarshal(req.Object, &o)
	var patch []map[string]any
	if o.Metadata.Annotations == nil {
		patch = append(patch, map[string]any{"op": "add", "path": "/metadata/annotations", "value": map[string]string{}})
	}
	patch = append(patch, map[string]any{"op": "add", "path": "/metadata/annotations/kauditui.example~1stamped-by", "value": "slow-webhook"})
	b, _ := json.Marshal(patch)
	return &response{Allowed: true, PatchType: "JSONPatch", Patch: base64.StdEncoding.EncodeToString(b)}
}

// deny refuses the object with a 403, as OPA Gatekeeper and Kyverno do.
func deny(*request) *response {
	return &response{Allowed: false,
		Status: &status{Message: "configmaps labelled kauditui.example/deny are refused by policy", Reason: "Forbidden", Code: 403}}
}
