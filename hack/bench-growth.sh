#!/usr/bin/env bash
# How cost grows with the log: `kauditui query` (a full parse, a rare value,
# a table of every request) and the explorer, on 100 MB, 1 GB and 5 GB made
# by hack/genlog. Wall time, CPU time and peak RSS from /usr/bin/time -v
# (medians of RUNS), the explorer's from hack/bench-explorer.sh. Issue 11:
# query's memory stays flat, time grows linearly.
#
#   hack/bench-growth.sh                  # 100MB 1GB 5GB, 3 runs (5 GB takes ~7 GB of disk)
#   SIZES="100MB 1GB" RUNS=1 hack/bench-growth.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"100MB 1GB 5GB"}
RUNS=${RUNS:-3}
EXPLORER=${EXPLORER:-1}
BIN=${BIN:-/tmp/kauditui-perf}
go build -o "$BIN" .
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure NAME CMD...: RUNS timed runs; prints "wall cpu rss_mib" medians.
measure() {
	local f=$tmp/m
	: >"$f"
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>&1 || true
		awk -F': ' '
			/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
			/Elapsed \(wall clock\)/ {n=split($2, p, ":"); w=0; for (i=1; i<=n; i++) w=w*60+p[i]}
			END {printf "%.2f %.2f %d\n", w, u+s, r/1024}' "$tmp/time" >>"$f"
	done
	echo "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median) $(cut -d' ' -f3 "$f" | median)"
}

echo "machine: $(nproc) cores; before: $(uptime)"
printf '%-7s %-46s %8s %8s %9s\n' size what "wall s" "cpu s" "rss MiB"
for size in $SIZES; do
	log=testdata/big/audit-$size.log
	[[ -s $log ]] || go run ./hack/genlog -size "$size" -o "$log" >&2
	for q in "--count -q stage=ResponseComplete" "--count -q user=needle-user-7f3a@example.com" "-q verb=get"; do
		# shellcheck disable=SC2086
		read -r w c r < <(measure "$BIN" query $q "$log")
		printf '%-7s %-46s %8s %8s %9s\n' "$size" "query ${q#--count -q }" "$w" "$c" "$r"
	done
	if [[ $EXPLORER == 1 ]]; then
		LOG=$log RUNS=1 BIN=$BIN hack/bench-explorer.sh 2>&1 | grep -E '^(first screen|bench-explorer)' | sed "s/^/$size explorer: /"
	fi
done
echo "after: $(uptime)"
