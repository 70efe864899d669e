#!/usr/bin/env bash
# Renders the README's screenshot from the real program: kauditui --demo in
# tmux answers "who deleted my deployment?", the pane is captured with its
# colours, and freeze (charmbracelet's terminal-to-image tool, installed from
# the Go module proxy) turns it into docs/who-deleted.png.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v freeze >/dev/null || go install github.com/charmbracelet/freeze@v0.2.2
bin=$(mktemp -d)/kauditui
go build -o "$bin" .
session=kauditui-shot-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
tmux new-session -d -s "$session" -x 110 -y 24 "TERM=xterm-256color COLORTERM=truecolor $bin --demo"
sleep 2
tmux send-keys -t "$session" 5          # Answers
sleep 0.5
tmux send-keys -t "$session" Enter      # Who deleted …?
sleep 0.5
tmux send-keys -t "$session" -l 'deploy kubyk-web'
sleep 0.3
tmux send-keys -t "$session" Enter
sleep 1
tmux capture-pane -t "$session" -e -p > "${bin%/*}/shot.ansi"
freeze -x "cat ${bin%/*}/shot.ansi" -o docs/who-deleted.png --window --padding 20 --font.size 13
