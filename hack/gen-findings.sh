#!/usr/bin/env bash
# Writes testdata/findings/: a real kube-apiserver's log of the attack steps
# the findings of `kauditui query --detect` look for (package detect), after
# the benign traffic of hack/traffic.sh, with hack/policy-findings.yaml
# (bodies of pods, workloads, RBAC, webhooks and CSRs at level Request).
#
#   audit.log      the log
#   expected.json  what the script did, in order: the actions as
#                  hack/traffic.sh `act` records them; each attack step has
#                  `rule` (the detect rule that must fire on it), the benign
#                  ones `rule: ""`; every action has `auditIDs`: the requests
#                  the step made, found after the run as those of the step's
#                  user, verb(s), resource, subresource, namespace and name
#                  received within the step's time window (kubectl's own
#                  extra requests, discovery and the GET before an exec, are
#                  not among them)
#
# The story: the benign traffic (team-a, hack/traffic.sh phases 1-3); then
# the admin sets up namespace prod, a look-alike of a control-plane static pod
# (kube-system/kube-apiserver-kubyk-cp-1), a node whose kubelet address is
# loopback (the apiserver refuses to proxy to it: 400, but logs the request),
# kube-system/kubeadm-config, a validating webhook; super-admin binds
# mallory (O=kubyk:contractors) to cluster-admin; mallory lists and watches
# secrets across namespaces, execs into the static pod (Pending: 400),
# creates a privileged pod, a hostPID/hostNetwork pod, a hostPath pod and a
# privileged deployment, goes through nodes/proxy (exec and logs), requests a
# token for another service account, registers a mutating webhook, deletes the
# validating one, edits kubeadm-config, creates and approves a CSR for
# O=kubeadm:cluster-admins (the apiserver refuses a kube-apiserver-client CSR
# for system:masters at create, 403), and impersonates system:masters; eve (no rights) tries to
# impersonate the controller-manager (403) and gets 25 403s in a burst; the
# admin binds system:anonymous to a Role, and an anonymous client reads a
# configmap (200), /version (allowed by design: benign) and secrets (403).
#
# usage: hack/gen-findings.sh [--out DIR]   (default testdata/findings)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/testdata/findings
[ "${1:-}" = --out ] && out=$2
mkdir -p "$out"
policy=$repo/hack/policy-findings.yaml
started=$SECONDS

# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/traffic.sh"
cluster_bin
dir=$(mktemp -d)
cluster_trap "$dir"
cluster_certs "$dir"
TRAFFIC_DIR_LOG=$dir/logs/traffic.log
TRAFFIC_ACTIONS=$dir/actions.jsonl
traffic_identities "$dir"
cluster_user "$dir" super-admin kubernetes-super-admin system:masters
cluster_user "$dir" mallory mallory kubyk:contractors
cluster_user "$dir" eve eve kubyk:interns
cluster_start_etcd "$dir"
cluster_start_apiserver "$dir" --audit-policy-file="$policy" --audit-log-path="$dir/audit.log"
cluster_wait_ready "$dir"
cluster_start_controller_manager "$dir"
cluster_wait_controllers "$dir"
cluster_env "$dir"
fail() { echo "gen-findings: $*" >&2; exit 1; }

# rule STEP RULE: the detect rule that must fire on the requests of STEP.
rule() { jq -nc --arg step "$1" --arg rule "$2" '{step: $step, rule: $rule}' >>"$dir/rules.jsonl"; }
# until_ok SECONDS CMD...: the harness's own waiting (not audited).
until_ok() {
  local limit=$1 start=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    [ $((SECONDS - start)) -lt "$limit" ] || fail "gave up waiting for: $*"
    sleep 0.5
  done
}

# --- benign: hack/traffic.sh --------------------------------------------------
traffic_phase1 "$dir"
traffic_phase2 "$dir"
traffic_phase3 "$dir"
traffic_wait_namespace_gone "$dir" 90

# --- setup by the admin (benign unless a rule is named) -------------------------
ns=prod
act step=create-namespace-prod user=kubernetes-admin verb=create resource=namespaces name=$ns code=201 -- \
  kk "$dir" admin create namespace $ns
