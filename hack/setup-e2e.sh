#!/usr/bin/env bash
# hack/setup-e2e.sh: `kauditui setup` end to end against a real kube-apiserver
# v1.37.2 (hack/lib/cluster.sh). No kubelet runs here, so this script plays the
# kubelet's part: it takes the container command of the manifest setup wrote,
# keeps its audit flags (--audit-* and --feature-gates; the rest of a kubeadm
# manifest names kubeadm's PKI, which this harness does not have), maps their
# host paths into setup's scratch root, creates the DirectoryOrCreate folders,
# and restarts the apiserver with them. Then it makes requests and looks for
# their audit events where the manifest says they go.
#
# Cases:
#   file     setup --yes --no-wait on kubeadm's manifest; events in the file;
#            kube-system/kubeadm-config updated for real; the other
#            control-plane node named; --revert puts the manifest and
#            kubeadm-config back byte for byte.
#   stdout   setup --mode stdout on the same root; events on stdout; a
#            kubeadm-config edited after setup is left alone by --revert.
#   wait     setup without --no-wait while this script restarts the apiserver
#            (the kubelet's part): setup sees it go down and come back, and
#            finds the audit events; then a run nobody restarts for times out
#            and restores the backup.
#   2019     the 2019 recipe's flags stop the apiserver (AdvancedAuditing
#            gate, then the v1beta1 policy); setup's fix starts it and audits.
#
#   hack/setup-e2e.sh            # all cases; exit 0 when every check passed
# Env: CLUSTER_BIN (binaries; built by hack/build-k8s.sh otherwise),
#      KAUDITUI_SETUP_E2E_KEEP=1 keeps the scratch folder.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=hack/lib/cluster.sh
source "$repo/hack/lib/cluster.sh"

