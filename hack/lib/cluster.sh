# shellcheck shell=bash
# hack/lib/cluster.sh: a real Kubernetes control plane (etcd, kube-apiserver,
# kube-controller-manager) as plain processes on 127.0.0.1, for kauditui's
# testdata harness and end-to-end tests. Source it; it sets no shell options.
#
#   source hack/lib/cluster.sh
#   dir=$(mktemp -d)
#   cluster_trap "$dir"                      # stop everything on exit, even on failure
#   cluster_certs "$dir"                     # ports, CA, serving and client certs, kubeconfigs
#   cluster_start_etcd "$dir"
#   cluster_start_apiserver "$dir" --audit-policy-file=p.yaml --audit-log-path=-
#   cluster_wait_ready "$dir"
#   cluster_start_controller_manager "$dir"
#   cluster_wait_controllers "$dir"
#   "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" get ns
#
# Everything listens on 127.0.0.1 on free ports picked per DIR (two clusters
# can run side by side); the apiserver advertises 198.51.100.10 (a
# documentation address: the endpoint reconciler refuses loopback). Binaries come from
# hack/build-k8s.sh (built once, cached outside the clone) unless CLUSTER_BIN is
# set. Each started process has a pid file in DIR/pids; its output goes to
# DIR/logs unless told otherwise.
#
# Layout of DIR:
#   cluster.env         ports (CLUSTER_ETCD_PORT, CLUSTER_ETCD_PEER_PORT,
#                       CLUSTER_APISERVER_PORT, CLUSTER_KCM_PORT) and CLUSTER_SERVER
#   pki/                ca.{crt,key}, apiserver.{crt,key}, sa.{key,pub}, <name>.{crt,key}
#   <name>.kubeconfig   one per identity: admin (CN=kubernetes-admin, O=system:masters),
#                       controller-manager (CN=system:kube-controller-manager),
#                       harness (CN=kauditui-harness, O=system:masters and
#                       O=system:serviceaccounts:kube-system: the harness's own
#                       waiting, which policies that drop kube-system service
#                       accounts, like the seed policy, leave out of the log),
#                       and whatever cluster_user / cluster_token_user add
#   etcd/               etcd data; logs/, pids/

CLUSTER_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_ADVERTISE_ADDRESS=${CLUSTER_ADVERTISE_ADDRESS:-198.51.100.10}

_cluster_log() { echo "cluster: $*" >&2; }

# cluster_bin: sets CLUSTER_BIN (folder with etcd, kube-apiserver,
# kube-controller-manager, kubectl, kubeadm), building them on first use.
cluster_bin() {
  if [ -z "${CLUSTER_BIN:-}" ]; then
    CLUSTER_BIN=$("$CLUSTER_LIB_DIR/../build-k8s.sh") || return 1
  fi
  export CLUSTER_BIN
}

# cluster_free_port: prints a TCP port no socket uses and that this shell
# has not handed out yet. It stays below the kernel's ephemeral range
# (net.ipv4.ip_local_port_range, 32768 and up), where outgoing connections
# take their local ports: a port picked there can be taken by a client
# between the check and the bind (seen once: etcd "address already in use").
_cluster_ports_given=" "
cluster_free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    case "$_cluster_ports_given" in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
      _cluster_ports_given+="$p "
      echo "$p"
      return 0
    fi
  done
  _cluster_log "no free port found"
  return 1
}

# cluster_env DIR: loads DIR/cluster.env into the shell.
cluster_env() {
  # shellcheck disable=SC1091
  source "$1/cluster.env"
}

# _cluster_kubeconfig DIR NAME USER-LINES...: writes DIR/NAME.kubeconfig
# pointing at the apiserver, with the given lines under `user:`.
_cluster_kubeconfig() {
  local dir=$1 name=$2
  shift 2
  cluster_env "$dir"
  {
    cat <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kauditui
  cluster:
    server: $CLUSTER_SERVER
    certificate-authority: $dir/pki/ca.crt
users:
- name: $name
  user:
EOF
    local l
    for l in "$@"; do echo "    $l"; done
    cat <<EOF
contexts:
- name: $name@kauditui
  context:
    cluster: kauditui
    user: $name
current-context: $name@kauditui
EOF
  } >"$dir/$name.kubeconfig"
  chmod 600 "$dir/$name.kubeconfig"
}

