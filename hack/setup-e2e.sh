#!/usr/bin/env bash
# hack/setup-e2e.sh: `kauditui setup` end to end against a real kube-apiserver
# v1.37.2 (hack/lib/cluster.sh). No kubelet runs here, so this script plays the
# kubelet's part (kubelet_start): it decodes the manifest setup wrote as the
# kubelet does (kubectl, offline), takes the apiserver's whole command line as
# the kubelet passes it (command after the program, then args, item for item:
# a stray argument stops the real apiserver), maps the host paths of setup's
# hostPath volumes into setup's scratch root, creates the DirectoryOrCreate
# folders, and restarts the apiserver with it, the harness's own serving, etcd
# and certificate flags in place of kubeadm's, which name PKI files this
# harness does not have. Then it makes requests and looks for their audit
# events where the manifest says they go.
#
# Cases:
#   flags    setup's list of kube-apiserver flags that take no value (its flag
#            reader needs it) against this binary's -h.
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
#   two-item kubeadm's manifest with the audit flags as two list items each
#            (`- --audit-log-path`, `- /var/log/old/audit.log`): setup reads
#            and keeps them, and the apiserver starts from what it wrote (a
#            stray argument, as the old setup left one, is shown to stop it).
#   custom   a node audited by hand (custom policy, 7 days, 3 files, legacy
#            format, which writes no JSON): a re-run keeps the policy and the
#            retention, switches to json, the apiserver starts from it and
#            writes JSON events; --revert brings back the hand-made manifest.
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

# audit_flags ROOT: the manifest's `--audit-*=` and `--feature-gates=` items,
# one a line, host paths mapped into ROOT; creates the log folder. Only for
# the 2019 recipe's own flags, before setup: what setup writes is started
# whole by kubelet_start.
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

# pod_json ROOT: ROOT's apiserver manifest decoded as the kubelet decodes it
# (kubectl's typed decoding; --local asks no server), as JSON.
pod_json() {
  "$CLUSTER_BIN/kubectl" annotate --local -o json --kubeconfig=/dev/null \
    -f "$1/etc/kubernetes/manifests/kube-apiserver.yaml" kauditui-e2e=1
}

