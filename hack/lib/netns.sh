# shellcheck shell=bash
# hack/lib/netns.sh: a network namespace of the test's own, for end-to-end
# scripts whose fake nodes need an address that is not loopback (the API
# server refuses to proxy to loopback) and must reach nothing else. Source it.
#
#   netns_run NAME DEV NET WORK CMD...
#
# makes namespace NAME with lo up and a veth pair DEV0/DEV1 inside it, DEV0
# at NET.1/30 and no route out; runs CMD inside it; on exit, kills what is
# left in the namespace, removes it and the folder WORK; exits with CMD's
# status. Pass what CMD needs in its environment (env VAR=... CMD).
# netns_preflight NET VAR: exits 1, saying why, unless this runs as root and
# NET.0/24 is near no range the machine uses (VAR names the variable that
# picks another).
netns_preflight() {
  [ "$(id -u)" = 0 ] || { echo "netns: needs root (ip netns add); run it with sudo" >&2; exit 1; }
  if ip route | grep -q "${1%.*}\." || ip -o addr | grep -q "${1%.*}\."; then
    echo "netns: $1.0/30 is near a range this machine uses (ip route, ip addr); set $2 to a free private /24 prefix" >&2
    exit 1
  fi
}

netns_run() {
  _netns_name=$1 _netns_work=$4
  local dev=$2 net=$3
  shift 4
  _netns_cleanup() {
    local p
    for p in $(ip netns pids "$_netns_name" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$_netns_name" 2>/dev/null || true
    rm -rf "$_netns_work"
  }
  trap _netns_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  ip netns add "$_netns_name"
  ip -n "$_netns_name" link set lo up
  ip -n "$_netns_name" link add "${dev}0" type veth peer name "${dev}1"
  ip -n "$_netns_name" addr add "$net.1/30" dev "${dev}0"
  ip -n "$_netns_name" link set "${dev}1" up
  ip -n "$_netns_name" link set "${dev}0" up
  echo "netns: $_netns_name: lo, ${dev}0 $net.1/30 (veth to ${dev}1); no route out" >&2
  local rc
  set +e
  ip netns exec "$_netns_name" "$@"
  rc=$?
  set -e
  exit "$rc"
}
