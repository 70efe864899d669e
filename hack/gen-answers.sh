#!/usr/bin/env bash
# Writes testdata/answers/: a real kube-apiserver's log of the traffic behind
# the answers of issue 13 (which admin, exec however it is sent, what changed
# step by step, why denied), with hack/policy-answers.yaml (RequestResponse
# for deployments, configmaps, RBAC and ephemeral containers; Metadata for the
# rest).
#
#   audit-<time>.log           the audit log of the run up to the pause: the
#                              apiserver rotated it (--audit-log-maxsize=1)
#   audit.log                  from the first write after the pause on
#   etc-kubernetes/admin.conf  kubeadm's two admin kubeconfigs as a master has
#   etc-kubernetes/super-admin.conf   them (client-certificate-data; the keys removed)
#   laptop/admin.conf          a second admin.conf with its own certificate
#                              (kubeadm kubeconfig user), as a laptop has it
#   expected.json              what the script did, in order (actions; slow:
#                              the apiserver.latency.k8s.io/ annotation a slow
#                              step's event carries, count: requests of a
#                              burst step), each certificate's SHA-256
#                              fingerprint (openssl), the pause (the times of
#                              the last event before it and the first after)
#                              and the rotation (the backup's name)
#
# The identities: kubernetes-admin twice (admin.conf and laptop, both
# O=kubeadm:cluster-admins, bound to cluster-admin as kubeadm binds it),
# kubernetes-super-admin (O=system:masters), dev-dana (no rights at first:
# 403s), the service account shop:deployer (a token), ci-bot (a client
# certificate, O=kauditui:ci: ~150 requests within one minute).
#
# After the answers' traffic: slow requests (etcd stopped under a write and
# a read; slow validating and mutating webhooks, hack/slow-webhook), ci-bot's
# burst in a minute of its own, a pause of ANSWERS_PAUSE seconds (default 75;
# under 70 for quick runs, which also skip waiting for the next minute) with
# no audited request, then a ~470 KB configmap whose ~940 KB event rotates the
# log: the gap lies between the backup and audit.log.
#
# usage: hack/gen-answers.sh [--out DIR]   (default testdata/answers)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/testdata/answers
[ "${1:-}" = --out ] && out=$2
mkdir -p "$out"
policy=$repo/hack/policy-answers.yaml
started=$SECONDS

# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/traffic.sh" # act and kk
cluster_bin
dir=$(mktemp -d)
cluster_trap "$dir"
cluster_certs "$dir"
TRAFFIC_DIR_LOG=$dir/logs/traffic.log
TRAFFIC_ACTIONS=$dir/actions.jsonl
cluster_user "$dir" admin-conf kubernetes-admin kubeadm:cluster-admins
cluster_user "$dir" laptop kubernetes-admin kubeadm:cluster-admins
cluster_user "$dir" super-admin kubernetes-super-admin system:masters
cluster_user "$dir" dana dev-dana kubyk:contractors
cluster_start_etcd "$dir"
# 1 MB files, rotated by the apiserver (lumberjack): the large write after the
# pause below starts a new audit.log, the backup beside it ends before the pause.
cluster_start_apiserver "$dir" --audit-policy-file="$policy" --audit-log-path="$dir/audit.log" \
  --audit-log-maxsize=1 --audit-log-maxbackup=5
cluster_wait_ready "$dir"
cluster_start_controller_manager "$dir"
cluster_wait_controllers "$dir"
cluster_env "$dir"

ns=shop
sa=system:serviceaccount:$ns:deployer
# As kubeadm init does: admin.conf's group is bound to cluster-admin by super-admin.conf.
act step=bind-cluster-admins user=kubernetes-super-admin verb=create resource=clusterrolebindings \
  apiGroup=rbac.authorization.k8s.io name=kubeadm:cluster-admins code=201 -- \
  kk "$dir" super-admin create clusterrolebinding kubeadm:cluster-admins --clusterrole=cluster-admin \
  --group=kubeadm:cluster-admins
act step=create-namespace user=kubernetes-admin verb=create resource=namespaces name=$ns code=201 -- \
  kk "$dir" admin-conf create namespace $ns

