#!/usr/bin/env bash
# Writes testdata/trust/: two things a real kube-apiserver does that a reader of
# audit logs must not trust blindly.
#
#   reused-id/audit.log        clients choose their auditID: kube-apiserver takes
#   reused-id/expected.json    the Audit-ID request header as the request's
#                              auditID. One ID sent on two requests a second
#                              apart (a GET, then a DELETE), another on two
#                              requests sent at the same time (a GET and a
#                              LIST), a third on a WATCH and a GET sent while
#                              the watch is open (their stages interleave).
#   json-logging/kube-apiserver.log
#   json-logging/expected.json the apiserver with --logging-format=json and
#                              --audit-log-path=- (stdout mode), stdout and
#                              stderr captured on one file descriptor as
#                              `kubectl logs` interleaves them: audit events and
#                              the apiserver's own JSON log lines in one file.
#
# expected.json says what the script did (requests, codes, order); the few
# numbers read back from the logs are measured with jq and named so.
#
# usage: hack/gen-trust.sh [--out DIR]   (default testdata/trust)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/testdata/trust
[ "${1:-}" = --out ] && out=$2
mkdir -p "$out/reused-id" "$out/json-logging"
policy=$repo/hack/policy-seed-v1.yaml # Metadata for secrets and configmaps, both stages, admin included
started=$SECONDS

# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
cluster_bin
version=$("$CLUSTER_BIN/kube-apiserver" --version | awk '{print $2}')
dir=$(mktemp -d)
cluster_trap "$dir"
cluster_certs "$dir"
cluster_start_etcd "$dir"
cluster_env "$dir"
now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }

# --- 1. reused-id ----------------------------------------------------------------
cluster_start_apiserver "$dir" --audit-policy-file="$policy" --audit-log-path="$dir/audit.log"
cluster_wait_ready "$dir"

# curl as the admin (client cert); prints "<HTTP code> <Audit-Id response header>".
admin() {
  curl -sS -o /dev/null -w '%{http_code} %header{audit-id}\n' --max-time 10 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" "$@"
}
ns=default cm=kubyk-trust-config secret=kubyk-trust-secret
cms=$CLUSTER_SERVER/api/v1/namespaces/$ns/configmaps
secrets=$CLUSTER_SERVER/api/v1/namespaces/$ns/secrets
id1=0dd1e7d0-0000-4000-8000-000000000001 # sent on two requests a second apart
id2=0dd1e7d0-0000-4000-8000-000000000002 # sent on two requests at the same time
id3=0dd1e7d0-0000-4000-8000-000000000003 # a watch and a GET that overlap by construction

# Setup, without the header: the apiserver picks these auditIDs.
read -r setup_cm_code _ < <(admin -X POST -H 'Content-Type: application/json' --data-binary \
  "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"$cm\"},\"data\":{\"k\":\"v\"}}" "$cms")
read -r setup_secret_code _ < <(admin -X POST -H 'Content-Type: application/json' --data-binary \
  "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"$secret\"},\"stringData\":{\"password\":\"not-a-real-one\"}}" "$secrets")

# 1: GET of the configmap with id1.
sent1=$(now)
read -r code1 echo1 < <(admin -H "Audit-ID: $id1" "$cms/$cm")
sleep 1
# 2: DELETE of the secret with the same id1, about a second later.
sent2=$(now)
read -r code2 echo2 < <(admin -X DELETE -H "Audit-ID: $id1" "$secrets/$secret")
sleep 1
# 3 and 4: started together with id2, a GET of the configmap and a LIST of
# secrets. Whether their stages interleave in the log depends on timing.
sent34=$(now)
admin -H "Audit-ID: $id2" "$cms/$cm" >"$dir/req3" &
p3=$!
admin -H "Audit-ID: $id2" "$secrets" >"$dir/req4" &
p4=$!
wait "$p3"
wait "$p4"
read -r code3 echo3 <"$dir/req3"
read -r code4 echo4 <"$dir/req4"
sleep 1
# 5 and 6 with id3: a WATCH of configmaps that the server ends after 2 s, and
# half a second into it a GET of the configmap: the GET's stages land between
# the watch's ResponseStarted and ResponseComplete whatever the timing.
sent5=$(now)
admin -H "Audit-ID: $id3" "$cms?watch=1&timeoutSeconds=2" >"$dir/req5" &
p5=$!
sleep 0.5
sent6=$(now)
read -r code6 echo6 < <(admin -H "Audit-ID: $id3" "$cms/$cm")
wait "$p5"
read -r code5 echo5 <"$dir/req5"

