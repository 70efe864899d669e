#!/usr/bin/env bash
# hack/release.sh VERSION: build kauditui for release into dist/.
#
#   kauditui_VERSION_OS_ARCH.tar.gz   one per target: the binary, README.md
#   checksums.txt                     sha256 of every archive (sha256sum -c)
#   audit.yaml                        the krew manifest (hack/krew/audit.yaml
#                                     with the version and checksums filled in)
#
# The binaries are static (CGO_ENABLED=0: no glibc, they start on any Linux
# of their architecture, in a distroless image or an empty chroot), stripped
# (-s -w) and reproducible: -trimpath, -buildvcs=false, no build id, and the
# version, commit and build date stamped with -X, the date being the
# commit's time (SOURCE_DATE_EPOCH, if set, wins). The archives are made
# reproducible too: names sorted, owner root, mtime the same date, gzip -n.
# The same commit and Go version give the same bytes, on any machine.
#
# Environment:
#   RELEASE_TARGETS  space-separated GOOS/GOARCH list (default: linux/amd64
#                    linux/arm64 darwin/amd64 darwin/arm64)
#   DIST             output folder (default: dist in the repository); it is
#                    emptied first
set -euo pipefail

die() { echo "release.sh: $*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: hack/release.sh VERSION (e.g. v0.3.0)"
version=$1
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] ||
  die "VERSION \"$version\" is not v and a semantic version (krew wants the v): use e.g. v0.3.0 or v0.3.0-rc.1"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
targets=${RELEASE_TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
dist=${DIST:-$root/dist}

tar=tar
tar --version 2>/dev/null | grep -q 'GNU tar' || tar=gtar
"$tar" --version 2>/dev/null | grep -q 'GNU tar' ||
  die "GNU tar is needed for reproducible archives (--sort=name): install it (macOS: brew install gnu-tar)"
if command -v sha256sum >/dev/null; then sha256=(sha256sum); else sha256=(shasum -a 256); fi

commit=$(git rev-parse HEAD 2>/dev/null) || die "not a git checkout: the commit is stamped into the binary"
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export SOURCE_DATE_EPOCH=$epoch
date=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$epoch" +%Y-%m-%dT%H:%M:%SZ)

rm -rf "$dist"
mkdir -p "$dist"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ldflags="-s -w -buildid= -X main.version=$version -X main.commit=$commit -X main.buildDate=$date"
archives=()
for t in $targets; do
  os=${t%/*} arch=${t#*/}
  [[ $t == */* && -n $os && -n $arch ]] || die "target \"$t\" is not GOOS/GOARCH"
  name=kauditui_${version}_${os}_${arch}
  dir=$work/$name
  mkdir -p "$dir"
  echo "building $name" >&2
  # GOFLAGS and friends from the caller's environment would change the bytes.
  env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" GOFLAGS= GOAMD64= GOARM64= GOEXPERIMENT= \
    go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$dir/kauditui" .
  cp README.md "$dir/README.md"
  [ -f LICENSE ] && cp LICENSE "$dir/LICENSE"
  chmod 0755 "$dir/kauditui"
  chmod 0644 "$dir/README.md"
  (cd "$dir" && "$tar" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf - -- *) | gzip -n -9 >"$dist/$name.tar.gz"
  archives+=("$name.tar.gz")
done

(cd "$dist" && "${sha256[@]}" "${archives[@]}" >checksums.txt)

# The krew manifest: every platform block of the template whose archive was
# built, with its checksum; blocks for targets not built are left out.
awk -v version="$version" -v sums="$dist/checksums.txt" '
  BEGIN {
    while ((getline line < sums) > 0) {
      split(line, f, /[ *]+/)
      n = f[2]; sub(/^kauditui_/, "", n); sub(/\.tar\.gz$/, "", n)
      sub("^" version "_", "", n)   # n is now OS_ARCH
      sha[n] = f[1]
    }
  }
  function flush() {
    if (block != "" && (key in sha)) { gsub("@SHA256@", sha[key], block); printf "%s", block; kept++ }
    block = ""; key = ""
  }
  /^#/ && !started { next }   # the template'"'"'s own comment
  { started = 1 }
  /^  - selector:/ { flush(); inblock = 1 }
  inblock && (/^[^ ]/ || /^  [^ -]/) { flush(); inblock = 0 }
  inblock {
    if ($1 == "os:") os = $2
    if ($1 == "arch:") key = os "_" $2
    gsub("@VERSION@", version)
    block = block $0 "\n"
    next
  }
  { gsub("@VERSION@", version); print }
  END { flush(); if (!kept) { print "release.sh: no platform of the krew manifest was built" > "/dev/stderr"; exit 1 } }
' hack/krew/audit.yaml >"$dist/audit.yaml"

echo "wrote $dist:" >&2
(cd "$dist" && ls -l) >&2
