#!/usr/bin/env bash
# Compares `kauditui query --count` with jq and grep on the same generated
# audit log, in one run: CPU time (user+sys), wall time and peak RSS from
# /usr/bin/time -v, medians of RUNS runs, and the ratios. Issue 3's target:
# kauditui at least 10x faster than jq.
#
#   hack/bench-vs-jq.sh                      # 1 GB log, verb=delete, 3 runs
#   SIZE=100MB RUNS=5 hack/bench-vs-jq.sh
#   FILTER=user=alice JQ='select(.user.username=="alice" or .impersonatedUser.username=="alice")' \
#     GREP='"username":"alice"' hack/bench-vs-jq.sh
#
# When lnav is installed (apt-get install lnav), it runs too, with the audit
# format in hack/lnav/k8s_audit.json (installed for it) and an SQL count of the
# same requests: LNAV_WHERE is the SQL condition (default verb = 'delete').
#
# jq takes minutes per GB: run it in the background on a busy machine
# (nohup hack/bench-vs-jq.sh > /tmp/bench.txt 2>&1 &). The log is made with
# hack/genlog when missing (git-ignored, never committed).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1GB}
RUNS=${RUNS:-3}
LOG=${LOG:-testdata/big/audit-$SIZE.log}
FILTER=${FILTER:-verb=delete}
JQ=${JQ:-'select(.verb=="delete")'}
GREP=${GREP:-'"verb":"delete"'}
BIN=${BIN:-/tmp/kauditui-perf}
LNAV_WHERE=${LNAV_WHERE:-"verb = 'delete'"}
tools=(ours jq grep)
if command -v lnav >/dev/null; then
	lnav -i hack/lnav/k8s_audit.json >/dev/null
	tools+=(lnav)
fi

for tool in jq /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-vs-jq: $tool is missing (apt-get install jq time)" >&2; exit 2; }
done
if [[ ! -s $LOG ]]; then
	echo "making $LOG ..." >&2
	go run ./hack/genlog -size "$SIZE" -o "$LOG"
fi
go build -o "$BIN" .

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run NAME CMD...: one timed run; appends "cpu wall rss_kb" to $tmp/NAME and
# the command's output to $tmp/NAME.out.
run() {
	local name=$1
	shift
	/usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/$name.out"
	awk -F': ' '
		/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
		/Elapsed \(wall clock\)/ {n=split($2, p, ":"); w=0; for (i=1; i<=n; i++) w=w*60+p[i]}
		END {printf "%.2f %.2f %d\n", u+s, w, r}' "$tmp/time" >>"$tmp/$name"
}


echo "log: $LOG ($(du -h "$LOG" | cut -f1)); filter: $FILTER; jq: $JQ; grep: $GREP; $RUNS runs"
echo "machine: $(nproc) cores; before: $(uptime)"
# Interleaved, so that a change in the machine's load hits every tool alike.
for i in $(seq "$RUNS"); do
	run ours "$BIN" query --count -q "$FILTER" "$LOG"
	run grep grep -c -- "$GREP" "$LOG"
	# bash waits for jq and wc: its times and peak RSS include theirs
	run jq bash -c 'jq -c "$0" "$1" | wc -l' "$JQ" "$LOG"
	if [[ " ${tools[*]} " == *" lnav "* ]]; then
		run lnav lnav -n -c ";SELECT count(DISTINCT auditID) FROM k8s_audit WHERE $LNAV_WHERE" "$LOG"
	fi
	echo "run $i done: $(uptime)" >&2
done
echo "after: $(uptime)"

# median of column $2 in file $1
median() { cut -d' ' -f"$2" "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '\n%-9s %10s %10s %10s  %s\n' tool "cpu s" "wall s" "rss MiB" "count (requests for kauditui and lnav, lines for jq and grep)"
for t in "${tools[@]}"; do
	printf '%-9s %10s %10s %10d  %s\n' "$t" "$(median "$tmp/$t" 1)" "$(median "$tmp/$t" 2)" \
		"$(($(median "$tmp/$t" 3) / 1024))" "$(tail -1 "$tmp/$t.out" | tr -s ' ')"
done
echo
echo "all runs (cpu wall rss_kb):"
for t in "${tools[@]}"; do echo "$t: $(tr '\n' ';' <"$tmp/$t")"; done
echo
awk -v oc="$(median "$tmp/ours" 1)" -v ow="$(median "$tmp/ours" 2)" \
	-v jc="$(median "$tmp/jq" 1)" -v jw="$(median "$tmp/jq" 2)" \
	-v gc="$(median "$tmp/grep" 1)" -v gw="$(median "$tmp/grep" 2)" 'BEGIN {
	printf "jq / kauditui:   %.1fx cpu, %.1fx wall (target: 10x)\n", jc/oc, jw/ow
	printf "kauditui / grep: %.1fx cpu, %.1fx wall\n", oc/gc, ow/gw
}'
if [[ -s $tmp/lnav ]]; then
	awk -v oc="$(median "$tmp/ours" 1)" -v ow="$(median "$tmp/ours" 2)" \
		-v lc="$(median "$tmp/lnav" 1)" -v lw="$(median "$tmp/lnav" 2)" \
		'BEGIN { printf "lnav / kauditui: %.1fx cpu, %.1fx wall\n", lc/oc, lw/ow }'
fi
