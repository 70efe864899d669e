#!/usr/bin/env bash
# Builds the real control-plane binaries the harness runs (etcd, kube-apiserver,
# kube-controller-manager, kubectl, kubeadm) from the Go module proxy and caches
# them outside the clone, keyed by version. Prints the bin folder on stdout.
#
# `go install k8s.io/kubernetes/...` is refused because of its replace directives,
# so a throwaway build module requires k8s.io/kubernetes and replaces every
# staging module with the published v0.X.Y. The project's go.mod never sees it.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
cache=${KAUDITUI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kauditui}
bin="$cache/bin-$K8S_VERSION-etcd-$ETCD_VERSION"
want=(etcd kube-apiserver kube-controller-manager kubectl kubeadm)

# Stamp the version the way Kubernetes' release scripts do (hack/lib/version.sh):
# without it the binaries call themselves v0.0.0-master, kubectl's user agent in
# every audit event says so, and kubeadm cannot pick a default version offline.
# The commit is not published with the module, so it stays empty ("unknown").
k8s_minor=${K8S_VERSION#v1.}; k8s_minor=${k8s_minor%%.*}
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  ldflags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
stamp="ldflags:$ldflags"

have_all() {
  for b in "${want[@]}"; do [ -x "$bin/$b" ] || return 1; done
  [ "$(cat "$bin/.stamp" 2>/dev/null)" = "$stamp" ]
}
if have_all; then echo "$bin"; exit 0; fi

mkdir -p "$bin"
staging_minor="v0.${K8S_VERSION#v1.}"
work="$cache/build-$K8S_VERSION"
mkdir -p "$work/k8s" "$work/etcd"

log() { echo "build-k8s: $*" >&2; }

# --- kubernetes components -------------------------------------------------
cd "$work/k8s"
if [ ! -f go.mod ]; then
  go mod init kauditui.local/k8sbuild >/dev/null 2>&1
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
  # every staging module, except the samples that are not published
  grep -E '^\s+k8s.io/[a-z0-9-]+ => ./staging' "$gomod" | awk '{print $1}' |
    grep -vE 'sample-cli-plugin|sample-controller' | while read -r m; do
      go mod edit -replace="$m=$m@$staging_minor"
    done
  cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  log "resolving modules for k8s.io/kubernetes $K8S_VERSION"
  GOFLAGS=-mod=mod go mod tidy -e >&2 || true
fi
# binaries from an older build (without the stamp) are relinked, a matter of seconds
if [ "$(cat "$bin/.stamp" 2>/dev/null)" != "$stamp" ]; then
  rm -f "$bin/kube-apiserver" "$bin/kube-controller-manager" "$bin/kubectl" "$bin/kubeadm"
fi
for c in kube-apiserver kube-controller-manager kubectl kubeadm; do
  if [ ! -x "$bin/$c" ]; then
    log "building $c"
    start=$SECONDS
    GOFLAGS=-mod=mod go build -trimpath -ldflags="$ldflags" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c" >&2
    mv "$bin/$c.tmp" "$bin/$c"
    log "built $c in $((SECONDS - start))s"
  fi
done

# --- etcd ----------------------------------------------------------------------
cd "$work/etcd"
if [ ! -x "$bin/etcd" ]; then
  if [ ! -f go.mod ]; then
    go mod init kauditui.local/etcdbuild >/dev/null 2>&1
    cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
    GOFLAGS=-mod=mod go mod tidy >&2
  fi
  log "building etcd"
  GOFLAGS=-mod=mod go build -trimpath -o "$bin/etcd.tmp" . >&2
  mv "$bin/etcd.tmp" "$bin/etcd"
fi

echo "$stamp" > "$bin/.stamp"
have_all
echo "$bin"
