#!/usr/bin/env bash
# The explorer's figures on a generated trail (or one log), measured as a
# person sees them: kauditui runs in tmux (160x40, hack/lib/tui.sh), the
# screen read every 10 ms. Per run: the time to the first screen of rows; the
# time until the index is complete (the status bar stops saying "loading");
# the peak resident memory then (VmHWM) and the settled one (VmRSS, SETTLE
# seconds later), and bytes per request of each beyond the explorer on a
# one-request log; then the re-filter: FILTER typed in the filter bar and
# Enter, to the first screen of its rows (the status bar shows "N/TOTAL req")
# and to the end of the filtering (no "filtering…"). Prints a markdown table
# of the medians of RUNS runs (HEADER=0: its row alone), each run to stderr.
#
#   hack/bench-explorer.sh /work/trails/1GB      # a trail: the folder, or its audit.log
#   RUNS=1 hack/bench-explorer.sh testdata/big/audit-1GB.log
#   SIZE=5GB hack/bench-explorer.sh              # $TRAILS/5GB, made with genlog -trail if missing
#   ARGS="--max-memory 512MiB" hack/bench-explorer.sh /work/trails/10GB   # flags for kauditui (a master's budget)
#
# A trail is a folder holding audit.log and its rotated backups
# (`go run ./hack/genlog -trail DIR -size 1GB`); kauditui is given its
# audit.log and finds the backups itself, as on a master.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=hack/lib/tui.sh
. hack/lib/tui.sh

SIZE=${SIZE:-1GB}
RUNS=${RUNS:-3}
TRAILS=${TRAILS:-testdata/big/trails}
BIN=${BIN:-/tmp/kauditui-perf}
FILTER=${FILTER:-verb=delete}
SETTLE=${SETTLE:-3}
WAIT=${WAIT:-900} # seconds a run may take to show its index
HEADER=${HEADER:-1}
BUILD=${BUILD:-1} # 0: use BIN as it is (bench-growth.sh built it)
target=${1:-${LOG:-$TRAILS/$SIZE}}
LABEL=${LABEL:-$target}
export TUI_POLL=0.01 TUI_LOG=bench-explorer

command -v tmux >/dev/null || { echo "bench-explorer: tmux is missing (apt-get install tmux)" >&2; exit 2; }
if [[ ! -e $target ]]; then
	if [[ $target == *.log ]]; then
		echo "making $target ($SIZE, one file) ..." >&2
		go run ./hack/genlog -size "$SIZE" -o "$target" >&2
	else
		echo "making the trail $target ($SIZE) ..." >&2
		go run ./hack/genlog -trail "$target" -size "$SIZE" >&2
	fi
fi
log=$target
[[ -d $target ]] && log=$target/audit.log
[[ -f $log ]] || { echo "bench-explorer: $log: no such log (give a trail's folder, its audit.log, or a log)" >&2; exit 2; }
[[ $BUILD == 1 ]] && go build -o "$BIN" .

# the trail: the log and its rotated backups (lumberjack's names)
stem=$(basename "${log%.log}")
mapfile -t trail < <(find "$(dirname "$log")" -maxdepth 1 -name "$stem-*.log*")
gzipped=$(printf '%s\n' "${trail[@]}" | grep -c '\.gz$' || true)
files="$((${#trail[@]} + 1)) ($gzipped gz)"
ondisk=$(du -ch --apparent-size "$log" "${trail[@]}" | tail -1 | cut -f1)

tmp=$(mktemp -d)
trap 'tui_cleanup; rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
load1() { cut -d' ' -f1 /proc/loadavg; }
rss_kb() { awk "/^$2:/ {print \$2}" "/proc/$1/status"; }
# started: pid is kauditui's in the tmux pane, once it runs
started() {
	pid=""
	for _ in $(seq 500); do
		pid=$(tui_pid || true)
		[[ -n $pid ]] && return
		sleep 0.01
	done
	tui_fail "kauditui did not start"
}
indexed() { local s; s=$(tui_status); [[ $s == *" req "* && $s != *loading* ]]; }
rows() { tui_screen | grep -qE '^[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}'; }
# the filter's rows are shown (N/TOTAL req); its filtering has ended
filtered() { tui_status | grep -qF "/$total req"; }
filter_done() { local s; s=$(tui_status); [[ $s == *"/$total req"* && $s != *filtering* ]]; }

