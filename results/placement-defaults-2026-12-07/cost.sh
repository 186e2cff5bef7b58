#!/usr/bin/env bash
# CPU cost of the new defaults of `occult place` against the old ones (--restarts 2 --recent-weight 1)
# on a DeepSeek-V3-shaped synthetic trace: 256 experts, top-8, 4 layers of 65,536 tokens, D = 64
# (8 per node), one thread.  bash cost.sh OCCULT OUT
set -euo pipefail
O=$1; OUT=$2
mkdir -p "$OUT"
"$O" trace gen --model deepseek-v3 --tokens 65536 --layers 4 --skew 0.2 --affinity 0.5 --groups 24 --seed 1 \
    -o "$OUT/dsv3.trace" >/dev/null
for opts in "--restarts 2 --recent-weight 1" "--restarts 8 --recent-weight 1" "--restarts 2 --recent-weight 4" "" "--restarts 8 --recent-weight auto"; do
  /usr/bin/time -f "%U s user CPU, %M KB max RSS: ${opts:-(defaults)}" \
    "$O" place --trace "$OUT/dsv3.trace" --devices 64 --gpus-per-node 8 --algo metis $opts -o "$OUT/c.json" >/dev/null
done
