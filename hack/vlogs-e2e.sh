#!/usr/bin/env bash
# End-to-end check of `kauditui query --store` (README: Central store) with real
# parts: a VictoriaLogs cluster (github.com/VictoriaMetrics/VictoriaLogs, two
# storage nodes and a front node started with -storageNode=) fed by an
# OpenTelemetry Collector (filelog receiver, file_storage, otlphttp exporter;
# hack/otelcol, its own Go module) running the config `kauditui setup
# --ship-to` prints. The collector follows a copy of the repo's real audit log
# (testdata/file: a real kube-apiserver's log and its rotated backups) as it
# is written again line by line and rotated the way the apiserver rotates it,
# and is restarted in the middle (its offsets are in file_storage). Then:
#  - the store holds every line exactly once (nothing lost, nothing twice);
#  - `kauditui query --store` gives the answers `kauditui query` gives on the
#    files, for every question of testdata/ground-truth.json (who deleted the
#    deployment, the namespace, who read the secret, exec, impersonation, the
#    401s and 403s, requests per user), table for table;
#  - the store tests of cmd_store_test.go pass against the real binary;
#  - speed: a big log (testdata/big/audit-1GB.log when it is there, made by
#    `go run ./hack/genlog -size 1GB`; else 100 MB made here) is loaded through
#    /insert/jsonline (hack/vlogs-load, the same fields as the collector), and
#    a rare-value query is timed, with the bytes the store sent;
#  - testdata/answers, with an event of 935 KB, shipped by the collector to
#    the store with its default limits: every request the files have;
#  - a storage node stopped during a query that reads everything gives one
#    clear line, exit 2, and no partial table.
#
# usage: hack/vlogs-e2e.sh            (no root, no network but the Go module proxy)
#        hack/vlogs-e2e.sh --build    (only build the cached binaries)
#
# Binaries are built once into ~/.cache/kauditui (VictoriaLogs about 20 s, the
# collector about a minute on 2 cores) and reused.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
log() { echo "vlogs-e2e: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

VLOGS_VERSION=v1.52.1
OTELCOL_VERSION=v0.165.0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kauditui
vlogs=$cache/vlogs-$VLOGS_VERSION/victoria-logs
otelcol=$cache/otelcol-$OTELCOL_VERSION/otelcol

if [ ! -x "$vlogs" ]; then
  log "building VictoriaLogs $VLOGS_VERSION into $(dirname "$vlogs")"
  mkdir -p "$(dirname "$vlogs")"
  (cd /tmp && GOBIN=$(dirname "$vlogs") GOFLAGS=-buildvcs=false \
    go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$VLOGS_VERSION")
fi
if [ ! -x "$otelcol" ] || [ "$repo/hack/otelcol/go.sum" -nt "$otelcol" ] || [ "$repo/hack/otelcol/main.go" -nt "$otelcol" ]; then
  log "building the OpenTelemetry Collector (hack/otelcol) into $(dirname "$otelcol")"
  mkdir -p "$(dirname "$otelcol")"
  (cd hack/otelcol && GOWORK=off go build -trimpath -o "$otelcol" .)
fi
[ "${1:-}" = --build ] && exit 0

work=$(mktemp -d)
pids=()
stop_all() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap 'trap "" INT TERM; stop_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o "$work/kauditui" .
go build -o "$work/vlogs-load" ./hack/vlogs-load
kauditui() { "$work/kauditui" "$@"; }

log "store tests against the real binary"
KAUDITUI_VLOGS=$vlogs go test -count=1 -run 'TestStore' .

# --- the cluster: two storage nodes, one front node ------------------------------
port() { # a free port: nothing answers a connection to it; below Linux's
  # ephemeral range (32768-60999), where any outgoing connection may hold one
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
start_vl() { # name port args...
  local name=$1 p=$2 try
  shift 2
  for try in 1 2 3; do
    "$vlogs" -httpListenAddr="127.0.0.1:$p" -storageDataPath="$work/$name" -retentionPeriod=100y \
      -loggerLevel=WARN "$@" >"$work/$name.log" 2>&1 &
    pids+=($!)
    eval "pid_$name=$!"
    for _ in $(seq 100); do
      curl -sf "http://127.0.0.1:$p/health" >/dev/null && return 0
      # another process took the port between port() and the bind: the
      # same node on another port (a port is only ever asked of a node
      # before anything else is told it)
      if grep -q 'address already in use' "$work/$name.log" 2>/dev/null && [[ $try -lt 3 ]]; then
        p=$(port)
        eval "${name}_port=$p"
        continue 2
      fi
      sleep 0.1
    done
    break
  done
  die "$name did not start: $(tail -3 "$work/$name.log")"
}
storage1_port=$(port); storage2_port=$(port); front_port=$(port)
start_vl storage1 "$storage1_port"
start_vl storage2 "$storage2_port"
s1=$storage1_port s2=$storage2_port
start_vl front "$front_port" -storageNode="127.0.0.1:$s1,127.0.0.1:$s2"
fp=$front_port
store=http://127.0.0.1:$fp
flush() { for p in "$s1" "$s2"; do curl -sf "http://127.0.0.1:$p/internal/force_flush" >/dev/null; done; }
count() { curl -sf "$store/select/logsql/query" --data-urlencode "query=$1 | stats count() as n" | jq -r .n; }
log "VictoriaLogs cluster: storage 127.0.0.1:$s1 and :$s2, front $store"

# --- the collector follows the log as the apiserver writes and rotates it -------
mkdir -p "$work/audit" "$work/otel"
kauditui setup --ship-to "$store" --cluster e2e --node-name master-1 \
  --log-path "$work/audit/audit.log" --ship-storage "$work/otel" >"$work/otelcol.yaml"
start_otelcol() {
  "$otelcol" --config "$work/otelcol.yaml" >>"$work/otelcol.log" 2>&1 &
  pid_otelcol=$!
  pids+=($pid_otelcol)
}
start_otelcol
backups=()
while read -r f; do backups+=("$f"); done < <(ls testdata/file/audit-*.log* | sort)
# Write each file of the original log again, in chunks, then rotate it away
# by rename under its backup name (as lumberjack does), and start a new one.
write_slowly() { # src dst
  local n=0
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$2"
    n=$((n + 1))
    if [ $((n % 200)) = 0 ]; then sleep 0.1; fi
  done < <(if [[ $1 == *.gz ]]; then zcat "$1"; else cat "$1"; fi)
}
total=0
for f in "${backups[@]}" testdata/file/audit.log; do
  : >"$work/audit/audit.log"
  write_slowly "$f" "$work/audit/audit.log"
  total=$((total + $(wc -l <"$work/audit/audit.log")))
  if [ "$f" != testdata/file/audit.log ]; then
    b=$(basename "$f" .gz)
    sleep 0.5
    mv "$work/audit/audit.log" "$work/audit/$b"
    if [ "$f" = "${backups[0]}" ]; then # restart the collector: it resumes from its checkpoint
      kill "$pid_otelcol"; wait "$pid_otelcol" || true
      start_otelcol
    fi
  fi
done
log "wrote $total lines through $((${#backups[@]})) rotations and a collector restart; waiting for the store"
for _ in $(seq 120); do
  flush
  got=$(count '{cluster="e2e"}')
  [ "$got" -ge "$total" ] && break
  sleep 0.5
done
[ "$got" = "$total" ] || die "the store holds $got events of cluster e2e, the log has $total lines (collector log: $(tail -3 "$work/otelcol.log"))"
want=$(jq -r .runs.file.auditLines testdata/ground-truth.json)
[ "$total" = "$want" ] || die "the log has $total lines, the ground truth says $want"
log "the store holds all $total lines once each, sharded: $(count '*' ) in all"

# --- the same answers ----------------------------------------------------------
files=$work/audit/audit.log # with its backups beside it, as kauditui reads them
same() { # args of kauditui query
  local a b
  a=$(kauditui query "$@" "$files" 2>&1) || true
  # the store says when it cannot count an answer itself and reads it whole
  b=$(kauditui query "$@" --store "$store" --cluster e2e --node master-1 2>&1 | grep -v "counting from the store's whole answer") || true
  [ "$a" = "$b" ] || die "query $* differs: files
$a
store
$b"
}
truth=testdata/ground-truth.json
for fact in $(jq -r '.facts | keys[]' "$truth"); do
  q=$(jq -r --arg f "$fact" '.facts[$f] | "user=\(.user) verb=\(.verb) resource=\(if .apiGroup == "" then "core" else .apiGroup end)/\(.resource)\(if .subresource == "" then "" else "/" + .subresource end) ns=\(.namespace)" + (if .name == "" then "" else " name=\(.name)" end) + " code=\(.code)"' "$truth")
  same -o wide -q "$q"
  user=$(jq -r --arg f "$fact" '.facts[$f].user' "$truth")
  kauditui query -q "$q" --store "$store" | grep -q -- "$user" || die "$fact: the store does not name $user"
  log "$fact: $q: same answer ($user)"
done
# the table's first column is the time, one token with its zone; the user next
deleter=$(kauditui query --store "$store" -q "verb=delete resource=deploy code<300" | awk 'NR==2 {print $2}')
[ "$deleter" = "$(jq -r .facts.deploymentDeletedBy.user "$truth")" ] || die "the store says the deployment was deleted by $deleter"
for q in "" code=401 code=403 decision=forbid "user=*" resource=secrets "verb=delete" "kubyk" "!verb=get,list,watch"; do
  same --count -q "$q"
  same -o wide -q "$q"
done
same --top user
same --top resource -q "code>=400"
same -o json -q "verb=delete"
n=$(kauditui query --count --store "$store"); want=$(jq -r .runs.file.requests "$truth")
[ "$n" = "$want" ] || die "the store counts $n requests, the ground truth $want"
log "every ground-truth question: the store answers as the files ($n requests)"

# --- following: new lines of the live log reach kauditui through the store ------
# the binary itself, not the function: kill must reach the process, not a subshell
"$work/kauditui" query --store "$store" --cluster e2e --follow -o wide -q verb=delete >"$work/follow.out" 2>"$work/follow.err" &
follow=$!
pids+=($follow)
sleep 2
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
jq -c --arg now "$now" 'select(.verb == "delete") | .auditID += "-live" | .requestReceivedTimestamp = $now | .stageTimestamp = $now' \
  testdata/file/audit*.log >>"$work/audit/audit.log"
live=$(jq -c 'select(.verb == "delete" and .stage == "ResponseComplete")' testdata/file/audit*.log | wc -l)
for _ in $(seq 100); do
  [ "$(grep -c -- '-live$' "$work/follow.out")" -ge "$live" ] && break
  sleep 0.2
done
kill "$follow"
[ "$(grep -c -- '-live$' "$work/follow.out")" = "$live" ] || die "following the store: want the $live new deletes once each, got:
$(cat "$work/follow.out" "$work/follow.err")"
history=$(tail -n +2 "$work/follow.out" | grep -vc -- '-live$')
log "following: the store's $history deletes, then the $live new ones written to the live log, each once"

# --- the explorer on the store ---------------------------------------------------
if command -v tmux >/dev/null; then
  session=kauditui-vlogs-$$
  tmux new-session -d -s "$session" -x 160 -y 20 "$work/kauditui --store $store --cluster e2e -q 'verb=delete resource=deploy'"
  seen=
  for _ in $(seq 50); do
    seen=$(tmux capture-pane -t "$session" -p)
    grep -q "$(jq -r .facts.deploymentDeletedBy.user "$truth")" <<<"$seen" && break
    sleep 0.1
  done
  tmux send-keys -t "$session" q
  sleep 0.3
  tmux kill-session -t "$session" 2>/dev/null || true
  grep -q "$(jq -r .facts.deploymentDeletedBy.user "$truth")" <<<"$seen" || die "the explorer on the store does not show the deleter:
$seen"
  log "the explorer reads the store: $(grep -c delete <<<"$seen") deletes of deployments shown"
fi

# --- a 900 KiB event through the collector, with the store's default limits -------
# testdata/answers holds an event of 935 KB (a RequestResponse create of a big
# ConfigMap). The shipped config keeps the bodies in the line only, so the
# store keeps it; kauditui finds every request the files have, and no count
# of the store says it lost any.
kill "$pid_otelcol"; wait "$pid_otelcol" || true # done; its own metrics port is wanted by the next one
mkdir -p "$work/answers" "$work/otel-answers"
kauditui setup --ship-to "$store" --cluster answers --node-name master-1 \
  --log-path "$work/answers/audit.log" --ship-storage "$work/otel-answers" >"$work/otelcol-answers.yaml"
"$otelcol" --config "$work/otelcol-answers.yaml" >>"$work/otelcol-answers.log" 2>&1 &
pids+=($!)
cp testdata/answers/audit*.log "$work/answers/"
lines=$(cat "$work"/answers/audit*.log | wc -l)
for _ in $(seq 120); do
  flush
  got=$(count '{cluster="answers"}')
  [ "$got" -ge "$lines" ] && break
  sleep 0.5
done
[ "$got" = "$lines" ] || die "the store holds $got events of cluster answers, the log has $lines lines (collector log: $(tail -3 "$work/otelcol-answers.log"))"
! grep -qi '"level":"error"\|\berror\b' "$work/otelcol-answers.log" || die "the collector logged errors: $(grep -i error "$work/otelcol-answers.log" | head -3)"
a=$(kauditui query --count "$work/answers/audit.log" 2>&1)
b=$(kauditui query --count --store "$store" --cluster answers 2>&1 | grep -v "counting from the store's whole answer")
[ "$a" = "$b" ] || die "testdata/answers: the files count $a requests, the store $b"
log "testdata/answers and its 935 KB event through the collector: the store keeps all $lines events, $b requests as the files"

# --- speed: a big log, a rare value ----------------------------------------------
big=${VLOGS_E2E_BIG:-testdata/big/audit-1GB.log}
if [ ! -f "$big" ]; then
  big=$work/audit-100MB.log
  go run ./hack/genlog -size 100MB -o "$big" >/dev/null
fi
size=$(stat -c %s "$big")
log "loading $big ($((size / 1000000)) MB) through /insert/jsonline"
"$work/vlogs-load" -url "$store" -cluster big -node gen-1 "$big" >"$work/load.out"
cat "$work/load.out" >&2
loaded=$(awk '{print $2}' "$work/load.out")
for _ in $(seq 60); do
  flush
  events=$(count '{cluster="big"}')
  [ "$events" = "$loaded" ] && break
  sleep 0.5
done
[ "$events" = "$loaded" ] || die "the store holds $events events of cluster big, $loaded were sent"
log "the store holds all $events events of cluster big; data on disk: $(du -sm "$work/storage1" | cut -f1) + $(du -sm "$work/storage2" | cut -f1) MB"
# A rare value: a pair of user and impersonated user seen a handful of times
# (genlog gives the log's one impersonated request to random users).
pair=$(curl -sf "$store/select/logsql/query" --data-urlencode 'query={cluster="big"} impersonatedUser.username:* stage:=ResponseComplete | stats by (user.username, impersonatedUser.username) count() as n | filter n:>=3 | sort by (n) | limit 1')
ruser=$(jq -r '."user.username"' <<<"$pair")
rimp=$(jq -r '."impersonatedUser.username"' <<<"$pair")
filter="user=$ruser user=$rimp"
log "rare value: $ruser as $rimp, $(jq -r .n <<<"$pair") requests"
query=$(kauditui query --store "$store" --cluster big --explain -q "$filter" | sed -n 1p) # sed reads it all: head could close the pipe first (SIGPIPE under pipefail)
bytes=$(curl -sf -o /dev/null -w '%{size_download}' "$store/select/logsql/query" --data-urlencode "query=$query")
start=$(date +%s%N)
rows=$(kauditui query --store "$store" --cluster big -q "$filter" | tail -n +2 | grep -c "(as $rimp)" || true)
[ "$rows" -ge 1 ] || die "no row of $ruser as $rimp"
ms=$((($(date +%s%N) - start) / 1000000))
log "speed: kauditui query --store --cluster big -q '$filter': $rows rows as $rimp in ${ms} ms, the store sent $bytes bytes (of $((size / 1000000)) MB shipped)"
[ "$ms" -lt 1000 ] || log "WARNING: slower than 1 s"
[ "$bytes" -lt 1000000 ] || die "the store sent $bytes bytes for a rare value"

# --- a storage node stops during a query ---------------------------------------
# The node is frozen (SIGSTOP) before the query, so the query is sure to be
# waiting on it when it dies (a quiet machine scans the big log in under a
# second: a kill after the query ended would test nothing).
log "stopping storage node 2 during a query that scans every line of the big log"
kill -STOP "$pid_storage2"
kauditui query --store "$store" --cluster big -q erin-editor >"$work/partial.out" 2>"$work/partial.err" &
q=$!
sleep 1
kill -KILL "$pid_storage2"
rc=0; wait "$q" || rc=$?
cat "$work/partial.err" >&2
[ "$rc" = 2 ] || die "a storage node stopped mid-query: exit $rc, want 2"
[ ! -s "$work/partial.out" ] || die "a partial table was printed: $(head -3 "$work/partial.out")"
[ "$(wc -l <"$work/partial.err")" = 1 ] || die "want one line on stderr"
grep -q "storage nodes\|partial result" "$work/partial.err" || die "the message does not say the result would be partial"
log "passed"
