#!/usr/bin/env python3
"""Markdown tables of one run of scripts/gpu/backward.sh: the expert FFN backward (bwd/ rows: the fused
path next to the faster cuBLAS path and the forward, TFLOP/s at 16 h f per pair, backward / forward
for both) and the graph capture (graph/ rows: the layer's kernels as one CUDA graph against the same
kernels launched one by one and against the sum of the kernels' own times).

    python3 scripts/gpu/backward_table.py FILE.json...   # prints the tables (missing files: skipped)
"""
import json
import os
import sys


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main(paths):
    benches = []
    for path in paths:
        if not os.path.exists(path):
            print(f"({path}: missing)")
            continue
        benches += [b for b in json.load(open(path))["benchmarks"] if b.get("run_type", "iteration") == "iteration"]
    print("| shape | L | pairs/expert | mode | fwd us | fused us | best cuBLAS us | fused TFLOP/s | "
          "cuBLAS TFLOP/s | cuBLAS per expert TFLOP/s | fused bwd/fwd | cuBLAS bwd/fwd | fused speedup | "
          "fused forced (us) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for b in benches:
        if not b["name"].startswith("bwd/"):
            continue
        _, shape, L, rpe, mode = b["name"].split("/")[:5]  # Google Benchmark appends /iterations:..
        if "error_occurred" in b and b["error_occurred"]:
            print(f"| {shape} | {L[2:]} | {rpe[4:]} | {mode} | error: {b.get('error_message', '')} |")
            continue
        cublas = [b[k] for k in ("tc_grouped_us", "tc_per_expert_us") if k in b]
        forced = ", ".join(f"{k[6:-3]} {b[k]:.0f}" for k in sorted(b) if k.startswith("fused_") and k.endswith("_us") and k != "fused_us")
        print(f"| {shape} | {L[2:]} | {rpe[4:]} | {mode} | {fmt(b.get('fwd_us'), '.0f')} | "
              f"{fmt(b.get('fused_us'), '.0f')} | {fmt(min(cublas) if cublas else None, '.0f')} | "
              f"**{fmt(b.get('fused_TFLOPs'), '.0f')}** | {fmt(b.get('cublas_TFLOPs'), '.0f')} | "
              f"{fmt(b.get('per_expert_TFLOPs'), '.0f')} | **{fmt(b.get('fused_bwd_over_fwd'), '.2f')}** | "
              f"{fmt(b.get('cublas_bwd_over_fwd'), '.2f')} | {fmt(b.get('fused_speedup'), '.2f')}x | {forced} |")
    graph = [b for b in benches if b["name"].startswith("graph/")]
    if graph:
        print()
        print("| layer (one GPU) | launched op by op us | graph us | sum of kernels us | graph / kernels | "
              "op by op / kernels |")
        print("|---|---|---|---|---|---|")
        for b in graph:
            name = "/".join(b["name"].split("/")[1:4])
            print(f"| {name} | {fmt(b.get('stream_us'), '.1f')} | {fmt(b.get('graph_us'), '.1f')} | "
                  f"{fmt(b.get('kernels_us'), '.1f')} | **{fmt(b.get('graph_over_kernels'), '.2f')}** | "
                  f"{fmt(b.get('stream_over_kernels'), '.2f')} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
