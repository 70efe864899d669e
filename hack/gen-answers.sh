#!/usr/bin/env bash
# Writes testdata/answers/: a real kube-apiserver's log of the traffic behind
# the answers of issue 13 (which admin, exec however it is sent, what changed
# step by step, why denied), with hack/policy-answers.yaml (RequestResponse
# for deployments, configmaps, RBAC and ephemeral containers; Metadata for the
# rest).
#
#   audit.log                  the audit log of the run
#   etc-kubernetes/admin.conf  kubeadm's two admin kubeconfigs as a master has
#   etc-kubernetes/super-admin.conf   them (client-certificate-data; the keys removed)
#   laptop/admin.conf          a second admin.conf with its own certificate
#                              (kubeadm kubeconfig user), as a laptop has it
#   expected.json              what the script did, in order, and each
#                              certificate's SHA-256 fingerprint (openssl)
#
# The identities: kubernetes-admin twice (admin.conf and laptop, both
# O=kubeadm:cluster-admins, bound to cluster-admin as kubeadm binds it),
# kubernetes-super-admin (O=system:masters), dev-dana (no rights at first:
# 403s), the service account shop:deployer (a token).
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
cluster_start_apiserver "$dir" --audit-policy-file="$policy" --audit-log-path="$dir/audit.log"
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

sleep 1
cluster_stop "$dir" || true

# --- copy out -------------------------------------------------------------------
rm -rf "$out/etc-kubernetes" "$out/laptop"
mkdir -p "$out/etc-kubernetes" "$out/laptop"
cp "$dir/audit.log" "$out/audit.log"
# kubeconfigs with the certificate embedded, as kubeadm writes them; the
# private keys stay behind (a throwaway CA, but nothing needs them).
conf() {
  "$CLUSTER_BIN/kubectl" config view --kubeconfig="$dir/$1.kubeconfig" --flatten --raw | sed '/client-key-data:/d' >"$2"
}
conf admin-conf "$out/etc-kubernetes/admin.conf"
conf super-admin "$out/etc-kubernetes/super-admin.conf"
conf laptop "$out/laptop/admin.conf"
chmod 0644 "$out/audit.log" "$out"/etc-kubernetes/* "$out"/laptop/*
fp() { openssl x509 -in "$dir/pki/$1.crt" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
jq -s --arg admin "$(fp admin-conf)" --arg laptop "$(fp laptop)" --arg super "$(fp super-admin)" \
  --arg dana "$(fp dana)" '{
  generatedBy: "hack/gen-answers.sh",
  kubernetesVersion: "v1.37.2",
  policy: "hack/policy-answers.yaml",
  fingerprints: {"etc-kubernetes/admin.conf": $admin, "laptop/admin.conf": $laptop,
    "etc-kubernetes/super-admin.conf": $super, "dev-dana": $dana},
  actions: map(del(.kubectlExit, .stdout))}' "$dir/actions.jsonl" >"$out/expected.json"
echo "gen-answers: wrote $out ($(wc -l <"$out/audit.log") audit lines) in $((SECONDS - started))s"
