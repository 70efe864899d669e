#!/usr/bin/env bash
# Renders the README's screenshot of an object's history from the real
# program: kauditui on testdata/answers (a real kube-apiserver's log) in tmux,
# "Changes to one object" for deploy shop/web, paged to the replace and the
# patches; the pane is captured with its colours and freeze (installed from
# the Go module proxy) turns it into docs/history-diff.svg (its PNG renderer
# crashes here; GitHub shows SVG in a README as it shows PNG).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v freeze >/dev/null || go install github.com/charmbracelet/freeze@v0.2.2
bin=$(mktemp -d)/kauditui
go build -o "$bin" .
session=kauditui-shot-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
tmux new-session -d -s "$session" -x 124 -y 30 \
  "TERM=xterm-256color COLORTERM=truecolor $bin testdata/answers/audit.log"
sleep 2
tmux send-keys -t "$session" 5          # Answers
sleep 0.5
tmux send-keys -t "$session" j Enter    # Changes to one object
sleep 0.5
tmux send-keys -t "$session" -l 'deploy shop/web'
sleep 0.3
tmux send-keys -t "$session" Enter
sleep 1
for _ in $(seq 1 28); do tmux send-keys -t "$session" j; done # to the scale
sleep 1
tmux capture-pane -t "$session" -e -p > "${bin%/*}/shot.ansi"
freeze -o docs/history-diff.svg --window --padding 20 --font.size 13 <"${bin%/*}/shot.ansi" # from stdin: -x loses lines here
