#!/bin/bash
# kube-controller-manager figures (issue 12): ours against upstream's v1.20 on the same API server and load.
# For each run: a fresh kube-apiserver of ours (the guide's flags, a temp state dir), our kube-scheduler, 100
# simulated nodes (`kubeswift nodes run --identity=shared`: every node writes with the admin credential, so the
# nodes do not depend on the controller-manager under test approving their CSRs), then the controller-manager
# under test with identical flags. Measures its RSS (VmRSS, VmHWM) and CPU (utime+stime from /proc/PID/stat)
# idle after sync, during a Deployment of $REPLICAS replicas until all are available, and idle again with the
# pods in place; plus the API server's requests/s during the rollout (sum of apiserver_request_total).
# Uses only 127.0.0.107.
#
#   B=.build/release UPSTREAM=/work/upstream/bin/kube-controller-manager REPLICAS=10000 IDLE=60 \
#     scripts/bench-controller-manager.sh [ours] [upstream] [ours-defaults] [upstream-defaults] [dropin]
#
# CM_BIN overrides our controller-manager binary (e.g. a debug build beside release servers). CM_WRAPPER runs
# the controller-manager under a wrapper (e.g. CM_WRAPPER=heaptrack, its output in the run's directory; the
# figures are the wrapped process's; it is killed, so heaptrack's "leaked" is what was live at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-.build/release}
UPSTREAM=${UPSTREAM:-/work/upstream/bin/kube-controller-manager}
REPLICAS=${REPLICAS:-10000}
IDLE=${IDLE:-60}
NODES=${NODES:-100}
TIMEOUT=${TIMEOUT:-900}
STATE_PREFIX=kubeswift-cmbench
source scripts/controller-manager-bench-setup.sh
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
requests_total() {
  api GET /metrics | awk '/^apiserver_request_total[{ ]/ { s += $NF } END { printf "%.0f", s }'
}
CLK=$(getconf CLK_TCK)

start_cluster() {  # run directory
  local d=$1
  rm -rf "$STATE/data"
  $B/kube-apiserver --bind-address=$ADDR --advertise-address=$ADDR --secure-port=6443 \
    --tls-cert-file="$P/kubernetes.pem" --tls-private-key-file="$P/kubernetes-key.pem" --client-ca-file="$P/ca.pem" \
    --data-dir="$STATE/data" --service-cluster-ip-range=10.254.0.0/16 --anonymous-auth=false \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --experimental-bootstrap-token-auth \
    --service-account-key-file="$P/ca-key.pem" >"$d/apiserver.log" 2>&1 &
  APISERVER=$!; PIDS+=($APISERVER)
  for _ in $(seq 1 300); do api GET /readyz 2>/dev/null | grep -q ok && break; sleep 0.1; done
  $B/kube-scheduler --kubeconfig="$STATE/kube-scheduler.kubeconfig" --leader-elect=false --secure-port=0 \
    --kube-api-qps=1000 --kube-api-burst=1000 >"$d/scheduler.log" 2>&1 &
  SCHEDULER=$!; PIDS+=($SCHEDULER)
  $B/kubeswift nodes run --state-dir="$STATE" --kubeconfig="$STATE/admin.kubeconfig" --count="$NODES" \
    --identity=shared >"$d/nodes.log" 2>&1 &
  NODESPID=$!; PIDS+=($NODESPID)
  for _ in $(seq 1 600); do
    [[ $(api GET /api/v1/nodes | grep -o '"name": *"sim-' | wc -l) -ge $NODES ]] && break
    sleep 0.2
  done
}

stop_cluster() {
  if [[ -n ${CM_WRAPPER:-} ]]; then
    kill -KILL "$CM" 2>/dev/null || true  # what heaptrack reports as leaked is then what was live
    for _ in $(seq 1 600); do kill -0 "$CM" 2>/dev/null || break; sleep 0.5; done
    wait "$CM_OUTER" 2>/dev/null || true
  fi
  for pid in $CM $NODESPID $SCHEDULER $APISERVER; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}