until_ok 60 kk "$dir" harness get serviceaccount default -n $ns
until_ok 60 kk "$dir" harness get serviceaccount default -n kube-system
jq -n '{apiVersion: "v1", kind: "Pod",
  metadata: {name: "kube-apiserver-kubyk-cp-1", namespace: "kube-system",
    labels: {component: "kube-apiserver", tier: "control-plane"}},
  spec: {automountServiceAccountToken: false,
    containers: [{name: "kube-apiserver", image: "registry.k8s.io/kube-apiserver:v1.37.2", command: ["kube-apiserver"]}]}}' \
  >"$dir/static-pod.json"
act step=create-static-pod-lookalike user=kubernetes-admin verb=create resource=pods namespace=kube-system \
  name=kube-apiserver-kubyk-cp-1 code=201 -- kk "$dir" admin create -f "$dir/static-pod.json"
jq -n '{apiVersion: "v1", kind: "Node", metadata: {name: "kubyk-cp-1"},
  status: {addresses: [{type: "InternalIP", address: "127.0.0.1"}], daemonEndpoints: {kubeletEndpoint: {Port: 10250}}}}' \
  >"$dir/node.json"
act step=create-node user=kubernetes-admin verb=create resource=nodes name=kubyk-cp-1 code=201 -- \
  kk "$dir" admin create -f "$dir/node.json"
act step=create-kubeadm-config user=kubernetes-admin verb=create resource=configmaps namespace=kube-system \
  name=kubeadm-config code=201 -- kk "$dir" admin create configmap kubeadm-config -n kube-system \
  --from-literal=ClusterConfiguration='apiServer: {extraArgs: [{name: audit-policy-file, value: /etc/kubernetes/audit-policy.yaml}]}'
act step=create-serviceaccount-ci user=kubernetes-admin verb=create resource=serviceaccounts namespace=$ns \
  name=ci-deployer code=201 -- kk "$dir" admin create serviceaccount ci-deployer -n $ns
# webhook KIND NAME: a webhook configuration for a resource nothing creates
# (kubyk.example gadgets), failing open: it changes nothing the harness does.
webhook() {
  jq -n --arg kind "$1" --arg name "$2" '
    {apiVersion: "admissionregistration.k8s.io/v1", kind: $kind, metadata: {name: $name},
     webhooks: [{name: $name, clientConfig: {url: "https://127.0.0.1:1/hook"},
       rules: [{apiGroups: ["kubyk.example"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["gadgets"]}],
       failurePolicy: "Ignore", sideEffects: "None", admissionReviewVersions: ["v1"], timeoutSeconds: 1}]}'
}
webhook ValidatingWebhookConfiguration kubyk-policy.kubyk.example >"$dir/validating.json"
webhook MutatingWebhookConfiguration kubyk-injector.kubyk.example >"$dir/mutating.json"
act step=admin-register-validating-webhook user=kubernetes-admin verb=create resource=validatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=kubyk-policy.kubyk.example code=201 -- \
  kk "$dir" admin create -f "$dir/validating.json"
rule admin-register-validating-webhook webhook-change
# benign near misses: a plain pod with an emptyDir, a view binding, a
# namespaced secret list
jq -n --arg ns $ns '{apiVersion: "v1", kind: "Pod", metadata: {name: "plain", namespace: $ns},
  spec: {containers: [{name: "app", image: "registry.k8s.io/nginx-slim:0.27", volumeMounts: [{name: "tmp", mountPath: "/tmp"}]}],
    volumes: [{name: "tmp", emptyDir: {}}]}}' >"$dir/plain.json"
act step=create-plain-pod user=kubernetes-admin verb=create resource=pods namespace=$ns name=plain code=201 -- \
  kk "$dir" admin create -f "$dir/plain.json"
act step=bind-viewer-prod user=kubernetes-admin verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=lou-viewer-view code=201 -- \
  kk "$dir" admin create rolebinding lou-viewer-view -n $ns --clusterrole=view --user=lou-viewer

# --- mallory -----------------------------------------------------------------
act step=bind-mallory-cluster-admin user=kubernetes-super-admin verb=create resource=clusterrolebindings \
  apiGroup=rbac.authorization.k8s.io name=mallory-admin code=201 -- \
  kk "$dir" super-admin create clusterrolebinding mallory-admin --clusterrole=cluster-admin --user=mallory
