#!/usr/bin/env bash
# Drives the real kauditui explorer in tmux on testdata, as a person would,
# and asserts on the captured screen (tmux capture-pane).
#
#   file mode:   open the rotated audit log, type a filter (/ verb=delete
#                resource=deploy, enter), see the deployment's delete and who
#                did it, open the detail (enter) and see its auditID and
#                requestObject, switch to the apiserver-log tab, quit with q.
#   stdout mode: open the apiserver's mixed stdout+stderr log; the requests
#                view counts exactly the audit requests and the apiserver-log
#                tab exactly the klog lines (and shows the last of them).
#   answers:     ask "Who deleted …?" for the deployment on the Answers page.
#   history:     "Changes to one object" for deploy shop/web on answers/audit.log:
#                every write with its diff, the laptop's certificate deleting it,
#                the last state; esc back to the questions.
#   timeline:    "What happened when" on answers/audit.log: ci-bot's burst is
#                the busiest minute, the slow minute says where its time went
#                (etcd, validating-webhook); + zooms to 10 s steps, enter
#                narrows the filter to one of them.
#   findings:    "Findings" on findings/audit.log (hack/gen-findings.sh): the
#                attack steps' rules listed with the selected one's why; enter
#                opens the first finding's request.
#   follow:      a log followed by default (no --follow), renamed to a backup
#                and written anew three times: every request counted once;
#                the status bar says following, p pauses; --no-follow: a
#                snapshot, appended lines not read.
#   pipe:        lines shown while the pipe they come through stays open; q
#                ends kauditui all the same.
#
# usage: hack/tui-test.sh [--bin PATH] [--testdata DIR] [--keep]
#   --bin PATH      use this kauditui binary instead of building one
#   --testdata DIR  read the data there (default: testdata/, or $KAUDITUI_TESTDATA)
#   --keep          leave the tmux server running on failure (socket printed)
# Needs tmux and jq. Exits 0 when every check passes; on a failure prints the
# screen it saw and exits 1.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${KAUDITUI_TESTDATA:-$repo/testdata}
bin=""
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --testdata) data=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "tui-test: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
for tool in tmux jq; do
  command -v "$tool" >/dev/null || { echo "tui-test: $tool not found: install it (apt-get install $tool)" >&2; exit 2; }
done
[ -f "$data/ground-truth.json" ] || { echo "tui-test: no $data/ground-truth.json: run hack/gen-testdata.sh" >&2; exit 2; }
data=$(cd "$data" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/kauditui-tui.XXXXXX")
# shellcheck source=hack/lib/tui.sh
source "$repo/hack/lib/tui.sh"
TUI_LOG=tui-test
$keep && TUI_KEEP=1
tui_init kauditui-tui "$work" 120 # a private tmux server: never touches the user's sessions
cleanup() {
  tui_cleanup
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$bin" ]; then
  bin=$work/kauditui
  (cd "$repo" && go build -o "$bin" .)
fi

log() { echo "tui-test: $*" >&2; }

truth=$data/ground-truth.json
deleter=$(jq -r .facts.deploymentDeletedBy.user "$truth")
deploy=$(jq -r .facts.deploymentDeletedBy.name "$truth")
deploy_ns=$(jq -r .facts.deploymentDeletedBy.namespace "$truth")
[ -n "$deleter" ] && [ "$deleter" != null ] || { log "ground truth names no deleter"; exit 2; }

# The deletion's auditID, read from the log with jq (not with kauditui).
audit_files=("$data"/file/audit*.log "$data"/file/audit*.log.gz)
delete_id=$(for f in "${audit_files[@]}"; do
  [ -f "$f" ] || continue
  case "$f" in *.gz) gzip -dc "$f" ;; *) cat "$f" ;; esac
done | jq -r --arg n "$deploy" --arg ns "$deploy_ns" --arg u "$deleter" \
  'select(.verb=="delete" and .objectRef.resource=="deployments" and .objectRef.name==$n
          and .objectRef.namespace==$ns and .user.username==$u and .stage=="ResponseComplete") | .auditID' |
  head -n 1)
[ -n "$delete_id" ] || { log "no delete of $deploy_ns/$deploy by $deleter in $data/file"; exit 2; }