sleep 1
cluster_stop_one "$dir" kube-apiserver
cp "$dir/audit.log" "$out/reused-id/audit.log"
chmod 644 "$out/reused-id/audit.log"
log1=$out/reused-id/audit.log
# Measured on the log with jq: per shared ID, its lines in log order, and
# whether they interleave (the verb changes more than once along them).
jq -c --arg id1 "$id1" --arg id2 "$id2" --arg id3 "$id3" \
  'select(.auditID == $id1 or .auditID == $id2 or .auditID == $id3) |
   {auditID, stage, verb, resource: .objectRef.resource, name: .objectRef.name,
    code: .responseStatus.code, requestReceivedTimestamp, stageTimestamp}' "$log1" |
  jq -s -c 'group_by(.auditID) | map({key: .[0].auditID, value: map(del(.auditID))}) | from_entries' \
    >"$dir/byid.json"
jq -n \
  --arg generatedBy hack/gen-trust.sh --arg version "$version" --arg policy hack/policy-seed-v1.yaml \
  --arg id1 "$id1" --arg id2 "$id2" --arg id3 "$id3" --arg ns "$ns" --arg cm "$cm" --arg secret "$secret" \
  --argjson scm "$setup_cm_code" --argjson ssec "$setup_secret_code" \
  --arg sent1 "$sent1" --arg sent2 "$sent2" --arg sent34 "$sent34" --arg sent5 "$sent5" --arg sent6 "$sent6" \
  --argjson c1 "$code1" --argjson c2 "$code2" --argjson c3 "$code3" \
  --argjson c4 "$code4" --argjson c5 "$code5" --argjson c6 "$code6" \
  --arg e1 "$echo1" --arg e2 "$echo2" --arg e3 "$echo3" --arg e4 "$echo4" --arg e5 "$echo5" --arg e6 "$echo6" \
  --slurpfile byid "$dir/byid.json" \
  --argjson total "$(jq -c . "$log1" | wc -l)" '
  $byid[0] as $b |
  def interleaved($l): [$l[].verb] as $v | ([range(1; $v | length) | select($v[.] != $v[. - 1])] | length) > 1;
  {
  generatedBy: $generatedBy,
  kubeApiserverVersion: $version,
  policy: $policy,
  user: "kubernetes-admin",
  header: "Audit-ID",
  sharedIds: {sequential: $id1, parallel: $id2, overlapping: $id3},
  setup: [
    {what: "create the configmap, no Audit-ID header", verb: "create", resource: "configmaps", namespace: $ns, name: $cm, code: $scm},
    {what: "create the secret, no Audit-ID header", verb: "create", resource: "secrets", namespace: $ns, name: $secret, code: $ssec}
  ],
  requests: [
    {order: 1, auditID: $id1, method: "GET", verb: "get", resource: "configmaps", namespace: $ns, name: $cm,
     code: $c1, parallel: false, sentAfter: $sent1, auditIdEchoed: $e1},
    {order: 2, auditID: $id1, method: "DELETE", verb: "delete", resource: "secrets", namespace: $ns, name: $secret,
     code: $c2, parallel: false, sentAfter: $sent2, auditIdEchoed: $e2},
    {order: 3, auditID: $id2, method: "GET", verb: "get", resource: "configmaps", namespace: $ns, name: $cm,
     code: $c3, parallel: true, sentAfter: $sent34, auditIdEchoed: $e3},
    {order: 4, auditID: $id2, method: "GET", verb: "list", resource: "secrets", namespace: $ns, name: null,
     code: $c4, parallel: true, sentAfter: $sent34, auditIdEchoed: $e4},
    {order: 5, auditID: $id3, method: "GET", verb: "watch", resource: "configmaps", namespace: $ns, name: null,
     code: $c5, parallel: true, sentAfter: $sent5, auditIdEchoed: $e5, query: "watch=1&timeoutSeconds=2"},
    {order: 6, auditID: $id3, method: "GET", verb: "get", resource: "configmaps", namespace: $ns, name: $cm,
     code: $c6, parallel: true, sentAfter: $sent6, auditIdEchoed: $e6}
  ],
  notes: ("orders 3 and 4 were started together (curl ... & curl ... & wait); order 6 was sent 0.5 s after order 5 " +
    "(a watch the server ends after 2 s) while it was still open; sentAfter is the UTC time taken just before " +
    "sending; code and auditIdEchoed are the HTTP code and Audit-Id response header curl saw"),
  linesWithIdMeasuredByJq: {($id1): ($b[$id1] | length), ($id2): ($b[$id2] | length), ($id3): ($b[$id3] | length)},
  interleavedMeasuredByJq: {($id1): interleaved($b[$id1]), ($id2): interleaved($b[$id2]), ($id3): interleaved($b[$id3])},
  auditLinesMeasuredByJq: $total,
  linesInLogOrderMeasuredByJq: $b
}' >"$out/reused-id/expected.json"
echo "gen-trust: reused-id: codes setup $setup_cm_code $setup_secret_code, requests $code1 $code2 $code3 $code4 $code5 $code6;" \
  "lines per shared ID and interleaved: $(jq -c '[.linesWithIdMeasuredByJq, .interleavedMeasuredByJq]' "$out/reused-id/expected.json")"

