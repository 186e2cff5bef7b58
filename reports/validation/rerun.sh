#!/usr/bin/env bash
# Regenerates every table of reports/validation from the committed measured runs and profiles (no GPU
# needed): the H100 matrix against its own profile, and the 2x H200 runs of 2026-11-28 against the H100's
# compute with the H200 box's links. Run from anywhere; needs a full build (build/occult).
#   bash reports/validation/rerun.sh [path/to/occult]
set -euo pipefail
cd "$(dirname "$0")/../.."
OCC=${1:-build/occult}
V=reports/validation
H=$V/h100-2026-12-07
"$OCC" validate $H/runs-a.json $H/runs-b.json --csv $H/validation.csv -o $H/validation.html >$H/validation.txt
# The same runs against the second profile measured on the same machine (its layout samples relabeled
# per token, as calibration/h100.json's are: see README.md).
"$OCC" validate $H/runs-a.json $H/runs-b.json --profile $H/profile-b.json --csv $H/validation-profile-b.csv \
  >$H/validation-profile-b.txt
O=$V/h200x2-2026-11-28
"$OCC" validate results/gpu/backend-runs.v2.json --machines $O/machines.toml --csv $O/validation.csv \
  -o $O/validation.html >$O/validation.txt 2>$O/warnings.txt
echo "tables in $H and $O"
