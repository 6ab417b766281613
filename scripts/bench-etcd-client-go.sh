#!/bin/bash
# Our etcd client beside grpc-go's: 8,000 create transactions (16 in flight, 300-byte ConfigMaps) through
# `kubeswift bench etcd` (EtcdStore, the API server's client) and through upstream's clientv3 (grpc-go, as
# vendored by kube-apiserver v1.20; scripts/etcd-txn-bench-go), each on a fresh etcd member, alternating which
# goes first. Prints creates/s, the client's own CPU per transaction and etcd's (from /proc). Needs a release
# build, /usr/bin/etcd and upstream's source tree as scripts/build-upstream.sh leaves it; uses only 127.0.0.154.
#
#   ROUNDS=2 scripts/bench-etcd-client-go.sh [UPSTREAM_DIR]    # default /work/upstream
set -euo pipefail
cd "$(dirname "$0")/.."
upstream=${1:-/work/upstream}
tree=$(find "$upstream" -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
[[ -n $tree ]] || { echo "no kubernetes-* source tree in $upstream (scripts/build-upstream.sh)" >&2; exit 1; }
mkdir -p "$tree/cmd/kubeswift-etcdtxnbench"
cp scripts/etcd-txn-bench-go/main.go "$tree/cmd/kubeswift-etcdtxnbench/main.go"
(cd "$tree" && GOPATH=$PWD/.go CGO_ENABLED=0 make WHAT=cmd/kubeswift-etcdtxnbench >/dev/null)
GO_BENCH=$tree/_output/bin/kubeswift-etcdtxnbench
OURS=.build/release/kubeswift
STATE=$(mktemp -d /tmp/kubeswift-bench-client-XXXXXX)
ETCD=
cleanup() {
  [[ -n $ETCD ]] && kill "$ETCD" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT
TICKS=$(getconf CLK_TCK)
URL=http://127.0.0.154:2379
N=8000

run() { # ours|grpc-go
  rm -rf "$STATE/etcd"
  etcd --data-dir "$STATE/etcd" --listen-client-urls $URL --advertise-client-urls $URL \
    --listen-peer-urls http://127.0.0.154:2380 --initial-advertise-peer-urls http://127.0.0.154:2380 \
    --initial-cluster default=http://127.0.0.154:2380 >"$STATE/etcd.log" 2>&1 &
  ETCD=$!
  for _ in $(seq 1 100); do curl -sf $URL/health >/dev/null && break; sleep 0.1; done
  local before out
  before=$(awk '{print $14+$15}' "/proc/$ETCD/stat")
  if [[ $1 == ours ]]; then
    out=$("$OURS" bench etcd --etcd-servers $URL --objects $N --concurrency 16 --no-ranges --keep)
  else
    out=$("$GO_BENCH" -etcd-servers $URL -objects $N -concurrency 16)
  fi
  local etcd_us
  etcd_us=$(echo "scale=1;($(awk '{print $14+$15}' "/proc/$ETCD/stat")-$before)*1000000/$TICKS/$N" | bc)
  kill "$ETCD"; wait "$ETCD" 2>/dev/null || true; ETCD=
  printf '%-8s creates/s=%-8s client-cpu-us=%-7s etcd-cpu-us=%-7s load=%s\n' "$1" \
    "$(awk '/^etcd put \(create txn\)/{print $(NF-4)} /^grpc-go put/{print $(NF-2)}' <<<"$out" | head -1)" \
    "$(sed -n 's/.*client CPU: .* s, \([0-9.]*\) µs.*/\1/p' <<<"$out" | head -1)" "$etcd_us" \
    "$(cut -d' ' -f1 /proc/loadavg)"
}

echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "${ROUNDS:-2}"); do
  if ((round % 2)); then run ours; run grpc-go; else run grpc-go; run ours; fi
done
