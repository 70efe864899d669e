# shellcheck shell=bash
# hack/lib/tui.sh: drive the kauditui explorer in a private tmux server, as
# hack/tui-test.sh does, for the end-to-end scripts (pods-e2e, nodes-e2e).
# Source it, then:
#
#   tui_init NAME WORK        a tmux server of its own (socket NAME-PID), its
#                             files in WORK; tui_cleanup kills it (call it on exit)
#   tui_start CMD...          CMD in a fresh 160x40 session; its exit status lands in WORK/tui-exit
#   tui_screen                the screen now (tmux capture-pane)
#   tui_status                the status bar: the screen line with " req"
#   tui_klog                  the status bar's klog count, without separators
#   tui_wait_for TEXT [S]     until the screen shows TEXT (fixed string), or fail
#   tui_wait_status RE [S]    until the status bar matches the extended regexp RE, or fail
#   tui_filter TEXT           type TEXT as the filter (/, ctrl+u, TEXT, enter)
#   tui_keys KEY...           tmux send-keys
#   tui_quit                  q: the process must end with status 0 within 5 s
#   tui_fail MSG              say MSG and the screen, exit 1
#
# TUI_LOG is the prefix of its messages (default "tui").
_tui_sock="" _tui_work=""

tui_init() { _tui_sock="$1-$$" _tui_work=$2; }
tui_cleanup() {
  if [ -n "$_tui_sock" ]; then tmux -L "$_tui_sock" kill-server 2>/dev/null || true; fi
}
_tui() { tmux -L "$_tui_sock" "$@"; }
_tui_log() { echo "${TUI_LOG:-tui}: $*" >&2; }

tui_screen() { _tui capture-pane -p -t e2e 2>/dev/null || true; }
tui_status() { tui_screen | grep -F ' req' | tail -n 1; }

tui_klog() { tui_status | grep -oE '[0-9,]+ klog' | cut -d' ' -f1 | tr -d ,; }

tui_fail() {
  _tui_log "FAIL: $*"
  echo "----- screen -----" >&2
  tui_screen >&2
  echo "------------------" >&2
  [ -s "$_tui_work/tui-stderr" ] && { echo "----- stderr -----" >&2; cat "$_tui_work/tui-stderr" >&2; }
  exit 1
}

tui_start() {
  rm -f "$_tui_work/tui-exit"
  local cmd
  cmd=$(printf '%q ' "$@")
  _tui new-session -d -s e2e -x 160 -y 40 \
    "env TERM=xterm-256color COLORTERM= NO_COLOR= $cmd 2>$_tui_work/tui-stderr; echo \$? >$_tui_work/tui-exit"
}

tui_wait_for() {
  local text=$1 deadline=$((SECONDS + ${2:-10}))
  while [ $SECONDS -lt "$deadline" ]; do
    tui_screen | grep -qF -- "$text" && return 0
    [ -f "$_tui_work/tui-exit" ] && tui_fail "kauditui ended (status $(cat "$_tui_work/tui-exit")) waiting for \"$text\""
    sleep 0.1
  done
  tui_fail "waited ${2:-10}s for \"$text\""
}

tui_wait_status() {
  local re=$1 deadline=$((SECONDS + ${2:-10}))
  while [ $SECONDS -lt "$deadline" ]; do
    tui_status | grep -qE -- "$re" && return 0
    [ -f "$_tui_work/tui-exit" ] && tui_fail "kauditui ended (status $(cat "$_tui_work/tui-exit")) waiting for a status bar with /$re/"
    sleep 0.1
  done
  tui_fail "waited ${2:-10}s for a status bar with /$re/"
}

tui_keys() { _tui send-keys -t e2e "$@"; }

tui_filter() {
  tui_keys /
  tui_keys C-u
  _tui send-keys -t e2e -l -- "$1"
  tui_keys Enter
}

tui_quit() {
  tui_keys q
  local deadline=$((SECONDS + 5))
  while [ ! -f "$_tui_work/tui-exit" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  [ -f "$_tui_work/tui-exit" ] || tui_fail "kauditui still running 5 s after q"
  [ "$(cat "$_tui_work/tui-exit")" = 0 ] || tui_fail "kauditui exited with status $(cat "$_tui_work/tui-exit")"
  _tui kill-server 2>/dev/null || true
}

# thousands N: 12345 -> 12,345, as the explorer writes counts.
thousands() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }
