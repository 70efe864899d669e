#!/usr/bin/env bash
# Writes testdata/admission/: a real kube-apiserver's log of 403s, most of
# which RBAC did not refuse. A 403 whose annotation authorization.k8s.io/decision
# is "allow" was refused after authorization, by admission; no Role lets it
# through. Each control refuses one request of dev-pat, who may edit
# everything in namespace "locked" (ClusterRole edit):
#
#   webhook-deny-configmap    a validating admission webhook (hack/slow-webhook
#                             /deny: answers 403, as policy engines do)
#   podsecurity-deny-pod      PodSecurity: the namespace is labelled
#                             pod-security.kubernetes.io/enforce=restricted
#   policy-deny-audited       a ValidatingAdmissionPolicy (its validation's reason
#                             Forbidden: 403) whose binding's validationActions
#                             are [Deny, Audit] (the apiserver then writes
#                             validation.policy.admission.k8s.io/validation_failure)
#   policy-deny-quiet         the same policy through a binding of [Deny] only
#   policy-invalid-red        a policy whose validation gives no reason: 422, not 403
#   quota-deny-service        a ResourceQuota of services=0
#   rbac-deny-rolebinding     RBAC: edit may not create role bindings (decision forbid)
#   impersonate-deny          kubectl --as: the impersonation filter refuses it
#                             before the request is authorized (v1.37.2 says
#                             `cannot impersonate-on:user-info:list resource
#                             "pods"`): the event has no annotation at all
#   pat-create-configmap      allowed (201), so --rbac has something to grant
#   mutate-create-configmap   allowed (201) and changed: a mutating webhook
#                             (hack/slow-webhook /mutate, 700 ms: the event also
#                             has the apiserver.latency.k8s.io breakdown) patches
#                             it, and two webhooks whose server is down
#                             (failurePolicy Ignore) fail open, one mutating and
#                             one validating
#   mutate-update-configmap   the same configmap labelled again (a patch):
#                             patched again, failed open again
#
#   audit.log      the log (hack/policy-answers.yaml)
#   expected.json  what the script did, in order: the actions as hack/traffic.sh
#                  `act` records them, each refused one with `refusedBy`
#                  (webhook, podsecurity, policy, quota, rbac, impersonation)
#                  and `control` (the webhook's, policy's, binding's, quota's
#                  name, the PodSecurity level) as the script set them up;
#                  each changed one with `patchedBy` (the mutating webhook) and
#                  `failedOpen` (the webhooks that failed open, comma-separated)
#
# usage: hack/gen-admission.sh [--out DIR]   (default testdata/admission)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/testdata/admission
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
cluster_user "$dir" pat dev-pat kauditui:developers
cluster_start_etcd "$dir"
cluster_start_apiserver "$dir" --audit-policy-file="$policy" --audit-log-path="$dir/audit.log"
cluster_wait_ready "$dir"
cluster_start_controller_manager "$dir"
cluster_wait_controllers "$dir"
cluster_env "$dir"
fail() { echo "gen-admission: $*" >&2; exit 1; }

# note STEP KEY=VALUE...: adds fields to an action of expected.json.
note() {
  local step=$1
  shift
  local args=(--arg step "$step") kv
  for kv in "$@"; do args+=(--arg "${kv%%=*}" "${kv#*=}"); done
  jq -nc "${args[@]}" '$ARGS.named' >>"$dir/notes.jsonl"
}
# until_ok SECONDS CMD...: runs CMD until it succeeds (the harness's own
# requests: its group is not audited by the policy).
until_ok() {
  local limit=$1 start=$SECONDS
  shift
  until "$@" >/dev/null 2>&1; do
    [ $((SECONDS - start)) -lt "$limit" ] || fail "gave up waiting for: $*"
    sleep 0.5
  done
}
# until_refused SECONDS FILE: a server-side dry run of FILE as the harness
# until the apiserver refuses it (an admission control has been picked up).
until_refused() {
  local limit=$1 start=$SECONDS
  while kk "$dir" harness create --dry-run=server -f "$2" >/dev/null 2>&1; do
    [ $((SECONDS - start)) -lt "$limit" ] || fail "$2 is still accepted after ${limit}s"
    sleep 0.5
  done
}