rule bind-mallory-cluster-admin rbac-bind-admin
act step=mallory-list-secrets-namespaced user=mallory verb=list resource=secrets namespace=$ns code=200 -- \
  kk "$dir" mallory get secrets -n $ns
act step=mallory-list-secrets-all user=mallory verb=list resource=secrets code=200 -- \
  kk "$dir" mallory get secrets -A
rule mallory-list-secrets-all secrets-cluster-wide
# --watch-only lists first (for a resourceVersion), then watches: both are the step's
act step=mallory-watch-secrets-all user=mallory verb=list,watch resource=secrets code=200 -- \
  kk "$dir" mallory get secrets -A --watch-only --request-timeout=3s
rule mallory-watch-secrets-all secrets-cluster-wide
# kubectl 1.37: WebSockets first (get), then SPDY (create); both refused (400:
# the pod has no node) after authorization.
act step=mallory-exec-static-pod user=mallory verb=get,create resource=pods subresource=exec namespace=kube-system \
  name=kube-apiserver-kubyk-cp-1 code=400 -- \
  kk "$dir" mallory exec kube-apiserver-kubyk-cp-1 -n kube-system -- cat /etc/kubernetes/pki/ca.key
rule mallory-exec-static-pod exec-control-plane
# pod NAME SPEC-JSON: a pod of prod with that spec (containers given in it)
pod() {
  jq -n --arg ns $ns --arg name "$1" --argjson spec "$2" \
    '{apiVersion: "v1", kind: "Pod", metadata: {name: $name, namespace: $ns}, spec: $spec}'
}
pod priv '{"containers": [{"name": "app", "image": "registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
  "securityContext": {"privileged": true}}]}' >"$dir/priv.json"
act step=mallory-privileged-pod user=mallory verb=create resource=pods namespace=$ns name=priv code=201 -- \
  kk "$dir" mallory create -f "$dir/priv.json"
rule mallory-privileged-pod privileged-pod
pod hostns '{"hostPID": true, "hostNetwork": true, "containers": [{"name": "app", "image": "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"}]}' \
  >"$dir/hostns.json"
act step=mallory-host-namespace-pod user=mallory verb=create resource=pods namespace=$ns name=hostns code=201 -- \
  kk "$dir" mallory create -f "$dir/hostns.json"
rule mallory-host-namespace-pod host-namespace-pod
pod hostpath '{"containers": [{"name": "app", "image": "registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
  "volumeMounts": [{"name": "root", "mountPath": "/host"}]}], "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}' \
  >"$dir/hostpath.json"
act step=mallory-hostpath-pod user=mallory verb=create resource=pods namespace=$ns name=hostpath code=201 -- \
  kk "$dir" mallory create -f "$dir/hostpath.json"
rule mallory-hostpath-pod hostpath-pod
jq -n --arg ns $ns '{apiVersion: "apps/v1", kind: "Deployment", metadata: {name: "miner", namespace: $ns},
  spec: {replicas: 1, selector: {matchLabels: {app: "miner"}}, template: {metadata: {labels: {app: "miner"}},
    spec: {containers: [{name: "miner", image: "registry.k8s.io/e2e-test-images/busybox:1.36.1-1",
      securityContext: {privileged: true}}]}}}}' >"$dir/miner.json"
act step=mallory-privileged-deployment user=mallory verb=create resource=deployments apiGroup=apps namespace=$ns \
  name=miner code=201 -- kk "$dir" mallory create -f "$dir/miner.json"
rule mallory-privileged-deployment privileged-pod
act step=mallory-node-proxy-exec user=mallory verb=create resource=nodes subresource=proxy name=kubyk-cp-1 code=400 -- \
  kk "$dir" mallory create --raw \
  "/api/v1/nodes/kubyk-cp-1/proxy/exec/kube-system/kube-apiserver-kubyk-cp-1/kube-apiserver?command=id&output=1" -f /dev/null
