#!/usr/bin/env python3
"""Issue 18's scale cases, measured side by side in one run: wall time, CPU time (user + system of the
simulator and its forked simulation processes) and peak memory (the largest process), each the median
of --repeat runs, plus the flow model each ran (the network line of `occult simulate`).

  shared-1024   scenarios/shared/dsv3-ep1024-strided.toml: 1,024 GPUs, groups strided on the 2:1 fat tree
  shared-16384  scenarios/shared/dsv3-ep16384-strided.toml: 16,384 GPUs, the same kind of case
  ep1024        scenarios/scale/dsv3-ep1024.toml as shipped (rail-optimized; 4 independent groups)

Every case: DeepSeek-V3, 4096 tokens per GPU, forward, three strategies (standard, occult,
hierarchical). Not a test: timings depend on the machine and its load, so they are printed, never
asserted.

Usage: bench/host/scale_cases.py [--occult build/occult] [--repeat 3] [--cases shared-1024,ep1024]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMGRID = "SimGrid CM02 max-min sharing (crosstraffic off, weight-S 0, no TCP window); "
CASES = {
    "shared-1024": "scenarios/shared/dsv3-ep1024-strided.toml",
    "shared-16384": "scenarios/shared/dsv3-ep16384-strided.toml",
    "ep1024": "scenarios/scale/dsv3-ep1024.toml",
}


def measure(occult, scenario):
    with tempfile.NamedTemporaryFile("r", suffix=".time") as t:
        cmd = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", t.name, occult, "simulate",
               os.path.join(ROOT, scenario), "--json", "-q"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        wall, user, sys_s, rss_kb = t.read().split()[-4:]
    runs = json.loads(out)["runs"]
    return {"wall_s": float(wall), "cpu_s": float(user) + float(sys_s), "peak_MiB": int(rss_kb) / 1024,
            # The model's own part of the network line (link drain and grouped lead with SimGrid's).
            "model": runs[0]["network_model"].removeprefix(SIMGRID).split(";")[0],
            "layer_ms": {r["strategy"]: 1e3 * r["total_s"] for r in runs}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--occult", default=os.path.join(ROOT, "build/occult"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    print(f"nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f} at start", file=sys.stderr)
    print("| case | wall s (median) | CPU s | peak MiB | layer ms per strategy | flow model |")
    print("|---|---|---|---|---|---|")
    for name in a.cases.split(","):
        ms = []
        for _ in range(a.repeat):
            ms.append(measure(a.occult, CASES[name]))
            print(f"{name}: {ms[-1]['wall_s']:.1f} s", file=sys.stderr)
        med = {k: statistics.median(m[k] for m in ms) for k in ("wall_s", "cpu_s", "peak_MiB")}
        layers = ", ".join(f"{s} {v:.2f}" for s, v in ms[0]["layer_ms"].items())
        print(f"| {name} | {med['wall_s']:.2f} | {med['cpu_s']:.2f} | {med['peak_MiB']:.0f} | {layers} | "
              f"{ms[0]['model']} |", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f} at the end", file=sys.stderr)


if __name__ == "__main__":
    main()
