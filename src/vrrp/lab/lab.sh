#!/usr/bin/env bash
# VRRP lab: a client, N load-balancer nodes and a web server on one bridge, each in
# its own network namespace (root only). Idempotent: `create` first removes a lab
# of the same name, `destroy` removes whatever exists.
#
#   lab.sh create NAME [NODES]   NODES = 2 (default) or 3
#   lab.sh destroy NAME
#   lab.sh list NAME             the namespaces of the lab
#
# Namespaces: NAME-br (the bridge), NAME-c (client), NAME-n1..nN (LB nodes), NAME-w (web).
# Every host has eth0 on 10.77.0.0/24: client .10, node i .1i, web .20; the bridge
# namespace holds br0 and one veth per host. The VIPs are for the tests to choose
# (10.77.0.100 and up). Nothing is routed outside the lab.
set -euo pipefail

SUBNET=10.77.0
usage() { echo "usage: $0 create NAME [NODES] | destroy NAME | list NAME" >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1
name=$2
nodes=${3:-2}
case "$name" in *[!A-Za-z0-9_-]*|'') echo "lab name must be [A-Za-z0-9_-]" >&2; exit 2;; esac

hosts() {
  echo c
  for i in $(seq 1 "$nodes"); do echo "n$i"; done
  echo w
}

address_of() {
  case "$1" in
    c) echo "$SUBNET.10" ;;
    w) echo "$SUBNET.20" ;;
    n*) echo "$SUBNET.1${1#n}" ;;
  esac
}

destroy() {
  # Kill what still runs inside the lab's namespaces (processes we started there), then the namespaces.
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${name}-(br|c|w|n[0-9]+)$" || true); do
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

create() {
  destroy
  ip netns add "$name-br"
  ip -n "$name-br" link set lo up
  ip -n "$name-br" link add br0 type bridge
  # Forward at once (no STP listening delay) and never age MACs out during a test.
  ip -n "$name-br" link set br0 type bridge stp_state 0 forward_delay 0
  ip -n "$name-br" link set br0 up
  for h in $(hosts); do
    ns="$name-$h"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$name-br" link add "v-$h" type veth peer name eth0 netns "$ns"
    ip -n "$name-br" link set "v-$h" master br0 up
    ip -n "$ns" addr add "$(address_of "$h")/24" dev eth0
    ip -n "$ns" link set eth0 up
    # No IPv6 chatter (DAD, router solicitations) in captures and ARP tests.
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  done
}

case "$cmd" in
  create) create ;;
  destroy) destroy ;;
  list) for h in br $(hosts); do echo "$name-$h"; done ;;
  *) usage ;;
esac
