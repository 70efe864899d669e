#!/usr/bin/env bash
# Writes testdata/backend/: what a real kube-apiserver v1.37.2 logs when the
# backend behind a long-running request (a kubelet answering pods/log,
# pods/exec, nodes/proxy) answers 401, holds an exec session open, ends one in
# an error, or cuts a proxied response off (the apiserver's reverse proxy then
# panics and the audit filter logs the Panic stage); and, beside them, execs
# refused before any kubelet answers (no such container; a kubelet port with
# nothing listening) and a failed authentication on the same URI as the
# kubelet's 401.
#
#   audit.log       the apiserver's audit log (policy below: Metadata for
#                   everyone but the harness's own identities)
#   expected.json   each case: what the script did (the command, the client's
#                   exit code, how long the backend held it), how to find its
#                   requests (auditID for curl's, which sends the Audit-ID
#                   header; else verb, resource, subresource, name), how many
#                   requests it is, and the last stage and code the apiserver
#                   must log for it. The stand-in kubelet's own record of what
#                   it answered is in backend.jsonl. Nothing is read back from
#                   audit.log.
#
# The kubelet is hack/backend-kubelet (a stand-in: standard library only): a
# Node whose InternalIP and kubeletEndpoint port lead to it, declaring the
# ExtendWebSocketsToKubelet feature, so the apiserver proxies kubectl's
# WebSocket exec to it as it does to a v1.37 kubelet.
#
# usage: sudo hack/gen-backend.sh [--out DIR]   (default testdata/backend; root:
#        it needs a network namespace)
#
# Network: everything runs inside a network namespace made here and removed at
# the end; nothing in it can reach the machine's network. The apiserver and etcd
# listen on the namespace's 127.0.0.1. The apiserver refuses to proxy to a
# loopback node address, so a veth pair inside the namespace carries
# BACKEND_NET (default 10.213.79.0/30, checked against `ip route` and `ip addr`
# first); the stand-in kubelet listens on its .1 address.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
net=${BACKEND_NET:-10.213.79}
out=$repo/testdata/backend
if [ "${1:-}" = --out ]; then out=$(mkdir -p "$2" && cd "$2" && pwd); fi
log() { echo "gen-backend: $*" >&2; }

# --- outside the namespace: build, make the namespace, run the rest in it -----
if [ -z "${BACKEND_NETNS:-}" ]; then
  # shellcheck source-path=SCRIPTDIR
  source "$repo/hack/lib/netns.sh"
  netns_preflight "$net" BACKEND_NET
  # shellcheck source-path=SCRIPTDIR
  source "$repo/hack/lib/cluster.sh"
  cluster_bin
  work=$(mktemp -d)
  (cd "$repo" && go build -o "$work/backend-kubelet" ./hack/backend-kubelet)
  netns_run "kauditui-backend-$$" bk "$net" "$work" env BACKEND_NETNS="kauditui-backend-$$" CLUSTER_BIN="$CLUSTER_BIN" \
    BACKEND_KUBELET="$work/backend-kubelet" "${BASH_SOURCE[0]}" --out "$out"
fi

# --- inside the namespace ------------------------------------------------------
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
started=$SECONDS
ip=$net.1
kport=10250
node=backend-node
ns=default
dir=$(mktemp -d)
# shellcheck disable=SC2064
trap "trap '' INT TERM; set +e; cluster_stop_one $(printf %q "$dir") backend-kubelet 5; cluster_stop $(printf %q "$dir"); rm -rf $(printf %q "$dir")" EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
version=$("$CLUSTER_BIN/kube-apiserver" --version | awk '{print $2}')
cluster_certs "$dir"
cluster_start_etcd "$dir"
cluster_env "$dir"
cat >"$dir/policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
# the harness's waiting and the apiserver's own loopback client
- level: None
  users: ["kauditui-harness", "system:apiserver"]
