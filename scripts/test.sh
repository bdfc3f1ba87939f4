#!/usr/bin/env bash
# All tests, from a fresh clone: the README's test command, and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

# OpenZeppelin's merkle-tree package, pinned by its lock file, for the USDC acceptance test.
bash crates/rails/tests/oz/setup.sh

cargo test --workspace --locked
# Slow tests are gated, not skipped in CI (STYLE.md): a million lines per payout rail, timed.
ASSAY_SLOW_TESTS=1 cargo test --release --locked -p assay-rails --test scale -- --nocapture
