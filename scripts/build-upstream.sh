#!/usr/bin/env bash
# Builds upstream's kube-apiserver, kube-controller-manager and kube-scheduler (v1.20, from Debian's `kubernetes`
# source package) into DEST/bin, the peers that bench-etcd-upstream.sh and bench-controller-manager.sh compare
# against in the same run. Needs root (apt), about 15-20 minutes of 2 cores, and Debian's package mirror.
# With E2E=1 it also builds upstream's e2e suite, DEST/bin/e2e.test, which scripts/conformance.sh runs (about
# 10 more minutes).
#
#   scripts/build-upstream.sh [DEST]        # default /work/upstream
#   E2E=1 scripts/build-upstream.sh [DEST]
set -euo pipefail
dest=${1:-/work/upstream}
mkdir -p "$dest/bin"
dest=$(cd "$dest" && pwd)

sources=/etc/apt/sources.list.d/debian.sources
if ! grep -q 'deb-src' "$sources"; then
  sed -i 's/^Types: deb$/Types: deb deb-src/' "$sources"
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go dpkg-dev rsync \
  golang-github-modern-go-reflect2-dev >/dev/null

cd "$dest"
tree=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
if [ -z "$tree" ]; then
  apt-get source -qq kubernetes >/dev/null
  tree=$(find . -maxdepth 1 -type d -name 'kubernetes-*' | head -1)
fi
cd "$tree"
# The vendored reflect2 v1.0.1 panics on the first create under Go 1.19; Debian's 1.0.2 works.
if [ -d /usr/share/gocode/src/github.com/modern-go/reflect2 ]; then
  rm -rf vendor/github.com/modern-go/reflect2
  cp -r /usr/share/gocode/src/github.com/modern-go/reflect2 vendor/github.com/modern-go/reflect2
fi
GOPATH=$PWD/.go CGO_ENABLED=0 nice make \
  WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler"
cp _output/bin/kube-apiserver _output/bin/kube-controller-manager _output/bin/kube-scheduler "$dest/bin/"
if [ "${E2E:-0}" = 1 ]; then
  GOPATH=$PWD/.go CGO_ENABLED=0 nice make WHAT=test/e2e/e2e.test
  cp _output/bin/e2e.test "$dest/bin/"
fi
echo "upstream binaries in $dest/bin"