- level: Metadata
EOF
cluster_start_apiserver "$dir" --kubelet-preferred-address-types=InternalIP \
  --audit-policy-file="$dir/policy.yaml" --audit-log-path="$dir/audit.log"
cluster_wait_ready "$dir"
_cluster_start backend-kubelet "$dir" "$dir/logs/backend-kubelet.log" "$dir/logs/backend-kubelet.log" \
  "$BACKEND_KUBELET" -ip "$ip" -port "$kport" -record "$dir/backend.jsonl"
for _ in $(seq 1 50); do
  if curl -ksf "https://$ip:$kport/healthz" >/dev/null 2>&1; then break; fi
  sleep 0.1
done
: >"$dir/backend.jsonl" # the readiness probe above is not a case

kubectl() { "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" --cache-dir="$dir/kube-cache" "$@"; }
# curl as the admin (client certificate); prints "<HTTP code> <curl's exit code>".
admin() {
  local rc=0 code
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" "$@" 2>/dev/null) || rc=$?
  echo "${code:-000} $rc"
}

# The node and its pods (no controller-manager: the `default` service account
# is made by hand; the pods are bound to the node by spec.nodeName).
# mknode NAME PORT: a Node whose kubelet is at $ip:PORT.
mknode() {
  kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $1
EOF
  kubectl patch node "$1" --subresource=status --type=merge -p "$(jq -nc --arg ip "$ip" --argjson port "$2" \
    '{status: {addresses: [{type: "InternalIP", address: $ip}], daemonEndpoints: {kubeletEndpoint: {Port: $port}},
      declaredFeatures: ["ExtendWebSocketsToKubelet"]}}')" >/dev/null
}
mknode "$node" "$kport"
down=backend-node-down # nothing listens on its kubelet port
mknode "$down" $((kport + 1))
kubectl create serviceaccount default -n "$ns" >/dev/null
pods=(logs-ok deny-logs exec-held exec-fails exec-dropped exec-interrupted refuse-exec exec-nokubelet exec-badcontainer attach-held)
for p in "${pods[@]}"; do
  on=$node
  if [ "$p" = exec-nokubelet ]; then on=$down; fi
  kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $p
  namespace: $ns
spec:
  nodeName: $on
  automountServiceAccountToken: false
  containers:
  - name: main
    image: registry.invalid/stand-in:1
EOF
done
log "node $node ($ip:$kport, declares ExtendWebSocketsToKubelet), node $down (nothing on its port), ${#pods[@]} pods"

cases=$dir/cases.jsonl
# case NAME JSON: one case of expected.json (jq object text)
case_() { jq -c --arg name "$1" '{name: $name} + .' <<<"$2" >>"$cases"; }
# run CMD...: runs it, prints "<exit code> <seconds, 3 decimals>"
run() {
  local t0 rc=0
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || rc=$?
  echo "$rc $((($(date +%s%N) - t0) / 1000000))e-3"
}

# 1. pods/log: the kubelet answers 401 (and 200, for contrast).
read -r rc secs < <(run kubectl logs -n "$ns" deny-logs)
case_ logs-backend-401 "$(jq -nc --argjson rc "$rc" --arg ns "$ns" '{
  did: "kubectl logs deny-logs; the kubelet answered 401 to /containerLogs",
  clientExit: $rc,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "log", namespace: $ns, name: "deny-logs"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 401}')"
read -r rc secs < <(run kubectl logs -n "$ns" logs-ok)
case_ logs-ok "$(jq -nc --argjson rc "$rc" --arg ns "$ns" '{
  did: "kubectl logs logs-ok; the kubelet answered 200 with two lines",
  clientExit: $rc,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "log", namespace: $ns, name: "logs-ok"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 200}')"

