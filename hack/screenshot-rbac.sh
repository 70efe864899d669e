#!/usr/bin/env bash
# Renders the README's screenshot of copying a Role out of the RBAC answer,
# from the real program: kauditui on testdata/answers (a real
# kube-apiserver's log) in tmux, "Denied requests", → into the results, R
# on ci-bot's denial (the RBAC it needs), y (copied through OSC 52, the
# status bar says what); the pane is captured with its colours and freeze
# (installed from the Go module proxy) turns it into docs/rbac-copy.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v freeze >/dev/null || go install github.com/charmbracelet/freeze@v0.2.2
bin=$(mktemp -d)/kauditui
go build -o "$bin" .
session=kauditui-shot-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true' EXIT
tmux new-session -d -s "$session" -x 110 -y 30 \
  "TERM=xterm-256color COLORTERM=truecolor $bin testdata/answers/audit.log"
sleep 2
tmux send-keys -t "$session" 5          # Answers
sleep 0.5
# the catalog's place of "denied" (its IDs in order, from 0)
denied=$(($(grep -oE 'ID: *"[a-z]+"' ui/answers_catalog.go | grep -n '"denied"' | cut -d: -f1) - 1))
for _ in $(seq 1 "$denied"); do tmux send-keys -t "$session" j; done # Denied requests
sleep 0.3
tmux send-keys -t "$session" l          # into the results: ci-bot's burst of denials, newest first
sleep 0.5
tmux send-keys -t "$session" R          # the RBAC ci-bot needs
sleep 1
tmux send-keys -t "$session" y          # copy it
sleep 0.5
tmux capture-pane -t "$session" -e -p > "${bin%/*}/shot.ansi"
freeze -o docs/rbac-copy.svg --window --padding 20 --font.size 13 <"${bin%/*}/shot.ansi"
