# Sourced by bench-controller-manager.sh and controller-manager-failover.sh: a state directory removed on exit
# (unless KEEP is set) with every process in PIDS killed, the guide's certificates and the components'
# kubeconfigs from `kubeswift up` (stopped once they exist), and `api METHOD PATH [BODY] [CONTENT-TYPE]`, curl as
# the admin. Needs B (the binaries' folder) and STATE_PREFIX; uses only 127.0.0.107.
ADDR=127.0.0.107
STATE=$(mktemp -d "/tmp/$STATE_PREFIX-XXXXXX")
P=$STATE/pki
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$STATE"
}
trap cleanup EXIT

$B/kubeswift up --state-dir="$STATE" --address=$ADDR --port=6443 --scheduler-port=10359 \
  --controller-manager-port=10357 --nodes=0 >"$STATE/up.log" 2>&1 &
UP=$!
for _ in $(seq 1 300); do [[ -f $STATE/kube-controller-manager.kubeconfig ]] && break; sleep 0.1; done
sleep 1; kill $UP 2>/dev/null || true; wait $UP 2>/dev/null || true

api() {
  curl -sS --cacert "$P/ca.pem" --cert "$P/admin.pem" --key "$P/admin-key.pem" -X "$1" \
    -H "Content-Type: ${4:-application/json}" ${3:+--data "$3"} "https://$ADDR:6443$2"
}
now() { date +%s.%N; }
