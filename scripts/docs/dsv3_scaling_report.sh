#!/usr/bin/env bash
# Makes reports/examples/dsv3-scaling.md: DeepSeek-V3 from 8 to 16,384 GPUs (scenarios/scale/
# dsv3-scaling-{train,decode}-{groups,cluster}.toml), training and decode, non-blocking and 2:1 fabric,
# strategies standard, occult, hierarchical and node-limited:4, placements contiguous and metis.
#
#   scripts/docs/dsv3_scaling_report.sh                      # everything, on this machine
#   scripts/docs/dsv3_scaling_report.sh --max-devices 64     # only the points of at most 64 GPUs
#   scripts/docs/dsv3_scaling_report.sh --shard 3/32         # one shard of each sweep (a job array task;
#                                                            # docs/sweeps-on-a-cluster.md), no report
#   scripts/docs/dsv3_scaling_report.sh --report-only        # the report from results/dsv3-scaling/
#
# Results files go to results/dsv3-scaling/ (one per scenario and shard); the sweeps resume them.
# Environment: OCCULT (default build/occult), JOBS (sweep -j, default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
occult=${OCCULT:-build/occult}
jobs=${JOBS:-1}
out=results/dsv3-scaling
shard="" max="" report_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --shard) shard=$2; shift 2 ;;
    --max-devices) max=$2; shift 2 ;;
    --report-only) report_only=1; shift ;;
    *) echo "usage: $0 [--shard I/N] [--max-devices D] [--report-only]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
if [ "$report_only" = 0 ]; then
  for s in train-groups decode-groups train-cluster decode-cluster; do
    scen=scenarios/scale/dsv3-scaling-$s.toml
    sets=()
    if [ -n "$max" ]; then
      devs=$(grep '^cluster.devices' "$scen" | tr -d '[],' | cut -d= -f2 |
             tr ' ' '\n' | awk -v m="$max" 'NF && $1 <= m' | paste -sd, -)
      [ -z "$devs" ] && continue
      sets=(--set "sweep.cluster.devices=[$devs]")
    fi
    file=$out/$s.csv
    [ -n "$shard" ] && file=$out/$s.shard-${shard%/*}-of-${shard#*/}.csv
    "$occult" sweep "$scen" -j "$jobs" ${shard:+--shard "$shard"} "${sets[@]}" -o "$file"
  done
  [ -n "$shard" ] && exit 0
fi
"$occult" report "$out" --format md --title "DeepSeek-V3 scaling (the devices swept are listed below)" \
  -o reports/examples/dsv3-scaling.md