# ---- file mode -------------------------------------------------------------
log "file mode: $data/file/audit.log (with its rotated backups)"
tui_start "$bin" "$data/file/audit.log"
tui_wait_for "req" 15 # the status bar
tui_keys /
tui_type "verb=delete resource=deploy"
tui_keys Enter
tui_wait_line "delete" "$deploy" "$deleter"
log "  filter shows the delete of $deploy by $deleter"

# Narrow to the successful delete so the cursor is on it, then open it
# (/ reopens the bar with the filter in it; the cursor is at its end).
tui_keys /
tui_type " name=$deploy user=$deleter code=2xx"
tui_keys Enter
tui_wait_line "delete" "$deploy" "$deleter"
tui_keys Enter
tui_wait_for "$delete_id"
# The request body is further down the event, maybe folded: expand all
# (E toggles; try both states), page down until kubectl's DeleteOptions show.
found=false
for _ in 1 2; do
  tui_keys E
  for _ in 1 2 3 4 5 6; do
    sleep 0.2
    tui_screen | grep -qF "propagationPolicy" && { found=true; break 2; }
    tui_keys PageDown
  done
  tui_keys g
done
$found || tui_fail "no requestObject with kubectl's propagationPolicy in the detail"
tui_wait_for '"requestObject"'
log "  detail shows auditID $delete_id and the requestObject"

# y on the summary copies the auditID through OSC 52: tmux, with
# set-clipboard on, keeps what a program copies as a paste buffer.
_tui set-option -s set-clipboard on
tui_keys g y
tui_wait_for "to the clipboard"
copied=""
for _ in $(seq 50); do
  copied=$(_tui show-buffer 2>/dev/null || true)
  [ "$copied" = "$delete_id" ] && break
  sleep 0.1
done
[ "$copied" = "$delete_id" ] || tui_fail "y copied \"$copied\" through OSC 52, want the auditID $delete_id"
log "  y copied the auditID through OSC 52 (tmux's paste buffer holds it)"

tui_keys 3 # (not esc first: esc and a quick 3 read as alt+3)
tui_wait_for "Apiserver log"
tui_wait_for "no apiserver log lines" # a file-mode audit log has none
log "  apiserver-log tab: no klog lines in an audit file, as expected"

tui_quit
log "  q ended the process (status 0)"

# ---- answers page ------------------------------------------------------------
log "answers: who deleted deploy $deploy?"
tui_start "$bin" "$data/file/audit.log"
tui_wait_for "● following" 15 # the whole log read (the explorer follows by default)
tui_keys 5
tui_wait_for "Who deleted"
tui_keys Enter
tui_wait_for "object:"
tui_type "deploy $deploy_ns/$deploy"
tui_keys Enter
tui_wait_line "delete" "$deploy" "$deleter"
tui_wait_for "name=$deploy"
log "  the answer sets the filter and shows $deleter"
tui_keys 4
tui_wait_for "Users (1)"
tui_wait_line "$deleter" "1"
tui_wait_for "Requests over time"
log "  the summary of that filter: one user, $deleter"
tui_quit

# ---- object history (answers/) ------------------------------------------------
# hack/gen-answers.sh changed deploy shop/web step by step, then deleted it from
# a laptop whose certificate is not on this node; expected.json says what it did.
answers=$data/answers
writes=$(jq '[.actions[] | select(.name == "web" and .verb != "get")] | length' "$answers/expected.json")
laptop=$(jq -r '.fingerprints["laptop/admin.conf"]' "$answers/expected.json" | cut -c 1-12)
log "history: deploy shop/web ($writes writes) on the Answers page"
tui_start "$bin" "$answers/audit.log"
tui_wait_for "● following" 15
tui_keys 5
tui_wait_for "Changes to one object"
tui_keys j Enter
tui_wait_for "object:"
tui_type "deploy shop/web"
tui_keys Enter
tui_wait_for "History of deploy shop/web: $writes writes; deleted"
tui_wait_line "create apps/deployments" "by kubernetes-admin" "201"
tui_wait_for '+ spec.template.spec.containers[nginx-slim].image: "registry.k8s.io/nginx-slim:0.27"'
tui_wait_for 'patch: {"spec":{"replicas":3}}'
tui_wait_for "~ spec.replicas: 1 → 3"
log "  the history opens on the create, with its fields, and the scale"
tui_keys NPage
# a line wider than the terminal wraps: the new image is on the screen whole
tui_wait_joined '~ spec.template.spec.containers[nginx-slim].image: "registry.k8s.io/nginx-slim:0.27" → "registry.k8s.io/nginx-slim:0.28"'
tui_wait_for "~ spec.replicas: 3 → 1"
tui_wait_line "delete apps/deployments" "by kubernetes-admin [unknown certificate $laptop]" "200"
tui_wait_for "Last known state before the delete"
log "  page down: the replace field by field, the JSON patch, the delete by the laptop's certificate ($laptop), the last state"
tui_keys Escape
tui_wait_for "counts: every request"
log "  esc: back to the questions"
tui_quit

