# shellcheck shell=bash
# hack/traffic.sh: the scripted traffic of kauditui's testdata harness, run
# with the real kubectl against a cluster started by hack/lib/cluster.sh.
# Source it after cluster.sh. Every scripted request goes through `act`, which
# runs it and appends what was done (who, verb, resource, object, expected
# HTTP code, time window) as one JSON line to $TRAFFIC_ACTIONS: the ground
# truth comes from here, never from reading the audit log.
#
#   traffic_identities DIR   certificates and kubeconfigs of the people below
#   traffic_phase1 DIR       namespace, RBAC, service account + token, CRD, deployment
#   traffic_phase2 DIR       watch, scale, patch, update, configmap, secret, 403s,
#                            401, impersonation, pod + exec
#   traffic_phase3 DIR       delete the deployment, delete the namespace
#   traffic_poll_until DIR CMD...  the noisy poller (filler) until CMD succeeds
#
# Identities (usernames as the apiserver sees them):
#   kubernetes-admin                         client cert, O=system:masters
#   erin-editor                              client cert, O=kubyk:developers; edit in team-a
#   lou-viewer                               client cert, O=kubyk:interns; view in team-a
#   system:serviceaccount:team-a:kubyk-bot   token from `kubectl create token`
#   (none)                                   a bearer token nobody issued: 401

TRAFFIC_NS=team-a
TRAFFIC_ADMIN=kubernetes-admin
TRAFFIC_EDITOR=erin-editor
TRAFFIC_VIEWER=lou-viewer
TRAFFIC_BOT=system:serviceaccount:team-a:kubyk-bot
TRAFFIC_ACTIONS=${TRAFFIC_ACTIONS:-/dev/null}

_traffic_log() { echo "traffic: $*" >&2; }
_traffic_now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }

# kk DIR IDENTITY KUBECTL-ARGS...: kubectl as that identity.
kk() {
  local dir=$1 who=$2
  shift 2
  "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/$who.kubeconfig" --cache-dir="$dir/kubectl-cache" "$@"
}

# act KEY=VALUE... -- COMMAND...: runs one scripted request and records it.
# Keys: step user impersonatedUser verb resource subresource apiGroup
# namespace name code (the HTTP code expected), and stdout=FILE to keep the
# command's output (otherwise it goes to the traffic log). A 2xx code means the command
# must succeed, any other code that it must fail; otherwise act fails.
act() {
  local -A a=([step]="" [user]="" [impersonatedUser]="" [verb]="" [resource]="" [subresource]=""
    [apiGroup]="" [namespace]="" [name]="" [code]="" [stdout]="")
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    a[${1%%=*}]=${1#*=}
    shift
  done
  shift
  local from to rc=0
  from=$(_traffic_now)
  echo "+ [${a[step]}] $*" >>"$TRAFFIC_DIR_LOG"
  if [ -n "${a[stdout]}" ]; then
    "$@" >"${a[stdout]}" 2>>"$TRAFFIC_DIR_LOG" || rc=$?
  else
    "$@" >>"$TRAFFIC_DIR_LOG" 2>&1 || rc=$?
  fi
  to=$(_traffic_now)
  jq -nc --arg step "${a[step]}" --arg user "${a[user]}" --arg imp "${a[impersonatedUser]}" \
    --arg verb "${a[verb]}" --arg resource "${a[resource]}" --arg sub "${a[subresource]}" \
    --arg group "${a[apiGroup]}" --arg ns "${a[namespace]}" --arg name "${a[name]}" \
    --argjson code "${a[code]}" --arg from "$from" --arg to "$to" --argjson exit "$rc" \
    '{step: $step, user: $user, impersonatedUser: $imp, verb: $verb, resource: $resource,
      subresource: $sub, apiGroup: $group, namespace: $ns, name: $name, code: $code,
      from: $from, to: $to, kubectlExit: $exit}' >>"$TRAFFIC_ACTIONS"
  if [ "${a[code]}" -ge 200 ] && [ "${a[code]}" -lt 300 ]; then
    [ "$rc" -eq 0 ] || { _traffic_log "step ${a[step]} failed (exit $rc); see $TRAFFIC_DIR_LOG"; return 1; }
  else
    [ "$rc" -ne 0 ] || { _traffic_log "step ${a[step]} succeeded but should have got ${a[code]}"; return 1; }
  fi
}