# --- 2. json-logging ---------------------------------------------------------------
# classify FILE: counts of the lines of FILE read with jq: audit events (kind
# Event), JSON log lines (objects with ts and msg), other JSON, and non-JSON.
classify() {
  jq -cR 'fromjson? // "\u0000not-json" |
    if type == "object" and .kind == "Event" then "auditEvents"
    elif type == "object" and has("ts") and has("msg") then "jsonLogLines"
    elif type == "string" and . == "\u0000not-json" then "notJson"
    else "otherJson" end' "$1" |
    jq -s -c '{lines: length, auditEvents: 0, jsonLogLines: 0, otherJson: 0, notJson: 0} +
      (group_by(.) | map({(.[0]): length}) | add // {})'
}
jsonflags=(--audit-policy-file="$policy" --audit-log-path=- --logging-format=json -v=2)
jsonlog=$dir/logs/json-logging.log
CLUSTER_APISERVER_STDOUT=$jsonlog CLUSTER_APISERVER_STDERR=$jsonlog \
  cluster_start_apiserver "$dir" "${jsonflags[@]}"
cluster_wait_ready "$dir"
# Startup at -v=2 is most of the file; raise the verbosity to 3 now (the
# apiserver's /debug/flags/v, on with --profiling, the default) so each request
# also gets an httplog JSON line ("msg":"HTTP", with "audit-ID") among the events.
read -r vcode _ < <(admin -X PUT --data-binary 3 "$CLUSTER_SERVER/debug/flags/v")
k() { "$CLUSTER_BIN/kubectl" --kubeconfig="$dir/admin.kubeconfig" --cache-dir="$dir/kube-cache" "$@" >/dev/null 2>&1; }
cmds=(
  "get namespaces"
  "create configmap kubyk-json-demo -n default --from-literal=k=v"
  "get configmap kubyk-json-demo -n default -o yaml"
  "get configmap kubyk-missing -n default"
  "delete configmap kubyk-json-demo -n default"
)
results=$(jq -n -c --argjson code "$vcode" '[{command: "curl -X PUT --data-binary 3 /debug/flags/v (as the admin)", code: $code}]')
for c in "${cmds[@]}"; do
  rc=0
  # shellcheck disable=SC2086 # the command's words
  k $c || rc=$?
  results=$(jq -c --arg cmd "kubectl $c" --argjson rc "$rc" '. + [{command: $cmd, exit: $rc}]' <<<"$results")
done
sleep 1
cluster_stop_one "$dir" kube-apiserver
cp "$jsonlog" "$out/json-logging/kube-apiserver.log"
log2=$out/json-logging/kube-apiserver.log

# Which stream do the JSON log lines go to? Two short restarts with stdout and
# stderr in separate files: the default, and --log-json-split-stream (alpha).
streamcheck() {
  local name=$1
  shift
  CLUSTER_APISERVER_STDOUT=$dir/logs/$name.stdout CLUSTER_APISERVER_STDERR=$dir/logs/$name.stderr \
    cluster_start_apiserver "$dir" "${jsonflags[@]}" "$@"
  cluster_wait_ready "$dir"
  k get namespaces
  sleep 1
  cluster_stop_one "$dir" kube-apiserver
  jq -n -c --argjson o "$(classify "$dir/logs/$name.stdout")" --argjson e "$(classify "$dir/logs/$name.stderr")" \
    --arg flags "$*" '{extraFlags: $flags, stdout: $o, stderr: $e}' >"$dir/streams-$name.json"
}
streamcheck default
streamcheck split --feature-gates=LoggingAlphaOptions=true --log-json-split-stream

jq -n \
  --arg generatedBy hack/gen-trust.sh --arg version "$version" \
  --argjson flags "$(printf '%s\n' "${jsonflags[@]}" | sed "s|$repo/||" | jq -R . | jq -s -c .)" \
  --argjson commands "$results" \
  --argjson counts "$(classify "$log2")" \
  --arg example "$(jq -cR 'fromjson? | select(type == "object" and has("ts") and has("msg") and (.msg | startswith("FLAG:") | not))' "$log2" | head -n 1)" \
  --arg first "$(head -n 1 "$log2")" \
  --arg httplog "$(jq -cR 'fromjson? | select(type == "object" and .msg == "HTTP" and (.userAgent // "" | startswith("kubectl/")))' "$log2" | head -n 1)" \
  --argjson nhttp "$(jq -cR 'fromjson? | select(type == "object" and .msg == "HTTP")' "$log2" | wc -l)" \
  --argjson nhttpev "$(jq -rR 'fromjson? | select(type == "object") | if .kind == "Event" then "E \(.auditID)" elif .msg == "HTTP" then "H \(.["audit-ID"])" else empty end' "$log2" |
    awk '$1 == "E" { e[$2] = 1 } $1 == "H" { h[$2] = 1 } END { n = 0; for (id in h) if (id in e) n++; print n }')" \
  --slurpfile sdef "$dir/streams-default.json" --slurpfile salpha "$dir/streams-split.json" '{
  generatedBy: $generatedBy,
  kubeApiserverVersion: $version,
  apiserverFlags: $flags,
  verbosity: "-v=2 at startup, 3 from the first command on (PUT /debug/flags/v)",
  capture: "stdout and stderr of kube-apiserver on one file descriptor (>file 2>&1, O_APPEND): lines in the order written, as kubectl logs interleaves them",
  commands: $commands,
  linesMeasuredByJq: $counts,
  exampleJsonLogLine: $example,
  firstLine: $first,
  exampleHttplogLine: $httplog,
  httplogLinesMeasuredByJq: $nhttp,
  httplogAuditIdsAlsoOnAuditEventsMeasuredByJq: $nhttpev,
  streamsMeasuredByJq: {
    note: "two extra short runs with the same flags, stdout and stderr in separate files (not kept), one kubectl get namespaces each",
    default: $sdef[0],
    splitStream: $salpha[0]
  }
}' >"$out/json-logging/expected.json"
echo "gen-trust: json-logging: $(jq -c .linesMeasuredByJq "$out/json-logging/expected.json")"

cluster_stop "$dir"
rm -rf "$dir"
for f in "$out"/reused-id/audit.log "$out"/json-logging/kube-apiserver.log; do
  size=$(stat -c %s "$f")
  [ "$size" -le 307200 ] || echo "gen-trust: warning: $f is $size bytes (over 300 KB)" >&2
done
echo "gen-trust: wrote $out in $((SECONDS - started))s"
