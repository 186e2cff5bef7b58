#!/usr/bin/env python3
"""Converts gpu-run records written before record version 2 (backend-runs.json, 2026-11-28) into the
current format (sim/core/run_record.hpp), so that `occult validate` can judge the simulator on them.

What version 1 did not store is rebuilt from what it did and from the code that wrote it (no number is
invented): the workload is what `occult gpu-run` built from the command line in provenance.command
(synthetic routing with the flags' skew and affinity, contiguous placement, one expert-parallel group
over the ranks); a scenario run takes its model, tokens, seed, mode and routing from the scenario file
as it was then (scenarios/default.toml: skew 0.6, affinity 0.5). Shared experts were never run on the
GPU, so the workload has none. Every measured number is copied as it is.

    python3 results/gpu/migrate_runs.py results/gpu/backend-runs.json results/gpu/backend-runs.v2.json
"""
import json
import re
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def presets():
    """Model presets as sim/core/model_presets.cpp defines them."""
    src = (ROOT / "sim/core/model_presets.cpp").read_text()
    out = {}
    for m in re.finditer(r'\{"([^"]+)", (\d+), (\d+), (\d+), (\d+), (\d+), (\d+), (\d+), (\d+)\}', src):
        name, e, k, h, f, _se, _sf, layers, eb = m.groups()
        out[name] = dict(name=name, experts=int(e), top_k=int(k), hidden=int(h), ffn=int(f), shared_experts=0,
                         shared_ffn=0, layers=int(layers), elem_bytes=int(eb))
    return out


def flag(args, name, default=None):
    return args[args.index(name) + 1] if name in args else default


def convert(old, models):
    args = shlex.split(old["provenance"]["command"])[2:]  # after "occult gpu-run"
    model = dict(models[old["model"]["name"]])
    routing = {"skew": float(flag(args, "--skew", 0)), "affinity": float(flag(args, "--affinity", 0)),
               "groups": 0}
    if args and args[0].endswith(".toml"):
        if Path(args[0]).name != "default.toml":
            raise SystemExit(f"no rule for scenario {args[0]}")
        routing = {"skew": 0.6, "affinity": 0.5, "groups": 0}
    ranks = old["ranks"]
    workload = {"model": model, "mode": "train" if old["training"] else "prefill",
                "tokens_per_device": old["tokens_per_gpu"], "first_layer": 0, "layers": 1, "seed": old["seed"],
                "routing": routing, "devices": ranks, "ep_size": ranks, "gpus_per_node": ranks,
                "strategies": [s["strategy"] for s in old["strategies"]], "placements": ["contiguous"]}
    execution = {"path": old["path"] if ranks > 1 else "local", "transport": old["transport"],
                 "nccl_mode": old["nccl_mode"], "counts": old["counts"], "comm_only": old["comm_only"],
                 "bootstrap": old["bootstrap"], "ranks": ranks, "iters": old["iters"],
                 "warmup": int(flag(args, "--warmup", 3)),
                 "backward_kernel": "expert_ffn_backward/tc_auto"
                 if old["training"] and not old["comm_only"] else ""}
    if old["transport"] == "p2p":
        execution["p2p"] = {"copy": old["p2p"]["copy"], "blocks": old["p2p"]["blocks"]}
    strategies = []
    for s in old["strategies"]:
        n = {"strategy": s["strategy"], "forward_us": s["forward_us"], "pass": s["check"]["pass"],
             "phases_us": s["phases_us"], "check": s["check"]}
        if "backward_us" in s:
            n["backward_us"] = s["backward_us"]
        if "wire_bytes" in s:
            n["wire_bytes"] = s["wire_bytes"]
        strategies.append(n)
    prov = dict(old["provenance"])
    prov.setdefault("gpu_uuid", "")
    prov.setdefault("commit", "")
    rec = {"format": "occult-gpu-run", "version": 2, "provenance": prov, "workload": workload,
           "execution": execution, "strategies": strategies, "pass": old["pass"], "notes": old.get("notes", []) +
           ["converted from a version 1 record by results/gpu/migrate_runs.py"]}
    for k in ("plain_nccl", "occult_vs_standard"):
        if k in old:
            rec[k] = old[k]
    return rec


def main():
    src, dst = sys.argv[1], sys.argv[2]
    models = presets()
    runs = json.load(open(src))["gpu_run"]
    out = {"format": "occult-gpu-runs", "runs": {name: convert(r, models) for name, r in sorted(runs.items())}}
    Path(dst).write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out['runs'])} records -> {dst}")


if __name__ == "__main__":
    main()
