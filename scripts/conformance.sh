#!/usr/bin/env bash
# Runs upstream's own e2e conformance tests (v1.20's e2e.test, unmodified) against a local `kubeswift up`
# cluster: the API server, scheduler, controller-manager and three simulated nodes, on a loopback address.
#
#   scripts/conformance.sh [E2E_TEST] [FOCUS]
#     E2E_TEST  default /work/upstream/bin/e2e.test (E2E=1 scripts/build-upstream.sh builds it)
#     FOCUS     a ginkgo focus regex; default every [Conformance] test that simulated nodes can serve
#   ADDRESS=127.0.0.250 SKIP=regex KEEP=1 (leave the cluster and its state) REPORT=dir
#
# Simulated nodes run no containers, so the default skips the tests that need one to do real work:
#   - a container's output, read through pods/log or exec, which need a kubelet's server (most of [k8s.io],
#     [sig-storage] and [sig-cli], the Downward API and token-file tests, which check files, environment and
#     volumes that way);
#   - a webhook, conversion webhook or aggregated API server served from a pod;
#   - the data plane: Services, DNS and proxies to pods ([sig-network]);
#   - a command whose exit depends on files it left in a volume on an earlier run (a Job's flaky tasks).
# The e2e suite is v1.20's and the server v1.32's: service accounts no longer get token Secrets, so the suite is
# told not to wait for one (--e2e-verify-service-account=false), as upstream's own suite stopped doing in v1.24.
set -euo pipefail
cd "$(dirname "$0")/.."
e2e=${1:-/work/upstream/bin/e2e.test}
focus=${2:-'\[Conformance\]'}
skip=${SKIP:-'\[k8s.io\]|\[sig-storage\]|\[sig-cli\]|\[sig-network\]|AdmissionWebhook|ConversionWebhook|Aggregator|pods/log|logs|exec|proxy|should serve a basic image|consumable (from|via)|tasks sometimes fail|Downward API|mount projected service account token'}
address=${ADDRESS:-127.0.0.250}
report=${REPORT:-$(mktemp -d /tmp/conformance.XXXXXX)}
[ -x "$e2e" ] || { echo "no $e2e: run E2E=1 scripts/build-upstream.sh" >&2; exit 2; }

state=$(mktemp -d /tmp/conformance-state.XXXXXX)
swift build -c release --product kubeswift >/dev/null
.build/release/kubeswift up --state-dir "$state" --address "$address" --nodes 3 >"$report/kubeswift-up.log" 2>&1 &
up=$!
stop() {
  kill "$up" 2>/dev/null || true
  wait "$up" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$state"
}
trap stop EXIT
export KUBECONFIG=$state/admin.kubeconfig
for _ in $(seq 1 120); do
  ready=$(kubectl get nodes --no-headers 2>/dev/null | grep -c ' Ready ' || true)
  [ "$ready" -ge 3 ] && break
  sleep 1
done
[ "${ready:-0}" -ge 3 ] || { echo "nodes not Ready; see $report/kubeswift-up.log" >&2; exit 1; }

set +e
"$e2e" --kubeconfig="$KUBECONFIG" --provider=skeleton --e2e-verify-service-account=false \
  --ginkgo.focus="$focus" --ginkgo.skip="$skip" --ginkgo.noColor --ginkgo.succinct \
  --report-dir="$report" >"$report/e2e.log" 2>&1
status=$?
set -e
grep -a -o '"msg":"PASSED [^"]*' "$report/e2e.log" | sed 's/"msg":"/  /' >"$report/passed.txt" || true
grep -a -o '"msg":"FAILED [^"]*' "$report/e2e.log" | sed 's/"msg":"/  /' >"$report/failed.txt" || true
echo "passed: $(wc -l <"$report/passed.txt")"
echo "failed: $(wc -l <"$report/failed.txt")"
cat "$report/failed.txt"
grep -a -E '^Ran [0-9]+ of' "$report/e2e.log" || true
echo "log, JUnit report and lists in $report"
exit $status
