#!/usr/bin/env bash
# Compares `kauditui query --count` with jq and grep on the same generated
# audit log, predicate by predicate, in one run: CPU time (user+sys), wall
# time and peak RSS from /usr/bin/time -v, medians of the runs (interleaved,
# so a change in the machine's load hits every tool alike), then the ratios.
# Issue 11's targets: every field filter at least 10x faster than jq (wall);
# a rare literal value within 2x of `grep -c VALUE`; peak RSS at most 100 MiB.
#
#   hack/bench-vs-jq.sh                         # 1 GB log, every predicate, 3 runs
#   SIZE=100MB RUNS=5 hack/bench-vs-jq.sh user code
#   JQ_RUNS=1 hack/bench-vs-jq.sh               # jq once per predicate (it takes ~20 s per GB); 0: never
#
# The log is made with hack/genlog when missing (git-ignored, never
# committed); it holds one request with a rare value in every field (the
# Needle* constants of hack/genlog), which the "rare" predicates look for.
# When lnav is installed it runs too, with hack/lnav/k8s_audit.json, for the
# predicates with an SQL condition (only code=403 so far: lnav's SQL gave no
# count for the string columns of this format; its time is then the index).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${SIZE:-1GB}
RUNS=${RUNS:-3}
JQ_RUNS=${JQ_RUNS:-$RUNS}
LOG=${LOG:-testdata/big/audit-$SIZE.log}
BIN=${BIN:-/tmp/kauditui-perf}

# name # kauditui filter # jq condition # grep literal (empty: no grep) # lnav SQL condition (empty: no lnav)
predicates=(
	'user#user=needle-user-7f3a@example.com#.user.username=="needle-user-7f3a@example.com" or .impersonatedUser.username=="needle-user-7f3a@example.com"#needle-user-7f3a@example.com#'
	'group#group=needle-group-7f3a#(.user.groups // []) | index("needle-group-7f3a") != null#needle-group-7f3a#'
	'name#name=needle-object-7f3a#.objectRef.name=="needle-object-7f3a"#needle-object-7f3a#'
	'ns#ns=needle-ns-7f3a#.objectRef.namespace=="needle-ns-7f3a"#needle-ns-7f3a#'
	'agent#agent=needle-agent-7f3a/1.0#.userAgent=="needle-agent-7f3a/1.0"#needle-agent-7f3a/1.0#'
	'ip#ip=203.0.113.77#(.sourceIPs // []) | index("203.0.113.77") != null#203.0.113.77#'
	'id#id=7f3a7f3a-0000-4000-8000-needle7f3a00#.auditID=="7f3a7f3a-0000-4000-8000-needle7f3a00"#7f3a7f3a-0000-4000-8000-needle7f3a00#'
	'uri#uri=*needle-object-7f3a*#.requestURI | contains("needle-object-7f3a")#needle-object-7f3a#'
	'reason#reason=needle-reason-7f3a#.annotations["authorization.k8s.io/reason"]=="needle-reason-7f3a"#needle-reason-7f3a#'
	'msg#msg=needle-message-7f3a#.responseStatus.message=="needle-message-7f3a"#needle-message-7f3a#'
	'user+verb#user=needle-user-7f3a@example.com verb=delete#(.user.username=="needle-user-7f3a@example.com") and .verb=="delete"#needle-user-7f3a@example.com#'
	'verb-common#verb=get#.verb=="get"#"verb":"get"#'
	'code#code=403#.responseStatus.code==403##"responseStatus/code" = 403'
	'decision#decision=forbid#.annotations["authorization.k8s.io/decision"]=="forbid"##'
	'latency#latency>1s#((.stageTimestamp|sub("\\.[0-9]+Z$";"Z")|fromdate) - (.requestReceivedTimestamp|sub("\\.[0-9]+Z$";"Z")|fromdate)) > 1##'
	'since#since=2026-01-01T01:00:00Z#.requestReceivedTimestamp >= "2026-01-01T01:00:00"##'
	'stage-fullparse#stage=ResponseComplete#.stage=="ResponseComplete"##'
	'not-verb-fullparse#!verb=get#.verb!="get"##'
)

LNAV=0
if command -v lnav >/dev/null; then
	lnav -i hack/lnav/k8s_audit.json >/dev/null 2>&1 && LNAV=1
