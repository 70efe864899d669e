#!/usr/bin/env bash
# hack/lib/groundtruth.sh OUT FILE-ACTIONS STDOUT-ACTIONS POLLS: prints
# testdata/ground-truth.json. Called by hack/gen-testdata.sh.
# hack/lib/groundtruth.sh --recount OUT: prints OUT/ground-truth.json with its
# counts measured again on the files in OUT (what the harness did is kept):
# for when the ground truth gains a count, without regenerating the logs.
#
# The actions and facts come from what the harness did (the JSON lines `act`
# wrote in hack/traffic.sh). The counts that only the log can tell (how many
# audit lines the apiserver wrote, how many requests kubectl's discovery and
# the noisy poller added) are measured here with jq, grep, awk and zcat: never
# with kauditui's own code, so the Go tests can hold kauditui against them.
set -euo pipefail
export LC_ALL=C # byte semantics for awk and grep
recount=false
if [ "${1:-}" = --recount ]; then
  recount=true
  out=$2
else
  out=$1 file_actions=$2 stdout_actions=$3 polls=$4
fi

# Definitions shared by both runs, over a stream of audit event lines:
#   request            = the events sharing one auditID
#   user of a request  = the first non-empty user.username of its events, "" if none (401s)
#   a 401 / 403        = a request one of whose events has responseStatus.code 401 / 403
counts='
  group_by(.auditID) as $reqs
  | {auditLines: length,
     requests: ($reqs | length),
     requestsPerUser: ($reqs
        | map((map(.user.username // "" | select(. != "")) | .[0]) // "")
        | group_by(.) | map({key: .[0], value: length}) | from_entries),
     unauthorized401: ($reqs | map(select(any(.[]; .responseStatus.code? == 401))) | length),
     forbidden403: ($reqs | map(select(any(.[]; .responseStatus.code? == 403))) | length),
     impersonated: ($reqs | map(select(any(.[]; .impersonatedUser.username? != null))) | length),
     stages: (map(.stage) | group_by(.) | map({key: .[0], value: length}) | from_entries)}'

# --- file run: backups oldest first (their names sort by time), audit.log last
mapfile -t files < <(cd "$out/file" && ls audit-*.log audit-*.log.gz 2>/dev/null | sort; echo audit.log)
file_json=$(
  for f in "${files[@]}"; do
    jq -nc --arg name "$f" --argjson lines "$(zcat -f "$out/file/$f" | wc -l)" \
      --argjson gz "$([[ $f == *.gz ]] && echo true || echo false)" \
      '{name: $name, compressed: $gz, auditLines: $lines}'
  done | jq -s .
)
file_counts=$(for f in "${files[@]}"; do zcat -f "$out/file/$f"; done | jq -s "$counts")

# --- stdout run: audit JSON lines, klog lines, and the rest (continuations of
# multi-line klog messages, and the pieces of a long audit line when another
# stream's record fell between its partial records: kubectl logs shows them so)
log=$out/stdout/kube-apiserver.log
klog_re='^[IWEF][0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} +[0-9]+ [^ ]+:[0-9]+\] '
total=$(wc -l <"$log")
klog=$(grep -cE "$klog_re" "$log" || true)
httplog=$(grep -E "$klog_re" "$log" | grep -c 'httplog.go:[0-9]*\] "HTTP"' || true)
events() { jq -cR 'fromjson? | select(type == "object" and .kind == "Event")' "$1"; }
stdout_counts=$(events "$log" | jq -s "$counts")
audit=$(jq -r .auditLines <<<"$stdout_counts")
# lines that start like an audit event but are not valid JSON
broken=$(($(grep -c '^{"kind":"Event"' "$log" || true) - audit))

# --- the CRI log: records, and the streams rebuilt by joining each stream's
# partial records up to its next F record
cri=$out/stdout/cri/0.log
joined=$(mktemp)
trap 'rm -f "$joined" "$joined".*' EXIT
awk -v dir="$joined" '{
    n = index($0, " "); rest = substr($0, n + 1)
    n = index(rest, " "); stream = substr(rest, 1, n - 1); rest = substr(rest, n + 1)
    tag = substr(rest, 1, 1); text = substr(rest, 3)
    buf[stream] = buf[stream] text
    if (tag == "F") { print buf[stream] > (dir "." stream); buf[stream] = "" }
  }' "$cri"
touch "$joined.stdout" "$joined.stderr"
cri_counts=$(events "$joined.stdout" | jq -s "$counts")
cri_json=$(jq -n --argjson records "$(wc -l <"$cri")" \
  --argjson partial "$(grep -cE '^[^ ]+ (stdout|stderr) P ' "$cri" || true)" \
  --argjson stdout "$(grep -cE '^[^ ]+ stdout [PF] ' "$cri" || true)" \
  --argjson stderr "$(grep -cE '^[^ ]+ stderr [PF] ' "$cri" || true)" \
  --argjson stdoutLines "$(wc -l <"$joined.stdout")" --argjson stderrLines "$(wc -l <"$joined.stderr")" \
  --argjson klogLines "$(grep -cE "$klog_re" "$joined.stderr" || true)" \
  --argjson counts "$cri_counts" \
  '{records: $records, partialRecords: $partial, stdoutRecords: $stdout, stderrRecords: $stderr,
    stdoutLines: $stdoutLines, stderrLines: $stderrLines, klogLines: $klogLines} + $counts')

runs() {
  jq -n --argjson files "$file_json" --argjson fileCounts "$file_counts" --argjson polls "$1" \
    --argjson stdoutCounts "$stdout_counts" --argjson total "$total" --argjson klog "$klog" \
    --argjson httplog "$httplog" --argjson audit "$audit" --argjson broken "$broken" --argjson cri "$cri_json" '{
      file: ({
        dir: "file",
        files: $files,
        apiserverRestarts: 1,
        pollerRequests: $polls
      } + $fileCounts),
      stdout: ({
        dir: "stdout",
        log: "stdout/kube-apiserver.log",
        lines: $total,
        klogLines: $klog,
        httplogLines: $httplog,
        brokenAuditLines: $broken,
        otherLines: ($total - $klog - $audit)
      } + $stdoutCounts + {cri: ({file: "stdout/cri/0.log"} + $cri)})
    }'
}

if $recount; then
  jq --argjson runs "$(runs "$(jq .runs.file.pollerRequests "$out/ground-truth.json")")" \
    '.runs = $runs' "$out/ground-truth.json"
  exit 0
fi

jq -n \
  --slurpfile fa "$file_actions" --slurpfile sa "$stdout_actions" --argjson runs "$(runs "$polls")" '
  def window($a): {from: $a.from, to: $a.to};
  if ($fa | map(.step)) != ($sa | map(.step)) then error("the two runs did different steps") else . end
  | [range(0; $fa | length) as $i
      | $fa[$i] | del(.from, .to, .kubectlExit, .stdout)
      + {windows: {file: window($fa[$i]), stdout: window($sa[$i])}}] as $actions
  | def fact($step): ($actions | map(select(.step == $step)) | .[0]
      | {user, impersonatedUser, verb, resource, subresource, apiGroup, namespace, name, code, windows});
  {
    generatedBy: "hack/gen-testdata.sh",
    kubernetesVersion: "v1.37.2",
    policy: "hack/policy-seed-v1.yaml",
    identities: {
      admin: "kubernetes-admin",
      editor: "erin-editor",
      viewer: "lou-viewer",
      serviceAccount: "system:serviceaccount:team-a:kubyk-bot",
      unauthenticated: ""
    },
    notes: [
      "actions: every scripted request, in the order it finished, with the HTTP code expected and the time window (UTC, from before the command started to after it ended) in each run.",
      "kubectl adds requests of its own (discovery, the GET before exec): the counts include them, the actions do not.",
      "counts are measured on the committed files with jq/grep: a request is the events sharing an auditID; its user is the first non-empty user.username, \"\" when none (401); a 401/403 is a request with an event of that responseStatus.code.",
      "run file: same scripted traffic plus the kubyk-bot poller (curl, user agent kubyk-bot-poller/1.4) that fills the log to force rotation; the apiserver was restarted once, turning --audit-log-compress off.",
      "run stdout: no poller, no restart; counts are of kube-apiserver.log as kubectl logs shows it: klog lines match the klog header, otherLines are the rest (continuations of multi-line klog messages, pieces of a long audit line split by a stderr record), brokenAuditLines start like an audit event but are not valid JSON. runs.stdout.cri has the same counts on the stdout stream rebuilt from the CRI log (partial records joined per stream; klogLines: of the stderr stream): nothing is broken there, and they are what kauditui reads from kube-apiserver.log, which joins a spliced audit line again (source/splice.go)."
    ],
    actions: $actions,
    facts: {
      deploymentDeletedBy: fact("delete-deployment"),
      namespaceDeletedBy: fact("delete-namespace"),
      secretReadBy: fact("read-secret"),
      execInto: (fact("exec-pod") + {command: "cat /etc/kubyk/db-password",
        note: "kubectl tries WebSockets first (verb get) and falls back to SPDY (verb create): both requests are in the log, both 400 (no node)"}),
      impersonation: fact("impersonate-editor")
    },
    runs: $runs
  }'