rule mallory-node-proxy-exec nodes-proxy-exec
act step=mallory-node-proxy-logs user=mallory verb=get resource=nodes subresource=proxy name=kubyk-cp-1 code=400 -- \
  kk "$dir" mallory get --raw "/api/v1/nodes/kubyk-cp-1/proxy/logs/"
rule mallory-node-proxy-logs nodes-proxy
act step=mallory-token-other-sa user=mallory verb=create resource=serviceaccounts subresource=token namespace=$ns \
  name=ci-deployer code=201 -- kk "$dir" mallory create token ci-deployer -n $ns --duration=1h
rule mallory-token-other-sa token-other-sa
act step=mallory-register-mutating-webhook user=mallory verb=create resource=mutatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=kubyk-injector.kubyk.example code=201 -- \
  kk "$dir" mallory create -f "$dir/mutating.json"
rule mallory-register-mutating-webhook webhook-change
act step=mallory-delete-validating-webhook user=mallory verb=delete resource=validatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=kubyk-policy.kubyk.example code=200 -- \
  kk "$dir" mallory delete validatingwebhookconfiguration kubyk-policy.kubyk.example
rule mallory-delete-validating-webhook webhook-change
act step=mallory-patch-kubeadm-config user=mallory verb=patch resource=configmaps namespace=kube-system \
  name=kubeadm-config code=200 -- kk "$dir" mallory patch configmap kubeadm-config -n kube-system --type=merge \
  -p '{"data":{"ClusterConfiguration":"apiServer: {extraArgs: []}"}}'
rule mallory-patch-kubeadm-config kubeadm-config-change
openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/pki/backdoor.key" -subj "/O=kubeadm:cluster-admins/CN=mallory-backdoor" \
  -out "$dir/pki/backdoor.csr" 2>/dev/null
jq -n --arg req "$(base64 -w0 "$dir/pki/backdoor.csr")" '{apiVersion: "certificates.k8s.io/v1",
  kind: "CertificateSigningRequest", metadata: {name: "mallory-backdoor"},
  spec: {request: $req, signerName: "kubernetes.io/kube-apiserver-client", usages: ["client auth"], expirationSeconds: 86400}}' \
  >"$dir/csr.json"
act step=mallory-create-csr user=mallory verb=create resource=certificatesigningrequests apiGroup=certificates.k8s.io \
  name=mallory-backdoor code=201 -- kk "$dir" mallory create -f "$dir/csr.json"
act step=mallory-approve-csr user=mallory verb=update resource=certificatesigningrequests subresource=approval \
  apiGroup=certificates.k8s.io name=mallory-backdoor code=200 -- kk "$dir" mallory certificate approve mallory-backdoor
rule mallory-approve-csr csr-approval
act step=mallory-impersonate-masters user=mallory impersonatedUser=kubyk-ops verb=list resource=pods namespace=$ns \
  code=200 -- kk "$dir" mallory get pods -n $ns --as=kubyk-ops --as-group=system:masters
rule mallory-impersonate-masters impersonate-privileged

# --- eve: no rights ---------------------------------------------------------------
# A refused impersonation: v1.37.2 logs no impersonatedUser for it, and its
# message names the verb and resource, not whom eve tried to become.
act step=eve-impersonate-controller-manager user=eve verb=list resource=pods namespace=$ns code=403 -- \
  kk "$dir" eve get pods -n $ns --as=system:kube-controller-manager
