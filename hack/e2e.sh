#!/usr/bin/env bash
# End-to-end checks with a real control plane (KAUDITUI_E2E=1 .ci/run runs it):
#  1. regenerate the testdata into a temporary folder with a real
#     kube-apiserver and hold it to its ground truth, through the same tests
#     (and `kauditui query`) that check the committed copy; the same for
#     testdata/backend/ (hack/gen-backend.sh: a stand-in kubelet in a network
#     namespace; needs root; about 25 s);
#  2. kauditui setup on a real kubeadm manifest, started for real
#     (hack/setup-e2e.sh);
#  3. the apiserver pods' logs through the API, kwok as the kubelet of three
#     fake masters in a network namespace (hack/pods-e2e.sh; needs root);
#  4. other masters' audit files through the API server's node proxy, a
#     stand-in for the kubelet's /logs/ in a network namespace
#     (hack/nodes-e2e.sh; needs root);
#  5. kauditui query --store on a VictoriaLogs cluster fed by an OpenTelemetry
#     Collector following the real audit log (hack/vlogs-e2e.sh);
#  6. kauditui query --rbac --missing against a real apiserver's RBAC
#     (hack/rbac-e2e.sh), and --advise-policy on a real control plane's log,
#     its proposal then applied (hack/advise-e2e.sh).
# The Kubernetes binaries are built once from the Go module proxy and cached in
# ~/.cache/kauditui (about 10 minutes cold on 2 cores, seconds warm).
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER_BIN=$(hack/build-k8s.sh)
export CLUSTER_BIN

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
start=$SECONDS
hack/gen-testdata.sh --out "$fresh"
hack/gen-backend.sh --out "$fresh/backend"
echo "e2e: testdata regenerated in $((SECONDS - start))s"
KAUDITUI_TESTDATA=$fresh go test -count=1 -run 'GroundTruth|TestQuery|TestBackend' .
KAUDITUI_TESTDATA=$fresh go test -count=1 -run 'TestBackend' ./ui

hack/setup-e2e.sh
hack/pods-e2e.sh
hack/nodes-e2e.sh
hack/vlogs-e2e.sh
hack/rbac-e2e.sh
hack/advise-e2e.sh
echo "e2e: passed"
