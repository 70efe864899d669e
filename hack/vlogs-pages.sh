#!/usr/bin/env bash
# The explorer's lazy pages over a VictoriaLogs store holding the 1 GB log:
# how long the first screen of rows, the total, the store's checks, the
# Summary's counts, the histogram and a page from the middle take, and the
# peak resident memory of the process that reads them (hack/vlogs-pages).
# Targets (issue 21): rows < 3 s, total < 15 s, <= 150 MiB.
#
#   flock /work/wt/e2e.lock bash hack/vlogs-pages.sh [LOG]        # default testdata/big/audit-1GB.log
#   KAUDITUI_BIG_STORE=http://127.0.0.1:9428 bash hack/vlogs-pages.sh   # a store holding it as cluster big
#
# It starts VictoriaLogs (the binary hack/vlogs-e2e.sh --build caches) on a
# free loopback port with its data in a temporary folder, loads the log
# through hack/vlogs-load, and removes both at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
log=${1:-testdata/big/audit-1GB.log}
url=${KAUDITUI_BIG_STORE:-}
if [[ -z $url ]]; then
	[[ -f $log ]] || { echo "vlogs-pages: no log at $log: go run ./hack/genlog -size 1GB -o $log" >&2; exit 2; }
	bin=${KAUDITUI_VLOGS:-$HOME/.cache/kauditui/vlogs-v1.52.1/victoria-logs}
	[[ -x $bin ]] || { echo "vlogs-pages: no VictoriaLogs at $bin: build it with hack/vlogs-e2e.sh --build" >&2; exit 2; }
	data=$(mktemp -d)
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$bin" -httpListenAddr=127.0.0.1:$port -storageDataPath="$data" -retentionPeriod=100y -loggerLevel=ERROR &
	vl=$!
	trap 'kill $vl 2>/dev/null; wait $vl 2>/dev/null; rm -rf "$data"' EXIT
	url=http://127.0.0.1:$port
	for _ in $(seq 100); do curl -sf "$url/health" >/dev/null && break; sleep 0.2; done
	go run ./hack/vlogs-load -url "$url" -cluster big -node gen-1 "$log"
	curl -sf "$url/internal/force_flush" >/dev/null
fi
go build -o "${TMPDIR:-/tmp}/kauditui-vlogs-pages" ./hack/vlogs-pages
"${TMPDIR:-/tmp}/kauditui-vlogs-pages" -url "$url" -cluster big
