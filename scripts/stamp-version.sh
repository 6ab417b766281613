#!/usr/bin/env bash
# Runs a build with the source's commit, tree state and the date written into
# Sources/APIServer/Server/BuildInfo.swift, which /version reports, then restores the file:
#
#     scripts/stamp-version.sh swift build -c release
#
# The tree state is "dirty" when files other than BuildInfo.swift differ from HEAD.
set -euo pipefail
cd "$(dirname "$0")/.."
file=Sources/APIServer/Server/BuildInfo.swift
[ $# -gt 0 ] || { echo "usage: $0 <build command...>" >&2; exit 2; }
commit=$(git rev-parse HEAD)
if [ -z "$(git status --porcelain --untracked-files=no -- . ":(exclude)$file")" ]; then state=clean; else state=dirty; fi
date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
backup=$(mktemp)
cp "$file" "$backup"
trap 'cp "$backup" "$file"; rm -f "$backup"' EXIT
sed -i -e "s/gitCommit = \"[^\"]*\"/gitCommit = \"$commit\"/" \
    -e "s/gitTreeState = \"[^\"]*\"/gitTreeState = \"$state\"/" \
    -e "s/buildDate = \"[^\"]*\"/buildDate = \"$date\"/" "$file"
grep -q "gitCommit = \"$commit\"" "$file" || { echo "stamp-version: could not stamp $file" >&2; exit 1; }
"$@"