# ---- timeline (answers/) ------------------------------------------------------
# hack/gen-answers.sh stalled etcd and made webhooks answer late (slow steps in
# expected.json), then sent ci-bot's burst in a minute of its own.
burst=$(jq -r '[.actions[] | select(.user == "ci-bot" and .count) | .count] | add' "$answers/expected.json")
log "timeline: What happened when, on answers/audit.log (ci-bot's burst: $burst requests)"
tui_start "$bin" "$answers/audit.log"
tui_wait_for "● following" 15 # the timeline is drawn from what is loaded when it opens
tui_keys 5
tui_wait_for "What happened when"
tui_keys G k Enter
tui_wait_for "What happened when: requests per 1m (UTC)"
tui_wait_for "TIME"
tui_wait_line "ci-bot $burst" "██████████"
log "  a row per minute; ci-bot's minute is the busiest (the full bar) and names it"
tui_keys g
tui_wait_for "slower than 500ms; their time in:"
tui_wait_for "etcd"
tui_wait_for "validating-webhook"
log "  the first minute: its slow requests spent their time in etcd and the validating webhook"
tui_keys +
tui_wait_for "requests per 10s"
tui_wait_for "with no request)"
log "  +: 10 s steps, and the pause shows as a line with no request"
tui_keys Enter
tui_wait_for "since="
tui_wait_for "until="
log "  enter: the requests of that step, as a filter"
tui_quit

# ---- findings (findings/) ----------------------------------------------------
# hack/gen-findings.sh performed each attack step the detect rules look for.
findings=$data/findings
token_id=$(jq -r '.actions[] | select(.step == "create-token") | .auditIDs[0]' "$findings/expected.json")
log "findings: the Findings answer on findings/audit.log"
tui_start "$bin" "$findings/audit.log"
tui_wait_for "● following" 15 # the whole log read: the rules run on what is loaded
tui_keys 5
tui_wait_for "Findings: was this cluster attacked?"
tui_keys G k k k Enter # Findings is the fourth answer from the bottom
tui_wait_for "Findings: "
tui_wait_line "mallory" "privileged-pod" "container app privileged"
tui_wait_line "eve" "auth-failure-burst"
tui_wait_for "why: a token of another identity"
log "  every attack step's rule is listed; the selected finding says why it matters"
tui_keys Enter
tui_wait_for "$token_id"
log "  enter: the first finding's request (the admin's token request)"
tui_quit

# ---- stdout mode -----------------------------------------------------------
# The apiserver's mixed output, as kubectl logs shows it and as the node's
# CRI log holds it: the requests view counts exactly the audit requests, the
# apiserver-log tab exactly the klog lines.
stdout_log=$data/stdout/kube-apiserver.log
want_req=$(jq -r .runs.stdout.requests "$truth")
want_klog=$(jq -r .runs.stdout.klogLines "$truth")
last_klog=$(grep -E '^[IWEF][0-9]{4} [0-9:.]+ +[0-9]+ [^ ]+:[0-9]+\] ' "$stdout_log" | tail -n 1 |
  sed -E 's/^[IWEF][0-9]{4} [0-9:.]+ +[0-9]+ [^ ]+:[0-9]+\] //' | cut -c 1-40)
