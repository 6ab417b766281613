#!/bin/bash
# Side by side on etcd: this kube-apiserver and upstream's, each on a fresh etcd member of its own, the same
# load with h2load (TLS, HTTP/2, a bearer token, 16 clients, 300-byte ConfigMaps): 8,000 creates, 20,000 gets,
# paged lists (limit=500) and full lists of the ~8,500 objects, with the CPU seconds each server and its etcd
# spent in every phase (from /proc). One run each, ours first. Needs a release build, /usr/bin/etcd, h2load
# and openssl; uses only 127.0.0.151-154. With PERF_DIR set, each phase of each server is also recorded with
# `perf record -g` into PERF_DIR/LABEL-PHASE.perf (read with `perf report -i FILE --no-children`). With ROUNDS=N
# (default 1) the pair runs N times, the order alternating (ours first, then upstream first, ...), and a last
# table gives each figure's median over the rounds and the ratio of the medians: this machine's noise moves
# single runs by 20-30 %. ONLY=ours (or upstream) runs one server alone; KEEP_STATE=1 keeps the state
# directory with both servers' and etcds' logs.
#
#   scripts/bench-etcd-upstream.sh UPSTREAM_KUBE_APISERVER [OUR_KUBE_APISERVER]
#
# Upstream v1.20's binary builds from Debian's `kubernetes` source package; it gets the admission plugins
# upstream enables by default that matter for ConfigMaps (NamespaceLifecycle, ServiceAccount).
set -euo pipefail
cd "$(dirname "$0")/.."
UPSTREAM=${1:?usage: $0 UPSTREAM_KUBE_APISERVER [OUR_KUBE_APISERVER]}
OURS=${2:-.build/release/kube-apiserver}
STATE=$(mktemp -d /tmp/kubeswift-bench-upstream-XXXXXX)
SERVER= ETCD=
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null || true
  [[ -n $ETCD ]] && kill "$ETCD" 2>/dev/null || true
  wait 2>/dev/null || true
  [[ -n ${KEEP_STATE:-} ]] || rm -rf "$STATE"
}
trap cleanup EXIT

TOKEN=bench-$RANDOM$RANDOM
echo "$TOKEN,admin,1000,system:masters" >"$STATE/tokens.csv"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kube-apiserver \
  -addext "subjectAltName=IP:127.0.0.151,IP:127.0.0.153" \
  -keyout "$STATE/key.pem" -out "$STATE/cert.pem" 2>/dev/null
openssl genrsa -out "$STATE/sa.key" 2048 2>/dev/null
openssl rsa -in "$STATE/sa.key" -pubout -out "$STATE/sa.pub" 2>/dev/null
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"b-","labels":{"app":"bench"}},"data":{"k":"%s"}}' \
  "$(head -c 300 /dev/zero | tr '\0' x)" >"$STATE/body.json"
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -H "Accept: application/json")
TICKS=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }

run() { # label binary server-ip etcd-ip extra-flags...
  local label=$1 binary=$2 ip=$3 eip=$4; shift 4
  rm -rf "$STATE/etcd"
  etcd --data-dir "$STATE/etcd" --listen-client-urls "http://$eip:2379" --advertise-client-urls "http://$eip:2379" \
    --listen-peer-urls "http://$eip:2380" --initial-advertise-peer-urls "http://$eip:2380" \
    --initial-cluster "default=http://$eip:2380" >"$STATE/etcd-$label.log" 2>&1 &
  ETCD=$!
  for _ in $(seq 1 100); do curl -sf "http://$eip:2379/health" >/dev/null && break; sleep 0.1; done
  "$binary" --bind-address="$ip" --advertise-address="$ip" --secure-port=6443 \
    --tls-cert-file="$STATE/cert.pem" --tls-private-key-file="$STATE/key.pem" --token-auth-file="$STATE/tokens.csv" \
    --service-account-key-file="$STATE/sa.pub" --service-account-signing-key-file="$STATE/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc --etcd-servers="http://$eip:2379" \
    --service-cluster-ip-range=10.254.0.0/16 --authorization-mode=RBAC "$@" >"$STATE/server-$label.log" 2>&1 &
  SERVER=$!
  local url=https://$ip:6443
  for _ in $(seq 1 300); do curl -sk "${H[@]}" "$url/readyz" 2>/dev/null | grep -q ok && break; sleep 0.2; done
  sleep 3
  curl -sk "${H[@]}" -X POST "$url/api/v1/namespaces" \
    -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}' >/dev/null
  sleep 1
  local cms=$url/api/v1/namespaces/bench/configmaps
  curl -sk "${H[@]}" -X POST "$cms" -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"one"},"data":{"k":"v"}}' \
    >/dev/null
  h2load "${H[@]}" -n 500 -c 16 -m 1 -d "$STATE/body.json" "$cms" >/dev/null 2>&1 # warm-up
  phase() { # name h2load-args...
    local name=$1; shift
    local s0 e0 s1 e1 out
    s0=$(cpu "$SERVER") e0=$(cpu "$ETCD")
    local recorder=
    if [[ -n ${PERF_DIR:-} ]]; then
      perf record -q -F 999 -g -p "$SERVER" -o "$PERF_DIR/$label-$name.perf" 2>"$PERF_DIR/$label-$name.log" &
      recorder=$!
    fi
    # `times` in the subshell: its second line is the CPU its children (h2load) used, user then system.
    out=$(h2load "${H[@]}" "$@" 2>&1; times)
    [[ -n $recorder ]] && { kill -TERM "$recorder"; wait "$recorder" 2>/dev/null || true; }
    s1=$(cpu "$SERVER") e1=$(cpu "$ETCD")
    printf '%-9s %-16s req/s=%-9s 2xx=%-6s mean=%-9s server-cpu-s=%-6s etcd-cpu-s=%-6s h2load-cpu-s=%-6s load=%s\n' \
      "$label" "$name" \
      "$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")" \
      "$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$out")" \
      "$(awk '/^time for request:/{print $6}' <<<"$out")" \
      "$(echo "scale=2;($s1-$s0)/$TICKS" | bc)" "$(echo "scale=2;($e1-$e0)/$TICKS" | bc)" \
      "$(tail -1 <<<"$out" | awk '{gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4}')" "$(cut -d' ' -f1 /proc/loadavg)" |
      tee -a "$STATE/lines"
  }
  phase create-8000-c16 -n 8000 -c 16 -m 1 -d "$STATE/body.json" "$cms"
  phase get-20000-c16 -n 20000 -c 16 -m 4 "$cms/one"
  phase list-limit500 -n 200 -c 1 -m 1 "$cms?limit=500"
  phase list-all -n 20 -c 1 -m 1 "$cms"
  echo "$label      RSS at the end: $(($(ps -o rss= -p "$SERVER") / 1024)) MB"
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
  kill "$ETCD"; wait "$ETCD" 2>/dev/null || true; ETCD=
}

ours() { run ours "$OURS" 127.0.0.151 127.0.0.152; }
upstream() {
  run upstream "$UPSTREAM" 127.0.0.153 127.0.0.154 --insecure-port=0 \
    --enable-admission-plugins=NamespaceLifecycle,ServiceAccount
}

ROUNDS=${ROUNDS:-1}
echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS round(s)"
for round in $(seq 1 "$ROUNDS"); do
  case ${ONLY:-} in
    ours) ours ;;
    upstream) upstream ;;
    *) if ((round % 2)); then ours; upstream; else upstream; ours; fi ;;
  esac
done
((ROUNDS > 1)) || exit 0
echo "== medians over $ROUNDS rounds (ours / upstream)"
for phase in create-8000-c16 get-20000-c16 list-limit500 list-all; do
  median() { # label field
    # h2load's mean carries its unit (us, ms or s): medians of it are in ms.
    grep "^$1 *$phase " "$STATE/lines" | sed -n "s|.* $2=\([0-9.]*[a-z]*\).*|\1|p" |
      awk '/us$/ {print $1 / 1000; next} /ms$/ {print $1 + 0; next} /s$/ {print $1 * 1000; next} {print $1}' |
      sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'
  }
  for field in req/s mean server-cpu-s etcd-cpu-s h2load-cpu-s; do # mean in ms
    o=$(median ours "$field") u=$(median upstream "$field")
    printf '%-16s %-13s ours=%-9s upstream=%-9s ratio=%s\n' "$phase" "$field" "$o" "$u" \
      "$(awk -v o="$o" -v u="$u" 'BEGIN {printf (u > 0 ? "%.2f" : "-"), o / u}')"
  done
done