# --- denied, then allowed: dev-dana ---------------------------------------------
act step=dana-create-deployment user=dev-dana verb=create resource=deployments apiGroup=apps namespace=$ns \
  code=403 -- kk "$dir" dana create deployment cart -n $ns --image=registry.k8s.io/nginx-slim:0.27
act step=dana-list-secrets user=dev-dana verb=list resource=secrets namespace=$ns code=403 -- \
  kk "$dir" dana get secrets -n $ns
act step=create-role user=kubernetes-admin verb=create resource=roles apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=pod-reader code=201 -- \
  kk "$dir" admin-conf create role pod-reader -n $ns --verb=get,list,watch --resource=pods
act step=bind-dana user=kubernetes-admin verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=dana-pod-reader code=201 -- \
  kk "$dir" admin-conf create rolebinding dana-pod-reader -n $ns --role=pod-reader --user=dev-dana
act step=dana-list-pods user=dev-dana verb=list resource=pods namespace=$ns code=200 -- \
  kk "$dir" dana get pods -n $ns

# --- one deployment, step by step, then deleted ------------------------------------
act step=create-deployment user=kubernetes-admin verb=create resource=deployments apiGroup=apps namespace=$ns \
  name=web code=201 -- kk "$dir" admin-conf create deployment web -n $ns --image=registry.k8s.io/nginx-slim:0.27
act step=scale-deployment user=kubernetes-admin verb=patch resource=deployments subresource=scale apiGroup=apps \
  namespace=$ns name=web code=200 -- kk "$dir" admin-conf scale deployment web -n $ns --replicas=3
act step=get-deployment user=kubernetes-admin verb=get resource=deployments apiGroup=apps namespace=$ns \
  name=web code=200 stdout="$dir/web.json" -- kk "$dir" admin-conf get deployment web -n $ns -o json
jq '.spec.template.spec.containers[0].image = "registry.k8s.io/nginx-slim:0.28"' "$dir/web.json" >"$dir/web-new.json"
act step=update-deployment user=kubernetes-admin verb=update resource=deployments apiGroup=apps namespace=$ns \
  name=web code=200 -- kk "$dir" admin-conf replace -f "$dir/web-new.json"
act step=patch-deployment user=kubernetes-admin verb=patch resource=deployments apiGroup=apps namespace=$ns \
  name=web code=200 -- kk "$dir" admin-conf patch deployment web -n $ns --type=merge \
  -p '{"spec":{"template":{"metadata":{"annotations":{"shop.example/rollout":"2"}}}}}'
act step=label-deployment user=kubernetes-super-admin verb=patch resource=deployments apiGroup=apps \
  namespace=$ns name=web code=200 -- kk "$dir" super-admin label deployment web -n $ns tier=frontend
act step=json-patch-deployment user=kubernetes-admin verb=patch resource=deployments apiGroup=apps namespace=$ns \
  name=web code=200 -- kk "$dir" laptop patch deployment web -n $ns --type=json \
  -p '[{"op":"replace","path":"/spec/replicas","value":1}]'

# --- a configmap (RequestResponse) and a secret (Metadata: no diff possible) --------
act step=create-configmap user=kubernetes-admin verb=create resource=configmaps namespace=$ns name=shop-config \
  code=201 -- kk "$dir" admin-conf create configmap shop-config -n $ns --from-literal=mode=blue
kk "$dir" admin-conf create configmap shop-config -n $ns --from-literal=mode=green \
  --dry-run=client -o json >"$dir/shop-config.json"
act step=update-configmap user=kubernetes-admin verb=update resource=configmaps namespace=$ns name=shop-config \
  code=200 -- kk "$dir" admin-conf replace -f "$dir/shop-config.json"
act step=create-secret user=kubernetes-admin verb=create resource=secrets namespace=$ns name=shop-db \
  code=201 -- kk "$dir" admin-conf create secret generic shop-db -n $ns --from-literal=password=blue-horse
