#!/usr/bin/env bash
# The explorer's figures on a generated log, measured as a person sees them:
# kauditui runs in tmux (160x40); the screen is read every 10 ms. Prints, as
# medians of RUNS runs: the time to the first screen of rows, the time until
# the index is complete (the status bar stops saying "loading"), the
# resident memory then (VmRSS, and VmHWM for the peak) and bytes per request
# beyond the resident memory of the explorer on a 1-request log, and the time
# from pressing Enter on a filter to its first screen.
#
#   hack/bench-explorer.sh                     # 1 GB, 3 runs
#   SIZE=5GB RUNS=1 hack/bench-explorer.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1GB}
RUNS=${RUNS:-3}
LOG=${LOG:-testdata/big/audit-$SIZE.log}
BIN=${BIN:-/tmp/kauditui-perf}
FILTER=${FILTER:-verb=delete}

command -v tmux >/dev/null || { echo "bench-explorer: tmux is missing (apt-get install tmux)" >&2; exit 2; }
if [[ ! -s $LOG ]]; then
	echo "making $LOG ..." >&2
	go run ./hack/genlog -size "$SIZE" -o "$LOG"
fi
go build -o "$BIN" .
# a tmux server of its own for each run: a server still exiting cannot take
# the next session
sock=kauditui-bench-$$-0
tmp=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
screen() { tmux -L "$sock" capture-pane -p -t b; }
# wait_for CMD: polls every 10 ms until CMD (a test on the screen) holds.
wait_for() {
	for _ in $(seq 12000); do
		if screen | eval "$1"; then return 0; fi
		sleep 0.01
	done
	echo "bench-explorer: timed out waiting for: $1" >&2
	screen >&2
	exit 1
}
rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }

# The explorer on a one-request log: what it costs before any request.
head -2 "$LOG" >"$tmp/one.log"
tmux -L "$sock" new-session -d -s b -x 160 -y 40 "$BIN $tmp/one.log"
wait_for "grep -q '1 req'"
sleep 0.3
base=$(rss_kb "$(tmux -L "$sock" display -p -t b '#{pane_pid}')" VmRSS)
tmux -L "$sock" kill-server

echo "log: $LOG ($(du -h "$LOG" | cut -f1)); $RUNS runs; machine: $(nproc) cores; before: $(uptime)"
for i in $(seq "$RUNS"); do
	sock=kauditui-bench-$$-$i
	t0=$(now)
	tmux -L "$sock" new-session -d -s b -x 160 -y 40 "$BIN $LOG"
	pid=$(tmux -L "$sock" display -p -t b '#{pane_pid}')
	wait_for "grep -qE '^[0-9]{2}-[0-9]{2} [0-9:.]+ '"
	t1=$(now)
	wait_for "grep -E ' req ' | grep -vq loading"
	t2=$(now)
	sleep 0.5
	rss=$(rss_kb "$pid" VmRSS)
	hwm=$(rss_kb "$pid" VmHWM)
	reqs=$(screen | grep -oE '[0-9,]+ req ' | head -1 | tr -d ', req')
	# a filter: / FILTER Enter, until the status bar shows the filtered count
	tmux -L "$sock" send-keys -t b / "$FILTER"
	sleep 0.3
	t3=$(now)
	tmux -L "$sock" send-keys -t b Enter
	wait_for "grep -E ' req ' | grep -qvE '(^| )$reqs req '"
	t4=$(now)
	tmux -L "$sock" kill-server
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v r="$rss" -v h="$hwm" -v n="$reqs" -v base="$base" 'BEGIN {
		printf "%.3f %.3f %d %d %d %.0f %.3f\n", b - a, c - a, r, h, n, (r - base) * 1024 / n, e - d
	}' >>"$tmp/runs"
	echo "run $i: $(tail -1 "$tmp/runs")" >&2
done
echo "after: $(uptime)"
median() { cut -d' ' -f"$1" "$tmp/runs" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '\nrequests %s; explorer on a 1-request log: %d MiB resident\n' "$(median 5)" $((base / 1024))
printf 'first screen %s s, index complete %s s, resident %d MiB (peak %d MiB), %s bytes per request, filter %s to its screen %s s\n' \
	"$(median 1)" "$(median 2)" $(($(median 3) / 1024)) $(($(median 4) / 1024)) "$(median 6)" "$FILTER" "$(median 7)"
echo "(medians; targets: first screen < 0.5 s, index < 3 s on 1 GB, <= 200 bytes per request)"
