# shellcheck shell=bash
# hack/lib/tui.sh: drive the kauditui explorer in a private tmux server, as a
# person would, and read its screen (tmux capture-pane): the one home of the
# tmux driving of hack/tui-test.sh and the end-to-end scripts (pods-e2e,
# nodes-e2e). Source it, then:
#
#   tui_init NAME WORK [WIDTH]  a tmux server of its own (socket NAME-PID), its
#                             files in WORK, sessions WIDTH columns wide (160) and
#                             40 lines; tui_cleanup kills it (call it on exit; with
#                             TUI_KEEP=1 it keeps a failed run's server and says how
#                             to attach)
#   tui_start CMD...          CMD in a fresh session; its exit status lands in
#                             WORK/tui-exit, its stderr in WORK/tui-stderr
#   tui_run SHELL-LINE        the same for a shell command line the caller quotes
#                             (a pipeline into kauditui)
#   tui_pid                   the process id of the command tui_start started
#   tui_screen                the screen now
#   tui_status                the status bar: the screen line with " req"
#   tui_klog                  the status bar's klog count, without separators
#   tui_wait_for TEXT [S]     until the screen shows TEXT (fixed string), or fail
#   tui_wait_line TEXT...     until one screen line holds every TEXT, or fail
#   tui_wait_joined TEXT      until the screen, its lines joined without their
#                             indentation, holds TEXT (a line the explorer wrapped)
#   tui_wait_status RE [S]    until the status bar matches the extended regexp RE, or fail
#   tui_wait_screen RE [S]    until a screen line matches the extended regexp RE, or fail
#   tui_until CMD WHAT [S]    until the command CMD (a function of the caller) succeeds,
#                             or fail saying WHAT
#   tui_keys KEY...           tmux send-keys
#   tui_type TEXT             TEXT typed as it is (send-keys -l)
#   tui_filter TEXT           type TEXT as the filter (/, ctrl+u, TEXT, enter)
#   tui_quit                  q: the process must end with status 0 within 5 s
#   tui_stop                  kill the tmux server (the session in it)
#   tui_fail MSG              say MSG, the screen and kauditui's stderr, exit 1
#   thousands N               12345 -> 12,345, as the explorer writes counts
#
# Waits give up after S seconds (10) and look at the screen every TUI_POLL
# seconds (0.1). TUI_LOG is the prefix of its messages (default "tui").
_tui_sock="" _tui_work="" _tui_width=160 _tui_failed=false

tui_init() { _tui_sock="$1-$$" _tui_work=$2 _tui_width=${3:-160}; }
tui_stop() {
  if [ -n "$_tui_sock" ]; then tmux -L "$_tui_sock" kill-server 2>/dev/null || true; fi
}
tui_cleanup() {
  if $_tui_failed && [ "${TUI_KEEP:-0}" = 1 ]; then
    _tui_log "tmux server kept: tmux -L $_tui_sock attach"
  else
    tui_stop
  fi
}
_tui() { tmux -L "$_tui_sock" "$@"; }
_tui_log() { echo "${TUI_LOG:-tui}: $*" >&2; }

# the pane runs a shell that runs the command (tui_run): its child
tui_pid() { pgrep -P "$(_tui display -p -t e2e '#{pane_pid}')" | head -n 1; }

tui_screen() { _tui capture-pane -p -t e2e 2>/dev/null || true; }
tui_status() { tui_screen | grep -F ' req' | tail -n 1; }

tui_klog() { tui_status | grep -oE '[0-9,]+ klog' | cut -d' ' -f1 | tr -d ,; }

tui_fail() {
  _tui_failed=true
  _tui_log "FAIL: $*"
  echo "----- screen -----" >&2
  tui_screen >&2
  echo "------------------" >&2
  [ -s "$_tui_work/tui-stderr" ] && { echo "----- stderr -----" >&2; cat "$_tui_work/tui-stderr" >&2; }
  exit 1
}

tui_run() {
  rm -f "$_tui_work/tui-exit"
  _tui new-session -d -s e2e -x "$_tui_width" -y 40 \
    "$1 2>$_tui_work/tui-stderr; echo \$? >$_tui_work/tui-exit"
}

tui_start() { tui_run "env TERM=xterm-256color COLORTERM= NO_COLOR= $(printf '%q ' "$@")"; }

# _tui_until TEST WHAT [S]: until TEST (a command) succeeds; fail saying WHAT
# when S seconds pass or kauditui ends first.
tui_until() { _tui_until "$@"; }
_tui_until() {
  local deadline=$((SECONDS + ${3:-10}))
  while [ $SECONDS -lt "$deadline" ]; do
    $1 && return 0
    [ -f "$_tui_work/tui-exit" ] && tui_fail "kauditui ended (status $(cat "$_tui_work/tui-exit")) waiting for $2"
    sleep "${TUI_POLL:-0.1}"
  done
  tui_fail "waited ${3:-10}s for $2"
}

tui_wait_for() {
  _tui_text=$1
  _tui_until '_tui_shows' "\"$1\"" "${2:-}"
}
_tui_shows() { tui_screen | grep -qF -- "$_tui_text"; }

tui_wait_line() {
  _tui_words=("$@")
  _tui_until '_tui_line_holds' "one line with: $*"
}
_tui_line_holds() {
  local s w
  s=$(tui_screen)
  for w in "${_tui_words[@]}"; do s=$(grep -F -- "$w" <<<"$s" || true); done
  [ -n "$s" ]
}

tui_wait_joined() {
  _tui_text=$1
  _tui_until '_tui_joined' "\"$1\" (lines joined)"
}
_tui_joined() { tui_screen | sed -E 's/^ +//' | tr -d '\n' | grep -qF -- "$_tui_text"; }

tui_wait_status() {
  _tui_text=$1
  _tui_until '_tui_status_matches' "a status bar with /$1/" "${2:-}"
}
_tui_status_matches() { tui_status | grep -qE -- "$_tui_text"; }

tui_wait_screen() {
  _tui_text=$1
  _tui_until '_tui_screen_matches' "a screen line with /$1/" "${2:-}"
}
_tui_screen_matches() { tui_screen | grep -qE -- "$_tui_text"; }

tui_keys() { _tui send-keys -t e2e "$@"; }
tui_type() { _tui send-keys -t e2e -l -- "$1"; }

tui_filter() {
  tui_keys /
  tui_keys C-u
  tui_type "$1"
  tui_keys Enter
}

tui_quit() {
  tui_keys q
  local deadline=$((SECONDS + 5))
  while [ ! -f "$_tui_work/tui-exit" ] && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  [ -f "$_tui_work/tui-exit" ] || tui_fail "kauditui still running 5 s after q"
  [ "$(cat "$_tui_work/tui-exit")" = 0 ] || tui_fail "kauditui exited with status $(cat "$_tui_work/tui-exit")"
  tui_stop
}

# thousands N: 12345 -> 12,345, as the explorer writes counts.
thousands() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }
