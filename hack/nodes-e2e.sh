#!/usr/bin/env bash
# End-to-end check of `kauditui --nodes` (other masters' audit log files through
# the API server's node proxy, source/nodefiles.go) against real parts: etcd and
# kube-apiserver v1.37.2 (hack/lib/cluster.sh), RBAC with the ClusterRole of
# docs/kauditui-reader.yaml, client-go. The kubelets are stand-ins: kwok (the
# kubelet of hack/pods-e2e.sh) does not serve the kubelet's /logs/ file server
# (MethodNotAllowed), so hack/nodes-e2e/main.go serves each node's /var/log
# with the handler the kubelet uses there (http.FileServer behind
# http.StripPrefix("/logs/")), over HTTPS on the Node's InternalIP and
# status.daemonEndpoints.kubeletEndpoint.Port. It then checks that
# `kauditui query --nodes --kubeconfig ... --count` equals `kauditui query --count`
# over the same files (and -q, -o json, -o klog), the one-line errors (nodes/proxy
# forbidden, the kubelet's log handler off, a node unreachable, no such node),
# and that `query --nodes --follow` prints appended and rotated lines once each.
# Last, hack/nodes-e2e/explore.sh drives the explorer (`kauditui --nodes
# --follow`) in tmux through a kubelet outage and a rotation (needs tmux, jq).
#
# usage: sudo hack/nodes-e2e.sh          (root: it needs a network namespace)
#
# Network: everything runs inside a network namespace made here and removed at
# the end; nothing in it can reach the machine's network. The apiserver and etcd
# listen on the namespace's 127.0.0.1. The apiserver refuses to proxy to a
# loopback node address, so a veth pair inside the namespace carries
# NODES_E2E_NET (default 10.213.78.0/30, checked against `ip route` and
# `ip addr` first); the stand-in kubelets listen on its .1 address.
#
# Binaries: hack/build-k8s.sh's (cached).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
net=${NODES_E2E_NET:-10.213.78}
log() { echo "nodes-e2e: $*" >&2; }

# --- outside the namespace: build, make the namespace, run the rest in it -----
if [ -z "${NODES_E2E_NETNS:-}" ]; then
  # shellcheck source-path=SCRIPTDIR
  source "$repo/hack/lib/netns.sh"
  netns_preflight "$net" NODES_E2E_NET
  # shellcheck source-path=SCRIPTDIR
  source "$repo/hack/lib/cluster.sh"
  cluster_bin
  work=$(mktemp -d)
  (cd "$repo" && go build -o "$work/nodes-e2e" ./hack/nodes-e2e)
  (cd "$repo" && go build -o "$work/kauditui" .)
  netns_run "kauditui-nodes-$$" node "$net" "$work" env NODES_E2E_NETNS="kauditui-nodes-$$" CLUSTER_BIN="$CLUSTER_BIN" \
    NODES_E2E_PROGRAM="$work/nodes-e2e" KAUDITUI_BIN="$work/kauditui" "${BASH_SOURCE[0]}" "$@"
fi

# --- inside the namespace ------------------------------------------------------
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
dir=$(mktemp -d)
# shellcheck disable=SC2064
trap "trap '' INT TERM; set +e; cluster_stop $(printf %q "$dir"); rm -rf $(printf %q "$dir")" EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cluster_certs "$dir"
cluster_start_etcd "$dir"
# The nodes' only address is InternalIP: ask the apiserver to use it.
cluster_start_apiserver "$dir" --kubelet-preferred-address-types=InternalIP
cluster_wait_ready "$dir"
kubectl() { "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" "$@"; }

# A user with no rights, and one bound to the documented ClusterRole.
cluster_user "$dir" nobody kauditui-nobody
cluster_user "$dir" reader kauditui-reader
kubectl apply -f "$repo/docs/kauditui-reader.yaml" >/dev/null
kubectl create clusterrolebinding kauditui-node-files --clusterrole=kauditui-node-files --user=kauditui-reader >/dev/null

start=$SECONDS
"$NODES_E2E_PROGRAM" -dir "$dir" -testdata "$repo/testdata" -kauditui "$KAUDITUI_BIN" -ip "$net.1" \
  -apiserver-pid "$(cat "$dir/pids/kube-apiserver")" -explore "$repo/hack/nodes-e2e/explore.sh"
log "passed in $((SECONDS - start))s"
