#!/usr/bin/env bash
# The growth table of issue 21: how kauditui's costs grow with the trail a
# master keeps (audit.log beside 100 MiB backups, the oldest gzipped, made by
# `hack/genlog -trail`). For each size, the explorer's figures from
# hack/bench-explorer.sh (first screen, index, peak and settled RSS, bytes a
# request, re-filter; in tmux, as a person sees them), and `kauditui query`'s
# on the same trail: a full parse (stage=ResponseComplete), a rare user and a
# rare IP (genlog's needle request), with wall time, CPU time and peak RSS
# from /usr/bin/time -v. Medians of RUNS runs. Prints two markdown tables.
#
#   hack/bench-growth.sh                                   # 100MB 1GB 5GB 10GB, 3 runs
#   SIZES="100MB 1GB" RUNS=1 TRAILS=/work/trails hack/bench-growth.sh
#   EXPLORER=0 hack/bench-growth.sh                        # the query rows alone
#   QUERY=0 SIZES=10GB hack/bench-growth.sh                # the explorer alone
#
# The trail of SIZE is $TRAILS/SIZE (a folder), made with genlog when missing:
# about 10 s of one core and 1 GB of disk per GB (a 10GB trail is the
# apiserver's default maximum: 100 backups and a full audit.log, 10,100 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"100MB 1GB 5GB 10GB"}
RUNS=${RUNS:-3}
TRAILS=${TRAILS:-testdata/big/trails}
EXPLORER=${EXPLORER:-1}
QUERY=${QUERY:-1}
BIN=${BIN:-/tmp/kauditui-perf}
[[ ${BUILD:-1} == 1 ]] && go build -o "$BIN" .
command -v /usr/bin/time >/dev/null || { echo "bench-growth: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure CMD...: RUNS timed runs; prints "wall cpu rss_mib load answer"
# (medians; the loads at the start of each run; the last run's output).
measure() {
	local f=$tmp/m loads=""
	: >"$f"
	for _ in $(seq "$RUNS"); do
		loads+="${loads:+/}$(cut -d' ' -f1 /proc/loadavg)"
		/usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || true
		awk -F': ' '
			/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
			/Elapsed \(wall clock\)/ {n=split($2, p, ":"); w=0; for (i=1; i<=n; i++) w=w*60+p[i]}
			END {printf "%.2f %.2f %d\n", w, u+s, r/1024}' "$tmp/time" >>"$f"
	done
	local answer
	answer=$(tail -1 "$tmp/out" | sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta')
	[[ -n $answer ]] || answer="error: $(head -1 "$tmp/err" | tr '|' '/')"
	echo "$(cut -d' ' -f1 "$f" | median) $(cut -d' ' -f2 "$f" | median) $(cut -d' ' -f3 "$f" | median) $loads $answer"
}

rev=$(git describe --always --dirty)
[[ ${BUILD:-1} == 1 ]] || rev="$BIN as given"
echo "bench-growth: $SIZES; RUNS=$RUNS; $(nproc) cores; kauditui $rev; before: $(uptime)" >&2
: >"$tmp/explorer"
: >"$tmp/query"
for size in $SIZES; do
	trail=$TRAILS/$size
	if [[ ! -e $trail ]]; then
		echo "making the trail $trail ..." >&2
		go run ./hack/genlog -trail "$trail" -size "$size" >&2
	fi
	if [[ $QUERY == 1 ]]; then
		for q in "full parse#stage=ResponseComplete" "rare user#user=needle-user-7f3a@example.com" "rare IP#ip=203.0.113.77"; do
			IFS='#' read -r what flt <<<"$q"
			read -r w c r l a < <(measure "$BIN" query --count -q "$flt" "$trail/audit.log")
			# shellcheck disable=SC2016 # markdown code, not an expansion
			printf '| %s | %s (`%s`) | %s | %s | %s | %s | %s |\n' "$size" "$what" "$flt" "$a" "$w" "$c" "$r" "$l" | tee -a "$tmp/query" >&2
		done
	fi
	if [[ $EXPLORER == 1 ]]; then
		if HEADER=0 LABEL=$size BUILD=0 BIN=$BIN RUNS=$RUNS hack/bench-explorer.sh "$trail" >"$tmp/row" 2> >(tee "$tmp/explorer-err" >&2); then
			tee -a "$tmp/explorer" <"$tmp/row" >&2
		else
			echo "| $size | failed: $(grep -m1 -E 'FAIL|bench-explorer' "$tmp/explorer-err" | tr '|' '/') | | | | | | | | | | |" | tee -a "$tmp/explorer" >&2
		fi
	fi
done
echo "bench-growth: after: $(uptime)" >&2

echo "Growth on $(nproc) cores, $(date -u +%FT%RZ), kauditui $rev; medians of RUNS=$RUNS; load 1m at the start of each run (the machine is shared)."
if [[ -s $tmp/explorer ]]; then
	echo
	echo "| trail | files | requests | first screen s | index s | peak RSS MiB | settled RSS MiB | B/req settled | B/req peak | re-filter: first rows s | re-filter: done s | load 1m |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
	cat "$tmp/explorer"
	echo
	echo "Explorer in tmux on the trail's audit.log (it finds the backups). Index: until the status bar stops saying \"loading\"; peak: VmHWM; settled: VmRSS ${SETTLE:-3} s later; B/req: beyond the explorer on a one-request log; re-filter \`${FILTER:-verb=delete}\`: from Enter to its rows (N/TOTAL in the status bar) and to the end of \"filtering…\"."
fi
if [[ -s $tmp/query ]]; then
	echo
	echo "| trail | query --count | answer | wall s | CPU s | peak RSS MiB | load 1m |"
	echo "|---|---|---|---|---|---|---|"
	cat "$tmp/query"
fi