work=$(mktemp -d /tmp/kauditui-setup-e2e.XXXXXX)
c=$work/cluster
cluster_trap "$c" # for its INT and TERM traps
# Our own EXIT trap: cluster_stop's `wait` returns etcd's 143, which under
# set -e would end the trap before the rest has stopped.
cleanup() {
  local rc=$?
  set +e
  cluster_stop "$c"
  [ "${KAUDITUI_SETUP_E2E_KEEP:-0}" = 1 ] || rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
log() { echo "== $*"; }
# apiserver_error: the apiserver's last error lines (klog E/F), for a FAIL line.
apiserver_error() { grep -E '^[EF][0-9]{4} ' "$c/logs/kube-apiserver.stderr" | tail -2 || tail -2 "$c/logs/kube-apiserver.stderr"; }

cluster_bin
kubectl() { "$CLUSTER_BIN/kubectl" --kubeconfig="$c/admin.kubeconfig" "$@"; }
go build -o "$work/kauditui" "$repo"
kauditui=$work/kauditui

# kubeadm's own manifest (kubeadm v1.37.2 init phase control-plane apiserver,
# made by hack/gen-testdata.sh).
manifest=$repo/testdata/kubeadm/kube-apiserver.yaml
log "manifest: ${manifest#"$repo"/}"

# new_root NAME MANIFEST [POLICY]: a node filesystem with that manifest, the
# 2019 policy if given, and admin.conf pointing at the harness apiserver.
new_root() {
  local r=$work/$1
  mkdir -p "$r/etc/kubernetes/manifests"
  cp "$2" "$r/etc/kubernetes/manifests/kube-apiserver.yaml"
  chmod 600 "$r/etc/kubernetes/manifests/kube-apiserver.yaml"
  [ -z "${3:-}" ] || cp "$3" "$r/etc/kubernetes/audit-policy.yaml"
  cp "$c/admin.kubeconfig" "$r/etc/kubernetes/admin.conf"
  echo "$r"
}

# audit_flags ROOT: the manifest's audit flags, one a line, host paths mapped
# into ROOT; creates the log folder (the kubelet's DirectoryOrCreate).
audit_flags() {
  local r=$1 f v
  grep -E '^ *- --(audit-|feature-gates=)' "$r/etc/kubernetes/manifests/kube-apiserver.yaml" |
    sed -E 's/^ *- //' | while IFS= read -r f; do
      case "$f" in
      --audit-policy-file=* | --audit-log-path=/*)
        v=${f#*=}
        [ "${f%%=*}" = --audit-log-path ] && mkdir -p "$r$(dirname "$v")"
        echo "${f%%=*}=$r$v"
        ;;
      *) echo "$f" ;;
      esac
    done
}

# restart_apiserver FLAG...: the harness apiserver again, with these flags on
# top of its own; stdout and stderr to $c/logs/kube-apiserver.{stdout,stderr}.
restart_apiserver() {
  cluster_stop_one "$c" kube-apiserver
  : >"$c/logs/kube-apiserver.stdout"
  : >"$c/logs/kube-apiserver.stderr"
  cluster_start_apiserver "$c" "$@"
}

# has_event FILE NAMESPACE: an audit event of the creation of that namespace.
has_event() {
  grep -F '"kind":"Event"' "$1" 2>/dev/null | grep -F '"verb":"create"' |
    grep -F '"resource":"namespaces"' | grep -qF "\"name\":\"$2\""
}

log "cluster: etcd and kube-apiserver v1.37.2 on 127.0.0.1"
cluster_certs "$c"
cluster_start_etcd "$c"
cluster_start_apiserver "$c"
cluster_wait_ready "$c"

# kubeadm-config as kubeadm init leaves it: its ClusterConfiguration (v1beta4,
# from kubeadm config print init-defaults), and two control-plane Node objects.
"$CLUSTER_BIN/kubeadm" config print init-defaults 2>/dev/null |
  awk '/^---/{doc++; next} {print > ("'"$work"'/initdoc" doc)}'
cc=$(grep -l '^kind: ClusterConfiguration' "$work"/initdoc*)
kubectl -n kube-system create configmap kubeadm-config --from-file=ClusterConfiguration="$cc" >/dev/null
for n in cp-1 cp-2; do
  kubectl create -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $n
  labels:
    node-role.kubernetes.io/control-plane: ""
EOF
done

# ---- file mode -------------------------------------------------------------
log "file mode: setup --yes --no-wait on kubeadm's manifest"
r=$(new_root file "$manifest")
if "$kauditui" setup --root "$r" --yes --no-wait --node-name cp-1 >"$work/file.out" 2>&1; then
  pass "setup exited 0"
else
  fail "setup failed: $(tail -3 "$work/file.out")"
fi
grep -q '^updated kube-system/kubeadm-config' "$work/file.out" && pass "setup says it updated kubeadm-config" || fail "no kubeadm-config update in the output"
cm=$(kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}')
if grep -q 'name: audit-policy-file' <<<"$cm" && grep -q 'hostPath: /etc/kubernetes/audit-policy.yaml' <<<"$cm" &&
  grep -q '^kubernetesVersion:' <<<"$cm"; then
  pass "kubeadm-config has the audit extraArgs and extraVolumes, rest kept"
else
  fail "kubeadm-config not as expected: $cm"
fi
grep -q 'other control-plane nodes: cp-2' "$work/file.out" && pass "names the other control-plane node" || fail "other control-plane node not named"
mapfile -t flags < <(audit_flags "$r")
echo "   patched audit flags: ${flags[*]}"
restart_apiserver "${flags[@]}"
if cluster_wait_ready "$c"; then
  pass "kube-apiserver starts with the patched manifest's flags"
  kubectl create namespace e2e-file >/dev/null
  sleep 1
  has_event "$r/var/log/kubernetes/audit/audit.log" e2e-file &&
    pass "audit event for 'create namespace e2e-file' in $r/var/log/kubernetes/audit/audit.log" ||
    fail "no audit event in the configured file"
else
  fail "kube-apiserver did not start: $(apiserver_error)"
fi
"$kauditui" setup --root "$r" --yes --no-wait --node-name cp-1 >"$work/file2.out" 2>&1 &&
  grep -q 'Nothing to change' "$work/file2.out" && grep -q 'kubeadm-config already has these settings' "$work/file2.out" &&
  pass "second run changes nothing (manifest, policy, kubeadm-config)" || fail "second run: $(cat "$work/file2.out")"
log "file mode: setup --revert puts the manifest and kubeadm-config back"
if "$kauditui" setup --root "$r" --yes --no-wait --revert --node-name cp-1 >"$work/revert.out" 2>&1; then
  pass "setup --revert exited 0"
else
  fail "setup --revert failed: $(tail -3 "$work/revert.out")"
fi
if cmp -s "$manifest" "$r/etc/kubernetes/manifests/kube-apiserver.yaml"; then
  pass "manifest back byte for byte"
else
  fail "manifest not restored"
fi
kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' >"$work/cc.reverted"
if cmp -s "$cc" "$work/cc.reverted" && grep -q '^restored kube-system/kubeadm-config' "$work/revert.out"; then
  pass "kubeadm-config's ClusterConfiguration back byte for byte"
else
  fail "kubeadm-config not restored: $(diff "$cc" "$work/cc.reverted" | head -5) $(tail -2 "$work/revert.out")"
fi

# ---- stdout mode -----------------------------------------------------------
log "stdout mode: setup --mode stdout on the same node"
"$kauditui" setup --root "$r" --yes --no-wait --mode stdout --node-name cp-1 >"$work/stdout.out" 2>&1 ||
  fail "setup --mode stdout failed: $(tail -3 "$work/stdout.out")"
mapfile -t flags < <(audit_flags "$r")
echo "   patched audit flags: ${flags[*]}"
[[ " ${flags[*]} " == *" --audit-log-path=- "* ]] && pass "manifest says --audit-log-path=-" || fail "no --audit-log-path=- in ${flags[*]}"
restart_apiserver "${flags[@]}"
if cluster_wait_ready "$c"; then
  kubectl create namespace e2e-stdout >/dev/null
  sleep 1
  has_event "$c/logs/kube-apiserver.stdout" e2e-stdout &&
    pass "audit event for 'create namespace e2e-stdout' on the apiserver's stdout" ||
    fail "no audit event on stdout"
else
  fail "kube-apiserver did not start in stdout mode: $(apiserver_error)"
fi
log "stdout mode: someone else edits kubeadm-config; setup --revert leaves it alone"
kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' |
  sed 's/^clusterName: kubernetes$/clusterName: e2e-edited/' >"$work/cc.edited"
kubectl -n kube-system create configmap kubeadm-config --from-file=ClusterConfiguration="$work/cc.edited" \
  --dry-run=client -o yaml | kubectl replace -f - >/dev/null
"$kauditui" setup --root "$r" --yes --no-wait --revert --node-name cp-1 >"$work/revert2.out" 2>&1 ||
  fail "setup --revert failed: $(tail -3 "$work/revert2.out")"
kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}' >"$work/cc.after"
if grep -q 'clusterName: e2e-edited' "$work/cc.edited" && cmp -s "$work/cc.edited" "$work/cc.after" &&
  grep -q 'kubeadm-config was changed since setup wrote it: left alone' "$work/revert2.out"; then
  pass "kubeadm-config edited by someone else: left alone, said in one line"
else
  fail "edited kubeadm-config: $(diff "$work/cc.edited" "$work/cc.after" | head -5) $(cat "$work/revert2.out")"
fi

# ---- wait: setup watches the restart (this script plays the kubelet) ------
log "wait: setup without --no-wait; the apiserver is restarted with the new flags"
r=$(new_root wait "$manifest")
"$kauditui" setup --root "$r" --yes --node-name cp-1 --timeout 60s >"$work/wait.out" 2>&1 &
setup_pid=$!
for _ in $(seq 1 50); do
  grep -q -- '--audit-policy-file' "$r/etc/kubernetes/manifests/kube-apiserver.yaml" && break
  sleep 0.2
done
sleep 3 # let setup see the old apiserver first
mapfile -t flags < <(audit_flags "$r")
restart_apiserver "${flags[@]}"
cluster_wait_ready "$c" || true
if wait "$setup_pid"; then
  pass "setup saw the apiserver restart and become ready"
else
  fail "setup with wait failed: $(tail -5 "$work/wait.out")"
fi
grep -q 'waiting for the apiserver: ready after' "$work/wait.out" && pass "progress line with elapsed time" || fail "no progress line"
grep -q 'audit events are being written' "$work/wait.out" && pass "setup found the audit events itself" || fail "setup did not find audit events: $(tail -3 "$work/wait.out")"

log "wait: nobody restarts the apiserver; setup times out and restores the backup"
r=$(new_root timeout "$manifest")
cp "$r/etc/kubernetes/manifests/kube-apiserver.yaml" "$work/timeout.orig"
if "$kauditui" setup --root "$r" --yes --node-name cp-1 --timeout 8s --kubeadm-config=false >"$work/timeout.out" 2>&1; then
  fail "setup succeeded although the apiserver never restarted"
else
  cmp -s "$work/timeout.orig" "$r/etc/kubernetes/manifests/kube-apiserver.yaml" &&
    grep -q 'the previous manifest is restored' "$work/timeout.out" &&
    pass "timeout: non-zero exit, manifest restored byte for byte" || fail "timeout: $(tail -3 "$work/timeout.out")"
fi

# ---- the 2019 recipe -------------------------------------------------------
log "2019 recipe: its flags on today's apiserver"
r=$(new_root recipe "$repo/testdata/setup/recipe-2019/kube-apiserver.yaml" "$repo/testdata/setup/recipe-2019/audit-policy.yaml")
mapfile -t flags < <(audit_flags "$r")
echo "   recipe audit flags: ${flags[*]}"
restart_apiserver "${flags[@]}"
if cluster_wait_ready "$c" 30 2>/dev/null; then
  fail "the 2019 recipe started"
elif grep -q 'unrecognized feature gate: AdvancedAuditing' "$c/logs/kube-apiserver.stderr"; then
  pass "2019 recipe fails: $(grep -o 'unrecognized feature gate: AdvancedAuditing' "$c/logs/kube-apiserver.stderr" | head -1)"
else
  fail "2019 recipe failed for another reason: $(apiserver_error)"
fi
mapfile -t flags < <(audit_flags "$r" | grep -v '^--feature-gates=')
restart_apiserver "${flags[@]}"
if cluster_wait_ready "$c" 30 2>/dev/null; then
  fail "the v1beta1 policy was accepted"
elif grep -qE 'no kind \\?"Policy\\?" is registered for version \\?"audit.k8s.io/v1beta1' "$c/logs/kube-apiserver.stderr"; then
  pass "without the gate, the v1beta1 policy fails: no kind \"Policy\" is registered for version \"audit.k8s.io/v1beta1\""
else
  fail "v1beta1 policy failed for another reason: $(apiserver_error)"
fi
restart_apiserver # the plain apiserver, so setup can reach kubeadm-config
cluster_wait_ready "$c"
"$kauditui" setup --root "$r" --yes --no-wait --node-name cp-1 >"$work/recipe.out" 2>&1 || fail "setup on the recipe failed: $(tail -3 "$work/recipe.out")"
grep -q '2019 recipe: --feature-gates=AdvancedAuditing=false' "$work/recipe.out" && grep -q 'is an audit.k8s.io/v1beta1 policy' "$work/recipe.out" &&
  pass "setup names both 2019 problems" || fail "setup did not name the 2019 problems"
mapfile -t flags < <(audit_flags "$r")
echo "   fixed audit flags: ${flags[*]}"
restart_apiserver "${flags[@]}"
if cluster_wait_ready "$c"; then
  kubectl create namespace e2e-recipe >/dev/null
  sleep 1
  has_event "$r/var/log/kubernetes/apiserver/audit.log" e2e-recipe &&
    pass "after setup's fix the apiserver starts and audits to the recipe's own path" ||
    fail "no audit event after the fix"
else
  fail "the fixed recipe does not start: $(apiserver_error)"
fi

echo
if [ "$fails" -eq 0 ]; then
  echo "setup e2e: all checks passed"
else
  echo "setup e2e: $fails check(s) failed (logs in $c/logs; KAUDITUI_SETUP_E2E_KEEP=1 keeps them)"
  exit 1
fi
