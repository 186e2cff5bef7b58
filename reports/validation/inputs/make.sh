#!/usr/bin/env bash
# The inputs of the 4- and 8-GPU part of the validation matrix (matrix.txt) that a GPU machine cannot
# make itself: METIS placements of OLMoE for 4 and 8 devices, placed on a profile of the same
# synthetic routing the runs use (gpu-run --skew 0.5 --affinity 0.5, Qwen-like co-activation groups)
# drawn with another seed, as a deployment places experts on yesterday's routing and runs on today's.
#   bash reports/validation/inputs/make.sh [path/to/occult]
set -euo pipefail
cd "$(dirname "$0")"
OCC=${1:-../../../build/occult}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$OCC" trace gen --model olmoe-1b-7b --tokens 32768 --skew 0.5 --affinity 0.5 --seed 17 -o "$T/profile.trace"
for D in 4 8; do
  "$OCC" place --trace "$T/profile.trace" -D "$D" -G "$D" --algo metis --seed 1 -o "olmoe-metis-ep$D.json"
done
