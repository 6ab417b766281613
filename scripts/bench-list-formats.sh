#!/bin/bash
# Lists in JSON and in protobuf (issues 10 and 16): one kube-apiserver on the embedded store with COUNT objects
# (default 5,000 small one-container pods; `configmaps` makes 300-byte ConfigMaps as issue 16's workload), then
# lists of them with h2load over TLS and HTTP/2, LISTS (default 20) one at a time per case: full lists and pages
# of 500 (`limit=500`), each plain and with `Accept-Encoding: gzip`. Per case: lists/s, mean latency, bytes per
# list on the wire, the server's CPU ms per list, and its peak RSS during the case (VmHWM, reset before each case).
# Needs a release build, h2load and openssl; uses only 127.0.0.153.
#
#   [LISTS=20] scripts/bench-list-formats.sh [KUBE_APISERVER] [COUNT] [pods|configmaps]
set -euo pipefail
cd "$(dirname "$0")/.."
BINARY=${1:-.build/release/kube-apiserver}
COUNT=${2:-5000}
KIND=${3:-pods}
LISTS=${LISTS:-20}
STATE=$(mktemp -d /tmp/kubeswift-bench-lists-XXXXXX)
SERVER=
cleanup() {
  [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$STATE"
}
trap cleanup EXIT

TOKEN=bench-$RANDOM$RANDOM
echo "$TOKEN,admin,1000,system:masters" >"$STATE/tokens.csv"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kube-apiserver -addext "subjectAltName=IP:127.0.0.153" \
  -keyout "$STATE/key.pem" -out "$STATE/cert.pem" 2>/dev/null
openssl genrsa -out "$STATE/sa.key" 2048 2>/dev/null
openssl rsa -in "$STATE/sa.key" -pubout -out "$STATE/sa.pub" 2>/dev/null
"$BINARY" --bind-address=127.0.0.153 --advertise-address=127.0.0.153 --secure-port=6443 \
  --tls-cert-file="$STATE/cert.pem" --tls-private-key-file="$STATE/key.pem" --token-auth-file="$STATE/tokens.csv" \
  --service-account-key-file="$STATE/sa.pub" --service-account-signing-key-file="$STATE/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc --data-dir="$STATE/data" \
  --service-cluster-ip-range=10.254.0.0/16 --authorization-mode=RBAC >"$STATE/server.log" 2>&1 &
SERVER=$!
URL=https://127.0.0.153:6443
H=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
for _ in $(seq 1 300); do curl -sk "${H[@]}" "$URL/readyz" 2>/dev/null | grep -q ok && break; sleep 0.2; done
curl -sk "${H[@]}" -X POST "$URL/api/v1/namespaces" \
  -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}' >/dev/null
# ServiceAccount admission wants the namespace's default account; no controller-manager runs here.
curl -sk "${H[@]}" -X POST "$URL/api/v1/namespaces/bench/serviceaccounts" \
  -d '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default"}}' >/dev/null
if [[ $KIND == configmaps ]]; then
  printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"b-","labels":{"app":"bench"}},"data":{"k":"%s"}}' \
    "$(head -c 300 /dev/zero | tr '\0' x)" >"$STATE/object.json"
else
  printf '%s' '{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"p-","labels":{"app":"bench"}},"spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.9","resources":{"requests":{"cpu":"100m","memory":"500Mi"}}}]}}' \
    >"$STATE/object.json"
fi
h2load "${H[@]}" -n "$COUNT" -c 16 -m 1 -d "$STATE/object.json" "$URL/api/v1/namespaces/bench/$KIND" >/dev/null 2>&1
TICKS=$(getconf CLK_TCK)
cpu() { awk '{print $14+$15}' "/proc/$SERVER/stat"; }
peak() { awk '/^VmHWM/{print int($2/1024)}' "/proc/$SERVER/status"; }
echo "== $COUNT $KIND, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $BINARY"
echo "   RSS before the lists: $(awk '/^VmRSS/{print int($2/1024)}' "/proc/$SERVER/status") MB"
for query in "" "?limit=500"; do
  for accept in application/json application/vnd.kubernetes.protobuf; do
    for encoding in identity gzip; do
      E=(-H "Accept: $accept" -H "Accept-Encoding: $encoding")
      h2load "${H[@]}" "${E[@]}" -n 3 -c 1 "$URL/api/v1/namespaces/bench/$KIND$query" >/dev/null 2>&1 # warm-up
      echo 5 >"/proc/$SERVER/clear_refs" # resets VmHWM to the current RSS
      c0=$(cpu)
      out=$(h2load "${H[@]}" "${E[@]}" -n "$LISTS" -c 1 -m 1 "$URL/api/v1/namespaces/bench/$KIND$query" 2>&1)
      c1=$(cpu)
      printf '%-38s %-11s %-8s lists/s=%-7s 2xx=%-3s mean=%-9s bytes/list=%-9s server-cpu-ms/list=%-6s peak-rss-mb=%s\n' \
        "$accept" "${query:-full}" "$encoding" \
        "$(sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' <<<"$out")" \
        "$(sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p' <<<"$out")" \
        "$(awk '/^time for request:/{print $6}' <<<"$out")" \
        "$(($(sed -n 's/^traffic: .* (\([0-9]*\)) total.*/\1/p' <<<"$out") / LISTS))" \
        "$(echo "scale=2;($c1-$c0)*1000/$TICKS/$LISTS" | bc)" "$(peak)"
    done
  done
done
