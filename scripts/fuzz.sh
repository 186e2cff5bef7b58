#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time (seconds, default 20).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
bash scripts/build.sh fuzz
shopt -s nullglob
for f in build-fuzz/fuzz/fuzz_*; do
  [ -x "$f" ] || continue
  name=$(basename "$f")
  corpus=fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  # The shipped scenarios, topologies and results seed their parsers' fuzzers too; traces are made by
  # this build's own `occult trace gen`.
  case $name in
    fuzz_scenario) cp scenarios/*.toml scenarios/scale/*.toml "$work"/ ;;
    fuzz_topology) cp topologies/*.toml "$work"/ ;;
    fuzz_results_csv) cp reports/examples/*.csv "$work"/ ;;
    fuzz_trace_read)
      build-fuzz/occult trace gen --experts 8 --top-k 2 --tokens 16 --layers 2 -o "$work"/gen.trace >/dev/null 2>&1
      build-fuzz/occult trace gen --experts 4 --top-k 1 --tokens 3 -o "$work"/tiny.trace >/dev/null 2>&1 ;;
  esac
  echo "fuzz: $name for ${secs}s"
  "$f" -max_total_time="$secs" -max_len=4096 -print_final_stats=0 "$work" 2>&1 | tail -n 3
  rm -rf "$work"
done
