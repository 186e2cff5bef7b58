#!/usr/bin/env python3
"""Writes, from the real logs in DATA, the JSONL logs run.sh needs into OUT: each log's profile alone
(the first half of every layer's tokens, as `occult place --profile-fraction 0.5` cuts it), and Qwen's
tokens shuffled (the same tokens without their order, so without drift)."""
import json
import random
import sys

data, out = sys.argv[1], sys.argv[2]


def half(n):  # profile_tokens(n, 0.5): llround, halves away from zero
    return int(n * 0.5 + 0.5)


for layer in (0, 8, 12, 18, 23):
    with open(f"{data}/vLLM-MoE-Logger/moe_layer{layer}.jsonl") as f:
        recs = [r for r in map(json.loads, f) if r.get("type") == "route"][8448:]  # after the dummy passes
    keep = [{"layer": layer, "topk_ids": r["topk_ids"], "topk_weights": r["topk_weights"]} for r in recs]
    with open(f"{out}/qwen_prof_layer{layer}.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in keep[:half(len(keep))])
    random.Random(7).shuffle(keep)
    with open(f"{out}/qwen_shuf_layer{layer}.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in keep)

by_layer = {}
with open(f"{data}/speculative-moe/humaneval_2_routing.jsonl") as f:
    for r in map(json.loads, f):
        by_layer.setdefault(r["layer"], []).append(r)
with open(f"{out}/mixtral_he_prof.jsonl", "w") as f:
    for layer, recs in by_layer.items():
        f.writelines(json.dumps({"layer": layer, "experts": r["experts"], "gating_probs": r["gating_probs"]}) + "\n"
                     for r in recs[:half(len(recs))])
