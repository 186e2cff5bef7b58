#!/usr/bin/env python3
"""Accuracy of every flow model where expert-parallel groups share links (docs/simulator.md, "Flow
models on shared links"). Makes the table there; dated runs go under results/flow-accuracy-*/.

Cases: DeepSeek-V3 routing (skew 0.6, affinity 0.5, seed 1), 1024 tokens per GPU, H200 nodes of 8 GPUs on
a plain 2-level fat tree of 32-port switches (2 nodes per leaf), 2:1 oversubscribed leaves, groups of 16
GPUs strided over the leaves (every leaf uplink carries two groups), so the whole cluster is simulated
together. Layers: forward, training (forward + backward), forward with chunked overlap (2 chunks).
Reference: per pair up to --per-pair-max GPUs, the exact fluid model (quantum 0) above.

Each cell is the largest relative difference of any phase's time (slowest GPU) or the layer time
against the reference, signed, in percent; the model's wall time follows in brackets.

Usage: scripts/docs/flow_accuracy.py [--occult build/occult] [--sizes 32,64,128] [--out DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

TOPOLOGY = """name = "fattree-h200-r32-2to1"
gpus_per_node = 8
nodes = {nodes}
intra = "nvswitch"
[nvlink]
bandwidth_GBps = 450
latency_us = 1.0
[fabric]
kind = "fat-tree"
nics_per_node = 8
levels = 2
radix = 32
oversubscription = 2
[fabric.nic]
bandwidth_Gbps = 400
latency_us = 1.5
[fabric.link]
bandwidth_Gbps = 400
latency_us = 0.5
"""

SCENARIO = """name = "flow-accuracy"
seed = 1
[model]
preset = "deepseek-v3"
[workload]
mode = "{mode}"
tokens_per_device = 1024
skew = 0.6
affinity = 0.5
[cluster]
topology = "{topology}"
ep_size = 16
group_placement = "strided"
[overlap]
mode = "{overlap}"
chunks = 2
[compare]
strategies = ["standard", "occult"]
placements = ["contiguous"]
"""

LAYERS = {"forward": ("prefill", "none"), "training": ("train", "none"), "chunked": ("prefill", "chunked")}
MODELS = {
    "per pair": ["engine.flow_model=per-pair"],
    "fluid exact": ["engine.flow_model=fluid", "engine.fluid_quantum=0"],
    "fluid (default quantum)": ["engine.flow_model=fluid"],
    "link drain": ["engine.flow_model=link-drain"],
    "grouped": ["engine.flow_model=grouped"],
    "auto": [],
}


def simulate(occult, scenario, sets):
    cmd = [occult, "simulate", scenario, "--json", "-q"]
    for s in sets:
        cmd += ["--set", s]
    t0 = time.time()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)["runs"], time.time() - t0


def worst(ref, run):
    w = 0.0
    pairs = [(p["max_s"], run["phases"][k]["max_s"]) for k, p in ref["phases"].items()]
    pairs.append((ref["total_s"], run["total_s"]))
    for a, b in pairs:
        if a > 0 and abs(b - a) / a > abs(w) / 100:
            w = 100 * (b - a) / a
    return w


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--occult", default="build/occult")
    ap.add_argument("--sizes", default="32,64,128")
    ap.add_argument("--per-pair-max", type=int, default=64)
    ap.add_argument("--out", help="folder for table.md and raw.json (default: print only)")
    a = ap.parse_args()
    rows, raw = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for d in [int(x) for x in a.sizes.split(",")]:
            topo = os.path.join(tmp, f"topo{d}.toml")
            with open(topo, "w") as f:
                f.write(TOPOLOGY.format(nodes=d // 8))
            ref_name = "per pair" if d <= a.per_pair_max else "fluid exact"
            for layer, (mode, overlap) in LAYERS.items():
                scen = os.path.join(tmp, f"s{d}{layer}.toml")
                with open(scen, "w") as f:
                    f.write(SCENARIO.format(mode=mode, topology=topo, overlap=overlap))
                ref, ref_wall = simulate(a.occult, scen, MODELS[ref_name])
                cells = {}
                for name, sets in MODELS.items():
                    if name == ref_name or (name == "per pair" and d > a.per_pair_max):
                        continue
                    if name == "grouped" and d > a.per_pair_max:
                        continue  # about one flow per pair once senders are staggered: as slow as per pair
                    runs, wall = simulate(a.occult, scen, sets)
                    w = max((worst(r0, r1) for r0, r1 in zip(ref, runs)), key=abs)
                    cells[name] = (w, wall, runs[0]["network_model"])
                    raw.append({"gpus": d, "layer": layer, "model": name, "reference": ref_name,
                                "worst_percent": w, "wall_s": wall, "network_model": runs[0]["network_model"]})
                rows.append((d, layer, ref_name, ref_wall, cells))
                print(f"{d} GPUs {layer}: done", file=sys.stderr)
    names = [n for n in MODELS if n != "per pair"]
    lines = ["| GPUs | layer | reference (wall) | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for d, layer, ref_name, ref_wall, cells in rows:
        c = [f"{cells[n][0]:+.2f}% ({cells[n][1]:.1f} s)" if n in cells
             else "reference" if n == ref_name else "not run" for n in names]
        lines.append(f"| {d} | {layer} | {ref_name} ({ref_wall:.1f} s) | " + " | ".join(c) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "table.md"), "w") as f:
            f.write(table)
        with open(os.path.join(a.out, "raw.json"), "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