# Identical flags for both controller-managers; "-defaults" runs drop the client limits.
start_cm() {  # binary, log, extra flags
  local bin=$1 log=$2; shift 2
  local wrapper=()
  [[ -n ${CM_WRAPPER:-} ]] && read -r -a wrapper <<<"$CM_WRAPPER"
  (cd "$(dirname "$log")" && exec "${wrapper[@]}" "$bin" --kubeconfig="$STATE/kube-controller-manager.kubeconfig" --leader-elect=false \
    --bind-address=$ADDR --secure-port=10357 \
    --cluster-signing-cert-file="$P/ca.pem" --cluster-signing-key-file="$P/ca-key.pem" \
    --service-account-private-key-file="$P/ca-key.pem" --root-ca-file="$P/ca.pem" \
    --use-service-account-credentials --service-cluster-ip-range=10.254.0.0/16 "$@") >"$log" 2>&1 &
  CM=$!; CM_OUTER=$CM; PIDS+=($CM)
  if [[ -n ${CM_WRAPPER:-} ]]; then  # measure the wrapped process itself
    local child
    for _ in $(seq 1 100); do
      child=$(pgrep -n -f -- "^$bin --kubeconfig" || true)
      [[ -n $child ]] && break; sleep 0.1
    done
    [[ -n $child ]] && CM=$child
  fi
}

deployment() {
  cat <<EOF
{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"bench","namespace":"default"},
 "spec":{"replicas":$REPLICAS,"selector":{"matchLabels":{"app":"bench"}},
  "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
  "template":{"metadata":{"labels":{"app":"bench"}},
   "spec":{"containers":[{"name":"c","image":"nginx","resources":{"requests":{"cpu":"10m","memory":"16Mi"}}}]}}}}
EOF
}
available() {
  api GET /apis/apps/v1/namespaces/default/deployments/bench |
    sed -n 's/.*"availableReplicas": *\([0-9]*\).*/\1/p' | head -1
}

ROWS=()
run() {  # label
  local label=$1 d="$STATE/$1" bin limits=(--kube-api-qps=100 --kube-api-burst=200)
  mkdir -p "$d"
  case $label in
    ours*) bin=${CM_BIN:-$B/kube-controller-manager} ;;
    upstream*) bin=$UPSTREAM ;;
  esac
  [[ $label == *-defaults ]] && limits=()
  start_cluster "$d"
  start_cm "$bin" "$d/cm.log" "${limits[@]}"
  # Synced: the default namespace's service account exists (the serviceaccount controller has run), plus 10 s.
  for _ in $(seq 1 600); do api GET /api/v1/namespaces/default/serviceaccounts/default | grep -q '"uid"' && break; sleep 0.1; done
  sleep 10
  local c0 t0 c1 t1 idle_rss idle_cpu
  c0=$(cpu_ticks $CM); t0=$(now); sleep "$IDLE"; c1=$(cpu_ticks $CM); t1=$(now)
  idle_rss=$(rss_mib $CM VmRSS)
  idle_cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v k="$CLK" 'BEGIN { printf "%.2f", 100 * (b - a) / k / (e - s) }')
  # The rollout.
  local r0 rc0 rt0 rt1 rc1 r1 av=0
  r0=$(requests_total); rc0=$(cpu_ticks $CM); rt0=$(now)
  api POST /apis/apps/v1/namespaces/default/deployments "$(deployment)" >/dev/null
  while :; do
    av=$(available); av=${av:-0}
    [[ $av -ge $REPLICAS ]] && break
    if awk -v s="$rt0" -v n="$(now)" -v t="$TIMEOUT" 'BEGIN { exit !(n - s > t) }'; then break; fi
    sleep 0.5
  done
  rt1=$(now); rc1=$(cpu_ticks $CM); r1=$(requests_total)
  local roll_rss roll_s roll_cpu rps
  roll_rss=$(rss_mib $CM VmRSS)
  roll_s=$(awk -v s="$rt0" -v e="$rt1" 'BEGIN { printf "%.1f", e - s }')
  [[ $av -ge $REPLICAS ]] || roll_s=">$roll_s ($av avail)"
  roll_cpu=$(awk -v a="$rc0" -v b="$rc1" -v k="$CLK" 'BEGIN { printf "%.1f", (b - a) / k }')
  rps=$(awk -v a="$r0" -v b="$r1" -v s="$rt0" -v e="$rt1" 'BEGIN { printf "%.0f", (b - a) / (e - s) }')
  # Idle again with the pods in place.
  sleep 10
  c0=$(cpu_ticks $CM); t0=$(now); sleep "$IDLE"; c1=$(cpu_ticks $CM); t1=$(now)
  local after_rss after_cpu hwm
  after_rss=$(rss_mib $CM VmRSS); hwm=$(rss_mib $CM VmHWM)
  after_cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v k="$CLK" 'BEGIN { printf "%.2f", 100 * (b - a) / k / (e - s) }')
  ROWS+=("$(printf '%-18s %9s %9s %9s %9s %8s %8s %10s %14s %7s' "$label" "$idle_rss" "$roll_rss" "$after_rss" \
    "$hwm" "$idle_cpu" "$after_cpu" "$roll_cpu" "$roll_s" "$rps")")
  echo "${ROWS[-1]}" >&2
  grep -E '^[EW][0-9]{4}|error|Error' "$d/cm.log" | head -200 >"$d/cm-errors.log" || true
  [[ -n ${KEEP:-} ]] && echo "$label logs in $d" >&2
  stop_cluster
}

