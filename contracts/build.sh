#!/usr/bin/env bash
# Builds the settlement contracts (rule L5) reproducibly: installs the pinned solc-js and
# OpenZeppelin Contracts from package-lock.json, compiles src/*.sol and writes
# artifacts/<Name>.json. With --check, compiles into a temporary directory instead and fails,
# naming the file, if the committed artifacts differ (CI runs this).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

if [[ "${1:-}" == "--check" ]]; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  node compile.js "$out"
  status=0
  for built in "$out"/*.json; do
    name="$(basename "$built")"
    if ! cmp -s "$built" "artifacts/$name"; then
      echo "contracts/artifacts/$name differs from a fresh build: run contracts/build.sh and commit it" >&2
      status=1
    fi
  done
  for committed in artifacts/*.json; do
    if [[ ! -e "$out/$(basename "$committed")" ]]; then
      echo "contracts/$committed is not built from src/: remove it" >&2
      status=1
    fi
  done
  [[ "$status" == 0 ]] && echo "contracts/artifacts match a fresh build"
  exit "$status"
fi
node compile.js artifacts
echo "wrote contracts/artifacts/"