# 2. nodes/proxy: the kubelet answers 401 to /configz, 200 to /healthz.
read -r rc secs < <(run kubectl get --raw "/api/v1/nodes/$node/proxy/configz")
case_ proxy-backend-401 "$(jq -nc --argjson rc "$rc" --arg node "$node" '{
  did: "kubectl get --raw /api/v1/nodes/\($node)/proxy/configz; the kubelet answered 401",
  clientExit: $rc,
  find: {user: "kubernetes-admin", verb: "get", resource: "nodes", subresource: "proxy", name: $node, uriSuffix: "/proxy/configz"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 401}')"
read -r rc secs < <(run kubectl get --raw "/api/v1/nodes/$node/proxy/healthz")
case_ proxy-ok "$(jq -nc --argjson rc "$rc" --arg node "$node" '{
  did: "kubectl get --raw /api/v1/nodes/\($node)/proxy/healthz; the kubelet answered 200",
  clientExit: $rc,
  find: {user: "kubernetes-admin", verb: "get", resource: "nodes", subresource: "proxy", name: $node, uriSuffix: "/proxy/healthz"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 200}')"

# 3. exec over WebSocket (kubectl 1.30+), proxied to the kubelet: held open,
# ended by a non-zero exit, by the kubelet closing the connection, by the
# client going away; and refused by the kubelet before the upgrade.
hold=5
read -r rc secs < <(run kubectl exec -n "$ns" exec-held -- sleep "$hold")
case_ exec-held "$(jq -nc --argjson rc "$rc" --arg ns "$ns" --argjson hold "$hold" --arg secs "$secs" '{
  did: "kubectl exec exec-held -- sleep \($hold); the kubelet upgraded (101), held the session \($hold) s, then sent exit 0",
  clientExit: $rc, clientSeconds: ($secs | tonumber), heldSeconds: $hold,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "exec", namespace: $ns, name: "exec-held"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 101, minLatencySeconds: $hold}')"
read -r rc secs < <(run kubectl exec -n "$ns" exec-fails -- false)
case_ exec-fails "$(jq -nc --argjson rc "$rc" --arg ns "$ns" '{
  did: "kubectl exec exec-fails -- false; the kubelet upgraded (101), held 1 s, then sent a Failure status with exit code 1",
  clientExit: $rc, heldSeconds: 1,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "exec", namespace: $ns, name: "exec-fails"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 101, minLatencySeconds: 1}')"
read -r rc secs < <(run kubectl exec -n "$ns" exec-dropped -- drop)
case_ exec-dropped "$(jq -nc --argjson rc "$rc" --arg ns "$ns" '{
  did: "kubectl exec exec-dropped -- drop; the kubelet upgraded (101), held 1 s, then closed the connection with no status",
  clientExit: $rc, heldSeconds: 1,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "exec", namespace: $ns, name: "exec-dropped"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 101, minLatencySeconds: 1}')"
# The client goes away: kubectl is stopped (SIGTERM) $cut seconds after the
# kubelet saw the session open (its log says so), whatever kubectl's start took.
cut=3
"$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" --cache-dir="$dir/kube-cache" \
  exec -n "$ns" exec-interrupted -- sleep 60 >/dev/null 2>&1 & # the binary itself: $! is its pid
kpid=$!
for _ in $(seq 1 200); do
  if grep -q "exec session open: exec-interrupted" "$dir/logs/backend-kubelet.log"; then break; fi
  sleep 0.1
done
sleep "$cut"
kill -TERM "$kpid"
rc=0
wait "$kpid" || rc=$?
case_ exec-interrupted "$(jq -nc --argjson rc "$rc" --arg ns "$ns" --argjson cut "$cut" '{
  did: "kubectl exec exec-interrupted -- sleep 60, stopped with SIGTERM \($cut) s after the kubelet upgraded (101) and opened the session; the kubelet held it until kubectl went",
  clientExit: $rc, heldSeconds: $cut,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "exec", namespace: $ns, name: "exec-interrupted"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 101, minLatencySeconds: $cut}')"
