#!/usr/bin/env bash
# shellcheck disable=SC2034 # TRAFFIC_ACTIONS, CLUSTER_APISERVER_WRAP: read by the sourced libraries
# Regenerates kauditui's testdata from nothing with a real control plane
# (etcd, kube-apiserver, kube-controller-manager v1.37.2, built by
# hack/build-k8s.sh and cached outside the clone):
#
#   file/      run 1, audit log to a file with 1 MB rotation: a gzipped backup
#              (written while --audit-log-compress was on), a plain one (after
#              the operator turned compression off and restarted), audit.log
#   stdout/    run 2, --audit-log-path=- (-v=2, httplog at 3): kube-apiserver.log is what
#              `kubectl logs` shows, cri/0.log the same run as the node's CRI log
#   kubeadm/   a real kubeadm static pod manifest and `config print init-defaults`
#   hostile/   hack/gen-hostile.sh: escape sequences and bidi overrides in agents and names
#   trust/     hack/gen-trust.sh: reused Audit-ID headers; --logging-format=json
#   answers/   hack/gen-answers.sh: two admins' certificates, exec however sent,
#              one deployment changed step by step (RequestResponse) and deleted
#   admission/ hack/gen-admission.sh: 403s refused by admission (webhook, PodSecurity,
#              ValidatingAdmissionPolicy, ResourceQuota), by RBAC, and before authorization
#   ground-truth.json  what the harness did, and counts measured with jq/grep
#
# usage: hack/gen-testdata.sh [--out DIR] [--keep]
#   --out DIR  write there instead of testdata/ (CI regenerates into a temp dir)
#   --keep     keep the scratch folder (certificates, process logs) for debugging
# Every process it starts is stopped when it exits, even on failure.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/testdata
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "gen-testdata: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/traffic.sh"

log() { echo "gen-testdata: $*" >&2; }
started=$SECONDS