ns=locked
pat=dev-pat

# --- the setting: a restricted namespace pat may edit, a quota, a webhook, a policy
jq -n --arg ns "$ns" '{apiVersion: "v1", kind: "Namespace",
  metadata: {name: $ns, labels: {"pod-security.kubernetes.io/enforce": "restricted"}}}' >"$dir/ns.json"
act step=create-namespace user=kubernetes-admin verb=create resource=namespaces name=$ns code=201 -- \
  kk "$dir" admin create -f "$dir/ns.json"
act step=bind-pat-edit user=kubernetes-admin verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=pat-edit code=201 -- \
  kk "$dir" admin create rolebinding pat-edit -n $ns --clusterrole=edit --user=$pat
# pods need the namespace's default service account (the controller-manager makes it)
until_ok 60 kk "$dir" harness get serviceaccount default -n $ns
act step=create-quota user=kubernetes-admin verb=create resource=resourcequotas namespace=$ns name=locked-quota \
  code=201 -- kk "$dir" admin create quota locked-quota -n $ns --hard=services=0
# the quota admission needs the quota's status (the controller-manager fills it)
until_ok 60 sh -c "\"\$0\" --kubeconfig=\"\$1\" get resourcequota locked-quota -n $ns -o jsonpath='{.status.hard.services}' | grep -qx 0" \
  "$CLUSTER_BIN/kubectl" "$dir/harness.kubeconfig"

# The webhook: hack/slow-webhook's /deny, HTTPS on 127.0.0.1 with a
# certificate of the cluster CA, for configmaps labelled kauditui.example/deny=yes.
(cd "$repo" && go build -o "$dir/slow-webhook" ./hack/slow-webhook)
openssl req -new -newkey rsa:2048 -nodes -keyout "$dir/pki/webhook.key" -subj "/CN=deny-webhook" \
  -out "$dir/pki/webhook.csr" 2>/dev/null
openssl x509 -req -in "$dir/pki/webhook.csr" -CA "$dir/pki/ca.crt" -CAkey "$dir/pki/ca.key" -CAcreateserial \
  -days 30 -sha256 -out "$dir/pki/webhook.crt" \
  -extfile <(printf 'keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n') 2>/dev/null
webhook_port=$(cluster_free_port)
_cluster_start slow-webhook "$dir" "$dir/logs/slow-webhook.log" "$dir/logs/slow-webhook.log" \
  "$dir/slow-webhook" -addr "127.0.0.1:$webhook_port" -cert "$dir/pki/webhook.crt" -key "$dir/pki/webhook.key"
until_ok 10 curl -fsS --cacert "$dir/pki/ca.crt" "https://127.0.0.1:$webhook_port/healthz"
webhook_name=deny-labelled.kauditui.example
jq -n --arg name "$webhook_name" --arg url "https://127.0.0.1:$webhook_port/deny" \
  --arg ca "$(base64 -w0 "$dir/pki/ca.crt")" '
  {apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: {name: $name},
   webhooks: [{name: $name, clientConfig: {url: $url, caBundle: $ca},
     rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"], scope: "Namespaced"}],
     objectSelector: {matchLabels: {"kauditui.example/deny": "yes"}},
     failurePolicy: "Fail", sideEffects: "None", admissionReviewVersions: ["v1"], timeoutSeconds: 5}]}' >"$dir/webhook.json"
act step=register-webhook user=kubernetes-admin verb=create resource=validatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=$webhook_name code=201 -- kk "$dir" admin create -f "$dir/webhook.json"