read -r rc secs < <(run kubectl attach -n "$ns" attach-held)
case_ attach-held "$(jq -nc --argjson rc "$rc" --arg ns "$ns" '{
  did: "kubectl attach attach-held; the kubelet upgraded (101), held the session 3 s, then sent exit 0",
  clientExit: $rc, heldSeconds: 3,
  find: {user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "attach", namespace: $ns, name: "attach-held"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 101, minLatencySeconds: 3}')"
read -r rc secs < <(run kubectl exec -n "$ns" refuse-exec -- true)
# kubectl falls back from WebSocket to SPDY when the upgrade fails: how many
# requests that makes is what the kubelet received (its record).
nrefused=$(jq -s '[.[] | select(.pod == "refuse-exec")] | length' "$dir/backend.jsonl")
case_ exec-backend-401 "$(jq -nc --argjson rc "$rc" --arg ns "$ns" --argjson n "$nrefused" \
  --argjson methods "$(jq -sc '[.[] | select(.pod == "refuse-exec") | "\(.method) \(.upgrade)"]' "$dir/backend.jsonl")" '{
  did: "kubectl exec refuse-exec -- true; the kubelet answered 401 before any upgrade, to each attempt",
  clientExit: $rc, backendAttempts: $methods, backendCode: 401,
  find: {user: "kubernetes-admin", resource: "pods", subresource: "exec", namespace: $ns, name: "refuse-exec"},
  requests: $n, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 101,
  why101: ("the apiserver logs 101 though the kubelet answered 401 and the client got 401: for an upgrade request " +
    "whose backend answers >= 400, the proxy (k8s.io/apimachinery/pkg/util/proxy/upgradeaware.go, tryUpgrade) hijacks " +
    "the client connection to pass the answer through, and the audit filter records 101 on Hijack " +
    "(k8s.io/apiserver/pkg/endpoints/filters/audit.go, auditResponseWriter.Hijack)")}')"

# An exec the apiserver refuses before reaching a kubelet: curl (the Audit-ID
# header) sends kubectl's WebSocket upgrade, for a container the pod lacks
# (the apiserver's own 400), and into a pod whose node's kubelet port has no
# listener (the dial fails before any upgrade).
wsexec() {
  local id=$1 pod=$2 container=$3
  curl -sS -o /dev/null -w '%{http_code}\n' --http1.1 --max-time 20 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" -H "Audit-ID: $id" \
    -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
    -H "Sec-WebSocket-Key: a2F1ZGl0dWktYmFja2VuZA==" -H "Sec-WebSocket-Protocol: v5.channel.k8s.io" \
    "$CLUSTER_SERVER/api/v1/namespaces/$ns/pods/$pod/exec?command=true&container=$container&stdout=true&stderr=true" 2>/dev/null ||
    true
}
badc_id=0dd1e7d0-0000-4000-8000-0000000000a3
code=$(wsexec "$badc_id" exec-badcontainer nosuch)
case_ exec-bad-container "$(jq -nc --arg code "$code" --arg id "$badc_id" --arg ns "$ns" '{
  did: "curl (admin, Audit-ID header) a WebSocket exec into container nosuch of exec-badcontainer: the apiserver refuses it (no such container) without asking the kubelet",
  clientHttpCode: $code,
  find: {auditID: $id, user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "exec", namespace: $ns, name: "exec-badcontainer"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 400}')"
down_id=0dd1e7d0-0000-4000-8000-0000000000a4
code=$(wsexec "$down_id" exec-nokubelet main)
case_ exec-kubelet-down "$(jq -nc --arg code "$code" --arg id "$down_id" --arg ns "$ns" --arg down "$down" '{
  did: "curl (admin, Audit-ID header) a WebSocket exec into exec-nokubelet, on node \($down) whose kubelet port has no listener",
  clientHttpCode: $code,
  find: {auditID: $id, user: "kubernetes-admin", verb: "get", resource: "pods", subresource: "exec", namespace: $ns, name: "exec-nokubelet"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "ResponseComplete"],
  lastStage: "ResponseComplete", code: 500}')"