# cluster_user DIR NAME CN [ORG...]: a client certificate signed by the
# cluster CA (subject CN=CN, one O= per ORG: the username and groups the
# apiserver sees) and DIR/NAME.kubeconfig using it.
cluster_user() {
  local dir=$1 name=$2 cn=$3
  shift 3
  local subj="" o
  for o in "$@"; do subj+="/O=$o"; done
  subj+="/CN=$cn"
  # shellcheck disable=SC2015 # any step failing is the error
  openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/pki/$name.key" \
    -subj "$subj" -out "$dir/pki/$name.csr" 2>/dev/null &&
    openssl x509 -req -in "$dir/pki/$name.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" \
      -CAcreateserial -days 30 -sha256 -out "$dir/pki/$name.crt" \
      -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n') 2>/dev/null ||
    { _cluster_log "cannot make the certificate of $name"; return 1; }
  rm -f "$dir/pki/$name.csr"
  _cluster_kubeconfig "$dir" "$name" \
    "client-certificate: $dir/pki/$name.crt" "client-key: $dir/pki/$name.key"
}

# cluster_token_user DIR NAME TOKEN: DIR/NAME.kubeconfig sending TOKEN as a
# bearer token (a service account token, or a bad one for a 401).
cluster_token_user() {
  _cluster_kubeconfig "$1" "$2" "token: $3"
}

# cluster_certs DIR: creates DIR, picks the ports (DIR/cluster.env), makes the
# CA, the apiserver serving certificate (127.0.0.1, the advertise address, the
# service IP and the kubernetes.default names), the service-account key pair,
# and the admin and controller-manager identities with their kubeconfigs.
cluster_certs() {
  local dir=$1
  mkdir -p "$dir/pki" "$dir/logs" "$dir/pids" || return 1
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/cluster.env" ]; then
    local api etcd peer kcm
    api=$(cluster_free_port) && etcd=$(cluster_free_port) && peer=$(cluster_free_port) &&
      kcm=$(cluster_free_port) || return 1
    cat >"$dir/cluster.env" <<EOF
CLUSTER_APISERVER_PORT=$api
CLUSTER_ETCD_PORT=$etcd
CLUSTER_ETCD_PEER_PORT=$peer
CLUSTER_KCM_PORT=$kcm
CLUSTER_SERVER=https://127.0.0.1:$api
EOF
  fi
  local pki=$dir/pki
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki/ca.key" -out "$pki/ca.crt" \
    -days 30 -sha256 -subj "/CN=kauditui-harness-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null ||
    { _cluster_log "cannot make the CA"; return 1; }
  # shellcheck disable=SC2015 # any step failing is the error
  openssl req -new -newkey rsa:2048 -nodes -keyout "$pki/apiserver.key" \
    -subj "/CN=kube-apiserver" -out "$pki/apiserver.csr" 2>/dev/null &&
    openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
      -CAcreateserial -days 30 -sha256 -out "$pki/apiserver.crt" -extfile <(
        printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n'
        printf 'subjectAltName=IP:127.0.0.1,IP:%s,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,' "$CLUSTER_ADVERTISE_ADDRESS"
        printf 'DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\n'
      ) 2>/dev/null || { _cluster_log "cannot make the apiserver certificate"; return 1; }
  rm -f "$pki/apiserver.csr"
  # shellcheck disable=SC2015 # any step failing is the error
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null &&
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null ||
    { _cluster_log "cannot make the service-account keys"; return 1; }
  cluster_user "$dir" admin kubernetes-admin system:masters &&
    cluster_user "$dir" controller-manager system:kube-controller-manager &&
    cluster_user "$dir" harness kauditui-harness system:masters system:serviceaccounts:kube-system
}

# _cluster_start NAME DIR STDOUT STDERR CMD...: starts CMD in the background,
# records its pid in DIR/pids/NAME. STDOUT and STDERR are file paths; the same
# path for both means one file descriptor for both streams (O_APPEND, so each
# write lands whole).
_cluster_start() {
  local name=$1 dir=$2 out=$3 err=$4
  shift 4
  if [ "$out" = "$err" ]; then
    "$@" </dev/null >>"$out" 2>&1 &
  else
    "$@" </dev/null >>"$out" 2>>"$err" &
  fi
  echo $! >"$dir/pids/$name"
  _cluster_log "started $name (pid $!)"
}

