#!/usr/bin/env bash
# End-to-end check of source.StreamPods (the kube-apiserver pods' logs through
# client-go) against real parts: etcd and kube-apiserver v1.37.2 (hack/lib/cluster.sh),
# and kwok v0.8.0 as the kubelet of three fake master nodes. The apiserver serves
# `pods/log` by calling kwok, which reads each pod's log from a CRI file
# (a kwok Logs resource, follow: true) made from testdata/stdout/cri/0.log.
# hack/pods-e2e/main.go then streams the pods' logs and checks every line
# arrives exactly once: the history merged by time, lines appended while
# following, kwok killed (SIGKILL) and started again mid-stream, a third
# master's pod created while streaming, a pod deleted, refused users; and
# measures lines/s, the reconnect time and the CPU used while idle-following.
# Then `kauditui query --pods` is checked against the pods' files, and the
# explorer (`kauditui --pods`, live by default) is driven in tmux
# (hack/lib/tui.sh) through a kwok restart and a pod deleted, its status bar
# saying following (not loading) once the history is read, paused with p,
# and naming the streams' states; with --no-follow, a snapshot whose streams
# are done (needs tmux and jq).
#
# usage: sudo hack/pods-e2e.sh          (root: it needs a network namespace)
#        PODS_E2E_RACE=1 sudo hack/pods-e2e.sh   (the Go program built with -race)
#
# Network: everything runs inside a network namespace made here and removed at
# the end; nothing in it can reach the machine's network. The apiserver and etcd
# listen on the namespace's 127.0.0.1. The nodes need a non-loopback address
# (the apiserver refuses to proxy to loopback), so a veth pair inside the
# namespace carries PODS_E2E_NET (default 10.213.77.0/30, checked against
# `ip route` and `ip addr` first); kwok listens on its .1 address.
#
# Binaries: hack/build-k8s.sh's (cached), and kwok, installed once with
# `go install sigs.k8s.io/kwok/cmd/kwok@v0.8.0` into the same cache folder.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
cache=${KAUDITUI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kauditui}
net=${PODS_E2E_NET:-10.213.77}
log() { echo "pods-e2e: $*" >&2; }

# --- outside the namespace: build, make the namespace, run the rest in it -----
if [ -z "${PODS_E2E_NETNS:-}" ]; then
  # shellcheck source-path=SCRIPTDIR
  source "$repo/hack/lib/netns.sh"
  netns_preflight "$net" PODS_E2E_NET
  # shellcheck source-path=SCRIPTDIR
  source "$repo/hack/lib/cluster.sh"
  cluster_bin
  kwok=$cache/kwok-$KWOK_VERSION/kwok
  if [ ! -x "$kwok" ]; then
    log "installing kwok $KWOK_VERSION into $(dirname "$kwok")"
    GOBIN=$(dirname "$kwok") go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  fi
  kwokmod=$(go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/.*"Dir": "\(.*\)",*/\1/p')
  work=$(mktemp -d)
  race=(); [ -n "${PODS_E2E_RACE:-}" ] && race=(-race) # PODS_E2E_RACE=1: the program built with -race
  (cd "$repo" && go build "${race[@]}" -o "$work/pods-e2e" ./hack/pods-e2e)
  (cd "$repo" && go build -o "$work/kauditui" .)
  netns_run "kauditui-pods-$$" kwok "$net" "$work" env PODS_E2E_NETNS="kauditui-pods-$$" CLUSTER_BIN="$CLUSTER_BIN" \
    KWOK="$kwok" KWOK_MOD="$kwokmod" PODS_E2E_PROGRAM="$work/pods-e2e" KAUDITUI_BIN="$work/kauditui" "${BASH_SOURCE[0]}" "$@"
fi

# --- inside the namespace ------------------------------------------------------
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/tui.sh"
ip=$net.1
dir=$(mktemp -d)
# On exit kwok first: while it runs, the apiserver takes its full 20 s to stop.
# shellcheck disable=SC2064
trap "trap '' INT TERM; set +e; tui_cleanup; cluster_stop_one $(printf %q "$dir") kwok 5; cluster_stop $(printf %q "$dir"); rm -rf $(printf %q "$dir")" EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cluster_certs "$dir"
cluster_start_etcd "$dir"
# The nodes' only address is InternalIP: ask the apiserver to use it.
cluster_start_apiserver "$dir" --kubelet-preferred-address-types=InternalIP
cluster_wait_ready "$dir"
kubectl() { "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" "$@"; }

# kwok's serving certificate (the apiserver does not check kubelet certificates
# unless --kubelet-certificate-authority is set).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/pki/kwok.key" -out "$dir/pki/kwok.crt" \
  -days 2 -subj "/CN=kwok" -addext "subjectAltName=IP:$ip" 2>/dev/null

# kwok's configuration: options, the node and pod lifecycle stages of the
# module's kustomize/stage folder, and one Logs resource per pod.
mkdir -p "$dir/podlogs"
{
  cat <<EOF
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  enableDebuggingHandlers: true
  podPlayStageParallelism: 2
  nodePlayStageParallelism: 2
  nodeLeaseParallelism: 2
EOF
  for f in node/fast/node-initialize.yaml node/heartbeat/node-heartbeat.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    echo "---"
    cat "$KWOK_MOD/kustomize/stage/$f"
  done
  for pod in kube-apiserver-master-a kube-apiserver-master-b kube-apiserver-master-c kauditui-bulk; do
    touch "$dir/podlogs/$pod.log"
    cat <<EOF
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Logs
metadata:
  name: $pod
  namespace: kube-system
spec:
  logs:
  - containers: [kube-apiserver]
    logsFile: $dir/podlogs/$pod.log
    follow: true
EOF
  done
} >"$dir/kwok.yaml"

# kwok-ctl start|kill: the program restarts kwok mid-stream with it.
cat >"$dir/kwok-ctl" <<EOF
#!/usr/bin/env bash
set -euo pipefail
source $(printf %q "$repo/hack/lib/cluster.sh")
dir=$(printf %q "$dir")
case \$1 in
start)
  _cluster_start kwok "\$dir" "\$dir/logs/kwok.log" "\$dir/logs/kwok.log" $(printf %q "$KWOK") \\
    -c "\$dir/kwok.yaml" --kubeconfig="\$dir/admin.kubeconfig" --manage-all-nodes \\
    --node-ip=$ip --node-port=10250 --server-address=$ip:10250 \\
    --tls-cert-file="\$dir/pki/kwok.crt" --tls-private-key-file="\$dir/pki/kwok.key"
  for _ in \$(seq 1 300); do
    if curl -fsSk --max-time 1 https://$ip:10250/healthz >/dev/null 2>&1; then exit 0; fi
    cluster_alive "\$dir" kwok || { echo "kwok exited; see \$dir/logs/kwok.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "kwok not healthy after 30s" >&2; exit 1 ;;
kill)
  pid=\$(cat "\$dir/pids/kwok")
  kill -KILL "\$pid"
  for _ in \$(seq 1 100); do kill -0 "\$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "\$dir/pids/kwok" ;;
