#!/usr/bin/env bash
# Records upstream kube-apiserver's defaulted objects for the defaulting corpus
# (Tests/APIServerTests/DefaultingCorpusTests.swift): each manifest under
# Tests/APIServerTests/Fixtures/Defaulting/manifests/ is created with `kubectl create --dry-run=server -o json`
# against a real upstream server, and its answer is written, as the server printed it, to
# Tests/APIServerTests/Fixtures/Defaulting/upstream/<manifest name>.json.
#
# The upstream server is v1.20 (Debian's `kubernetes` source package builds it on this machine); what v1.32
# defaults differently is an overlay in the test, never an edit here or in the recorded files.
#
# Usage: scripts/record-defaulting-fixtures.sh [kube-apiserver binary] [etcd binary]
# MANIFESTS="job pod-run" records only those manifests (names without .yaml), leaving the other answers as they are.
# Everything runs on loopback: the API server on 127.0.0.148:6443, its etcd on 127.0.0.149:2379.
set -euo pipefail

APISERVER=${1:-/tmp/etcdx/kube-apiserver-upstream}
ETCD=${2:-/usr/bin/etcd}
KUBECTL=${KUBECTL:-/usr/bin/kubectl}
SERVER_ADDRESS=127.0.0.148
ETCD_ADDRESS=127.0.0.149
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS="$ROOT/Tests/APIServerTests/Fixtures/Defaulting"
OUT="$CORPUS/upstream"

WORK=$(mktemp -d /tmp/defaulting-corpus.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# A throwaway PKI: a CA, the serving certificate, an admin client in system:masters, a service-account key.
cd "$WORK"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=defaulting-corpus-ca" \
    -keyout ca-key.pem -out ca.pem 2>/dev/null
issue() { # name subject [subjectAltName]
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1-key.pem" -out "$1.csr" 2>/dev/null
    if [ -n "${3:-}" ]; then printf 'subjectAltName=%s\n' "$3" >"$1.ext"; else : >"$1.ext"; fi
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 1 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
issue kubernetes "/CN=kubernetes" "IP:$SERVER_ADDRESS,IP:10.254.0.1,DNS:kubernetes"
issue admin "/O=system:masters/CN=admin"
openssl genrsa -out sa-key.pem 2048 2>/dev/null

"$ETCD" --name corpus --data-dir "$WORK/etcd" \
    --listen-client-urls "http://$ETCD_ADDRESS:2379" --advertise-client-urls "http://$ETCD_ADDRESS:2379" \
    --listen-peer-urls "http://$ETCD_ADDRESS:2380" --initial-advertise-peer-urls "http://$ETCD_ADDRESS:2380" \
    --initial-cluster "corpus=http://$ETCD_ADDRESS:2380" >"$WORK/etcd.log" 2>&1 &
PIDS+=($!)

# The default admission plugins of the release; ServiceAccount needs the default account (created below).
"$APISERVER" --etcd-servers="http://$ETCD_ADDRESS:2379" \
    --bind-address="$SERVER_ADDRESS" --advertise-address="$SERVER_ADDRESS" --secure-port=6443 --insecure-port=0 \
    --tls-cert-file=kubernetes.pem --tls-private-key-file=kubernetes-key.pem --client-ca-file=ca.pem \
    --service-account-key-file=sa-key.pem --service-account-signing-key-file=sa-key.pem \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local --api-audiences=https://kubernetes.default.svc \
    --service-cluster-ip-range=10.254.0.0/16 --authorization-mode=RBAC >"$WORK/apiserver.log" 2>&1 &
PIDS+=($!)

cat >kubeconfig <<EOF
apiVersion: v1
kind: Config
clusters:
- name: corpus
  cluster: {server: "https://$SERVER_ADDRESS:6443", certificate-authority: "$WORK/ca.pem"}
users:
- name: admin
  user: {client-certificate: "$WORK/admin.pem", client-key: "$WORK/admin-key.pem"}
contexts:
- name: corpus
  context: {cluster: corpus, user: admin, namespace: default}
current-context: corpus
EOF
k() { "$KUBECTL" --kubeconfig="$WORK/kubeconfig" "$@"; }

for _ in $(seq 1 60); do
    if k get --raw /readyz >/dev/null 2>&1; then break; fi
    sleep 1
done
k get --raw /readyz >/dev/null

# No controller-manager runs: give the default account the token Secret v1.20's ServiceAccount admission
# mounts, as its token controller would.
k create serviceaccount default >/dev/null 2>&1 || true
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: default-token-corpus
  annotations:
    kubernetes.io/service-account.name: default
    kubernetes.io/service-account.uid: "$(k get serviceaccount default -o jsonpath='{.metadata.uid}')"
type: kubernetes.io/service-account-token
EOF
k patch serviceaccount default -p '{"secrets":[{"name":"default-token-corpus"}]}' >/dev/null

# The manifests are written in v1.32's versions; a kind v1.20 serves only in a beta version is created in it
# (same fields), and the test maps the answer's apiVersion back.
older_version() {
    case "$1" in
    "batch/v1 CronJob") echo batch/v1beta1 ;;
    "autoscaling/v2 HorizontalPodAutoscaler") echo autoscaling/v2beta2 ;;
    "policy/v1 PodDisruptionBudget") echo policy/v1beta1 ;;
    "discovery.k8s.io/v1 EndpointSlice") echo discovery.k8s.io/v1beta1 ;;
    *) echo "" ;;
    esac
}

mkdir -p "$OUT"
status=0
for manifest in "$CORPUS"/manifests/*.yaml; do
    name=$(basename "$manifest" .yaml)
    if [ -n "${MANIFESTS:-}" ] && ! [[ " $MANIFESTS " == *" $name "* ]]; then continue; fi
    version=$(sed -n 's/^apiVersion: *//p' "$manifest" | head -1)
    kind=$(sed -n 's/^kind: *//p' "$manifest" | head -1)
    older=$(older_version "$version $kind")
    body="$WORK/$name.yaml"
    if [ -n "$older" ]; then
        sed "s#^apiVersion: *$version\$#apiVersion: $older#" "$manifest" >"$body"
    else
        cp "$manifest" "$body"
    fi
    # --validate=false: fields v1.20 does not know are dropped by the server, as it drops them for any client.
    if k create --dry-run=server --validate=false -o json -f "$body" >"$WORK/$name.json" 2>"$WORK/$name.err"; then
        mv "$WORK/$name.json" "$OUT/$name.json"
        echo "recorded $name"
    else
        echo "FAILED $name: $(cat "$WORK/$name.err")" >&2
        status=1
    fi
done
exit $status
