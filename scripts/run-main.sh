#!/usr/bin/env bash
# README command (1): set up, build the occult binary alone (preset "sim": no CUDA parts, tests or
# benchmarks, so that the first simulated number comes in minutes), simulate the default scenario with
# the shipped calibration profile and write a scaling report. Outputs land in out/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh sim
mkdir -p out
./build/occult simulate scenarios/default.toml
./build/occult sweep scenarios/default.toml -j "$(nproc)" -o out/default.csv
./build/occult report out/default.csv -o out/report.html
echo "report: $(pwd)/out/report.html"