esac
EOF
chmod +x "$dir/kwok-ctl"
"$dir/kwok-ctl" start

# Three fake masters; pods in kube-system need its default service account
# (kube-controller-manager would make it; it is not needed otherwise).
kubectl create serviceaccount default -n kube-system >/dev/null
for n in master-a master-b master-c; do
  cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  labels: {node-role.kubernetes.io/control-plane: ""}
EOF
done | kubectl create -f - >/dev/null
kubectl wait --for=condition=Ready node --all --timeout=60s >/dev/null
log "kwok is the kubelet of $(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.addresses[0].address}:{.status.daemonEndpoints.kubeletEndpoint.Port} {end}')"

# Refused users: one with no rights, one that may list pods but not read logs.
cluster_user "$dir" nobody kauditui-nobody
cluster_user "$dir" lister kauditui-lister
kubectl create role pod-lister -n kube-system --verb=get,list,watch --resource=pods >/dev/null
kubectl create rolebinding pod-lister -n kube-system --role=pod-lister --user=kauditui-lister >/dev/null

start=$SECONDS
"$PODS_E2E_PROGRAM" -dir "$dir" -cri "$repo/testdata/stdout/cri/0.log" -kwok-ctl "$dir/kwok-ctl" \
  -apiserver-pid "$(cat "$dir/pids/kube-apiserver")"
log "StreamPods checks passed in $((SECONDS - start))s"

# The kauditui command itself through the same API: `query --pods` finds
# what the pods' log files hold (the masters still running), request for
# request and apiserver line for apiserver line.
kauditui=$KAUDITUI_BIN
files=()
for p in $(kubectl get pods -n kube-system -l component=kube-apiserver -o jsonpath='{.items[*].metadata.name}'); do
  files+=("$dir/podlogs/$p.log")
done
for what in "--count" "-o klog"; do
  # shellcheck disable=SC2086 # $what is two words on purpose
  want=$("$kauditui" query $what "${files[@]}" | wc -l | tr -d ' ')
  # shellcheck disable=SC2086
  [ "$what" = --count ] && want=$("$kauditui" query $what "${files[@]}")
  # shellcheck disable=SC2086
  got=$("$kauditui" query --pods --kubeconfig="$dir/admin.kubeconfig" $what)
  [ "$what" = "-o klog" ] && got=$(wc -l <<<"$got" | tr -d ' ')
  [ "$got" = "$want" ] || { echo "pods-e2e: FAIL: kauditui query --pods $what: $got, the pods' files give $want" >&2; exit 1; }
  log "kauditui query --pods $what: $got, as the ${#files[@]} pods' files give"
done