# traffic_identities DIR: the people of the traffic (the admin exists already).
traffic_identities() {
  local dir=$1
  TRAFFIC_DIR_LOG=$dir/logs/traffic.log
  cluster_user "$dir" erin-editor "$TRAFFIC_EDITOR" kubyk:developers &&
    cluster_user "$dir" lou-viewer "$TRAFFIC_VIEWER" kubyk:interns &&
    cluster_token_user "$dir" bad-token "kubyk-not-a-real-token-7f3a9c"
}

# traffic_crd FILE: a CustomResourceDefinition with a large schema, as real
# operators ship: its create is logged (level Request) as lines over 64 KiB,
# and in the CRI log as several partial records.
traffic_crd() {
  jq -n '
    def prop($i): {("setting" + ($i|tostring|("000"+.)[-3:])): {
      type: "string",
      description: ("Setting \($i) of the widget. Operators ship schemas with long descriptions like this one, "
        + "which is why creating a CustomResourceDefinition makes one of the largest audit events a cluster writes.")}};
    {apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
     metadata: {name: "widgets.kubyk.example"},
     spec: {group: "kubyk.example", scope: "Namespaced",
       names: {plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList"},
       versions: [{name: "v1", served: true, storage: true,
         schema: {openAPIV3Schema: {type: "object", properties: {
           spec: {type: "object", properties: ([range(1; 281)] | map(prop(.)) | add)}}}}}]}}' >"$1"
}

traffic_phase1() {
  local dir=$1 ns=$TRAFFIC_NS
  TRAFFIC_DIR_LOG=$dir/logs/traffic.log
  act step=create-namespace user=$TRAFFIC_ADMIN verb=create resource=namespaces name=$ns code=201 -- \
    kk "$dir" admin create namespace "$ns" || return 1
  act step=bind-editor user=$TRAFFIC_ADMIN verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
    namespace=$ns name=erin-editor-edit code=201 -- \
    kk "$dir" admin create rolebinding erin-editor-edit -n "$ns" --clusterrole=edit --user=$TRAFFIC_EDITOR || return 1
  act step=bind-viewer user=$TRAFFIC_ADMIN verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
    namespace=$ns name=lou-viewer-view code=201 -- \
    kk "$dir" admin create rolebinding lou-viewer-view -n "$ns" --clusterrole=view --user=$TRAFFIC_VIEWER || return 1
  act step=create-serviceaccount user=$TRAFFIC_ADMIN verb=create resource=serviceaccounts namespace=$ns \
    name=kubyk-bot code=201 -- kk "$dir" admin create serviceaccount kubyk-bot -n "$ns" || return 1
  act step=create-bot-role user=$TRAFFIC_ADMIN verb=create resource=roles apiGroup=rbac.authorization.k8s.io \
    namespace=$ns name=kubyk-bot-reader code=201 -- \
    kk "$dir" admin create role kubyk-bot-reader -n "$ns" --verb=get,list,watch --resource=pods,configmaps || return 1
  act step=bind-bot user=$TRAFFIC_ADMIN verb=create resource=rolebindings apiGroup=rbac.authorization.k8s.io \
    namespace=$ns name=kubyk-bot-reader code=201 -- \
    kk "$dir" admin create rolebinding kubyk-bot-reader -n "$ns" --role=kubyk-bot-reader \
    --serviceaccount="$ns:kubyk-bot" || return 1
  act step=create-token user=$TRAFFIC_ADMIN verb=create resource=serviceaccounts subresource=token \
    namespace=$ns name=kubyk-bot code=201 stdout="$dir/kubyk-bot.token" -- \
    kk "$dir" admin create token kubyk-bot -n "$ns" --duration=2h || return 1
  cluster_token_user "$dir" kubyk-bot "$(cat "$dir/kubyk-bot.token")" || return 1
  traffic_crd "$dir/widgets-crd.json"
  act step=install-crd user=$TRAFFIC_ADMIN verb=create resource=customresourcedefinitions \
    apiGroup=apiextensions.k8s.io name=widgets.kubyk.example code=201 -- \
    kk "$dir" admin create -f "$dir/widgets-crd.json" || return 1
  act step=create-deployment user=$TRAFFIC_EDITOR verb=create resource=deployments apiGroup=apps namespace=$ns \
    name=kubyk-web code=201 -- \
    kk "$dir" erin-editor create deployment kubyk-web -n "$ns" --image=registry.k8s.io/nginx-slim:0.27 || return 1
}

traffic_phase2() {
  local dir=$1 ns=$TRAFFIC_NS
  TRAFFIC_DIR_LOG=$dir/logs/traffic.log
  # A watch that sees the scale below: the editor keeps an eye on deployments.
  act step=watch-deployments user=$TRAFFIC_EDITOR verb=watch resource=deployments apiGroup=apps namespace=$ns \
    code=200 -- kk "$dir" erin-editor get deployments -n "$ns" --watch-only --request-timeout=4s &
  local watcher=$!
  sleep 1.5
  act step=scale-deployment user=$TRAFFIC_EDITOR verb=patch resource=deployments subresource=scale apiGroup=apps \
    namespace=$ns name=kubyk-web code=200 -- \
    kk "$dir" erin-editor scale deployment kubyk-web -n "$ns" --replicas=3 || return 1
  wait "$watcher" || return 1
  act step=patch-deployment user=$TRAFFIC_EDITOR verb=patch resource=deployments apiGroup=apps namespace=$ns \
    name=kubyk-web code=200 -- \
    kk "$dir" erin-editor patch deployment kubyk-web -n "$ns" --type=merge \
    -p '{"spec":{"template":{"metadata":{"annotations":{"kubyk.example/rollout":"2"}}}}}' || return 1
  act step=get-deployment user=$TRAFFIC_EDITOR verb=get resource=deployments apiGroup=apps namespace=$ns \
    name=kubyk-web code=200 stdout="$dir/kubyk-web.json" -- \
    kk "$dir" erin-editor get deployment kubyk-web -n "$ns" -o json || return 1
  jq '.spec.template.spec.containers[0].image = "registry.k8s.io/nginx-slim:0.28"' "$dir/kubyk-web.json" >"$dir/kubyk-web-new.json"
  act step=update-deployment user=$TRAFFIC_EDITOR verb=update resource=deployments apiGroup=apps namespace=$ns \
    name=kubyk-web code=200 -- kk "$dir" erin-editor replace -f "$dir/kubyk-web-new.json" || return 1
  act step=create-configmap user=$TRAFFIC_EDITOR verb=create resource=configmaps namespace=$ns name=kubyk-config \
    code=201 -- kk "$dir" erin-editor create configmap kubyk-config -n "$ns" --from-literal=mode=blue || return 1
  kk "$dir" erin-editor create configmap kubyk-config -n "$ns" --from-literal=mode=green \
    --dry-run=client -o json >"$dir/kubyk-config.json" || return 1
  act step=update-configmap user=$TRAFFIC_EDITOR verb=update resource=configmaps namespace=$ns name=kubyk-config \
    code=200 -- kk "$dir" erin-editor replace -f "$dir/kubyk-config.json" || return 1
  act step=create-secret user=$TRAFFIC_EDITOR verb=create resource=secrets namespace=$ns name=kubyk-db-password \
    code=201 -- kk "$dir" erin-editor create secret generic kubyk-db-password -n "$ns" \
    --from-literal=password=correct-horse-battery-staple || return 1
  act step=read-secret user=$TRAFFIC_ADMIN verb=get resource=secrets namespace=$ns name=kubyk-db-password \
    code=200 -- kk "$dir" admin get secret kubyk-db-password -n "$ns" -o yaml || return 1
  act step=viewer-list-pods user=$TRAFFIC_VIEWER verb=list resource=pods namespace=$ns code=200 -- \
    kk "$dir" lou-viewer get pods -n "$ns" || return 1
  act step=viewer-read-secret user=$TRAFFIC_VIEWER verb=get resource=secrets namespace=$ns name=kubyk-db-password \
    code=403 -- kk "$dir" lou-viewer get secret kubyk-db-password -n "$ns" || return 1
  act step=viewer-delete-deployment user=$TRAFFIC_VIEWER verb=delete resource=deployments apiGroup=apps \
    namespace=$ns name=kubyk-web code=403 -- kk "$dir" lou-viewer delete deployment kubyk-web -n "$ns" || return 1
  act step=bad-token user="" verb=list resource=pods namespace=$ns code=401 -- \
    kk "$dir" bad-token get pods -n "$ns" || return 1
  act step=bot-list-pods user=$TRAFFIC_BOT verb=list resource=pods namespace=$ns code=200 -- \
    kk "$dir" kubyk-bot get pods -n "$ns" || return 1
  act step=bot-read-configmap user=$TRAFFIC_BOT verb=get resource=configmaps namespace=$ns name=kubyk-config \
    code=200 -- kk "$dir" kubyk-bot get configmap kubyk-config -n "$ns" || return 1
  act step=bot-delete-configmap user=$TRAFFIC_BOT verb=delete resource=configmaps namespace=$ns name=kubyk-config \
    code=403 -- kk "$dir" kubyk-bot delete configmap kubyk-config -n "$ns" || return 1
  act step=impersonate-editor user=$TRAFFIC_ADMIN impersonatedUser=$TRAFFIC_EDITOR verb=list resource=deployments \
    apiGroup=apps namespace=$ns code=200 -- kk "$dir" admin get deployments -n "$ns" --as=$TRAFFIC_EDITOR || return 1
  act step=create-pod user=$TRAFFIC_ADMIN verb=create resource=pods namespace=$ns name=kubyk-debug code=201 -- \
    kk "$dir" admin run kubyk-debug -n "$ns" --image=registry.k8s.io/e2e-test-images/busybox:1.36.1-1 \
    --restart=Never -- sleep 3600 || return 1
  # No kubelet here: the pod is never scheduled and the exec is refused (400), but
  # audited. kubectl tries WebSockets first (verb get), then falls back to SPDY
  # (a POST, verb create): two pods/exec requests; the action is the first.
  act step=exec-pod user=$TRAFFIC_ADMIN verb=get resource=pods subresource=exec namespace=$ns name=kubyk-debug \
    code=400 -- kk "$dir" admin exec kubyk-debug -n "$ns" -- cat /etc/kubyk/db-password || return 1
}

traffic_phase3() {
  local dir=$1 ns=$TRAFFIC_NS
  TRAFFIC_DIR_LOG=$dir/logs/traffic.log
  act step=delete-deployment user=$TRAFFIC_EDITOR verb=delete resource=deployments apiGroup=apps namespace=$ns \
    name=kubyk-web code=200 -- kk "$dir" erin-editor delete deployment kubyk-web -n "$ns" || return 1
  # a namespace's own objectRef carries namespace=<its name> on delete (not on create)
  act step=delete-namespace user=$TRAFFIC_ADMIN verb=delete resource=namespaces namespace=$ns name=$ns code=200 -- \
    kk "$dir" admin delete namespace "$ns" --wait=false || return 1
}

# traffic_wait_namespace_gone DIR [SECONDS]: waits (unaudited, as the
# harness identity) until the namespace controller has finished.
traffic_wait_namespace_gone() {
  local dir=$1 limit=${2:-60} start=$SECONDS
  cluster_env "$dir"
  while [ $((SECONDS - start)) -lt "$limit" ]; do
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$dir/pki/ca.crt" \
      --cert "$dir/pki/harness.crt" --key "$dir/pki/harness.key" \
      "$CLUSTER_SERVER/api/v1/namespaces/$TRAFFIC_NS")
    [ "$code" = 404 ] && return 0
    sleep 0.5
  done
  _traffic_log "namespace $TRAFFIC_NS still there after ${limit}s"
  return 1
}

# traffic_poll_until DIR CMD...: the kubyk-bot's poller, a noisy client that
# lists the pods of team-a over and over (25 requests per connection), until
# CMD succeeds. Adds the number of requests it made to DIR/polls.
traffic_poll_until() {
  local dir=$1
  shift
  cluster_env "$dir"
  local url=$CLUSTER_SERVER/api/v1/namespaces/$TRAFFIC_NS/pods token n=0
  token=$(cat "$dir/kubyk-bot.token")
  local -a urls=()
  for _ in $(seq 1 25); do urls+=(-o /dev/null "$url"); done
  until "$@"; do
    if [ "$n" -ge 5000 ]; then _traffic_log "poller gave up after $n requests"; return 1; fi
    local codes
    codes=$(curl -s --cacert "$dir/pki/ca.crt" -H "Authorization: Bearer $token" \
      -A "kubyk-bot-poller/1.4" -w '%{http_code}\n' "${urls[@]}")
    if [ "$(grep -c '^200$' <<<"$codes")" -ne 25 ]; then
      _traffic_log "poller got unexpected codes: $(sort <<<"$codes" | uniq -c | tr '\n' ' ')"
      return 1
    fi
    n=$((n + 25))
  done
  echo $(($(cat "$dir/polls" 2>/dev/null || echo 0) + n)) >"$dir/polls"
}