act step=patch-secret user=kubernetes-admin verb=patch resource=secrets namespace=$ns name=shop-db code=200 -- \
  kk "$dir" admin-conf patch secret shop-db -n $ns --type=merge -p '{"stringData":{"password":"green-horse"}}'

# --- a service account token: credential-id JTI=... --------------------------------
act step=create-serviceaccount user=kubernetes-admin verb=create resource=serviceaccounts namespace=$ns \
  name=deployer code=201 -- kk "$dir" admin-conf create serviceaccount deployer -n $ns
act step=create-token user=kubernetes-admin verb=create resource=serviceaccounts subresource=token namespace=$ns \
  name=deployer code=201 stdout="$dir/deployer.token" -- kk "$dir" admin-conf create token deployer -n $ns --duration=1h
cluster_token_user "$dir" deployer "$(cat "$dir/deployer.token")"
act step=deployer-list-pods user=$sa verb=list resource=pods namespace=$ns code=403 -- \
  kk "$dir" deployer get pods -n $ns

# --- exec however it is sent ---------------------------------------------------------
# No kubelet and no scheduler: the pod stays Pending, every exec, attach and
# port-forward is refused (400) but audited with its URI.
act step=create-pod user=kubernetes-admin verb=create resource=pods namespace=$ns name=debug code=201 -- \
  kk "$dir" admin-conf run debug -n $ns --image=registry.k8s.io/e2e-test-images/busybox:1.36.1-1 \
  --restart=Never -- sleep 3600
# kubectl 1.37: WebSockets first (verb get), then the SPDY fallback (create).
act step=exec-pod user=kubernetes-admin verb=get resource=pods subresource=exec namespace=$ns name=debug \
  code=400 -- kk "$dir" laptop exec debug -n $ns -- sh -c 'cat /etc/shop/db-password; id'
# attach and port-forward of a Pending pod are refused by kubectl itself:
# the requests as it would send them.
capi() {
  curl -fsS -o /dev/null --max-time 10 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/admin-conf.crt" --key "$dir/pki/admin-conf.key" "$CLUSTER_SERVER$1"
}
act step=attach-pod user=kubernetes-admin verb=get resource=pods subresource=attach namespace=$ns name=debug \
  code=400 -- capi "/api/v1/namespaces/$ns/pods/debug/attach?container=debug&stdout=true"
act step=portforward-pod user=kubernetes-admin verb=get resource=pods subresource=portforward namespace=$ns \
  name=debug code=400 -- capi "/api/v1/namespaces/$ns/pods/debug/portforward?ports=8080"
act step=debug-pod user=kubernetes-admin verb=patch resource=pods subresource=ephemeralcontainers namespace=$ns \
  name=debug code=200 -- kk "$dir" laptop debug debug -n $ns --image=registry.k8s.io/e2e-test-images/busybox:1.36.1-1 \
  -c debugger -- sh
# A node whose kubelet address is loopback: the apiserver refuses to proxy to it
# ("address not allowed") and connects nowhere, but logs the nodes/proxy request.
jq -n '{apiVersion: "v1", kind: "Node", metadata: {name: "shop-node-1"},
  status: {addresses: [{type: "InternalIP", address: "127.0.0.1"}], daemonEndpoints: {kubeletEndpoint: {Port: 10250}}}}' \
  >"$dir/node.json"
act step=create-node user=kubernetes-super-admin verb=create resource=nodes name=shop-node-1 code=201 -- \
  kk "$dir" super-admin create -f "$dir/node.json"
act step=node-proxy-exec user=kubernetes-super-admin verb=create resource=nodes subresource=proxy \
  name=shop-node-1 code=400 -- kk "$dir" super-admin create --raw \
  "/api/v1/nodes/shop-node-1/proxy/exec/$ns/debug/debug?command=id&command=-u&output=1" -f /dev/null

# --- the deployment deleted, from the laptop --------------------------------------
act step=delete-deployment user=kubernetes-admin verb=delete resource=deployments apiGroup=apps namespace=$ns \
  name=web code=200 -- kk "$dir" laptop delete deployment web -n $ns


