#!/usr/bin/env bash
# Build or remove a local clustered-TCP wire (docs/ctcp.md "The real wire";
# NOTES.md "A shared Ethernet wire on one machine"). Needs root and /dev/net/tun.
#
#   scripts/ctcp-wire.sh up   --id ID [--nodes N] [--subnet A.B.C] [--vip A.B.C.D]
#   scripts/ctcp-wire.sh down --id ID
#
# `up` creates, all named after ID (1-8 of [a-z0-9], so several wires — a demo
# and concurrent tests — can coexist):
#   ${ID}br             a bridge in hub mode (ageing_time 0: every unicast
#                       frame is flooded to every port; no STP; no IP address
#                       in this namespace, so the host takes no part);
#   ${ID}t0..t(N-1)     one persistent TAP per cluster node on the bridge (the
#                       node's socat relay attaches and detaches freely);
#   sslacc-${ID}-client a namespace with eth0 = SUBNET.10 on a veth to the
#                       bridge, and an on-link route to the VIP (it ARPs it);
#   sslacc-${ID}-backend the same with eth0 = SUBNET.20 (the backend also
#                       reaches the cluster at the VIP: the relay's backend
#                       leg leaves from it, paper §4.5).
# and prints KEY=VALUE lines (BRIDGE, TAPS, CLIENT_NS, BACKEND_NS, CLIENT_IP,
# BACKEND_IP, VIP, PREFIX) for the caller. Any failure removes what was made.
# `down` removes everything named after ID and never fails on what is absent.
set -euo pipefail

usage() {
  sed -n '5,6p' "$0" | sed 's/^#   /usage: /' >&2
  exit 2
}

cmd=${1:-}
[[ $cmd == up || $cmd == down ]] || usage
shift
id="" nodes=3 subnet=10.203.0 vip=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --id) id=${2:-}; shift 2 ;;
    --nodes) nodes=${2:-}; shift 2 ;;
    --subnet) subnet=${2:-}; shift 2 ;;
    --vip) vip=${2:-}; shift 2 ;;
    *) echo "ctcp-wire: unknown argument $1" >&2; usage ;;
  esac
done
[[ $id =~ ^[a-z0-9]{1,8}$ ]] || { echo "ctcp-wire: --id must be 1-8 of [a-z0-9], got '$id'" >&2; exit 2; }
[[ $nodes =~ ^[1-9]$ ]] || { echo "ctcp-wire: --nodes must be 1-9, got '$nodes'" >&2; exit 2; }
octet='(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])'
[[ $subnet =~ ^$octet\.$octet\.$octet$ ]] || { echo "ctcp-wire: --subnet must be three octets (A.B.C), got '$subnet'" >&2; exit 2; }
vip=${vip:-$subnet.100}
[[ $vip =~ ^$octet\.$octet\.$octet\.$octet$ ]] || { echo "ctcp-wire: --vip must be an IPv4 address, got '$vip'" >&2; exit 2; }

bridge=${id}br
client_ns=sslacc-$id-client
backend_ns=sslacc-$id-backend

down() {
  # Deleting a namespace deletes its veth end and so the peer on the bridge.
  for ns in "$client_ns" "$backend_ns"; do
    ip netns del "$ns" 2>/dev/null || true
  done
  for i in $(seq 0 8); do
    ip link del "${id}t$i" 2>/dev/null || true
  done
  ip link del "${id}cb" 2>/dev/null || true
  ip link del "${id}bb" 2>/dev/null || true
  ip link del "$bridge" 2>/dev/null || true
}

if [[ $cmd == down ]]; then
  down
  exit 0
fi

[[ $(id -u) == 0 ]] || { echo "ctcp-wire: needs root (ip netns, bridges, TAPs)" >&2; exit 1; }
[[ -c /dev/net/tun ]] || { echo "ctcp-wire: /dev/net/tun is missing (no TAP devices)" >&2; exit 1; }
if ip link show "$bridge" >/dev/null 2>&1; then
  echo "ctcp-wire: a wire with id '$id' exists already (run: $0 down --id $id)" >&2
  exit 1
fi
trap 'status=$?; [[ $status == 0 ]] || down; exit $status' EXIT

# The hub: ageing_time 0 floods unicast to every port (a real kernel client
# sends to the virtual MAC; every node must see it). No STP, so a port
# forwards as soon as its carrier is up; no multicast snooping, so every
# multicast frame is flooded too. No IPv6 here: the host stays silent.
ip link add "$bridge" type bridge ageing_time 0 stp_state 0 forward_delay 0 mcast_snooping 0
sysctl -qw "net.ipv6.conf.$bridge.disable_ipv6=1"
ip link set "$bridge" up

taps=()
for ((i = 0; i < nodes; i++)); do
  tap=${id}t$i
  # Persistent: it survives its relay (socat) restarting, the bridge port stays.
  ip tuntap add dev "$tap" mode tap
  sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
  ip link set "$tap" master "$bridge" txqueuelen 10000 up
  taps+=("$tap")
done

# host_ns NS BRIDGE_SIDE IP: a namespace on a veth to the bridge.
host_ns() {
  local ns=$1 side=$2 addr=$3
  ip netns add "$ns"
  ip link add "$side" txqueuelen 10000 type veth peer name "${side%?}n" txqueuelen 10000
  sysctl -qw "net.ipv6.conf.$side.disable_ipv6=1"
  ip link set "$side" master "$bridge" up
  ip link set "${side%?}n" netns "$ns"
  ip -n "$ns" link set "${side%?}n" name eth0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  # The VIP is on the wire: ARP it directly, whatever subnet it is in.
  ip -n "$ns" route add "$vip/32" dev eth0
}
host_ns "$client_ns" "${id}cb" "$subnet.10"
host_ns "$backend_ns" "${id}bb" "$subnet.20"

echo "BRIDGE=$bridge"
echo "TAPS=${taps[*]}"
echo "CLIENT_NS=$client_ns"
echo "BACKEND_NS=$backend_ns"
echo "CLIENT_IP=$subnet.10"
echo "BACKEND_IP=$subnet.20"
echo "VIP=$vip"
echo "PREFIX=24"
