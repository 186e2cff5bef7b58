#!/usr/bin/env bash
# How the defaults of `occult place` (--restarts 8 --recent-weight 4) were chosen, and how they do.
#
#   bash run.sh OCCULT ROUTING_DATA OUT
#
# OCCULT: the occult binary; ROUTING_DATA: the folder holding vLLM-MoE-Logger/ and speculative-moe/
# (the real logs; not in the repository); OUT: a scratch folder. Writes OUT/profcv.txt, OUT/holdout.txt
# and OUT/shuffled.txt, then prints the tables of table.md (python3 summarize.py OUT).
#
# 1. Selection, on the profiles alone: each log's profile is the first half of every layer's tokens
#    (what `occult place --profile-fraction 0.5` places from). Every option set is placed from the
#    first F of each profile and scored (ct_occult) on the rest of it, F = 0.5 and 0.75, seeds 1-3.
#    The real holdout (second half) is not read. The defaults are the option set with the best mean
#    relative score.
# 2. Test: every option set placed from the whole profile and scored on the holdout, seeds 1-5, with
#    the in-sample optimum of the holdout beside it.
# 3. Stationary control: Qwen's tokens shuffled (no drift), the same placement and scoring.
set -euo pipefail
O=$(realpath "$1"); DATA=$(realpath "$2"); OUT=$3
mkdir -p "$OUT"
HERE=$(dirname "$(realpath "$0")")

python3 "$HERE/make_logs.py" "$DATA" "$OUT"
"$O" trace import "$DATA"/vLLM-MoE-Logger/moe_layer*.jsonl --model qwen1.5-moe-a2.7b -o "$OUT/qwen.trace" >/dev/null
"$O" trace import "$DATA"/speculative-moe/humaneval_2_routing.jsonl --model mixtral-8x7b -o "$OUT/mixtral_he.trace" >/dev/null
"$O" trace import "$OUT"/qwen_prof_layer*.jsonl --model qwen1.5-moe-a2.7b -o "$OUT/qwen_prof.trace" >/dev/null
"$O" trace import "$OUT"/mixtral_he_prof.jsonl --model mixtral-8x7b -o "$OUT/mixtral_he_prof.trace" >/dev/null
"$O" trace import "$OUT"/qwen_shuf_layer*.jsonl --model qwen1.5-moe-a2.7b -o "$OUT/qwen_shuf.trace" >/dev/null

# place TRACE D R W SEED F: "holdout profile optimum" ct_occult
place() {
  local R=0; [ "$2" = 8 ] && [ "${1#qwen}" != "$1" ] && R=4  # Qwen's 60 experts on 8 devices: 4 replicas
  "$O" place --trace "$OUT/$1.trace" --devices "$2" --algo metis --replicate $R --profile-fraction "$6" \
      --restarts "$3" --recent-weight "$4" --seed "$5" --json -o "$OUT/p.json" 2>/dev/null |
    python3 -c 'import json,sys; m=json.load(sys.stdin)["metrics"]
print("%.4f %.4f %.4f" % (m["holdout"]["ct_occult"], m["profile"]["ct_occult"], m["holdout_optimum"]["ct_occult"]))'
}
cases() { echo "qwen 2"; echo "qwen 4"; echo "qwen 8"; echo "mixtral_he 2"; echo "mixtral_he 4"; }
OPTS="2 8 32"; WEIGHTS="1 2 3 4 6 8 auto"

: > "$OUT/profcv.txt"
for F in 0.5 0.75; do cases | while read -r tr D; do for r in $OPTS; do for W in $WEIGHTS; do for s in 1 2 3; do
  echo "$F $tr $D $r $W $s $(place "${tr}_prof" "$D" "$r" "$W" "$s" "$F")" >> "$OUT/profcv.txt"
done; done; done; done; done
: > "$OUT/holdout.txt"
cases | while read -r tr D; do for r in $OPTS; do for W in $WEIGHTS; do for s in 1 2 3 4 5; do
  echo "$tr $D $r $W $s $(place "$tr" "$D" "$r" "$W" "$s" 0.5)" >> "$OUT/holdout.txt"
done; done; done; done
: > "$OUT/shuffled.txt"
for D in 2 4 8; do for W in 1 4 auto; do for s in 1 2 3; do
  echo "qwen_shuf $D 8 $W $s $(place qwen_shuf "$D" 8 "$W" "$s" 0.5)" >> "$OUT/shuffled.txt"
done; done; done
python3 "$HERE/summarize.py" "$OUT"