# --- slow requests: etcd stopped, slow admission webhooks ----------------------------
# The apiserver writes its apiserver.latency.k8s.io/* annotations (etcd,
# validating-webhook, mutating-webhook, authentication, ..., total) only on
# requests slower than 500 ms. note STEP KEY=VALUE... adds fields to an
# action of expected.json (slow: the annotation its slowness is in; count:
# how many requests the action made).
note() {
  local step=$1
  shift
  local args=(--arg step "$step") kv
  for kv in "$@"; do args+=(--arg "${kv%%=*}" "${kv#*=}"); done
  jq -nc "${args[@]}" '$ARGS.named | if has("count") then .count |= tonumber else . end' >>"$dir/notes.jsonl"
}
# (a) etcd stopped (SIGSTOP) for 1.2 s under a write, then under a read. The
# read's event has apiserver.latency.k8s.io/etcd; the write's has only /total
# and no layer to blame: kube-apiserver 1.37 times etcd through a wrapper of
# clientv3.KV (storage/etcd3/latency_tracker.go) whose Txn wrapper is lost at
# .If(...).Then(...) (they return the inner Txn), so OptimisticPut's Commit,
# every create, update and delete, is never timed; Get is.
etcd_pid=$(cat "$dir/pids/etcd")
etcd_stalled() {
  act "$@" &
  local writer=$!
  kill -STOP "$etcd_pid"
  sleep 1.2
  kill -CONT "$etcd_pid"
  wait "$writer"
}
etcd_stalled step=etcd-stalled-write user=kubernetes-admin verb=create resource=configmaps namespace=$ns \
  name=stalled-config code=201 -- kk "$dir" admin-conf create configmap stalled-config -n $ns \
  --from-literal=written=while-etcd-was-stopped
note etcd-stalled-write slow=total
etcd_stalled step=etcd-stalled-read user=kubernetes-admin verb=get resource=configmaps namespace=$ns \
  name=stalled-config code=200 -- kk "$dir" admin-conf get configmap stalled-config -n $ns -o yaml
note etcd-stalled-read slow=etcd

# (b) slow admission webhooks: hack/slow-webhook, HTTPS on 127.0.0.1 with a
# certificate of the cluster CA (its caBundle), for configmaps with a label.
(cd "$repo" && go build -o "$dir/slow-webhook" ./hack/slow-webhook)
openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/pki/webhook.key" -subj "/CN=slow-webhook" \
  -out "$dir/pki/webhook.csr" 2>/dev/null
openssl x509 -req -in "$dir/pki/webhook.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" -CAcreateserial \
  -days 30 -sha256 -out "$dir/pki/webhook.crt" \
  -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n') 2>/dev/null
webhook_port=$(cluster_free_port)
_cluster_start slow-webhook "$dir" "$dir/logs/slow-webhook.log" "$dir/logs/slow-webhook.log" \
  "$dir/slow-webhook" -addr "127.0.0.1:$webhook_port" -cert "$dir/pki/webhook.crt" -key "$dir/pki/webhook.key" \
  -validate-delay 800ms -mutate-delay 700ms
for _ in $(seq 1 50); do
  curl -fsS --cacert "$dir/pki/ca.crt" "https://127.0.0.1:$webhook_port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
# webhook KIND NAME PATH LABEL OPERATIONS: a webhook configuration for the
# configmaps labelled LABEL=slow.
webhook() {
  jq -n --arg kind "$1" --arg name "$2" --arg url "https://127.0.0.1:$webhook_port$3" --arg lbl "$4" \
    --arg ca "$(base64 -w0 "$dir/pki/ca.crt")" --argjson ops "$5" '
    {apiVersion: "admissionregistration.k8s.io/v1", kind: $kind, metadata: {name: $name},
     webhooks: [{name: $name, clientConfig: {url: $url, caBundle: $ca},
       rules: [{apiGroups: [""], apiVersions: ["v1"], operations: $ops, resources: ["configmaps"], scope: "Namespaced"}],
       objectSelector: {matchLabels: {($lbl): "slow"}},
       failurePolicy: "Fail", sideEffects: "None", admissionReviewVersions: ["v1"], timeoutSeconds: 5}]}'
}
webhook ValidatingWebhookConfiguration slow-validate.kauditui.example /validate kauditui.example/check \
  '["CREATE","UPDATE"]' >"$dir/validate.json"
