#!/usr/bin/env bash
# README command (2): set up, build, and run every test that needs no GPU; then the same suite under
# ASan+UBSan, then each fuzz target for a bounded time. GPU tests (label gpu) run on a GPU machine
# with scripts/gpu/run-gpu-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh default
ctest --preset default -j "$(nproc)"
if [ "${OCCULT_SKIP_ASAN:-0}" != 1 ]; then
  bash scripts/build.sh asan
  ctest --preset asan -j "$(nproc)"
fi
if [ "${OCCULT_SKIP_FUZZ:-0}" != 1 ]; then
  bash scripts/fuzz.sh "${OCCULT_FUZZ_SECONDS:-20}"
fi