# cluster_alive DIR NAME: true while the process started as NAME runs.
cluster_alive() {
  local pid
  pid=$(cat "$1/pids/$2" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# cluster_start_etcd DIR: etcd on 127.0.0.1 (plain HTTP, loopback only),
# data in DIR/etcd, log in DIR/logs/etcd.log. Returns once etcd is healthy.
cluster_start_etcd() {
  local dir=$1
  cluster_bin && cluster_env "$dir" || return 1
  local client=http://127.0.0.1:$CLUSTER_ETCD_PORT peer=http://127.0.0.1:$CLUSTER_ETCD_PEER_PORT
  _cluster_start etcd "$dir" "$dir/logs/etcd.log" "$dir/logs/etcd.log" \
    "$CLUSTER_BIN/etcd" --name=kauditui --data-dir="$dir/etcd" \
    --listen-client-urls="$client" --advertise-client-urls="$client" \
    --listen-peer-urls="$peer" --initial-advertise-peer-urls="$peer" \
    --initial-cluster="kauditui=$peer" --log-level=warn --unsafe-no-fsync
  for _ in $(seq 1 100); do
    if curl -fsS "$client/health" 2>/dev/null | grep -q '"health":"true"'; then return 0; fi
    cluster_alive "$dir" etcd || break
    sleep 0.2
  done
  _cluster_log "etcd did not become healthy; see $dir/logs/etcd.log"
  return 1
}

# cluster_apiserver_flags DIR: prints the base kube-apiserver flags, one per
# line (serving, client CA, etcd, service accounts, RBAC, loopback only).
cluster_apiserver_flags() {
  local dir=$1
  cluster_env "$dir"
  cat <<EOF
--bind-address=127.0.0.1
--secure-port=$CLUSTER_APISERVER_PORT
--advertise-address=$CLUSTER_ADVERTISE_ADDRESS
--etcd-servers=http://127.0.0.1:$CLUSTER_ETCD_PORT
--tls-cert-file=$dir/pki/apiserver.crt
--tls-private-key-file=$dir/pki/apiserver.key
--client-ca-file=$dir/pki/ca.crt
--service-account-issuer=https://kubernetes.default.svc.cluster.local
--service-account-key-file=$dir/pki/sa.pub
--service-account-signing-key-file=$dir/pki/sa.key
--service-cluster-ip-range=10.96.0.0/12
--authorization-mode=Node,RBAC
--enable-admission-plugins=NodeRestriction
--allow-privileged=true
EOF
}

# cluster_start_apiserver DIR [FLAG...]: kube-apiserver with the base flags
# (cluster_apiserver_flags) followed by FLAGs; a FLAG given again wins over the
# base one, so the flags of a real manifest can be passed as they are. Does not
# wait: call cluster_wait_ready.
#   CLUSTER_APISERVER_STDOUT, CLUSTER_APISERVER_STDERR: where stdout and stderr
#     go (files, appended to; default DIR/logs/kube-apiserver.stdout, .stderr).
#     Give both the same path to interleave them through one file descriptor.
#   CLUSTER_APISERVER_WRAP: an array, a command to run the apiserver under,
#     e.g. (crilog -cri x.log -text y.log --); it then owns the pid file, so it
#     must pass SIGTERM on and exit when the apiserver does.
cluster_start_apiserver() {
  local dir=$1
  shift
  cluster_bin || return 1
  local flags
  mapfile -t flags < <(cluster_apiserver_flags "$dir")
  local out=${CLUSTER_APISERVER_STDOUT:-$dir/logs/kube-apiserver.stdout}
  local err=${CLUSTER_APISERVER_STDERR:-$dir/logs/kube-apiserver.stderr}
  local -a wrap=()
  if declare -p CLUSTER_APISERVER_WRAP >/dev/null 2>&1; then wrap=("${CLUSTER_APISERVER_WRAP[@]}"); fi
  _cluster_start kube-apiserver "$dir" "$out" "$err" \
    "${wrap[@]}" "$CLUSTER_BIN/kube-apiserver" "${flags[@]}" "$@"
}

# _cluster_get DIR KUBECONFIG PATH: GET PATH with that identity's certificate;
# prints the body, fails on a non-2xx answer.
_cluster_get() {
  local dir=$1 name=$2 path=$3
  cluster_env "$dir"
  curl -fsS --max-time 5 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/$name.crt" --key "$dir/pki/$name.key" "$CLUSTER_SERVER$path"
}

# cluster_wait_ready DIR [SECONDS]: waits until /readyz answers ok (default 90 s)
# and fails early if the apiserver exits. It asks as the harness identity,
# which the seed policy does not audit, so waiting leaves no trace in the log.
cluster_wait_ready() {
  local dir=$1 limit=${2:-90} start=$SECONDS
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    if [ "$(_cluster_get "$dir" harness /readyz 2>/dev/null)" = ok ]; then
      _cluster_log "apiserver ready after $((SECONDS - start))s"
      return 0
    fi
    cluster_alive "$dir" kube-apiserver || { _cluster_log "kube-apiserver exited; see $dir/logs"; return 1; }
    sleep 0.5
  done
  _cluster_log "apiserver not ready after ${limit}s; see $dir/logs"
  return 1
}

# cluster_start_controller_manager DIR [FLAG...]: kube-controller-manager with
# service-account credentials per controller (so deployments get ReplicaSets,
# the garbage collector cascades deletes, namespaces finish deleting, the
# aggregated edit/view roles fill up). Log in DIR/logs/kube-controller-manager.log.
cluster_start_controller_manager() {
  local dir=$1
  shift
  cluster_bin && cluster_env "$dir" || return 1
  _cluster_start kube-controller-manager "$dir" \
    "$dir/logs/kube-controller-manager.log" "$dir/logs/kube-controller-manager.log" \
    "$CLUSTER_BIN/kube-controller-manager" \
    --kubeconfig="$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$dir/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$dir/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$CLUSTER_KCM_PORT" \
    --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$dir/pki/sa.key" --root-ca-file="$dir/pki/ca.crt" \
    --cluster-signing-cert-file="$dir/pki/ca.crt" --cluster-signing-key-file="$dir/pki/ca.key" \
    --controllers='*' "$@"
}

# cluster_wait_controllers DIR [SECONDS]: waits until the controller-manager
# has aggregated the `edit` ClusterRole (a sign its controllers are running).
cluster_wait_controllers() {
  local dir=$1 limit=${2:-90} start=$SECONDS
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    if _cluster_get "$dir" harness /apis/rbac.authorization.k8s.io/v1/clusterroles/edit 2>/dev/null |
      grep -q '"deployments"'; then
      _cluster_log "controllers running after $((SECONDS - start))s"
      return 0
    fi
    cluster_alive "$dir" kube-controller-manager || { _cluster_log "kube-controller-manager exited"; return 1; }
    sleep 0.5
  done
  _cluster_log "edit role not aggregated after ${limit}s; see $dir/logs"
  return 1
}

# cluster_stop_one DIR NAME [SECONDS]: SIGTERM to the process started as NAME,
# SIGKILL after SECONDS (default 60: a loaded machine takes long to shut an apiserver down, and a killed one, or its crilog wrapper, loses the last lines it wrote); removes its pid file.
cluster_stop_one() {
  local dir=$1 name=$2 limit=${3:-60} pid
  pid=$(cat "$dir/pids/$name" 2>/dev/null) || return 0
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 $((limit * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      _cluster_log "$name (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null || true # its exit status; callers may run under set -e
    _cluster_log "stopped $name (pid $pid)"
  fi
  rm -f "$dir/pids/$name"
  return 0
}

# cluster_stop DIR: stops everything started for DIR, the controller-manager
# first and etcd last. Safe to call twice, and under set -e.
cluster_stop() {
  local dir=$1 f name
  [ -d "$dir/pids" ] || return 0
  for name in kube-controller-manager kube-apiserver etcd; do
    cluster_stop_one "$dir" "$name"
  done
  for f in "$dir"/pids/*; do
    if [ -e "$f" ]; then cluster_stop_one "$dir" "$(basename "$f")"; fi
  done
  return 0
}

# cluster_trap DIR...: stops the clusters of these DIRs when the shell exits,
# including on failure, Ctrl-C or SIGTERM. Replaces the shell's EXIT trap.
cluster_trap() {
  local d q=""
  for d in "$@"; do q+=" $(printf '%q' "$d")"; done
  # shellcheck disable=SC2064
  trap "trap '' INT TERM; set +e; for d in $q; do cluster_stop \"\$d\"; done" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