webhook MutatingWebhookConfiguration slow-mutate.kauditui.example /mutate kauditui.example/stamp \
  '["CREATE"]' >"$dir/mutate.json"
act step=register-validating-webhook user=kubernetes-super-admin verb=create resource=validatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=slow-validate.kauditui.example code=201 -- \
  kk "$dir" super-admin create -f "$dir/validate.json"
act step=register-mutating-webhook user=kubernetes-super-admin verb=create resource=mutatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=slow-mutate.kauditui.example code=201 -- \
  kk "$dir" super-admin create -f "$dir/mutate.json"
sleep 2 # the apiserver's informer picks the configurations up
# cm NAME LABEL DATA-JSON: a configmap of shop labelled LABEL=slow.
cm() {
  jq -n --arg name "$1" --arg ns "$ns" --arg lbl "$2" --argjson data "$3" \
    '{apiVersion: "v1", kind: "ConfigMap", metadata: {name: $name, namespace: $ns, labels: {($lbl): "slow"}}, data: $data}'
}
cm checked-config kauditui.example/check '{"mode":"blue"}' >"$dir/checked-config.json"
act step=webhook-create-configmap user=kubernetes-admin verb=create resource=configmaps namespace=$ns \
  name=checked-config code=201 -- kk "$dir" admin-conf create -f "$dir/checked-config.json"
note webhook-create-configmap slow=validating-webhook
act step=webhook-patch-configmap user=kubernetes-admin verb=patch resource=configmaps namespace=$ns \
  name=checked-config code=200 -- kk "$dir" admin-conf patch configmap checked-config -n $ns --type=merge \
  -p '{"data":{"mode":"green"}}'
note webhook-patch-configmap slow=validating-webhook
cm denied-config kauditui.example/check '{"forbidden":"yes"}' >"$dir/denied-config.json"
act step=webhook-deny-configmap user=kubernetes-admin verb=create resource=configmaps namespace=$ns \
  name=denied-config code=400 -- kk "$dir" admin-conf create -f "$dir/denied-config.json"
note webhook-deny-configmap slow=validating-webhook
cm stamped-config kauditui.example/stamp '{"mode":"blue"}' >"$dir/stamped-config.json"
act step=webhook-mutate-configmap user=kubernetes-admin verb=create resource=configmaps namespace=$ns \
  name=stamped-config code=201 -- kk "$dir" admin-conf create -f "$dir/stamped-config.json"
note webhook-mutate-configmap slow=mutating-webhook

# --- a burst: ci-bot's ~150 requests within one wall-clock minute ------------------
# ci-bot may read pods and configmaps of shop, not secrets: 200s, 404s, 403s.
cluster_user "$dir" ci-bot ci-bot kauditui:ci
act step=create-ci-role user=kubernetes-admin verb=create resource=roles apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=ci-reader code=201 -- \
  kk "$dir" admin-conf create role ci-reader -n $ns --verb=get,list --resource=pods,configmaps
act step=bind-ci-bot user=kubernetes-admin verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=ci-bot-reader code=201 -- \
  kk "$dir" admin-conf create rolebinding ci-bot-reader -n $ns --role=ci-reader --user=ci-bot
