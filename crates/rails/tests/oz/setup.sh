#!/usr/bin/env bash
# Installs OpenZeppelin's @openzeppelin/merkle-tree, exactly as pinned by package-lock.json,
# for the acceptance test crates/rails/tests/usdc_oz.rs. CI runs this before `cargo test`.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