# The explorer itself (`kauditui --pods`: following is the default) in tmux,
# on the pods still running (master-a, master-c): it lists every request the
# pods' files hold, and once their history is read the status bar says
# "● following", not "loading";
# requests and klog lines written while it follows show up; kwok killed
# (SIGKILL) and started again, the status bar says the streams are
# reconnecting, then streaming, and what was written meanwhile shows up,
# nothing twice (the filtered count, the klog count, no "shared IDs"); a pod
# deleted, the bar says one stream is gone and the other streaming; p pauses
# and resumes. Then --no-follow: a snapshot, its streams done.
TUI_LOG="pods-e2e"
tui_init kauditui-pods "$dir"
pods=("${files[@]}")
total=$("$kauditui" query --count "${pods[@]}")
# a real ResponseComplete event of the CRI log, as a template
tmpl=$(awk '/ stdout F \{/ && /"stage":"ResponseComplete"/ { print; exit }' "$repo/testdata/stdout/cri/0.log" |
  cut -d' ' -f4- | jq -c 'del(.impersonatedUser)')
[ -n "$tmpl" ] || { log "FAIL: no ResponseComplete event in testdata/stdout/cri/0.log"; exit 1; }
# write USER N: N requests by USER and one klog line to each pod's log, as
# the container runtime writes them (one write per line)
nwritten=0
write() {
  local f ts
  for f in "${pods[@]}"; do
    for _ in $(seq 1 "$2"); do
      nwritten=$((nwritten + 1))
      ts=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
      printf '%s stdout F %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" \
        "$(jq -c --arg id "e2e-tui-$nwritten" --arg u "$1" --arg ts "$ts" \
          '.auditID=$id | .user.username=$u | .requestReceivedTimestamp=$ts | .stageTimestamp=$ts' <<<"$tmpl")" >>"$f"
    done
    printf '%s stderr F I%s       1 e2e.go:1] e2e-tui %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" "$(date -u '+%m%d %H:%M:%S.%6N')" "$1" >>"$f"
  done
}
np=${#pods[@]}
t0=$SECONDS
tui_start "$kauditui" --pods --kubeconfig="$dir/admin.kubeconfig"
tui_wait_status " $(thousands "$total") req .* klog .*● following │ pods: $np streaming" 30
tui_status | grep -qF "loading" && tui_fail "the status bar still says loading once the pods' history is read"
# the klog count: what the explorer counts (a message with continuation
# lines is one), to check the lines written below arrive once each
klog=$(tui_klog)
sleep 1
[ "$(tui_klog)" = "$klog" ] || { sleep 2; klog=$(tui_klog); }
log "explorer --pods (following by default): $total requests, as the pods' files hold, and $klog klog messages; status bar: ● following │ pods: $np streaming"
write tui-before 3
tui_filter "user=tui-*"
tui_wait_status " $((3 * np))/$(thousands $((total + 3 * np))) req .* $(thousands $((klog + np))) klog" 20
tui_wait_for "tui-before"
log "  $((3 * np)) requests and $np klog lines written while following: shown (filter user=tui-*)"
"$dir/kwok-ctl" kill
tui_wait_status "● following │ pods: $np reconnecting in [0-9]+s" 20
log "  kwok killed: $(tui_status | grep -oE 'pods: [^│]*' | sed 's/ *$//')"
write tui-after 4
sleep 2
"$dir/kwok-ctl" start
tui_wait_status "● following │ pods: $np streaming" 30
log "  kwok started again: $(tui_status | grep -oE 'pods: [^│]*' | sed 's/ *$//')"
tui_wait_status " $((7 * np))/$(thousands $((total + 7 * np))) req .* $(thousands $((klog + 2 * np))) klog" 20
tui_wait_for "tui-after"
sleep 2 # anything read twice would be in by now
tui_wait_status " $((7 * np))/$(thousands $((total + 7 * np))) req .* $(thousands $((klog + 2 * np))) klog" 1
tui_status | grep -qF "shared IDs" && tui_fail "shared IDs after the reconnect"
log "  the $((4 * np)) requests and $np klog lines written while kwok was down: shown, each once ($((7 * np)) e2e-tui requests, $((klog + 2 * np)) klog lines)"
# a pod deleted: its stream is gone, the other one still streaming
kubectl delete pod -n kube-system kube-apiserver-master-c --wait=false >/dev/null
tui_wait_status "● following │ pods: $((np - 1)) streaming, 1 gone" 30
log "  pod kube-apiserver-master-c deleted: $(tui_status | grep -oE 'pods: [^│]*' | sed 's/ *$//')"
tui_keys p
tui_wait_status "○ paused \(p\) │ pods: $((np - 1)) streaming, 1 gone" 5
tui_keys p
tui_wait_status "● following │ pods: $((np - 1)) streaming, 1 gone" 5
log "  p: paused; p: following again"
log "  status bar: $(tui_status | sed -E 's/^ +//; s/ +$//')"
tui_quit
# --no-follow: the history, then a snapshot; each stream done
tui_init kauditui-pods-snap "$dir"
tui_start "$kauditui" --pods --no-follow --kubeconfig="$dir/admin.kubeconfig"
snap=$("$kauditui" query --pods --count --kubeconfig="$dir/admin.kubeconfig")
tui_wait_status " $(thousands "$snap") req .* klog .*snapshot │ pods: $((np - 1)) done" 30
log "  --no-follow: $(tui_status | grep -oE '(snapshot|pods: )[^│]*' | sed 's/ *$//' | paste -sd' ')"
tui_quit
log "explorer driven through a kwok restart in $((SECONDS - t0))s"
log "passed in $((SECONDS - start))s"
