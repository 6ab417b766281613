#!/bin/bash
# kube-controller-manager leader failover (issue 12): two of our controller-managers on one lease against one
# kube-apiserver of ours, our kube-scheduler and simulated nodes (--identity=shared). A Deployment is scaled
# from 0 to $REPLICAS; one second into the scale-up the leader is killed with SIGKILL. Prints the time until
# the standby logs the acquired lease, until the pod count next grows (its first action), until the scale-up
# is done, and the extra pods: those deleted since (a ReplicaSet removes its surplus; pod deletes answered 200,
# from apiserver_request_total) plus any above $REPLICAS still there. Runs with upstream's default lease settings (15 s / 10 s / 2 s) and tuned ones (4 s / 2 s / 1 s).
# Uses only 127.0.0.107.
#
#   B=.build/release REPLICAS=1000 NODES=20 scripts/controller-manager-failover.sh [default] [tuned]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-.build/release}
REPLICAS=${REPLICAS:-1000}
NODES=${NODES:-20}
STATE_PREFIX=kubeswift-cmfail
source scripts/controller-manager-bench-setup.sh
since() { awk -v s="$1" -v n="$(now)" 'BEGIN { printf "%.2f", n - s }'; }
pods() { api GET /api/v1/namespaces/default/pods | grep -o '"kind": *"Pod"' | wc -l; }
pod_deletions() {
  api GET /metrics | awk '/^apiserver_request_total\{/ && /resource="pods"/ && /verb="(DELETE|delete)"/ && /code="200"/ \
    { s += $NF } END { printf "%.0f", s }'
}

start_cm() {  # name, extra flags
  local name=$1; shift
  $B/kube-controller-manager --kubeconfig="$STATE/kube-controller-manager.kubeconfig" --leader-elect=true \
    --bind-address=$ADDR --secure-port=0 \
    --cluster-signing-cert-file="$P/ca.pem" --cluster-signing-key-file="$P/ca-key.pem" \
    --service-account-private-key-file="$P/ca-key.pem" --root-ca-file="$P/ca.pem" \
    --use-service-account-credentials --service-cluster-ip-range=10.254.0.0/16 \
    --kube-api-qps=100 --kube-api-burst=200 "$@" >"$STATE/$name.log" 2>&1 &
  PIDS+=($!); echo $! >"$STATE/$name.pid"
}
leader_of() {
  for name in "$@"; do
    grep -q "successfully acquired lease" "$STATE/$name.log" && kill -0 "$(cat "$STATE/$name.pid")" 2>/dev/null &&
      { echo "$name"; return; }
  done
}

run() {  # label, lease flags...
  local label=$1; shift
  rm -rf "$STATE/data"
  $B/kube-apiserver --bind-address=$ADDR --advertise-address=$ADDR --secure-port=6443 \
    --tls-cert-file="$P/kubernetes.pem" --tls-private-key-file="$P/kubernetes-key.pem" --client-ca-file="$P/ca.pem" \
    --data-dir="$STATE/data" --service-cluster-ip-range=10.254.0.0/16 --anonymous-auth=false \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --experimental-bootstrap-token-auth \
    --service-account-key-file="$P/ca-key.pem" >"$STATE/$label-apiserver.log" 2>&1 &
  local apiserver=$!; PIDS+=($apiserver)
  for _ in $(seq 1 300); do api GET /readyz 2>/dev/null | grep -q ok && break; sleep 0.1; done
  $B/kube-scheduler --kubeconfig="$STATE/kube-scheduler.kubeconfig" --leader-elect=false --secure-port=0 \
    --kube-api-qps=1000 --kube-api-burst=1000 >"$STATE/$label-scheduler.log" 2>&1 &
  local scheduler=$!; PIDS+=($scheduler)
  $B/kubeswift nodes run --state-dir="$STATE" --kubeconfig="$STATE/admin.kubeconfig" --count="$NODES" \
    --identity=shared >"$STATE/$label-nodes.log" 2>&1 &
  local nodes=$!; PIDS+=($nodes)
  start_cm "$label-a" "$@"; start_cm "$label-b" "$@"
  for _ in $(seq 1 600); do [[ -n $(leader_of "$label-a" "$label-b") ]] && break; sleep 0.1; done
  local leader standby
  leader=$(leader_of "$label-a" "$label-b")
  standby=$([[ $leader == "$label-a" ]] && echo "$label-b" || echo "$label-a")
  api POST /apis/apps/v1/namespaces/default/deployments \
    '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
      "spec":{"replicas":0,"selector":{"matchLabels":{"app":"web"}},
       "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}' >/dev/null
  sleep 5  # the ReplicaSet exists and the standby has seen the leader's record
  local deleted0; deleted0=$(pod_deletions)
  api PATCH /apis/apps/v1/namespaces/default/deployments/web "{\"spec\":{\"replicas\":$REPLICAS}}" \
    application/merge-patch+json >/dev/null
  sleep 1
  local held; held=$(grep -c "successfully acquired lease" "$STATE/$standby.log" || true)
  local t0 atkill acquired="" action="" done_at="" count at_acquire=0
  t0=$(now); kill -9 "$(cat "$STATE/$leader.pid")" || echo "$label: the leader $leader had already exited" >&2; atkill=$(pods)
  while :; do
    count=$(pods)
    if [[ -z $acquired ]] && [[ $(grep -c "successfully acquired lease" "$STATE/$standby.log") -gt $held ]]; then
      acquired=$(since "$t0"); at_acquire=$count
    elif [[ -n $acquired && -z $action && $count -gt $at_acquire ]]; then
      action=$(since "$t0")
    fi
    [[ $count -ge $REPLICAS ]] && { done_at=$(since "$t0"); [[ -n $action ]] || action=$done_at; break; }
    awk -v e="$(since "$t0")" 'BEGIN { exit !(e > 300) }' && break
    sleep 0.2
  done
  api GET /metrics | grep '^apiserver_request_total{' >"$STATE/$label-metrics.txt" || true
  sleep 15  # any surplus would be created (and deleted again) by now
  local deleted now_pods; deleted=$(( $(pod_deletions) - deleted0 )); now_pods=$(pods)
  echo "$label: pods at kill $atkill; lease acquired after ${acquired:-?} s (pods then $at_acquire);" \
    "first new pod after ${action:-?} s; $REPLICAS pods after ${done_at:-?} s;" \
    "pods deleted since (surplus removed) $deleted, pods now $now_pods, extra $(( deleted + now_pods - REPLICAS ))"
  for pid in $(cat "$STATE/$label-a.pid") $(cat "$STATE/$label-b.pid") $nodes $scheduler $apiserver; do
    kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  done
}

runs=("$@"); [[ ${#runs[@]} -gt 0 ]] || runs=(default tuned)
for r in "${runs[@]}"; do
  case $r in
    default) run default ;;
    tuned) run tuned --leader-elect-lease-duration=4s --leader-elect-renew-deadline=2s --leader-elect-retry-period=1s ;;
  esac
done