# The explorer on a one-request log: what it costs before any request.
grep -m1 '"stage":"ResponseComplete"' "$log" >"$tmp/one.log"
tui_init kauditui-bench-0 "$tmp"
tui_start "$BIN" ${ARGS:-} "$tmp/one.log"
started
tui_wait_status '(^| )1 req ' 30
sleep 0.5
base=$(rss_kb "$pid" VmRSS)
tui_stop

echo "log: $log, $files files ($ondisk on disk); $RUNS runs; machine: $(nproc) cores; before: $(uptime)" >&2
for i in $(seq "$RUNS"); do
	# a tmux server of its own for each run: a server still exiting cannot
	# take the next session
	tui_init "kauditui-bench-$i" "$tmp"
	l0=$(load1)
	t0=$(now)
	tui_start "$BIN" ${ARGS:-} "$log"
	started
	tui_until rows "the first rows" "$WAIT"
	t1=$(now)
	tui_until indexed "the index (no \"loading\")" "$WAIT"
	t2=$(now)
	hwm=$(rss_kb "$pid" VmHWM)
	sleep "$SETTLE"
	rss=$(rss_kb "$pid" VmRSS)
	hwm2=$(rss_kb "$pid" VmHWM)
	total=$(tui_status | grep -oE '[0-9,]+ req ' | head -1 | cut -d' ' -f1)
	# the filter: typed, then Enter before the bar's debounce applies it
	tui_keys /
	tui_keys C-u
	sleep 0.3
	tui_type "$FILTER"
	t3=$(now)
	tui_keys Enter
	tui_until filtered "the filtered rows" 600
	t4=$(now)
	tui_until filter_done "the end of the filtering" 600
	t5=$(now)
	shown=$(tui_status | grep -oE '[0-9,]+/[0-9,]+ req' | cut -d/ -f1)
	tui_stop
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v f="$t5" -v r="$rss" -v h="$hwm2" -v n="${total//,/}" -v base="$base" -v l="$l0" -v s="${shown//,/}" 'BEGIN {
		printf "%.2f %.2f %d %d %d %.0f %.0f %.3f %.3f %s %d\n", b - a, c - a, h, r, n, (r - base) * 1024 / n, (h - base) * 1024 / n, e - d, f - d, l, s
	}' >>"$tmp/runs"
	echo "run $i: first screen, index s; peak, settled KiB; requests; B/req settled, peak; re-filter first rows, done s; load; filtered: $(tail -1 "$tmp/runs") (VmHWM at the index $hwm KiB)" >&2
done
echo "after: $(uptime)" >&2

median() { cut -d' ' -f"$1" "$tmp/runs" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
if [[ $HEADER == 1 ]]; then
	echo "| trail | files | requests | first screen s | index s | peak RSS MiB | settled RSS MiB | B/req settled | B/req peak | re-filter: first rows s | re-filter: done s | load 1m |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
fi
printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$LABEL" "$files" "$(thousands "$(median 5)")" \
	"$(median 1)" "$(median 2)" $(($(median 3) / 1024)) $(($(median 4) / 1024)) "$(median 6)" "$(median 7)" \
	"$(median 8)" "$(median 9)" "$(cut -d' ' -f10 "$tmp/runs" | paste -sd/)"
if [[ $HEADER == 1 ]]; then
	echo
	echo "Medians of runs: $RUNS; $(nproc) cores; explorer on a one-request log: $((base / 1024)) MiB resident (B/req is beyond it); settled = $SETTLE s after the index; re-filter \`$FILTER\` ($(thousands "$(median 11)") rows) from Enter; load 1m at the start of each run."
fi