rule eve-impersonate-controller-manager impersonation-refused
# 25 GETs of prod's secrets on one connection, all 403
eve_burst() {
  local -a urls=()
  for _ in $(seq 1 25); do urls+=(-o /dev/null "$CLUSTER_SERVER/api/v1/namespaces/$ns/secrets"); done
  local codes
  codes=$(curl -sS --max-time 60 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/eve.crt" --key "$dir/pki/eve.key" \
    -A "eve-scanner/0.1" -w '%{http_code}\n' "${urls[@]}")
  echo "eve: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
  [ "$(grep -cx 403 <<<"$codes")" -eq 25 ] && return 1 # all refused, as wanted: act wants a failure
  return 0
}
act step=eve-403-burst user=eve verb=list resource=secrets namespace=$ns code=403 -- eve_burst
rule eve-403-burst auth-failure-burst

# --- anonymous ------------------------------------------------------------------
act step=create-public-configmap user=kubernetes-admin verb=create resource=configmaps namespace=$ns \
  name=public-settings code=201 -- kk "$dir" admin create configmap public-settings -n $ns --from-literal=theme=dark
act step=create-anon-role user=kubernetes-admin verb=create resource=roles apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=anon-config-reader code=201 -- \
  kk "$dir" admin create role anon-config-reader -n $ns --verb=get --resource=configmaps
act step=bind-anonymous user=kubernetes-admin verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=anon-config-reader code=201 -- \
  kk "$dir" admin create rolebinding anon-config-reader -n $ns --role=anon-config-reader --user=system:anonymous
rule bind-anonymous rbac-bind-anonymous
anon() { curl -fsS -o /dev/null --max-time 10 --cacert "$dir/pki/ca.crt" -A "curl/anonymous" "$CLUSTER_SERVER$1"; }
sleep 1 # the RBAC authorizer's informer
act step=anonymous-read-configmap user=system:anonymous verb=get resource=configmaps namespace=$ns \
  name=public-settings code=200 -- anon "/api/v1/namespaces/$ns/configmaps/public-settings"
rule anonymous-read-configmap anonymous-allowed
act step=anonymous-version user=system:anonymous verb=get code=200 -- anon /version
act step=anonymous-list-secrets user=system:anonymous verb=list resource=secrets namespace=$ns code=403 -- \
  anon "/api/v1/namespaces/$ns/secrets"

sleep 1
cluster_stop "$dir" || true

# --- ground truth: each step's requests, by what the step asked and when ----------
# kubectl's discovery and its GET before an exec do not match the step's verb,
# resource and name; two requests for one step (exec's WebSockets and SPDY)
# are both the step's.
jq -s --slurpfile rules "$dir/rules.jsonl" '
  map(del(.kubectlExit, .stdout)) | map(. as $a | . + {rule: ([$rules[] | select(.step == $a.step) | .rule] | first // "")})' \
  "$dir/actions.jsonl" >"$dir/actions.json"
jq -s --slurpfile actions "$dir/actions.json" '
  . as $events
  | $actions[0] | map(. as $a
    | ($a.verb | split(",")) as $verbs
    | . + {auditIDs: ([$events[]
        | select(.requestReceivedTimestamp >= $a.from and .requestReceivedTimestamp <= $a.to)
        | select((.user.username // "") == $a.user)
        | select(.verb as $v | $verbs | index($v))
        | select(($a.resource == "" and .objectRef == null) or ((.objectRef.resource // "") == $a.resource))
        | select($a.resource == "" or (.objectRef.subresource // "") == $a.subresource)
        | select($a.namespace == "" or (.objectRef.namespace // "") == $a.namespace)
        | select($a.name == "" or (.objectRef.name // "") == $a.name)
        | select($a.resource != "" or .requestURI == "/version")
        | .auditID] | unique)})' "$dir/audit.log" >"$dir/resolved.json"
missing=$(jq -r '.[] | select(.auditIDs | length == 0) | .step' "$dir/resolved.json")
[ -z "$missing" ] || fail "steps with no request in the log: $missing"
burst=$(jq -r '.[] | select(.step == "eve-403-burst") | .auditIDs | length' "$dir/resolved.json")
[ "$burst" -eq 25 ] || fail "eve's burst: $burst requests, want 25"
exec_n=$(jq -r '.[] | select(.step == "mallory-exec-static-pod") | .auditIDs | length' "$dir/resolved.json")
[ "$exec_n" -ge 1 ] || fail "mallory's exec: no request"

cp "$dir/audit.log" "$out/audit.log"
chmod 0644 "$out/audit.log"
jq --arg version "$("$CLUSTER_BIN/kube-apiserver" --version | awk '{print $2}')" '{
  generatedBy: "hack/gen-findings.sh",
  kubernetesVersion: $version,
  policy: "hack/policy-findings.yaml",
  actions: .}' "$dir/resolved.json" >"$out/expected.json"
echo "gen-findings: wrote $out ($(wc -l <"$out/audit.log") audit lines, $(jq '[.actions[] | select(.rule != "")] | length' "$out/expected.json") attack steps) in $((SECONDS - started))s"
