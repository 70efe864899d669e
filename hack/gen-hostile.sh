#!/usr/bin/env bash
# Writes testdata/hostile/: what a real kube-apiserver logs when clients put
# terminal escape sequences where kauditui draws text. Authenticated and
# anonymous clients choose their user agent, the X-Forwarded-For part of
# sourceIPs, and (on a 404) the object name and URI; the apiserver logs them as
# sent (JSON-escaped). kauditui must never let them reach a terminal raw.
#
#   audit.log        the audit log of a run with only these requests
#   expected.json    what each request carried, for the tests
#
# usage: hack/gen-hostile.sh [--out DIR]   (default testdata/hostile)
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$repo/testdata/hostile
[ "${1:-}" = --out ] && out=$2
mkdir -p "$out"

# shellcheck source-path=SCRIPTDIR
source "$repo/hack/lib/cluster.sh"
cluster_bin
dir=$(mktemp -d)
cluster_trap "$dir"
cluster_certs "$dir"
cluster_start_etcd "$dir"
cluster_start_apiserver "$dir" \
  --audit-policy-file="$repo/hack/policy-seed-v1.yaml" \
  --audit-log-path="$dir/audit.log"
cluster_wait_ready "$dir"
cluster_env "$dir"

# HTTP header values cannot carry C0 controls (ESC, BEL): Go's HTTP server
# refuses them before the apiserver sees the request. Bytes >= 0x80 pass, so
# a header can carry C1 controls as UTF-8 (U+009B is CSI, an escape sequence
# on terminals that honour 8-bit controls) and bidi overrides (U+202E).
csi=$'\u009b'
agent="kubyk-evil/1.0 ${csi}2J${csi}31mRED"$'\u202e'"exe.txt"
xff="6.6.6.6${csi}8m"
# curl as the admin (client cert), so the requests pass authentication and are logged at level Request.
admin() {
  curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$dir/pki/ca.crt" \
    --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" "$@"
}
code1=$(admin -A "$agent" -H "X-Forwarded-For: $xff" "$CLUSTER_SERVER/api/v1/namespaces/default/configmaps/kubyk-missing")
# A name with a real ESC, percent-encoded in the URI: the 404 logs it decoded in objectRef.name.
code2=$(admin -A "$agent" "$CLUSTER_SERVER/api/v1/namespaces/default/configmaps/evil%1B%5B2Jname")
# Anonymous: no credentials, still logged (401), agent as sent.
code3=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$dir/pki/ca.crt" \
  -H "Authorization: Bearer not-a-token" -A "$agent" "$CLUSTER_SERVER/api/v1/secrets")

sleep 1
cluster_stop "$dir" || true  # a stopped process reports its signal (143)
cp "$dir/audit.log" "$out/audit.log"
jq -n --arg agent "$agent" --arg xff "$xff" --argjson c1 "$code1" --argjson c2 "$code2" --argjson c3 "$code3" '{
  generatedBy: "hack/gen-hostile.sh",
  userAgent: $agent,
  forwardedFor: $xff,
  requests: [
    {what: "admin GET of a missing configmap with a hostile agent and X-Forwarded-For", code: $c1},
    {what: "admin GET of a configmap whose name holds ESC [2J", name: "evil\u001b[2Jname", code: $c2},
    {what: "bad token with a hostile agent", code: $c3}
  ]}' > "$out/expected.json"
echo "gen-hostile: wrote $out ($(wc -l < "$out/audit.log") audit lines; codes $code1 $code2 $code3)"