# The mutating webhook (/mutate stamps an annotation) and two webhooks whose
# server is not there (a port nothing listens on) and whose failurePolicy is
# Ignore: the apiserver lets the request through and says so in a
# failed-open.* annotation. All for configmaps labelled kauditui.example/stamp=yes.
stamp_name=stamp.kauditui.example
gone_mutate=gone-mutate.kauditui.example
gone_validate=gone-validate.kauditui.example
gone_port=$(cluster_free_port)
# hook NAME URL FAILURE-POLICY: one webhook of a configuration
hook() {
  jq -n --arg name "$1" --arg url "$2" --arg fp "$3" --arg ca "$(base64 -w0 "$dir/pki/ca.crt")" '
    {name: $name, clientConfig: {url: $url, caBundle: $ca},
     rules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"], scope: "Namespaced"}],
     objectSelector: {matchLabels: {"kauditui.example/stamp": "yes"}},
     failurePolicy: $fp, sideEffects: "None", admissionReviewVersions: ["v1"], timeoutSeconds: 5}'
}
jq -n --arg name "$stamp_name" --argjson stamp "$(hook $stamp_name "https://127.0.0.1:$webhook_port/mutate" Fail)" \
  --argjson gone "$(hook $gone_mutate "https://127.0.0.1:$gone_port/mutate" Ignore)" '
  {apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: {name: $name},
   webhooks: [$stamp + {reinvocationPolicy: "Never"}, $gone]}' >"$dir/mutate.json"
jq -n --arg name "$gone_validate" --argjson gone "$(hook $gone_validate "https://127.0.0.1:$gone_port/validate" Ignore)" '
  {apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", metadata: {name: $name},
   webhooks: [$gone]}' >"$dir/gone.json"
act step=register-mutating-webhook user=kubernetes-admin verb=create resource=mutatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=$stamp_name code=201 -- kk "$dir" admin create -f "$dir/mutate.json"
act step=register-gone-webhook user=kubernetes-admin verb=create resource=validatingwebhookconfigurations \
  apiGroup=admissionregistration.k8s.io name=$gone_validate code=201 -- kk "$dir" admin create -f "$dir/gone.json"

# The policies: no configmap whose data says colour=blue (reason Forbidden:
# a 403), none whose colour is red (no reason: the apiserver answers 422
# Invalid). Bindings are told apart by a label of the configmap.
# vap NAME COLOUR REASON: a policy refusing configmaps of that colour.
vap() {
  jq -n --arg name "$1" --arg colour "$2" --arg reason "$3" '
    {apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicy", metadata: {name: $name},
     spec: {failurePolicy: "Fail",
       matchConstraints: {resourceRules: [{apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["configmaps"]}]},
       validations: [{expression: "!has(object.data) || !(\"colour\" in object.data) || object.data[\"colour\"] != \"\($colour)\"",
         message: "\($colour) configmaps are not allowed here"} + (if $reason == "" then {} else {reason: $reason} end)]}}'
}
vap=no-blue.kauditui.example
vap_red=no-red.kauditui.example
vap $vap blue Forbidden >"$dir/vap.json"
vap $vap_red red "" >"$dir/vap-red.json"
act step=register-policy user=kubernetes-admin verb=create resource=validatingadmissionpolicies \
  apiGroup=admissionregistration.k8s.io name=$vap code=201 -- kk "$dir" admin create -f "$dir/vap.json"
act step=register-policy-red user=kubernetes-admin verb=create resource=validatingadmissionpolicies \
  apiGroup=admissionregistration.k8s.io name=$vap_red code=201 -- kk "$dir" admin create -f "$dir/vap-red.json"