# Drop-in check (issue 10): upstream's controller-manager against our API server. Does a Deployment (as
# `kubectl create deployment` sends it, no strategy) roll out, a Job complete, a namespace delete finish, the
# garbage collector delete a Deployment's ReplicaSet and pods? Then every E/W line it logged.
dropin() {
  local d="$STATE/dropin" k="kubectl --kubeconfig=$STATE/admin.kubeconfig" ok
  mkdir -p "$d"
  start_cluster "$d"
  start_cm "$UPSTREAM" "$d/cm.log" --kube-api-qps=100 --kube-api-burst=200
  for _ in $(seq 1 600); do api GET /api/v1/namespaces/default/serviceaccounts/default | grep -q '"uid"' && break; sleep 0.1; done
  check() {  # what, command that succeeds when done, seconds
    local t0; t0=$(now)
    for _ in $(seq 1 $(( $3 * 2 ))); do
      if eval "$2" >/dev/null 2>&1; then echo "dropin: $1: yes after $(awk -v s="$t0" -v n="$(now)" 'BEGIN { printf "%.1f", n - s }') s"; return; fi
      sleep 0.5
    done
    echo "dropin: $1: NO within $3 s"
  }
  $k create deployment web --image=nginx --replicas=3 >/dev/null
  check "Deployment (kubectl create deployment, 3 replicas) available" \
    "[[ \$($k get deployment web -o jsonpath='{.status.availableReplicas}') == 3 ]]" 60
  $k create job pi --image=perl -- perl -e 1 >/dev/null
  check "Job completes" "[[ \$($k get job pi -o jsonpath='{.status.succeeded}') == 1 ]]" 60
  $k create namespace gone >/dev/null; $k -n gone create configmap c --from-literal=a=b >/dev/null
  $k -n gone create deployment w --image=nginx >/dev/null; sleep 5
  $k delete namespace gone --wait=false >/dev/null
  check "namespace delete finishes" "! $k get namespace gone" 90
  $k delete deployment web --cascade=background >/dev/null
  check "GC deletes the Deployment's ReplicaSet and pods" \
    "[[ -z \$($k get rs,pods -l app=web -o name) ]]" 60
  echo "dropin: upstream's E/W lines, counted:"
  grep -E '^[EW][0-9]{4}' "$d/cm.log" | sed -E 's/^([EW])[0-9]{4} [0-9:.]+ +[0-9]+ /\1 /' | sort | uniq -c | sort -rn
  stop_cluster
}

runs=("$@"); [[ ${#runs[@]} -gt 0 ]] || runs=(ours upstream upstream-defaults)
for r in "${runs[@]}"; do
  if [[ $r == dropin ]]; then dropin; else run "$r"; fi
done
[[ ${#ROWS[@]} -gt 0 ]] || exit 0
echo
echo "kube-controller-manager, $NODES simulated nodes, Deployment of $REPLICAS replicas, idle windows ${IDLE}s"
printf '%-18s %9s %9s %9s %9s %8s %8s %10s %14s %7s\n' run "RSS idle" "RSS roll" "RSS after" "RSS peak" \
  "CPU% idl" "CPU% aft" "CPU-s roll" "rollout s" "API r/s"
printf '%-18s %9s %9s %9s %9s %8s %8s %10s %14s %7s\n' "" MiB MiB MiB MiB "" "" s s ""
for row in "${ROWS[@]}"; do echo "$row"; done
