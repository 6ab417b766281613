#!/bin/bash
# The etcd figures, from one run on this machine: raw etcd puts and ranges through the API server's etcd client,
# then creates, gets and a 10,000-object LIST through kube-apiserver on that etcd member, then watch delivery
# with 100 watchers at 200 creates/s on etcd and on the embedded SQLite store, each with the watch cache on
# and off (--watch-cache=false). Needs a release build (swift build -c release) and /usr/bin/etcd; uses only
# 127.0.0.71 (API server) and 127.0.0.72 (etcd).
#
#   scripts/bench-etcd.sh [all|etcd|watch]
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/release
STATE=$(mktemp -d /tmp/kubeswift-bench-XXXXXX)
P=$STATE/pki
SERVER= ETCD=
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null || true
  [[ -n $ETCD ]] && kill "$ETCD" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT

# kubeswift up writes the guide's certificates and an admin kubeconfig; stop it once they exist.
$B/kubeswift up --state-dir="$STATE" --address=127.0.0.71 --port=6443 >"$STATE/up.log" 2>&1 &
UP=$!
for _ in $(seq 1 100); do [[ -f $STATE/admin.kubeconfig ]] && break; sleep 0.1; done
sleep 1; kill $UP; wait $UP 2>/dev/null || true

start_etcd() {
  rm -rf "$STATE/etcd"
  etcd --data-dir "$STATE/etcd" --listen-client-urls http://127.0.0.72:2379 \
    --advertise-client-urls http://127.0.0.72:2379 --listen-peer-urls http://127.0.0.72:2380 \
    --initial-advertise-peer-urls http://127.0.0.72:2380 --initial-cluster default=http://127.0.0.72:2380 \
    --experimental-watch-progress-notify-interval=5s >"$STATE/etcd.log" 2>&1 &
  ETCD=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.72:2379/health >/dev/null && break; sleep 0.1; done
}
stop_etcd() { kill "$ETCD"; wait "$ETCD" 2>/dev/null || true; ETCD=; }

start_server() {  # extra kube-apiserver flags
  rm -rf "$STATE/data"
  $B/kube-apiserver --bind-address=127.0.0.71 --advertise-address=127.0.0.71 --secure-port=6443 \
    --tls-cert-file="$P/kubernetes.pem" --tls-private-key-file="$P/kubernetes-key.pem" --client-ca-file="$P/ca.pem" \
    --data-dir="$STATE/data" --service-cluster-ip-range=10.254.0.0/16 --authorization-mode=RBAC \
    --service-account-key-file="$P/ca-key.pem" "$@" >"$STATE/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do
    curl -s --cacert "$P/ca.pem" --cert "$P/admin.pem" --key "$P/admin-key.pem" https://127.0.0.71:6443/readyz |
      grep -q ok && break
    sleep 0.1
  done
}
stop_server() {
  echo "   kube-apiserver RSS at the end: $(($(ps -o rss= -p "$SERVER") / 1024)) MB"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
}

what=${1:-all}
if [[ $what == all || $what == etcd ]]; then
  start_etcd
  echo "== raw etcd (one member) through EtcdStore"
  $B/kubeswift bench etcd --etcd-servers=http://127.0.0.72:2379 --concurrency=16
  start_server --etcd-servers=http://127.0.0.72:2379
  echo "== kube-apiserver on that etcd member"
  $B/kubeswift bench api --kubeconfig "$STATE/admin.kubeconfig" --concurrency=16 --list-size=10000
  stop_server
  stop_etcd
fi
if [[ $what == all || $what == watch ]]; then
  for store in etcd sqlite; do
    for cache in on off; do
      flags=(--watch-cache=$([[ $cache == on ]] && echo true || echo false))
      [[ $store == etcd ]] && { start_etcd; flags+=(--etcd-servers=http://127.0.0.72:2379); }
      start_server "${flags[@]}"
      echo "== watch delivery, $store, watch cache $cache"
      $B/kubeswift bench watch --kubeconfig "$STATE/admin.kubeconfig" --watchers=100 --rate=200 --seconds=10
      stop_server
      [[ $store == etcd ]] && stop_etcd
    done
  done
fi