# binding NAME LABEL-VALUE ACTIONS-JSON [POLICY]
binding() {
  jq -n --arg name "$1" --arg vap "${4:-$vap}" --arg v "$2" --argjson actions "$3" '
    {apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingAdmissionPolicyBinding", metadata: {name: $name},
     spec: {policyName: $vap, validationActions: $actions,
       matchResources: {objectSelector: {matchLabels: {"kauditui.example/vap": $v}}}}}'
}
binding_audited=no-blue-audited.kauditui.example
binding_quiet=no-blue-quiet.kauditui.example
binding $binding_audited audited '["Deny","Audit"]' >"$dir/binding-audited.json"
binding $binding_quiet quiet '["Deny"]' >"$dir/binding-quiet.json"
binding $vap_red red '["Deny"]' $vap_red >"$dir/binding-red.json"
act step=bind-policy-audited user=kubernetes-admin verb=create resource=validatingadmissionpolicybindings \
  apiGroup=admissionregistration.k8s.io name=$binding_audited code=201 -- \
  kk "$dir" admin create -f "$dir/binding-audited.json"
act step=bind-policy-quiet user=kubernetes-admin verb=create resource=validatingadmissionpolicybindings \
  apiGroup=admissionregistration.k8s.io name=$binding_quiet code=201 -- \
  kk "$dir" admin create -f "$dir/binding-quiet.json"
act step=bind-policy-red user=kubernetes-admin verb=create resource=validatingadmissionpolicybindings \
  apiGroup=admissionregistration.k8s.io name=$vap_red code=201 -- \
  kk "$dir" admin create -f "$dir/binding-red.json"

# cm NAME LABEL-KEY LABEL-VALUE DATA-JSON: a configmap of the namespace.
cm() {
  jq -n --arg name "$1" --arg ns "$ns" --arg k "$2" --arg v "$3" --argjson data "$4" \
    '{apiVersion: "v1", kind: "ConfigMap", metadata: {name: $name, namespace: $ns, labels: {($k): $v}}, data: $data}'
}
cm flagged kauditui.example/deny yes '{"mode":"on"}' >"$dir/flagged.json"
cm blue-audited kauditui.example/vap audited '{"colour":"blue"}' >"$dir/blue-audited.json"
cm blue-quiet kauditui.example/vap quiet '{"colour":"blue"}' >"$dir/blue-quiet.json"
cm red kauditui.example/vap red '{"colour":"red"}' >"$dir/red.json"
cm settings kauditui.example/vap audited '{"colour":"green"}' >"$dir/settings.json"
cm stamped kauditui.example/stamp yes '{"mode":"on"}' >"$dir/stamped.json"
# the apiserver's informers pick the webhook and the policy up
until_ok 60 sh -c "\"\$0\" --kubeconfig=\"\$1\" create --dry-run=server -f \"\$2\" -o jsonpath='{.metadata.annotations.kauditui\\.example/stamped-by}' | grep -qx slow-webhook" \
  "$CLUSTER_BIN/kubectl" "$dir/harness.kubeconfig" "$dir/stamped.json"
until_refused 60 "$dir/flagged.json"
until_refused 60 "$dir/blue-audited.json"
until_refused 60 "$dir/blue-quiet.json"
until_refused 60 "$dir/red.json"

# --- pat's requests ----------------------------------------------------------------
act step=pat-create-configmap user=$pat verb=create resource=configmaps namespace=$ns name=settings code=201 -- \
  kk "$dir" pat create -f "$dir/settings.json"
act step=mutate-create-configmap user=$pat verb=create resource=configmaps namespace=$ns name=stamped code=201 -- \
  kk "$dir" pat create -f "$dir/stamped.json"
note mutate-create-configmap patchedBy=$stamp_name failedOpen=$gone_mutate,$gone_validate
act step=mutate-update-configmap user=$pat verb=patch resource=configmaps namespace=$ns name=stamped code=200 -- \
  kk "$dir" pat label configmap stamped -n $ns kauditui.example/round=two
note mutate-update-configmap patchedBy=$stamp_name failedOpen=$gone_mutate,$gone_validate
act step=webhook-deny-configmap user=$pat verb=create resource=configmaps namespace=$ns name=flagged code=403 -- \
  kk "$dir" pat create -f "$dir/flagged.json"