cluster_bin
scratch=$(mktemp -d "${TMPDIR:-/tmp}/kauditui-gen.XXXXXX")
file_run=$scratch/file-run
stdout_run=$scratch/stdout-run
cleanup() {
  local rc=$?
  set +e # stop everything, whatever fails
  trap '' INT TERM
  cluster_stop "$file_run"
  cluster_stop "$stdout_run"
  if $keep || [ "$rc" -ne 0 ]; then
    log "scratch folder kept: $scratch"
  else
    rm -rf "$scratch"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

policy=$repo/hack/policy-seed-v1.yaml
(cd "$repo" && go build -o "$scratch/crilog" ./hack/crilog)

# start_cluster DIR APISERVER-FLAG...: a fresh cluster with the traffic's identities.
start_cluster() {
  local dir=$1
  shift
  cluster_certs "$dir"
  traffic_identities "$dir"
  cluster_start_etcd "$dir"
  cluster_start_apiserver "$dir" "$@"
  cluster_wait_ready "$dir"
  cluster_start_controller_manager "$dir"
  cluster_wait_controllers "$dir"
}

# done compressing: a .gz and no plain backup left (the mill gzips in the background)
have_gz_backup() {
  compgen -G "$file_run/audit/audit-*.log.gz" >/dev/null && ! compgen -G "$file_run/audit/audit-*.log" >/dev/null
}
have_plain_backup() { compgen -G "$file_run/audit/audit-*.log" >/dev/null; }

# --- run 1: file mode -----------------------------------------------------------
log "run 1: audit log to a file, rotated at 1 MB"
mkdir -p "$file_run/audit"
file_flags=(--audit-policy-file="$policy" --audit-log-path="$file_run/audit/audit.log"
  --audit-log-maxsize=1 --audit-log-maxbackup=10 --audit-log-maxage=30)
TRAFFIC_ACTIONS=$file_run/actions.jsonl
start_cluster "$file_run" "${file_flags[@]}" --audit-log-compress
traffic_phase1 "$file_run"
traffic_poll_until "$file_run" have_gz_backup
# lumberjack compresses every plain backup it finds while compression is on,
# so the plain backup must come after: the operator turns compression off.
log "restarting kube-apiserver without --audit-log-compress"
# With the controller-manager's watches open it does not exit by itself within
# a minute; SIGKILL after 10 s, as the kubelet does after the grace period.
# Audit writes are synchronous, so nothing is lost.
cluster_stop_one "$file_run" kube-apiserver 10
cluster_start_apiserver "$file_run" "${file_flags[@]}"
cluster_wait_ready "$file_run"
traffic_phase2 "$file_run"
traffic_poll_until "$file_run" have_plain_backup
traffic_phase3 "$file_run"
traffic_wait_namespace_gone "$file_run"
cluster_stop "$file_run"

# --- run 2: stdout mode --------------------------------------------------------
log "run 2: audit log to stdout, klog with httplog lines, captured as a container runtime would"
mkdir -p "$stdout_run/out/cri"
CLUSTER_APISERVER_WRAP=("$scratch/crilog" -cri "$stdout_run/out/cri/0.log"
  -text "$stdout_run/out/kube-apiserver.log" --)
TRAFFIC_ACTIONS=$stdout_run/actions.jsonl
# -v=2 with httplog at 3: one klog "HTTP" line per request (with audit-ID), without
# the rest of -v=3's chatter, which would double the size of the testdata
start_cluster "$stdout_run" --audit-policy-file="$policy" --audit-log-path=- -v=2 --vmodule=httplog=3
unset CLUSTER_APISERVER_WRAP
traffic_phase1 "$stdout_run"
traffic_phase2 "$stdout_run"
traffic_phase3 "$stdout_run"
traffic_wait_namespace_gone "$stdout_run"
cluster_stop "$stdout_run"

# --- kubeadm ------------------------------------------------------------------------
log "kubeadm: static pod manifest and init defaults"
kroot=$scratch/kubeadm-root
mkdir -p "$kroot"
"$CLUSTER_BIN/kubeadm" config print init-defaults >"$scratch/init-defaults.yaml"
# the defaults as a real first control-plane node would have them
sed -e 's/advertiseAddress: 1\.2\.3\.4/advertiseAddress: 192.0.2.10/' \
  -e 's/^  name: node$/  name: kubyk-cp-1/' -e 's/^kubernetesVersion: .*/kubernetesVersion: v1.37.2/' \
  "$scratch/init-defaults.yaml" >"$kroot/kubeadm-config.yaml"
"$CLUSTER_BIN/kubeadm" init phase control-plane apiserver --rootfs="$kroot" \
  --config=/kubeadm-config.yaml >"$scratch/kubeadm.log" 2>&1 ||
  { cat "$scratch/kubeadm.log" >&2; exit 1; }

# --- copy out -------------------------------------------------------------------
log "writing $out"
rm -rf "$out/file" "$out/stdout" "$out/kubeadm"
mkdir -p "$out/file" "$out/stdout/cri" "$out/kubeadm"
cp -p "$file_run"/audit/* "$out/file/"   # -p: keep lumberjack's times
cp -p "$stdout_run/out/kube-apiserver.log" "$out/stdout/"
cp -p "$stdout_run/out/cri/0.log" "$out/stdout/cri/"
cp "$scratch/init-defaults.yaml" "$out/kubeadm/init-defaults.yaml"
cp "$kroot/kubeadm-config.yaml" "$out/kubeadm/kubeadm-config.yaml"
cp "$kroot/etc/kubernetes/manifests/kube-apiserver.yaml" "$out/kubeadm/kube-apiserver.yaml"
chmod 0644 "$out"/file/* "$out"/stdout/*.log "$out"/stdout/cri/* "$out"/kubeadm/*

# --- ground truth -----------------------------------------------------------------
log "writing ground-truth.json"
"$repo/hack/lib/groundtruth.sh" "$out" "$file_run/actions.jsonl" "$stdout_run/actions.jsonl" \
  "$(cat "$file_run/polls")" >"$out/ground-truth.json.tmp"
mv "$out/ground-truth.json.tmp" "$out/ground-truth.json"

# --- runs of their own: hostile clients, trust, the answers' traffic -------------
"$repo/hack/gen-hostile.sh" --out "$out/hostile"
"$repo/hack/gen-trust.sh" --out "$out/trust"
"$repo/hack/gen-answers.sh" --out "$out/answers"
"$repo/hack/gen-admission.sh" --out "$out/admission"
"$repo/hack/gen-findings.sh" --out "$out/findings"
# the managed clusters' exports wrap the stdout run's events (the same ground truth)
(cd "$repo" && go run ./hack/managedlog -in "$out/stdout/kube-apiserver.log" -cri "$out/stdout/cri/0.log" -out "$out/managed")

log "done in $((SECONDS - started))s: $(cd "$out" && du -ch file stdout kubeadm ground-truth.json | tail -1 | cut -f1) in $out"
