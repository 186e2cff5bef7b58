#!/usr/bin/env python3
"""One markdown table of the sparse expert FFN benchmark: every GEMM kernel forced, the automatic
choice, cuBLAS per expert, the torch grouped path and cuBLAS dense, per shape, rows per expert and
mode, all from one run of scripts/gpu/kernels.sh.

    python3 scripts/gpu/kernels_table.py DIR   # reads DIR/kernels-bench.json, DIR/kernels-torch.json
                                               # (optional), writes DIR/kernels-table.md and prints it
"""
import json
import os
import sys

SHAPES = {"olmoe": "OLMoE (2048, 1024)", "qwen15": "Qwen1.5-MoE (2048, 1408)", "dsv3": "DeepSeek-V3 (7168, 2048)"}
KERNELS = [("ours_mma128", "mma.sync 128"), ("ours_mma256", "mma.sync 256"), ("ours_wgmma128", "wgmma 128"),
           ("ours_wgmma256", "wgmma 256")]


def load(out):
    rows = {}
    for b in json.load(open(f"{out}/kernels-bench.json"))["benchmarks"]:
        if not b["name"].startswith("ffn/") or b.get("run_type", "iteration") != "iteration":
            continue
        _, shape, rpe, mode, path = b["name"].split("/")[:5]  # Google Benchmark appends /min_time:..
        key = (shape, int(rpe.split(":")[1]), mode)
        rows.setdefault(key, {})[path] = dict(us=b["real_time"], tflops=b["TFLOPs"], label=b.get("label", ""),
                                              experts=int(b.get("experts", 0)))
    torch = {}
    tj = f"{out}/kernels-torch.json"
    if os.path.exists(tj):
        for r in json.load(open(tj))["results"]:
            key = (r["shape"], r["rows_per_expert"], "standard" if r["slots"] == 1 else "occult4")
            torch[key] = dict(us=r["us"], tflops=r["tflops"], experts=r.get("experts", 0))
    return rows, torch


def table(rows, torch):
    head = ["shape (h, f)", "experts", "rows/expert", "mode"] + [n for _, n in KERNELS] + [
        "**auto** TFLOP/s (us)", "auto ran", "cuBLAS per expert", "torch grouped path", "cuBLAS dense, same FLOPs",
        "auto / torch grouped", "auto / best library"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    fmt = lambda v: f"{v['tflops']:.0f} ({v['us']:.0f})" if v else "-"
    order = lambda k: (list(SHAPES).index(k[0]), k[2] != "standard", k[1])
    for key in sorted(rows, key=order):
        r, t = rows[key], torch.get(key)
        ours, lib, dense = r.get("ours"), r.get("cublas_per_expert"), r.get("cublas_dense")
        experts = ours["experts"] if ours else 0
        if t and t["experts"] and experts and t["experts"] != experts:
            raise SystemExit(f"{key}: torch ran {t['experts']} experts, ours {experts}")
        best = max([v["tflops"] for v in (lib, t) if v] or [0])
        ratio = lambda d: f"{ours['tflops'] / d:.2f}x" if ours and d else "-"
        cells = [SHAPES.get(key[0], key[0]), str(experts or "-"), str(key[1]), key[2]]
        cells += [f"{r[k]['tflops']:.0f}" if k in r else "-" for k, _ in KERNELS]
        cells += [f"**{fmt(ours)}**", ours["label"] if ours else "-", fmt(lib), fmt(t), fmt(dense),
                  ratio(t["tflops"] if t else 0), ratio(best)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    rows, torch = load(out)
    lines = table(rows, torch)
    lines += ["", "TFLOP/s at 6 h f FLOPs per (row, expert) pair, end to end (counting sort, gather, both GEMMs, "
              "SwiGLU, gate weight, scatter); time per call in us in brackets. cuBLAS dense: the same GEMM shapes "
              "on all pairs with one expert's weights and no routing (standard rows only). occult4: each row read "
              "by 4 local experts (fp32 atomic pre-reduction)."]
    tb = f"{out}/torch_baseline/gemm.json"
    if os.path.exists(tb):
        g = json.load(open(tb))
        lines += ["", "torch_baseline.py, same job: dense bf16 GEMM up to %.0f TFLOP/s; torch._grouped_mm %s TFLOP/s" % (
            max(x["tflops"] for x in g["gemm"]), ", ".join(f"{x['tflops']:.0f}" for x in g["grouped"] if "tflops" in x))]
    open(f"{out}/kernels-table.md", "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
