#!/usr/bin/env bash
# The explorer itself on --nodes: hack/nodes-e2e/main.go runs this last (flag
# -explore), while its stand-in kubelets serve. It starts `kauditui --nodes`
# (following is the default) in tmux (hack/lib/tui.sh) and checks that it
# lists every request `query --nodes` finds, the status bar saying
# "● following" (not "loading") and "nodes: 3 streaming" once the history is
# read; that requests appended to master-a's live file show up (filter
# user=tui-*); that with master-a's kubelet down (SIGUSR1 to the program) and
# the file rotated meanwhile, the status bar counts that node reconnecting
# (and one more warning), and with the kubelet up again (SIGUSR2) 3
# streaming, the requests written meanwhile shown, none twice (the filtered
# count, no "shared IDs"); that p pauses and resumes; and that --no-follow
# is a snapshot whose files are done.
#
# Environment (set by main.go): NODES_E2E_PID, NODES_E2E_ACK, NODES_E2E_DIR,
# NODES_E2E_KUBECONFIG, NODES_E2E_LIVE, NODES_E2E_TEMPLATE, KAUDITUI_BIN.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
log() { echo "nodes-e2e: $*" >&2; }
# shellcheck source-path=SCRIPTDIR/..
source "$repo/hack/lib/tui.sh"
TUI_LOG="nodes-e2e"
tui_init kauditui-nodes "$NODES_E2E_DIR"
trap tui_cleanup EXIT
kauditui=$KAUDITUI_BIN
kc=$NODES_E2E_KUBECONFIG
live=$NODES_E2E_LIVE

total=$("$kauditui" query --nodes --count --kubeconfig "$kc")
# a real ResponseComplete event, as a template
tmpl=$(awk '/"stage":"ResponseComplete"/ { print; exit }' "$NODES_E2E_TEMPLATE" | jq -c 'del(.impersonatedUser)')
[ -n "$tmpl" ] || { log "FAIL: no ResponseComplete event in $NODES_E2E_TEMPLATE"; exit 1; }
nwritten=0
# write USER N [FILE]: N requests by USER appended to master-a's live file
write() {
  local ts
  for _ in $(seq 1 "$2"); do
    nwritten=$((nwritten + 1))
    ts=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
    jq -c --arg id "e2e-tui-$nwritten" --arg u "$1" --arg ts "$ts" \
      '.auditID=$id | .user.username=$u | .requestReceivedTimestamp=$ts | .stageTimestamp=$ts' <<<"$tmpl" >>"${3:-$live}"
  done
}
# kubelet down|up: master-a's stand-in kubelet, acknowledged by main.go
kubelet() {
  rm -f "$NODES_E2E_ACK.$1"
  if [ "$1" = down ]; then kill -USR1 "$NODES_E2E_PID"; else kill -USR2 "$NODES_E2E_PID"; fi
  for _ in $(seq 1 100); do [ -e "$NODES_E2E_ACK.$1" ] && return 0; sleep 0.05; done
  tui_fail "master-a's kubelet not $1 after 5 s"
}
# warnings: the status bar's warning count (0 without)
warnings() { tui_status | grep -oE '[0-9]+ warning\(s\)' | cut -d' ' -f1 || echo 0; }

t0=$SECONDS
tui_start "$kauditui" --nodes --kubeconfig="$kc"
tui_wait_status " $(thousands "$total") req .*● following │ nodes: 3 streaming" 60
tui_status | grep -qF "loading" && tui_fail "the status bar still says loading once the nodes' history is read"
w0=$(warnings)
log "explorer --nodes (following by default): $total requests of 3 masters, as query --nodes finds; status bar: $(tui_status | sed -E 's/ +$//; s/^ +//')"
write tui-before 3
tui_filter "user=tui-*"
tui_wait_status " 3/$(thousands $((total + 3))) req" 20
tui_wait_for "tui-before"
log "  3 requests appended to master-a's audit.log: shown (filter user=tui-*)"

kubelet down
tui_wait_status "● following │ nodes: 2 streaming, 1 reconnecting in [0-9]+s" 20
tui_wait_status "(^|[^0-9])$((w0 + 1)) warning\(s\)" 20
log "  master-a's kubelet down: status bar $(tui_status | grep -oE 'nodes: [^│]*' | sed 's/ *$//'), $(tui_status | grep -oE '[0-9]+ warning\(s\)')"
# written while it is down: 2 in the live file, which is then rotated
# (renamed to a backup, as the apiserver's lumberjack does), 2 in the new one
write tui-after 2
mv "$live" "$(dirname "$live")/audit-$(date -u +%Y-%m-%dT%H-%M-%S.000).log"
write tui-after 2 "$live.new"
mv "$live.new" "$live"
sleep 2
kubelet up
tui_wait_status " 7/$(thousands $((total + 7))) req" 40
tui_wait_status "● following │ nodes: 3 streaming" 40
tui_wait_for "tui-after"
log "  master-a's kubelet up again: the 4 requests written meanwhile (across a rotation) shown; status bar $(tui_status | grep -oE 'nodes: [^│]*' | sed 's/ *$//'), $(tui_status | grep -oE '[0-9]+ warning\(s\)')"
write tui-later 2
tui_wait_status " 9/$(thousands $((total + 9))) req" 20
sleep 2 # anything read twice would be in by now
tui_wait_status " 9/$(thousands $((total + 9))) req" 1
tui_status | grep -qF "shared IDs" && tui_fail "shared IDs after the reconnect"
log "  2 more appended after: shown; 9 e2e-tui requests in all, each once"
tui_keys p
tui_wait_status "○ paused \(p\) │ nodes: 3 streaming" 5
tui_keys p
tui_wait_status "● following │ nodes: 3 streaming" 5
log "  p: paused; p: following again"
log "  status bar: $(tui_status | sed -E 's/^ +//; s/ +$//')"
tui_quit
# --no-follow: the history, then a snapshot; each node's file done
snap=$("$kauditui" query --nodes --count --kubeconfig "$kc")
tui_init kauditui-nodes-snap "$NODES_E2E_DIR"
tui_start "$kauditui" --nodes --no-follow --kubeconfig="$kc"
tui_wait_status " $(thousands "$snap") req .*snapshot │ nodes: 3 done" 60
log "  --no-follow: $snap requests; $(tui_status | grep -oE '(snapshot|nodes: )[^│]*' | sed 's/ *$//' | paste -sd' ')"
tui_quit
log "explorer driven through a kubelet outage and a rotation in $((SECONDS - t0))s"
