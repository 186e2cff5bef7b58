#!/usr/bin/env python3
"""Markdown table of an `occult simulate --json` document, as docs/regimes.md prints them.

    ./build/occult simulate scenarios/pcie-node.toml --json | python3 scripts/docs/regime_table.py

Columns: the slowest GPU's time per phase (backward = the five backward phases summed), the comm
share, speedup against standard with the same placement, remote MB one direction, ct_occult. With
--nodes the table gets the nodes (GPUs) column and the inter-node MB and ct_node columns (a sweep's
CSV has them too; this is for single `simulate` runs).
"""
import argparse
import json
import sys

BWD = ("grad_pack", "grad_dispatch", "expert_backward", "grad_combine", "grad_unpack")


def ms(x):
    return f"{x * 1e3:.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", action="store_true", help="add nodes, inter-node MB and ct_node columns")
    args = ap.parse_args()
    doc = json.load(sys.stdin)
    head = ["placement", "strategy", "layer ms", "dispatch ms", "expert ms", "combine ms", "backward ms",
            "comm share", "speedup", "remote MB", "ct_occult"]
    if args.nodes:
        head = ["nodes (GPUs)"] + head + ["inter-node MB", "ct_node"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    gpus = doc.get("cluster", {}).get("devices")
    per_node = doc.get("cluster", {}).get("gpus_per_node")
    for r in doc["runs"]:
        ph = r["phases"]
        bwd = sum(ph[p]["max_s"] for p in BWD if p in ph)
        row = [r["placement"], r["strategy"], ms(r["total_s"]), ms(ph["dispatch"]["max_s"]),
               ms(ph["expert"]["max_s"]), ms(ph["combine"]["max_s"]), ms(bwd) if bwd else "",
               f"{r['comm_fraction'] * 100:.0f}%", f"{r['speedup_vs_standard']:.2f}x",
               f"{r['bytes_remote'] / 1e6:.1f}", f"{r['ct_occult']:.2f}"]
        if args.nodes:
            row = [f"{gpus // per_node} ({gpus})" if gpus and per_node else "?"] + row
            row += [f"{r['bytes_inter_node'] / 1e6:.1f}", f"{r['ct_node']:.2f}"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