note webhook-deny-configmap refusedBy=webhook control=$webhook_name
act step=podsecurity-deny-pod user=$pat verb=create resource=pods namespace=$ns name=root-shell code=403 -- \
  kk "$dir" pat run root-shell -n $ns --image=registry.k8s.io/e2e-test-images/busybox:1.36.1-1 \
  --restart=Never -- sleep 3600
note podsecurity-deny-pod refusedBy=podsecurity control=restricted:latest
act step=policy-deny-audited user=$pat verb=create resource=configmaps namespace=$ns name=blue-audited code=403 -- \
  kk "$dir" pat create -f "$dir/blue-audited.json"
note policy-deny-audited refusedBy=policy control=$vap binding=$binding_audited
act step=policy-deny-quiet user=$pat verb=create resource=configmaps namespace=$ns name=blue-quiet code=403 -- \
  kk "$dir" pat create -f "$dir/blue-quiet.json"
note policy-deny-quiet refusedBy=policy control=$vap binding=$binding_quiet
act step=policy-invalid-red user=$pat verb=create resource=configmaps namespace=$ns name=red code=422 -- \
  kk "$dir" pat create -f "$dir/red.json"
note policy-invalid-red refusedBy=policy control=$vap_red binding=$vap_red
act step=quota-deny-service user=$pat verb=create resource=services namespace=$ns name=web code=403 -- \
  kk "$dir" pat create service clusterip web -n $ns --tcp=80:80
note quota-deny-service refusedBy=quota control=locked-quota
act step=rbac-deny-rolebinding user=$pat verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
  namespace=$ns name=pat-admin code=403 -- \
  kk "$dir" pat create rolebinding pat-admin -n $ns --clusterrole=admin --user=$pat
note rbac-deny-rolebinding refusedBy=rbac
# kubectl --as: the apiserver checks impersonate on users/kubernetes-admin first
act step=impersonate-deny user=$pat verb=list resource=pods namespace=$ns code=403 -- \
  kk "$dir" pat get pods -n $ns --as=kubernetes-admin
note impersonate-deny refusedBy=impersonation

sleep 1
cluster_stop "$dir" || true

# --- every refused step is one event of its code in the log ----------------------
# (an event names the object when the request did: not a list, nor kubectl's
# create rolebinding)
while read -r step; do
  a=$(jq -c --arg s "$step" 'select(.step == $s)' "$dir/actions.jsonl")
  n=$(jq -c --argjson a "$a" 'select(.stage == "ResponseComplete" and .verb == $a.verb
    and .user.username == $a.user and .objectRef.resource == $a.resource
    and .objectRef.namespace == $a.namespace and (.objectRef.name // $a.name) == $a.name
    and .responseStatus.code == $a.code)' "$dir/audit.log" | wc -l)
  [ "$n" -eq 1 ] || fail "step $step: $n events of code $(jq .code <<<"$a"), want 1"
done < <(jq -r 'select(.code >= 400) | .step' "$dir/actions.jsonl")

# --- copy out -------------------------------------------------------------------
cp "$dir/audit.log" "$out/audit.log"
chmod 0644 "$out/audit.log"
jq -s --slurpfile notes "$dir/notes.jsonl" --arg version "$("$CLUSTER_BIN/kube-apiserver" --version | awk '{print $2}')" '{
  generatedBy: "hack/gen-admission.sh",
  kubernetesVersion: $version,
  policy: "hack/policy-answers.yaml",
  actions: map(del(.kubectlExit, .stdout) | . as $a
    | . + ([$notes[] | select(.step == $a.step) | del(.step)] | add // {}))}' "$dir/actions.jsonl" >"$out/expected.json"
echo "gen-admission: wrote $out ($(wc -l <"$out/audit.log") audit lines) in $((SECONDS - started))s"
