#!/usr/bin/env python3
"""Turns a version 1 calibration profile (h200x2-v1-2026-11-28.json, measured on 2x H200 by `occult
calibrate`) into a version 2 one: its links, joined with the compute and kernels of a version 2 profile
of the same GPU type when one is given (links need two GPUs, which are not always lent, so a profile's
sections may come from two machines; each section keeps its own provenance), else with what version 1
measured of them:
- the expert FFN forward samples (standard layout: one slot per row), as they are;
- layout, pack and unpack (standard mode, OLMoE width): version 1 kept its smallest sample's time as
  `launch_s` and the rate that reproduces its largest sample (256 and 65536 tokens); both samples are
  rebuilt exactly at their version 2 work measures (sim/core/kernel_work.hpp).
What version 1 never measured (the backward, occult's kernels, copies, the per-message cost) stays out;
the simulator says where it falls back to its roofline.

Version 1 stored each link's samples (bytes per peer, seconds per all-to-all) as measured; version 2 also
records the nominal bandwidth of the calibrated path, the figure of the topology file that describes the
measured machine (topologies/h200x2-*.toml), which is read here. The per-message cost was not measured in
version 1 and stays absent.

    python3 results/gpu/migrate_profile.py OLD_V1.json [COMPUTE_V2.json] OUT.json
"""
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOPOLOGY = {"nvlink": ("h200x2-nvlink.toml", "nvlink"), "pcie": ("h200x2-hoststaged.toml", "pcie"),
            "network": ("h200x2-socket.toml", "fabric.nic")}


def nominal_GBps(cls):
    name, section = TOPOLOGY[cls]
    text = (ROOT / "topologies" / name).read_text()
    m = re.search(r"^\[" + re.escape(section) + r"\]\n(?:[^\[]*?\n)?bandwidth_GBps = ([0-9.]+)", text, re.M)
    if not m:
        raise SystemExit(f"no bandwidth_GBps in [{section}] of {name}")
    return float(m.group(1))


def compute_from_v1(old, prov):
    """The compute and kernel samples version 1 measured (OLMoE width, k = 8, tokens 256 and 65536)."""
    k, row, small, large = 8, 2048 * 2, 256, 65536
    fwd = [{"hidden": x["hidden"], "ffn": x["ffn"], "local_experts": x["local_experts"],
            "rows_per_expert": x["rows_per_expert"], "slots": 1, "pairs_per_row": 1, "seconds": x["seconds"]}
           for x in old["gemm"]["samples"]]
    kern = old["kernels"]

    def two(name, x_small, x_large, old_bytes_large):
        o = kern[name]
        return {"samples": [{"x": x_small, "seconds": o["launch_s"]},
                            {"x": x_large, "seconds": o["launch_s"] + old_bytes_large / o["bandwidth_Bps"]}]}
    kernels = {
        # version 1 charged layout 12 bytes per choice, pack 2 x rows x row, unpack (rows + tokens) x row
        "layout.standard": two("layout", small, large, large * k * 12.0),
        "pack.standard": two("pack", small * k * (row + 8), large * k * (row + 8), 2.0 * large * k * row),
        "unpack": two("unpack", (small * k + small) * row, (large * k + large) * row, (large * k + large) * row),
    }
    return {"format": "occult-calibration", "version": 2, "provenance": prov,
            "peak_tflops": old["gemm"]["peak_tflops"], "event_s": 0, "host_roundtrip_s": 0,
            "expert_forward": {"kernel": old["gemm"]["kernel"], "samples": fwd},
            "expert_backward": {"kernel": "", "samples": []}, "kernels": kernels}


def main():
    old = json.load(open(sys.argv[1]))
    out = sys.argv[-1]
    prov = dict(old["provenance"], gpu_uuid="", commit="")
    compute = json.load(open(sys.argv[2])) if len(sys.argv) == 4 else compute_from_v1(old, prov)
    if old.get("version") != 1 or compute.get("version") != 2:
        raise SystemExit("expects a version 1 profile, then a version 2 one")
    links = []
    for l in old["links"]:
        links.append({"class": l["class"], "transport": "nccl", "nccl_mode": "blocking", "how": l["how"],
                      "nominal_GBps": nominal_GBps(l["class"]), "provenance": prov, "samples": l["samples"]})
    compute["links"] = links
    Path(out).write_text(json.dumps(compute, indent=2) + "\n")
    print(f"{len(links)} links of {sys.argv[1]} + compute of {sys.argv[2] if len(sys.argv) == 4 else 'it'} -> {out}")


if __name__ == "__main__":
    main()