# 4. a proxied response cut off by the kubelet: httputil.ReverseProxy (the
# apiserver's UpgradeAwareHandler for a plain request) panics with
# http.ErrAbortHandler when copying the body fails, and WithAudit's deferred
# recover logs the Panic stage (code 500, "APIServer panic'd: ...").
panic_id=0dd1e7d0-0000-4000-8000-0000000000a1
read -r code rc < <(admin -H "Audit-ID: $panic_id" "$CLUSTER_SERVER/api/v1/nodes/$node/proxy/abort")
case_ proxy-abort-panic "$(jq -nc --arg code "$code" --argjson rc "$rc" --arg id "$panic_id" --arg node "$node" '{
  did: "curl (admin, Audit-ID header) /api/v1/nodes/\($node)/proxy/abort; the kubelet sent 200 and half the body, then cut the connection",
  clientExit: $rc, clientHttpCode: $code,
  find: {auditID: $id, user: "kubernetes-admin", verb: "get", resource: "nodes", subresource: "proxy", name: $node, uriSuffix: "/proxy/abort"},
  requests: 1, user: "kubernetes-admin", stages: ["RequestReceived", "ResponseStarted", "Panic"],
  lastStage: "Panic", code: 500}')"

# 5. for contrast, a failed authentication: the apiserver logs ResponseStarted
# 401 alone, with no user. The same URI as case logs-backend-401's, so only
# the user (and the stages) tell the two 401s apart.
authn_id=0dd1e7d0-0000-4000-8000-0000000000a2
read -r code rc < <(curl -sS -o /dev/null -w '%{http_code} 0\n' --max-time 10 --cacert "$dir/pki/ca.crt" \
  -H "Authorization: Bearer not-a-token" -H "Audit-ID: $authn_id" "$CLUSTER_SERVER/api/v1/namespaces/$ns/pods/deny-logs/log")
case_ authn-401 "$(jq -nc --arg code "$code" --arg id "$authn_id" --arg ns "$ns" '{
  did: "curl with a bad bearer token (Audit-ID header) GET pods/deny-logs/log: authentication failed",
  clientHttpCode: $code,
  find: {auditID: $id},
  requests: 1, user: "", stages: ["ResponseStarted"],
  lastStage: "ResponseStarted", code: 401}')"

sleep 1
cluster_stop_one "$dir" backend-kubelet 5
cluster_stop_one "$dir" kube-apiserver
mkdir -p "$out"
cp "$dir/audit.log" "$out/audit.log"
cp "$dir/backend.jsonl" "$out/backend.jsonl"
chmod 644 "$out/audit.log" "$out/backend.jsonl"
jq -n --arg generatedBy hack/gen-backend.sh --arg version "$version" \
  --arg policy "$(cat "$dir/policy.yaml")" --arg node "$node" --arg ip "$ip" --argjson port "$kport" \
  --slurpfile cases "$cases" '{
  generatedBy: $generatedBy,
  kubeApiserverVersion: $version,
  policy: $policy,
  node: {name: $node, internalIP: $ip, kubeletPort: $port, declaredFeatures: ["ExtendWebSocketsToKubelet"]},
  notes: ("find names each case'"'"'s requests (auditID when curl sent the Audit-ID header; else the fields every " +
    "request the case made shares: user, verb, resource/subresource, namespace, name, and uriSuffix the end of the requestURI path); requests, stages, lastStage, code " +
    "and minLatencySeconds are what the apiserver must log for them, said by the script from what the backend did " +
    "(backend.jsonl: the stand-in kubelet'"'"'s record of each request it answered), not read from audit.log"),
  cases: $cases
}' >"$out/expected.json"
size=$(stat -c %s "$out/audit.log")
[ "$size" -le 204800 ] || log "warning: audit.log is $size bytes (over 200 KB)"
log "wrote $out ($(wc -l <"$out/audit.log") audit lines, $(jq '.cases | length' "$out/expected.json") cases) in $((SECONDS - started))s"
