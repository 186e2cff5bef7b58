#!/usr/bin/env bash
# The flow model `auto` picks (fluid) against the exact per-pair model on real routing: Qwen1.5-MoE
# (60 experts, top-4) logged by vLLM (the vLLM-MoE-Logger folder of the routing logs, not in the repository),
# all 5 logged layers, on rail-optimized nodes of 4 H200 (NVSwitch, one 400 Gb/s NIC per GPU, PXN):
# D = 20 and 60 GPUs, standard / occult / hierarchical, forward and training, without overlap and with
# 2 chunks. Prints, per case, the largest relative difference of any phase's time (max over devices,
# every layer and strategy) and of the layer total, for `auto` (exact fluid at these sizes) and for the
# fluid model with the re-solve quantum it uses above 128 GPUs (0.001), with the summed simulation
# wall times of per pair, auto and the quantum.
#   usage: scripts/validate/flow-model-real-trace.sh ROUTING_DIR [OCCULT_BINARY]
set -euo pipefail
routing=${1:?usage: $0 ROUTING_DIR [OCCULT_BINARY]}
occult=${2:-build/occult}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$occult" trace import "$routing"/vLLM-MoE-Logger/moe_layer*.jsonl --model qwen1.5-moe-a2.7b \
  -o "$tmp/qwen.trace" >/dev/null
cat >"$tmp/topo.toml" <<'TOML'
name = "railopt-h200-4gpu"
gpus_per_node = 4
nodes = 15
intra = "nvswitch"
[nvlink]
bandwidth_GBps = 450
latency_us = 1.0
[fabric]
kind = "rail-optimized"
nics_per_node = 4
levels = 2
radix = 16
[fabric.nic]
bandwidth_Gbps = 400
latency_us = 1.5
[fabric.link]
bandwidth_Gbps = 400
latency_us = 0.5
TOML
cat >"$tmp/scenario.toml" <<TOML
name = "qwen-real-trace"
seed = 1
[model]
preset = "qwen1.5-moe-a2.7b"
[workload]
trace = "$tmp/qwen.trace"
layers = 5
[cluster]
topology = "$tmp/topo.toml"
[compare]
strategies = ["standard", "occult", "hierarchical"]
placements = ["contiguous"]
TOML
echo "| D | mode | overlap | auto: worst phase | auto: total | quantum 0.001: worst phase | quantum: total | wall per pair | wall auto | wall quantum |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for nodes in 5 15; do
  d=$((nodes * 4))
  tpd=$((4357 / d))
  for mode in prefill train; do
    for overlap in none chunked; do
      sets=(--set cluster.nodes=$nodes --set workload.tokens_per_device=$tpd --set workload.mode=$mode
            --set overlap.mode=$overlap --set overlap.chunks=2)
      "$occult" simulate "$tmp/scenario.toml" "${sets[@]}" --set engine.flow_model=per-pair --json >"$tmp/pp.json"
      "$occult" simulate "$tmp/scenario.toml" "${sets[@]}" --json >"$tmp/auto.json"
      "$occult" simulate "$tmp/scenario.toml" "${sets[@]}" --set engine.fluid_quantum=0.001 --json >"$tmp/q.json"
      python3 - "$tmp/pp.json" "$tmp/auto.json" "$tmp/q.json" "$d" "$mode" "$overlap" <<'PY'
import json, sys
pp, auto, quantum = (json.load(open(p)) for p in sys.argv[1:4])
def rel(a, b):
    return (b - a) / a if a > 0 else 0.0
def worst(model):
    phase = total = 0.0
    assert len(pp["runs"]) == len(model["runs"])
    for ra, rb in zip(pp["runs"], model["runs"]):
        assert (ra["strategy"], ra["placement"]) == (rb["strategy"], rb["placement"])
        for name, pa in ra["phases"].items():
            e = rel(pa["max_s"], rb["phases"][name]["max_s"])
            phase = e if abs(e) > abs(phase) else phase
        e = rel(ra["total_s"], rb["total_s"])
        total = e if abs(e) > abs(total) else total
    return f"{100 * phase:+.4f}% | {100 * total:+.4f}%"
def wall(model):
    return f"{sum(r['sim_wall_s'] for r in model['runs']):.2f} s"
d, mode, overlap = sys.argv[4:7]
print(f"| {d} | {mode} | {overlap} | {worst(auto)} | {worst(quantum)} | {wall(pp)} | {wall(auto)} | "
      f"{wall(quantum)} |")
PY
    done
  done
done