# kubelet_argv ROOT: the apiserver's arguments as the kubelet passes them
# (command after the program, then args), one a line, with the paths of
# setup's hostPath volumes mapped into ROOT (what the mounts do); makes the
# DirectoryOrCreate folders.
kubelet_argv() {
  local r=$1 json a t p
  json=$(pod_json "$r") || return 1
  local -a paths=()
  while IFS=$'\t' read -r t p; do
    [ "$t" != DirectoryOrCreate ] || mkdir -p "$r$p"
    paths+=("${p%/}")
  done < <(jq -r '.spec.volumes[] | select(.name == "audit-policy" or .name == "audit-log") |
    "\(.hostPath.type)\t\(.hostPath.path)"' <<<"$json")
  jq -r '.spec.containers[] | select(.name == "kube-apiserver") |
    ((.command // [])[1:] + (.args // []))[]' <<<"$json" | while IFS= read -r a; do
    for p in "${paths[@]}"; do
      case "$a" in
      "$p" | "$p"/*) a=$r$a ;;
      *="$p" | *="$p"/*) a=${a%%=*}=$r${a#*=} ;;
      esac
    done
    printf '%s\n' "$a"
  done
}

# kubelet_start ROOT: restarts the apiserver as the kubelet would run ROOT's
# manifest: its whole command line, less kubeadm's `--name=value` items for
# the serving, etcd, PKI and address flags, which the harness gives instead
# (cluster_apiserver_flags) or leaves unset: appending them would not do, as
# list flags (--authorization-mode, --service-account-issuer) add up and the
# apiserver refuses repeats.
kubelet_start() {
  local -a argv keep base
  local -A skip=()
  local a
  mapfile -t argv < <(kubelet_argv "$1")
  mapfile -t base < <(cluster_apiserver_flags "$c")
  for a in "${base[@]}" --etcd-cafile --etcd-certfile --etcd-keyfile --kubelet-client-certificate \
    --kubelet-client-key --proxy-client-cert-file --proxy-client-key-file --requestheader-client-ca-file; do
    skip[${a%%=*}]=1
  done
  for a in "${argv[@]}"; do
    [[ $a == --*=* && -n ${skip[${a%%=*}]:-} ]] || keep+=("$a")
  done
  echo "   kubelet: kube-apiserver ${keep[*]}" | cut -c1-300
  restart_apiserver "${keep[@]}"
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

# run_setup OUT WHAT ARG...: `kauditui setup ARG...`, its output in $work/OUT;
# PASS "WHAT exited 0", or FAIL with its last lines.
run_setup() {
  local out=$work/$1 what=$2
  shift 2
  if "$kauditui" setup "$@" >"$out" 2>&1; then
    pass "$what exited 0"
  else
    fail "$what failed: $(tail -3 "$out")"
  fi
}

# start_from ROOT WHAT NAMESPACE: the apiserver restarted from ROOT's manifest
# as the kubelet would (kubelet_start) must become ready (PASS "kube-apiserver
# starts from WHAT"); then it is asked to create NAMESPACE. Returns 1 after a
# FAIL when it does not start.
start_from() {
  kubelet_start "$1"
  if ! cluster_wait_ready "$c"; then
    fail "kube-apiserver did not start from $2: $(apiserver_error)"
    return 1
  fi
  pass "kube-apiserver starts from $2"
  kubectl create namespace "$3" >/dev/null
  sleep 1
}

# audited FILE NAMESPACE: PASS when FILE holds the audit event of the
# creation of NAMESPACE, FAIL when not.
audited() {
  if has_event "$1" "$2"; then
    pass "audit event for 'create namespace $2' in $1"
  else
    fail "no audit event for 'create namespace $2' in $1"
  fi
}

# fails_to_start WHAT ERE [FLAG...]: the harness apiserver restarted with
# FLAGs must not become ready, and its stderr must say why (the extended
# regexp ERE): PASS with the line that says so.
fails_to_start() {
  local what=$1 re=$2 err=$c/logs/kube-apiserver.stderr
  shift 2
  restart_apiserver "$@"
  if cluster_wait_ready "$c" 30 2>/dev/null; then
    fail "$what: the apiserver started"
  elif grep -qE -- "$re" "$err"; then
    pass "$what: $(grep -oE -- "$re.*" "$err" | head -1 | cut -c1-160)"
  else
    fail "$what: the apiserver failed for another reason: $(apiserver_error)"
  fi
}

# cluster_configuration: kubeadm-config's ClusterConfiguration as the cluster holds it.
cluster_configuration() {
  kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}'
}

log "flags: the kube-apiserver flags that take no value, against $CLUSTER_BIN/kube-apiserver -h"
if (cd "$repo" && KAUDITUI_APISERVER=$CLUSTER_BIN/kube-apiserver go test -count=1 -run '^TestNoValueFlagsMatchTheBinary$' ./setup >"$work/flags.out" 2>&1); then
  pass "setup's list of no-value flags matches the binary"
else
  fail "no-value flags: $(grep -m3 -E 'noValueFlags|takes no value' "$work/flags.out")"
fi

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
run_setup file.out setup --root "$r" --yes --no-wait --node-name cp-1
grep -q '^updated kube-system/kubeadm-config' "$work/file.out" && pass "setup says it updated kubeadm-config" || fail "no kubeadm-config update in the output"
cm=$(cluster_configuration)
if grep -q 'name: audit-policy-file' <<<"$cm" && grep -q 'hostPath: /etc/kubernetes/audit-policy.yaml' <<<"$cm" &&
  grep -q '^kubernetesVersion:' <<<"$cm"; then
  pass "kubeadm-config has the audit extraArgs and extraVolumes, rest kept"
else
  fail "kubeadm-config not as expected: $cm"
fi
grep -q 'other control-plane nodes: cp-2' "$work/file.out" && pass "names the other control-plane node" || fail "other control-plane node not named"
start_from "$r" "the patched manifest's command line" e2e-file &&
  audited "$r/var/log/kubernetes/audit/audit.log" e2e-file
"$kauditui" setup --root "$r" --yes --no-wait --node-name cp-1 >"$work/file2.out" 2>&1 &&
  grep -q 'Nothing to change' "$work/file2.out" && grep -q 'kubeadm-config already has these settings' "$work/file2.out" &&
  pass "second run changes nothing (manifest, policy, kubeadm-config)" || fail "second run: $(cat "$work/file2.out")"
log "file mode: setup --revert puts the manifest and kubeadm-config back"
run_setup revert.out "setup --revert" --root "$r" --yes --no-wait --revert --node-name cp-1
if cmp -s "$manifest" "$r/etc/kubernetes/manifests/kube-apiserver.yaml"; then
  pass "manifest back byte for byte"
else
  fail "manifest not restored"
fi
cluster_configuration >"$work/cc.reverted"
if cmp -s "$cc" "$work/cc.reverted" && grep -q '^restored kube-system/kubeadm-config' "$work/revert.out"; then
  pass "kubeadm-config's ClusterConfiguration back byte for byte"
else
  fail "kubeadm-config not restored: $(diff "$cc" "$work/cc.reverted" | head -5) $(tail -2 "$work/revert.out")"
fi

# ---- stdout mode -----------------------------------------------------------
log "stdout mode: setup --mode stdout on the same node"
run_setup stdout.out "setup --mode stdout" --root "$r" --yes --no-wait --mode stdout --node-name cp-1
argv=$(kubelet_argv "$r") # (grep -q in a pipe would stop it early: pipefail)
grep -qx -- '--audit-log-path=-' <<<"$argv" && pass "manifest says --audit-log-path=-" ||
  fail "no --audit-log-path=- in $(grep audit <<<"$argv" | tr '\n' ' ')"
start_from "$r" "the manifest of --mode stdout" e2e-stdout &&
  audited "$c/logs/kube-apiserver.stdout" e2e-stdout
log "stdout mode: someone else edits kubeadm-config; setup --revert leaves it alone"
cluster_configuration | sed 's/^clusterName: kubernetes$/clusterName: e2e-edited/' >"$work/cc.edited"
kubectl -n kube-system create configmap kubeadm-config --from-file=ClusterConfiguration="$work/cc.edited" \
  --dry-run=client -o yaml | kubectl replace -f - >/dev/null
run_setup revert2.out "setup --revert" --root "$r" --yes --no-wait --revert --node-name cp-1
cluster_configuration >"$work/cc.after"
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
kubelet_start "$r"
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
fails_to_start "2019 recipe" 'unrecognized feature gate: AdvancedAuditing' "${flags[@]}"
mapfile -t flags < <(audit_flags "$r" | grep -v '^--feature-gates=')
fails_to_start "without the gate, the v1beta1 policy" 'no kind \\?"Policy\\?" is registered for version \\?"audit.k8s.io/v1beta1' "${flags[@]}"
restart_apiserver # the plain apiserver, so setup can reach kubeadm-config
cluster_wait_ready "$c"
run_setup recipe.out "setup on the recipe" --root "$r" --yes --no-wait --node-name cp-1
grep -q '2019 recipe: --feature-gates=AdvancedAuditing=false' "$work/recipe.out" && grep -q 'is an audit.k8s.io/v1beta1 policy' "$work/recipe.out" &&
  pass "setup names both 2019 problems" || fail "setup did not name the 2019 problems"
start_from "$r" "the recipe as setup fixed it" e2e-recipe &&
  audited "$r/var/log/kubernetes/apiserver/audit.log" e2e-recipe # the recipe's own path

# insert_after ROOT PATTERN: the lines on standard input go after the line of
# ROOT's manifest that matches PATTERN (a sed address).
insert_after() {
  local f=$1/etc/kubernetes/manifests/kube-apiserver.yaml lines
  lines=$(mktemp "$work/insert.XXXXXX")
  cat >"$lines"
  sed -i "\\%$2%r $lines" "$f"
}

cat >"$work/custom-policy.yaml" <<'EOF'
# our own policy: everything at Metadata, one event a request
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
EOF

# ---- two-item form ---------------------------------------------------------
log "two-item form: the audit flags as '- --flag' and '- value' items"
r=$(new_root twoitem "$manifest")
cp "$work/custom-policy.yaml" "$r/etc/kubernetes/custom-policy.yaml"
insert_after "$r" '^    - kube-apiserver$' <<'EOF'
    - --audit-policy-file
    - /etc/kubernetes/custom-policy.yaml
    - --audit-log-path
    - /var/log/old/audit.log
    - --audit-log-maxage
    - "7"
EOF
# A stray argument stops the real apiserver: what the old setup left behind
# from this form would not have started.
fails_to_start "a stray argument" '"kube-apiserver" does not take any arguments' /var/log/old/audit.log
restart_apiserver
cluster_wait_ready "$c"
run_setup twoitem.out "setup on the two-item form" --root "$r" --yes --no-wait --node-name cp-1
grep -q 'audit flags already set: --audit-policy-file=/etc/kubernetes/custom-policy.yaml --audit-log-path=/var/log/old/audit.log' "$work/twoitem.out" &&
  pass "setup reads the two-item flags" || fail "setup misread the two-item flags: $(grep 'audit flags' "$work/twoitem.out")"
if grep -A1 -x -- '    - --audit-log-path' "$r/etc/kubernetes/manifests/kube-apiserver.yaml" | grep -qx -- '    - /var/log/old/audit.log' &&
  cmp -s "$work/custom-policy.yaml" "$r/etc/kubernetes/custom-policy.yaml"; then
  pass "the two-item form, the log path and the custom policy are kept"
else
  fail "two-item form or custom policy not kept"
fi
start_from "$r" "the manifest setup wrote in the two-item form" e2e-twoitem &&
  audited "$r/var/log/old/audit.log" e2e-twoitem

# ---- re-run over an existing custom setup -----------------------------------
log "custom: a node audited by hand; setup runs again with no flags"
r=$(new_root custom "$manifest")
mf=$r/etc/kubernetes/manifests/kube-apiserver.yaml
cp "$work/custom-policy.yaml" "$r/etc/kubernetes/custom-policy.yaml"
insert_after "$r" '^    - kube-apiserver$' <<'EOF'
    - --audit-policy-file=/etc/kubernetes/custom-policy.yaml
    - --audit-log-path=/var/log/custom/audit.log
    - --audit-log-maxage=7
    - --audit-log-maxbackup=3
    - --audit-log-format=legacy
EOF
insert_after "$r" '^    volumeMounts:$' <<'EOF'
    - mountPath: /etc/kubernetes/custom-policy.yaml
      name: audit-policy
      readOnly: true
    - mountPath: /var/log/custom
      name: audit-log
EOF
insert_after "$r" '^  volumes:$' <<'EOF'
  - hostPath:
      path: /etc/kubernetes/custom-policy.yaml
      type: File
    name: audit-policy
  - hostPath:
      path: /var/log/custom
      type: DirectoryOrCreate
    name: audit-log
EOF
cp "$mf" "$work/custom.orig"
if start_from "$r" "the hand-made manifest" e2e-legacy; then
  if [ -s "$r/var/log/custom/audit.log" ] && ! grep -qF '"kind":"Event"' "$r/var/log/custom/audit.log"; then
    pass "before: the legacy format writes text, no JSON event: $(head -1 "$r/var/log/custom/audit.log" | cut -c1-80)"
  else
    fail "before: the legacy log is not as expected"
  fi
fi
run_setup custom.out re-run --root "$r" --yes --no-wait --node-name cp-1
if cmp -s "$work/custom-policy.yaml" "$r/etc/kubernetes/custom-policy.yaml" && grep -qx -- '    - --audit-log-maxage=7' "$mf" &&
  grep -qx -- '    - --audit-log-maxbackup=3' "$mf" && grep -qx -- '    - --audit-log-format=json' "$mf" &&
  grep -q 'audit-log-format=legacy -> json: kauditui reads JSON audit events' "$work/custom.out"; then
  pass "re-run keeps the custom policy, 7 days and 3 files; legacy -> json, saying why"
else
  fail "re-run did not keep the settings: $(grep -E 'audit-log-(maxage|maxbackup|format)' "$mf" | tr -d ' ' | tr '\n' ' ')"
fi
start_from "$r" "the re-run's manifest" e2e-custom &&
  audited "$r/var/log/custom/audit.log" e2e-custom # a JSON event (has_event)
if "$kauditui" setup --root "$r" --yes --no-wait --revert --node-name cp-1 >"$work/custom.revert" 2>&1 && cmp -s "$work/custom.orig" "$mf"; then
  pass "--revert: the hand-made manifest back byte for byte"
else
  fail "--revert of the re-run: $(tail -3 "$work/custom.revert")"
fi

echo
if [ "$fails" -eq 0 ]; then
  echo "setup e2e: all checks passed"
else
  echo "setup e2e: $fails check(s) failed (logs in $c/logs; KAUDITUI_SETUP_E2E_KEEP=1 keeps them)"
  exit 1
fi
