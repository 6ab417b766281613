#!/bin/bash
# Two builds of our kube-apiserver, A and B, through scripts/bench-etcd-upstream.sh's phases (ONLY=ours: each on
# a fresh etcd member), alternating which goes first every round: on this machine the second of a pair tends
# to be faster, by up to 10 %, and its speed swings 2x within minutes, so one pair decides nothing. Prints each
# run's create and get lines, then per figure the medians and the rounds B won. Uses only 127.0.0.151-152.
#
#   ROUNDS=4 scripts/bench-etcd-ab.sh A_KUBE_APISERVER B_KUBE_APISERVER
set -euo pipefail
cd "$(dirname "$0")/.."
A=$(realpath "${1:?usage: $0 A_KUBE_APISERVER B_KUBE_APISERVER}")
B=$(realpath "${2:?usage: $0 A_KUBE_APISERVER B_KUBE_APISERVER}")
ROUNDS=${ROUNDS:-4}
LINES=$(mktemp /tmp/kubeswift-bench-ab-XXXXXX)
trap 'rm -f "$LINES"' EXIT

one() { # label binary round
  ROUNDS=1 ONLY=ours scripts/bench-etcd-upstream.sh /dev/null "$2" | grep -E '^ours +(create|get)-' |
    sed "s|^ours |$1$3|" | tee -a "$LINES"
}

echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $ROUNDS rounds; A=$A B=$B"
for round in $(seq 1 "$ROUNDS"); do
  if ((round % 2)); then one A "$A" "$round"; one B "$B" "$round"; else one B "$B" "$round"; one A "$A" "$round"; fi
done

value() { sed -n "s|.* $1=\([0-9.]*\).*|\1|p"; }
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "== medians over $ROUNDS rounds (A / B), and the rounds B won"
for phase in create-8000-c16 get-20000-c16; do
  for field in req/s server-cpu-s etcd-cpu-s; do
    a=$(grep "^A[0-9]* *$phase " "$LINES" | value "$field" | median)
    b=$(grep "^B[0-9]* *$phase " "$LINES" | value "$field" | median)
    wins=0
    for round in $(seq 1 "$ROUNDS"); do
      ra=$(grep "^A$round *$phase " "$LINES" | value "$field") rb=$(grep "^B$round *$phase " "$LINES" | value "$field")
      # More is better for req/s, less for CPU.
      if [[ $field == req/s ]]; then (($(echo "$rb > $ra" | bc))) && wins=$((wins + 1)); else
        (($(echo "$rb < $ra" | bc))) && wins=$((wins + 1)); fi
    done
    printf '%-16s %-13s A=%-9s B=%-9s B/A=%-6s B won %d of %d\n' "$phase" "$field" "$a" "$b" \
      "$(echo "scale=2; $b / $a" | bc)" "$wins" "$ROUNDS"
  done
done
