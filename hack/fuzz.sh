#!/usr/bin/env bash
# Runs kauditui's fuzzers, each for a chosen time, a few side by side.
#
#   hack/fuzz.sh                 # the parser fuzzers and the engines' agreement, 10 minutes each, 2 at a time
#   hack/fuzz.sh -t 30s          # a quick pass
#   hack/fuzz.sh -t 1h -j 1 FuzzJSONStream
#   hack/fuzz.sh --all           # also the prefilter, JSON validator, time and setup fuzzers
#
# A crasher is written by `go test` to <package>/testdata/fuzz/<Fuzzer>/ and
# from then on runs as a regression case in the plain `go test ./...`:
# commit it with the fix. Logs go to $FUZZ_LOGS (default a temp folder);
# the last line of each is printed. Exit status 1 when any fuzzer failed.
set -euo pipefail
cd "$(dirname "$0")/.."

time=10m
jobs=2
# fuzzer=package: the line classifier, the CRI reader, the event scanner,
# the klog parser, the filter language, the JSON value stream, Sigma rules, the managed
# clusters' export records (EKS, AKS, GKE, kubectl --timestamps); and every
# query engine against the full store on mutated real logs (escaped keys and
# values, key order, stages reordered or lost, lines repeated far apart)
fuzzers=(FuzzClassify=./source FuzzCRIReader=./source FuzzScanEvent=./audit
  FuzzKlog=./source FuzzParse=./filter FuzzJSONStream=./source FuzzExport=./source
  FuzzSigma=./detect FuzzEnginesAgree=.)
extra=(FuzzPrefilter=./source FuzzValidJSON=./audit FuzzParseTime=./audit FuzzPatchTwiceIsPatchOnce=./setup)
only=()
while [ $# -gt 0 ]; do
  case $1 in
    -t) time=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --all) fuzzers+=("${extra[@]}"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) only+=("$1"); shift ;;
  esac
done
if [ ${#only[@]} -gt 0 ]; then
  picked=()
  for f in "${fuzzers[@]}" "${extra[@]}"; do
    for o in "${only[@]}"; do [ "${f%%=*}" = "$o" ] && picked+=("$f"); done
  done
  fuzzers=("${picked[@]}")
fi
logs=${FUZZ_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
echo "fuzz: ${#fuzzers[@]} fuzzers, $time each, $jobs at a time; logs in $logs"

run() {
  local name=${1%%=*} pkg=${1#*=}
  local start=$SECONDS
  if go test -run '^$' -fuzz "^$name\$" -fuzztime "$time" -parallel 1 "$pkg" >"$logs/$name.log" 2>&1; then
    echo "fuzz: $name ($pkg) passed in $((SECONDS - start))s: $(grep -E '^fuzz: elapsed' "$logs/$name.log" | tail -1)"
  else
    echo "fuzz: $name ($pkg) FAILED after $((SECONDS - start))s; see $logs/$name.log:"
    grep -E 'Failing input|--- FAIL|panic:' "$logs/$name.log" | head -5 | sed 's/^/    /'
    return 1
  fi
}

failed=0
pids=()
for f in "${fuzzers[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || failed=1; done
  run "$f" &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
exit $failed