fi
for tool in jq /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-vs-jq: $tool is missing (apt-get install jq time)" >&2; exit 2; }
done
if [[ ! -s $LOG ]]; then
	echo "making $LOG ..." >&2
	go run ./hack/genlog -size "$SIZE" -o "$LOG"
fi
go build -o "$BIN" .

want=("$@")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# run FILE CMD...: one timed run; appends "cpu wall rss_kb" to FILE and the
# command's last output line to FILE.out.
run() {
	local file=$1
	shift
	/usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" || true
	tail -1 "$tmp/out" >"$file.out"
	awk -F': ' '
		/User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {r=$2}
		/Elapsed \(wall clock\)/ {n=split($2, p, ":"); w=0; for (i=1; i<=n; i++) w=w*60+p[i]}
		END {printf "%.2f %.2f %d\n", u+s, w, r}' "$tmp/time" >>"$file"
}

# median of column $2 in file $1
median() { cut -d' ' -f"$2" "$1" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "log: $LOG ($(du -h "$LOG" | cut -f1)); $RUNS runs (jq $JQ_RUNS); machine: $(nproc) cores, $(jq --version), $(grep --version | head -1)"
echo "before: $(uptime)"
names=()
for p in "${predicates[@]}"; do
	IFS='#' read -r name flt jqc lit lsql <<<"$p"
	if ((${#want[@]})) && [[ " ${want[*]} " != *" $name "* ]]; then
		continue
	fi
	names+=("$name")
	for i in $(seq "$RUNS"); do
		run "$tmp/$name.ours" "$BIN" query --count -q "$flt" "$LOG"
		if [[ -n $lit ]]; then
			run "$tmp/$name.grep" grep -c -F -- "$lit" "$LOG"
		fi
		if ((i <= JQ_RUNS)); then
			run "$tmp/$name.jq" jq -n "reduce (inputs | select($jqc)) as \$e (0; . + 1)" "$LOG"
		fi
		if [[ -n $lsql && $LNAV == 1 ]]; then
			run "$tmp/$name.lnav" lnav -n -c ";SELECT count(DISTINCT auditID) FROM k8s_audit WHERE $lsql" "$LOG"
		fi
	done
	echo "$name done: $(uptime)" >&2
done
echo "after: $(uptime)"

printf '\n%-19s %-10s %8s %8s %8s  %s\n' predicate tool "cpu s" "wall s" "rss MiB" "count (requests for kauditui, lines for jq and grep)"
for name in "${names[@]}"; do
	for t in ours grep jq lnav; do
		f=$tmp/$name.$t
		[[ -s $f ]] || continue
		printf '%-19s %-10s %8s %8s %8d  %s\n' "$name" "${t/ours/kauditui}" "$(median "$f" 1)" "$(median "$f" 2)" \
			"$(($(median "$f" 3) / 1024))" "$(cat "$f.out")"
	done
done

printf '\n%-19s %12s %14s %12s %10s\n' predicate "jq/kauditui" "kauditui/grep" "lnav/kauditui" "rss MiB"
for name in "${names[@]}"; do
	ow=$(median "$tmp/$name.ours" 2)
	jw=-
	[[ -s $tmp/$name.jq ]] && jw=$(median "$tmp/$name.jq" 2)
	gw=-
	[[ -s $tmp/$name.grep ]] && gw=$(median "$tmp/$name.grep" 2)
	lw=-
	[[ -s $tmp/$name.lnav ]] && lw=$(median "$tmp/$name.lnav" 2)
	awk -v n="$name" -v o="$ow" -v j="$jw" -v g="$gw" -v l="$lw" -v r="$(($(median "$tmp/$name.ours" 3) / 1024))" 'BEGIN {
		o = (o > 0) ? o : 0.01
		gr = (g == "-") ? "-" : sprintf("%.1fx", o / ((g > 0) ? g : 0.01))
		jr = (j == "-") ? "-" : sprintf("%.1fx", j / o)
		lr = (l == "-") ? "-" : sprintf("%.1fx", l / o)
		printf "%-19s %12s %14s %12s %10d\n", n, jr, gr, lr, r
	}'
done
echo "(wall-time ratios of medians; targets: jq/kauditui >= 10x, kauditui/grep <= 2x for rare values, rss <= 100 MiB)"
