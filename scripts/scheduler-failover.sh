#!/bin/bash
# kube-scheduler leader failover on this machine: two (then three) schedulers on one lease against one
# kube-apiserver; kill -9 the leader and time until a standby acquires the lease, then SIGTERM the new leader
# (it releases the lease) and time the hand-over. Runs once with upstream's default lease settings (15 s / 10 s
# / 2 s) and once with tuned ones. Needs a release build of kube-apiserver, kube-scheduler and kubeswift; uses
# only 127.0.0.73.
#
#   scripts/scheduler-failover.sh [default|tuned|all]
set -euo pipefail
cd "$(dirname "$0")/.."
B=.build/release
STATE=$(mktemp -d /tmp/kubeswift-failover-XXXXXX)
P=$STATE/pki
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT

# kubeswift up writes the certificates and the scheduler's kubeconfig; stop it once they exist.
$B/kubeswift up --state-dir="$STATE" --address=127.0.0.73 --port=6443 --scheduler-port=10359 >"$STATE/up.log" 2>&1 &
UP=$!
for _ in $(seq 1 100); do [[ -f $STATE/kube-scheduler.kubeconfig ]] && break; sleep 0.1; done
sleep 1; kill $UP; wait $UP 2>/dev/null || true
rm -rf "$STATE/data"

$B/kube-apiserver --bind-address=127.0.0.73 --advertise-address=127.0.0.73 --secure-port=6443 \
  --tls-cert-file="$P/kubernetes.pem" --tls-private-key-file="$P/kubernetes-key.pem" --client-ca-file="$P/ca.pem" \
  --data-dir="$STATE/data" --service-cluster-ip-range=10.254.0.0/16 --authorization-mode=RBAC \
  --service-account-key-file="$P/ca-key.pem" >"$STATE/server.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do
  curl -s --cacert "$P/ca.pem" --cert "$P/admin.pem" --key "$P/admin-key.pem" https://127.0.0.73:6443/readyz |
    grep -q ok && break
  sleep 0.1
done

start_scheduler() {  # name, extra flags
  local name=$1; shift
  $B/kube-scheduler --kubeconfig="$STATE/kube-scheduler.kubeconfig" --secure-port=0 "$@" >"$STATE/$name.log" 2>&1 &
  PIDS+=($!)
  echo $! >"$STATE/$name.pid"
}
# Seconds from $2 (epoch seconds) until log $1 shows the acquired lease; 99 if not within 60 s.
wait_acquired() {
  for _ in $(seq 1 1200); do
    if grep -q "successfully acquired lease" "$STATE/$1.log"; then
      awk -v now="$(date +%s.%N)" -v start="$2" 'BEGIN { printf "%.2f", now - start }' 
      return
    fi
    sleep 0.05
  done
  echo 99
}
leader_of() {  # prints whichever of the named schedulers holds the lease
  for name in "$@"; do grep -q "successfully acquired lease" "$STATE/$name.log" && { echo "$name"; return; }; done
}

run() {  # label, lease flags...
  local label=$1; shift
  start_scheduler "$label-a" "$@"; start_scheduler "$label-b" "$@"
  for _ in $(seq 1 200); do [[ -n $(leader_of "$label-a" "$label-b") ]] && break; sleep 0.1; done
  local leader standby
  leader=$(leader_of "$label-a" "$label-b")
  standby=$([[ $leader == "$label-a" ]] && echo "$label-b" || echo "$label-a")
  sleep 3  # the standby has seen the leader's record
  local t0; t0=$(date +%s.%N)
  kill -9 "$(cat "$STATE/$leader.pid")"; wait "$(cat "$STATE/$leader.pid")" 2>/dev/null || true
  echo "$label: failover after kill -9 of the leader: $(wait_acquired "$standby" "$t0") s"
  start_scheduler "$label-c" "$@"
  sleep 3
  t0=$(date +%s.%N)
  kill -TERM "$(cat "$STATE/$standby.pid")"
  echo "$label: hand-over after SIGTERM of the leader: $(wait_acquired "$label-c" "$t0") s"
  kill -9 "$(cat "$STATE/$label-c.pid")" 2>/dev/null || true
  wait "$(cat "$STATE/$label-c.pid")" 2>/dev/null || true
}

what=${1:-all}
if [[ $what == all || $what == default ]]; then
  run default
fi
if [[ $what == all || $what == tuned ]]; then
  run tuned --leader-elect-lease-duration=1500ms --leader-elect-renew-deadline=1s --leader-elect-retry-period=300ms \
    --leader-elect-resource-name=kube-scheduler-tuned
fi