for input in "$stdout_log" "$data/stdout/cri/0.log"; do
  [ -f "$input" ] || { log "no $input"; [ "$input" = "$stdout_log" ] && exit 2; continue; }
  log "stdout mode: $input ($want_req requests, $want_klog klog lines)"
  tui_start "$bin" "$input"
  tui_wait_for "$(thousands "$want_req") req" 15
  log "  requests view: $want_req requests"
  tui_keys 3
  tui_wait_for "$(thousands "$want_klog") of $(thousands "$want_klog") lines"
  tui_wait_for "$last_klog"
  log "  apiserver-log tab: $want_klog klog lines, following the last one"
  tui_keys /
  tui_type "$(cut -c 1-12 <<<"$last_klog")"
  tui_keys Enter
  tui_wait_for "log filter:"
  tui_wait_for "$last_klog"
  log "  its own text filter finds the last line"
  # enter on httplog's line of the kubectl 401 opens that request, whose
  # Detail shows the apiserver's own line about it
  tui_keys /
  tui_keys C-u
  tui_keys Enter
  tui_keys f
  tui_type "resp=401"
  tui_keys Enter Enter
  tui_wait_for "Audit ID"
  tui_wait_for "Unable to authenticate the request"
  log "  enter on the 401's httplog line: its Detail, with the apiserver's line about it"
  tui_quit
done
# ---- following a rotating log ---------------------------------------------------
# The live file is renamed to a backup and a new one written, as the
# apiserver's rotator does, three times while the explorer follows: every
# request shows up once (the status bar's count), none is read twice.
# the plain rotated backup, by glob: a regeneration renames it
backups=("$data"/file/audit-*.log)
live_src=${backups[0]}
if [ -f "$live_src" ]; then
  fdir=$work/follow
  mkdir -p "$fdir"
  cp "$live_src" "$fdir/audit.log"
  per=$(jq -r .auditID "$live_src" | sort -u | wc -l)
  log "follow: $fdir/audit.log, rotated 3 times ($per requests per file), followed without --follow (the default)"
  tui_start "$bin" "$fdir/audit.log"
  tui_wait_for "$(thousands "$per") req" 15
  tui_wait_for "● following"
  tui_keys p
  tui_wait_for "○ paused (p)"
  log "  the status bar says following once the file is read; p: paused"
  for r in 1 2 3; do
    mv "$fdir/audit.log" "$fdir/audit-2026-11-26T04-00-0$r.000.log"
    sed "s/\"auditID\":\"/\"auditID\":\"rot$r-/" "$live_src" >"$fdir/audit.log"
  done
  tui_wait_for "$(thousands $((per * 4))) req" 15
  tui_keys p
  tui_wait_for "● following"
  tui_keys 3
  tui_wait_for " lines  other " # the page's own header, not the tab
  tui_screen | grep -F " lines  other " | grep -qF "following" || tui_fail "the apiserver log page does not say following while it is"
  log "  $((per * 4)) requests after 3 rotations, each once; p: following again"
  tui_quit
  # --no-follow: a snapshot; what is appended later does not show up, and
  # the apiserver log page does not say following
  tui_start "$bin" --no-follow "$fdir/audit.log"
  tui_wait_for "$(thousands $((per * 4))) req" 15
  tui_wait_for "snapshot"
  sed "s/\"auditID\":\"/\"auditID\":\"late-/" "$live_src" >>"$fdir/audit.log"
  sleep 1.5
  tui_screen | grep -qF "$(thousands $((per * 5))) req" && tui_fail "--no-follow showed the lines appended after it read the file"
  tui_keys 3
  tui_wait_for " lines  other "
  tui_screen | grep -F " lines  other " | grep -qF "following" && tui_fail "the apiserver log page says following on a snapshot"
  log "  --no-follow: snapshot, $((per * 4)) requests; the $per appended after are not read"
  tui_quit
fi

# ---- a pipe that stays open -----------------------------------------------------
# Lines are shown as they come, not when the pipe closes.
log "pipe: the stdout-mode log through a pipe that stays open"
tui_run "sh -c 'cat $(printf %q "$stdout_log"); sleep 60' | env TERM=xterm-256color NO_COLOR= $(printf %q "$bin") -"
tui_wait_for "$(thousands "$want_req") req" 10
log "  $want_req requests shown while the pipe is still open"
# q ends kauditui while the writer still sleeps (the pipeline's status comes
# only when both ends are done, so watch the process itself)
tui_keys q
deadline=$((SECONDS + 5))
while pgrep -f "^$bin -\$" >/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
pgrep -f "^$bin -\$" >/dev/null && tui_fail "kauditui still running 5 s after q, reading an open pipe"
tui_stop
log "  q ended it with the pipe still open"
log "PASS"