# cibot N CODE PATH: N GETs of PATH as ci-bot on one connection. Succeeds when
# CODE is 2xx and every answer was CODE; fails when CODE is not 2xx and every
# answer was CODE; otherwise the other way round (act then stops the script).
cibot() {
  local n=$1 want=$2 path=$3 codes
  local -a urls=()
  for _ in $(seq 1 "$n"); do urls+=(-o /dev/null "$CLUSTER_SERVER$path"); done
  codes=$(curl -sS --max-time 60 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/ci-bot.crt" --key "$dir/pki/ci-bot.key" \
    -A "ci-bot/2.1 (kauditui gen-answers)" -w '%{http_code}\n' "${urls[@]}")
  echo "ci-bot $path: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
  local all=false ok=false
  [ "$(grep -cx "$want" <<<"$codes")" -eq "$n" ] && all=true
  [ "$want" -lt 300 ] && ok=true
  [ "$all" = "$ok" ]
}
pause=${ANSWERS_PAUSE:-75}
# A minute of its own (the traffic above is in the minutes before): wait for
# the next minute to begin. Quick runs (ANSWERS_PAUSE under 70) skip it.
if [ "$pause" -ge 70 ]; then sleep $((61 - 10#$(date -u +%S))); fi
act step=ci-bot-list-pods user=ci-bot verb=list resource=pods namespace=$ns code=200 -- \
  cibot 60 200 "/api/v1/namespaces/$ns/pods"
note ci-bot-list-pods count=60
sleep 2
act step=ci-bot-get-configmap user=ci-bot verb=get resource=configmaps namespace=$ns name=shop-config code=200 -- \
  cibot 40 200 "/api/v1/namespaces/$ns/configmaps/shop-config"
note ci-bot-get-configmap count=40
sleep 2
act step=ci-bot-get-missing user=ci-bot verb=get resource=configmaps namespace=$ns name=ci-cache code=404 -- \
  cibot 25 404 "/api/v1/namespaces/$ns/configmaps/ci-cache"
note ci-bot-get-missing count=25
sleep 2
act step=ci-bot-list-secrets user=ci-bot verb=list resource=secrets namespace=$ns code=403 -- \
  cibot 25 403 "/api/v1/namespaces/$ns/secrets"
note ci-bot-list-secrets count=25

# --- a pause, then a write that rotates the log ------------------------------------
# Nothing audited for $pause s (the harness, the controller-manager and the
# apiserver itself are level None). Then a ~470 KB configmap at level
# RequestResponse: its one event (request and response bodies, ~950 KB) does
# not fit in what is left of the 1 MB file, so the apiserver rotates on it:
# the backup ends before the pause, the new audit.log begins after it.
sleep "$pause"
jq -n --arg ns "$ns" '{apiVersion: "v1", kind: "ConfigMap", metadata: {name: "shop-catalog", namespace: $ns},
  data: {"catalog.csv": ([range(0; 9400)] | map("sku-\(. + 100000),Widget number \(.),\(. % 97).\(. % 100) EUR,in stock") | join("\n"))}}' \
  >"$dir/shop-catalog.json"
act step=create-large-configmap user=kubernetes-admin verb=create resource=configmaps namespace=$ns \
  name=shop-catalog code=201 -- kk "$dir" admin-conf create -f "$dir/shop-catalog.json"
act step=ci-bot-list-configmaps user=ci-bot verb=list resource=configmaps namespace=$ns code=200 -- \
  cibot 1 200 "/api/v1/namespaces/$ns/configmaps?labelSelector=kauditui.example%2Fcheck%3Dslow"
act step=delete-large-configmap user=kubernetes-admin verb=delete resource=configmaps namespace=$ns \
  name=shop-catalog code=200 -- kk "$dir" admin-conf delete configmap shop-catalog -n $ns
act step=unregister-validating-webhook user=kubernetes-super-admin verb=delete \
  resource=validatingwebhookconfigurations apiGroup=admissionregistration.k8s.io \
  name=slow-validate.kauditui.example code=200 -- \
  kk "$dir" super-admin delete validatingwebhookconfiguration slow-validate.kauditui.example
act step=unregister-mutating-webhook user=kubernetes-super-admin verb=delete \
  resource=mutatingwebhookconfigurations apiGroup=admissionregistration.k8s.io \
  name=slow-mutate.kauditui.example code=200 -- \
  kk "$dir" super-admin delete mutatingwebhookconfiguration slow-mutate.kauditui.example

sleep 1
cluster_stop "$dir" || true

# --- the rotation, the pause and the slow requests, as written --------------------
fail() { echo "gen-answers: $*" >&2; exit 1; }
mapfile -t backups < <(cd "$dir" && ls audit-*.log 2>/dev/null)
[ "${#backups[@]}" -eq 1 ] || fail "want one rotated backup, got ${#backups[@]}: ${backups[*]}"
backup=${backups[0]}
# stageTimestamps have a fixed width (microseconds, UTC): they sort as strings
pause_from=$(jq -rs 'map(.stageTimestamp) | max' "$dir/$backup")
pause_to=$(jq -rs 'map(.stageTimestamp) | min' "$dir/audit.log")
[ "$(head -n 1 "$dir/audit.log" | jq -r .objectRef.name)" = shop-catalog ] ||
  fail "audit.log does not begin with the large configmap"
gap=$(jq -rn --arg a "$pause_from" --arg b "$pause_to" '($b | sub("\\.[0-9]+Z$"; "Z") | fromdate) - ($a | sub("\\.[0-9]+Z$"; "Z") | fromdate)')
[ "$pause" -lt 70 ] || [ "$gap" -ge 70 ] || fail "the pause between $backup and audit.log is ${gap}s"
while read -r step slow; do
  a=$(jq -c --arg s "$step" 'select(.step == $s)' "$dir/actions.jsonl")
  n=$(cat "$dir/$backup" "$dir/audit.log" | jq -c --argjson a "$a" --arg k "apiserver.latency.k8s.io/$slow" '
    select(.stage == "ResponseComplete" and .verb == $a.verb and .user.username == $a.user
      and .objectRef.name == $a.name and .objectRef.resource == $a.resource and .annotations[$k] != null)' | wc -l)
  [ "$n" -eq 1 ] || fail "step $step: $n events with apiserver.latency.k8s.io/$slow, want 1"
done < <(jq -r 'select(.slow) | "\(.step) \(.slow)"' "$dir/notes.jsonl")

# --- copy out -------------------------------------------------------------------
rm -rf "$out/etc-kubernetes" "$out/laptop"
rm -f "$out"/audit-*.log
mkdir -p "$out/etc-kubernetes" "$out/laptop"
cp "$dir/audit.log" "$out/audit.log"
cp "$dir/$backup" "$out/$backup"
# kubeconfigs with the certificate embedded, as kubeadm writes them; the
# private keys stay behind (a throwaway CA, but nothing needs them).
conf() {
  "$CLUSTER_BIN/kubectl" config view --kubeconfig="$dir/$1.kubeconfig" --flatten --raw | sed '/client-key-data:/d' >"$2"
}
conf admin-conf "$out/etc-kubernetes/admin.conf"
conf super-admin "$out/etc-kubernetes/super-admin.conf"
conf laptop "$out/laptop/admin.conf"
chmod 0644 "$out/audit.log" "$out/$backup" "$out"/etc-kubernetes/* "$out"/laptop/*
fp() { openssl x509 -in "$dir/pki/$1.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
jq -s --arg admin "$(fp admin-conf)" --arg laptop "$(fp laptop)" --arg super "$(fp super-admin)" \
  --arg dana "$(fp dana)" --arg cibot "$(fp ci-bot)" --slurpfile notes "$dir/notes.jsonl" \
  --arg from "$pause_from" --arg to "$pause_to" --arg backup "$backup" '{
  generatedBy: "hack/gen-answers.sh",
  kubernetesVersion: "v1.37.2",
  policy: "hack/policy-answers.yaml",
  fingerprints: {"etc-kubernetes/admin.conf": $admin, "laptop/admin.conf": $laptop,
    "etc-kubernetes/super-admin.conf": $super, "dev-dana": $dana, "ci-bot": $cibot},
  actions: map(del(.kubectlExit, .stdout) | . as $a
    | . + ([$notes[] | select(.step == $a.step) | del(.step)] | add // {})),
  pause: {from: $from, to: $to},
  rotation: {backup: $backup}}' "$dir/actions.jsonl" >"$out/expected.json"
echo "gen-answers: wrote $out ($(cat "$out/$backup" "$out/audit.log" | wc -l) audit lines: $backup, audit.log;" \
  "pause $pause_from to $pause_to) in $((SECONDS - started))s"
