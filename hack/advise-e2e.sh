#!/usr/bin/env bash
# hack/advise-e2e.sh: `kauditui query --advise-policy` against a real
# kube-apiserver v1.37.2 and kube-controller-manager (hack/lib/cluster.sh, on
# 127.0.0.1), leader election on, so the log holds what a quiet control plane
# writes: lease gets and renewals, the controllers' lists and watches.
#
#  1. The apiserver logs everything at Metadata (setup's "metadata" preset);
#     an operator creates a namespace, a secret, a Role and RoleBinding and a
#     ValidatingWebhookConfiguration; the control plane runs for a while.
#  2. --advise-policy proposes, from that log and that policy, a rule for the
#     controller-manager's lease reads; its dry run keeps every write; setup
#     validates the file.
#  3. The apiserver is restarted with the proposed policy and the operator
#     writes again: every one of those writes is in the new log, and so are
#     the lease renewals (updates), while the proposed reads are not.
#
# usage: hack/advise-e2e.sh   (about a minute with the binaries cached)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { echo "advise-e2e: $*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
command -v jq >/dev/null || fail "needs jq"
# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
cluster_bin
dir=$(mktemp -d)
# shellcheck disable=SC2064
trap "trap '' INT TERM; set +e; cluster_stop $(printf %q "$dir"); rm -rf $(printf %q "$dir")" EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
(cd "$repo" && go build -o "$dir/kauditui" .)
policy=$repo/setup/policies/metadata.yaml
cluster_certs "$dir"
cluster_start_etcd "$dir"
cluster_start_apiserver "$dir" --audit-policy-file="$policy" --audit-log-path="$dir/audit.log"
cluster_wait_ready "$dir"
cluster_start_controller_manager "$dir" --leader-elect=true
cluster_wait_controllers "$dir"
kubectl() { "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" "$@"; }

writes() { # $1: a suffix for the names
  kubectl create namespace "shop$1" >/dev/null
  kubectl -n "shop$1" create secret generic "db$1" --from-literal=password=x >/dev/null
  kubectl -n "shop$1" create role "reader$1" --verb=get --resource=pods >/dev/null
  kubectl -n "shop$1" create rolebinding "reader$1" --role="reader$1" --user=someone >/dev/null
  kubectl apply -f - >/dev/null <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: check$1.example.com
webhooks:
- name: check$1.example.com
  clientConfig: {url: "https://127.0.0.1:1/check"}
  rules: [{apiGroups: ["example.com"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["widgets"]}]
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: ["v1"]
YAML
  kubectl -n "shop$1" delete secret "db$1" >/dev/null
}
writes 1
log "letting the control plane run for 40 s"
sleep 40

out=$("$dir/kauditui" query --advise-policy --policy "$policy" "$dir/audit.log") || fail "--advise-policy exited $?: $out"
log "--advise-policy printed:"; printf '%s\n' "$out" >&2
"$dir/kauditui" query --advise-policy --policy "$policy" -o yaml "$dir/audit.log" >"$dir/proposed.yaml"
grep -q '^  - level: None$' "$dir/proposed.yaml" || fail "no rule proposed"
grep -q 'users: \["system:kube-controller-manager"\]' "$dir/proposed.yaml" || fail "the controller-manager's reads are not proposed"
grep -q 'this policy would have kept .* and every write (' "$dir/proposed.yaml" || fail "the dry run does not keep every write"
# the resource and verbs of the controller-manager's first proposed rule
kcm=$(grep -A5 'users: \["system:kube-controller-manager"\]' "$dir/proposed.yaml")
res=$(sed -n 's/^ *resources: \["\([^"]*\)"\]$/\1/p' <<<"$kcm" | head -1)
[ -n "$res" ] || fail "no resource in the controller-manager's rule: $kcm"
log "proposed: the controller-manager's reads of $res"

# setup takes it
root=$dir/root
mkdir -p "$root/etc/kubernetes/manifests"
cp "$repo/testdata/kubeadm/kube-apiserver.yaml" "$root/etc/kubernetes/manifests/"
"$dir/kauditui" setup --root "$root" --dry-run --policy "$dir/proposed.yaml" >"$dir/setup.out" 2>&1 ||
  fail "setup --policy proposed.yaml: $(cat "$dir/setup.out")"

# The apiserver under the proposed policy.
cluster_stop_one "$dir" kube-apiserver
cluster_start_apiserver "$dir" --audit-policy-file="$dir/proposed.yaml" --audit-log-path="$dir/audit2.log"
cluster_wait_ready "$dir"
# the controller-manager exits when it loses its lease while the apiserver is
# down (a kubelet would restart it): start it again, and let it take the lease
cluster_stop_one "$dir" kube-controller-manager
cluster_start_controller_manager "$dir" --leader-elect=true
writes 2
log "letting the control plane run for 40 s under the proposed policy"
sleep 40
ev() { jq -c "select($1)" "$dir/audit2.log"; }
for w in \
  '.verb=="create" and .objectRef.resource=="namespaces" and .objectRef.name=="shop2"' \
  '.verb=="create" and .objectRef.resource=="secrets" and .objectRef.namespace=="shop2"' \
  '.verb=="delete" and .objectRef.resource=="secrets" and .objectRef.name=="db2"' \
  '.verb=="create" and .objectRef.resource=="roles" and .objectRef.namespace=="shop2"' \
  '.verb=="create" and .objectRef.resource=="rolebindings" and .objectRef.namespace=="shop2"' \
  '.verb=="create" and .objectRef.resource=="validatingwebhookconfigurations"'; do
  [ -n "$(ev "$w")" ] || fail "not logged under the proposed policy: $w"
done
[ -n "$(ev '.user.username=="system:kube-controller-manager" and .verb=="update" and .objectRef.resource=="leases"')" ] ||
  fail "the lease renewals (writes) are not logged under the proposed policy"
[ -n "$(ev '.verb=="create" and .objectRef.resource=="serviceaccounts" and .objectRef.namespace=="shop2"')" ] ||
  fail "the controllers' write of shop2's default service account is not logged under the proposed policy"
[ -z "$(ev ".user.username==\"system:kube-controller-manager\" and (.verb==\"get\" or .verb==\"list\" or .verb==\"watch\") and .objectRef.resource==\"$res\" and (.objectRef.subresource // \"\")==\"\"")" ] ||
  fail "the controller-manager's reads of $res are still logged"
log "ok: $(wc -l <"$dir/audit.log") lines before, $(wc -l <"$dir/audit2.log") under the proposed policy"
