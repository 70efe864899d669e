#!/usr/bin/env bash
# hack/rbac-e2e.sh: RBAC as a delta (`kauditui query --rbac FILTER --missing`)
# against a real kube-apiserver v1.37.2 (hack/lib/cluster.sh, on 127.0.0.1).
#
# erin-editor's requests in testdata/file (the harness's real log) need, by
# plain --rbac, a Role in team-a and a ClusterRole for /openapi URLs. Here a
# fresh cluster grants part of it: a Role that reads deployments (bound to the
# user), a Role that gets and updates configmap kubyk-config (bound to her
# group kubyk:developers), ClusterRole admin in another namespace (which must
# not count), and the apiserver's own bootstrap bindings (system:discovery
# gives every authenticated user the /openapi URLs). --missing must print
# exactly the rest; the real authorizer (kubectl auth can-i --as) agrees on
# each permission, before and after the printed YAML is applied; and asked
# again after applying it, nothing is missing.
#
# usage: hack/rbac-e2e.sh   (about 20 s with the binaries cached)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "rbac-e2e: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
cluster_bin
dir=$(mktemp -d)
# shellcheck disable=SC2064
trap "trap '' INT TERM; set +e; cluster_stop $(printf %q "$dir"); rm -rf $(printf %q "$dir")" EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
(cd "$repo" && go build -o "$dir/kauditui" .)
cluster_certs "$dir"
cluster_start_etcd "$dir"
cluster_start_apiserver "$dir"
cluster_wait_ready "$dir"
kubectl() { "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" "$@"; }
# the bootstrap roles are written by a post-start hook: wait for them
for _ in $(seq 1 60); do
  kubectl get clusterrolebinding system:discovery >/dev/null 2>&1 && break
  sleep 0.5
done

logfile=$repo/testdata/file/audit.log
kauditui() { "$dir/kauditui" query --rbac user=erin-editor --kubeconfig "$dir/admin.kubeconfig" "$@" "$logfile"; }
canI() { kubectl auth can-i "$@" --as erin-editor --as-group kubyk:developers --as-group system:authenticated 2>/dev/null || true; }

kubectl create namespace team-a >/dev/null
kubectl create namespace team-b >/dev/null
kubectl -n team-a create role deploy-reader --verb=get,list,watch --resource=deployments.apps >/dev/null
kubectl -n team-a create rolebinding erin-reads --role=deploy-reader --user=erin-editor >/dev/null
kubectl -n team-a create role config-editor --verb=get,update --resource=configmaps --resource-name=kubyk-config >/dev/null
kubectl -n team-a create rolebinding dev-config --role=config-editor --group=kubyk:developers >/dev/null
kubectl -n team-b create rolebinding erin-admin-b --clusterrole=admin --user=erin-editor >/dev/null

out=$(kauditui --missing) || fail "--missing exited $?: $out"
printf '%s\n' "$out" >"$dir/missing.yaml"
log "--missing printed:"; printf '%s\n' "$out" >&2

for want in \
  "#   bound: Role deploy-reader through RoleBinding team-a/erin-reads" \
  "#   bound: Role config-editor through RoleBinding team-a/dev-config" \
  "#   bound: ClusterRole admin through RoleBinding team-b/erin-admin-b" \
  "#   granted already: get /openapi/v3 (ClusterRole system:discovery through ClusterRoleBinding system:discovery)" \
  "#   granted already: list deployments.apps in namespace team-a (Role deploy-reader through RoleBinding team-a/erin-reads)" \
  "#   granted already: update configmaps named kubyk-config in namespace team-a (Role config-editor through RoleBinding team-a/dev-config)" \
  "# what is still missing, and nothing more:"; do
  grep -qxF -- "$want" <<<"$out" || fail "no line: $want"
done
# The missing Role, exactly: what the plain --rbac proposes less what the
# cluster grants (no ClusterRole: the /openapi URLs are granted).
want_rules='rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["create"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create"]
- apiGroups: ["apps"]
  resources: ["deployments/scale"]
  resourceNames: ["kubyk-web"]
  verbs: ["patch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["create"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  resourceNames: ["kubyk-web"]
  verbs: ["update", "patch", "delete"]'
got_rules=$(sed -n '/^kind: Role$/,/^---$/p' <<<"$out" | sed -n '/^rules:/,/^---$/p' | sed '$d')
[ "$got_rules" = "$want_rules" ] || fail "the missing Role's rules are
$got_rules
want
$want_rules"
grep -q '^kind: ClusterRole$' <<<"$out" && fail "a ClusterRole is proposed, but the cluster grants the /openapi URLs"
full=$("$dir/kauditui" query --rbac user=erin-editor "$logfile")
grep -q '^kind: ClusterRole$' <<<"$full" || fail "the plain --rbac has no ClusterRole: the case no longer tests the delta"

# The real authorizer agrees: granted ones yes, missing ones no.
for p in "list deployments.apps -n team-a" "get deployments.apps/kubyk-web -n team-a" "update configmaps/kubyk-config -n team-a"; do
  [ "$(canI $p)" = yes ] || fail "kubectl auth can-i $p: not granted, yet --missing says it is"
done
for p in "create deployments.apps -n team-a" "delete deployments.apps/kubyk-web -n team-a" "create secrets -n team-a" "patch deployments.apps/kubyk-web --subresource=scale -n team-a" "create configmaps -n team-a"; do
  [ "$(canI $p)" = no ] || fail "kubectl auth can-i $p: granted, yet --missing proposes it"
done

# Apply what it printed; then the authorizer allows the rest, and nothing is missing.
kubectl apply -f "$dir/missing.yaml" >/dev/null
for p in "create deployments.apps -n team-a" "delete deployments.apps/kubyk-web -n team-a" "create secrets -n team-a" "patch deployments.apps/kubyk-web --subresource=scale -n team-a" "create configmaps -n team-a"; do
  [ "$(canI $p)" = yes ] || fail "after applying: kubectl auth can-i $p: no"
done
out=$(kauditui --missing) || fail "--missing after applying exited $?"
grep -qxF "# nothing missing: that RBAC grants every permission these requests needed" <<<"$out" || fail "after applying, still missing:
$out"

# A user the kubeconfig cannot list RBAC with: one line that says what to do.
cluster_user "$dir" nobody nobody
set +e
err=$("$dir/kauditui" query --rbac user=erin-editor --missing --kubeconfig "$dir/nobody.kubeconfig" "$logfile" 2>&1 >/dev/null)
code=$?
set -e
[ "$code" = 3 ] && grep -q "needs list on roles, clusterroles, rolebindings and clusterrolebindings" <<<"$err" ||
  fail "no RBAC read rights: code $code, $err"
log "ok"
