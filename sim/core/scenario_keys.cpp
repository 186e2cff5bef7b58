// The schema of scenario files: every accepted key, its type and what it means. scenario.cpp
// validates documents against it; docs/scenarios.md lists the same keys.
#include "sim/core/scenario.hpp"

namespace occult {

const std::vector<ScenarioKey>& scenario_keys() {
  static const std::vector<ScenarioKey> kKeys = {
      {"name", "string", "scenario name (default: the file name without .toml)"},
      {"description", "string", "one line for people"},
      {"seed", "integer", "seed of the synthetic routing and of seeded placement algorithms (default 1)"},

      {"model.preset", "string", "a model preset (occult analyze --help lists them), e.g. \"olmoe-1b-7b\""},
      {"model.file", "path", "custom model TOML file (docs/traces.md); the fields below override it"},
      {"model.name", "string", "model name for a custom model"},
      {"model.experts", "integer", "routed experts per MoE layer E (overrides the preset)"},
      {"model.top_k", "integer", "experts chosen per token k"},
      {"model.hidden", "integer", "hidden size h"},
      {"model.ffn", "integer", "routed expert FFN size f"},
      {"model.shared_experts", "integer", "always-active shared experts (computed locally, never sent)"},
      {"model.shared_ffn", "integer", "FFN size of one shared expert"},
      {"model.layers", "integer", "MoE layers of the model L"},
      {"model.elem_bytes", "integer", "bytes per activation element (bf16: 2)"},

      {"workload.mode", "string",
       "train (forward + backward), prefill or decode (forward only); default train"},
      {"workload.tokens_per_device", "integer", "tokens each GPU routes per layer (default 4096)"},
      {"workload.layers", "integer", "MoE layers simulated, each with its own routing (default 1)"},
      {"workload.first_layer", "integer",
       "the first routed layer simulated (of the trace, or of the generator; default 0)"},
      {"workload.trace", "path", "routing trace (occult trace import/gen); empty: synthetic routing"},
      {"workload.skew", "number", "synthetic routing: Zipf exponent of expert popularity (default 0)"},
      {"workload.affinity", "number",
       "synthetic routing: chance a token's next expert is in its group (default 0)"},
      {"workload.groups", "integer",
       "synthetic routing: co-activation groups (default 0: generator default)"},

      {"cluster.topology", "path", "topology file (topologies/*.toml); required"},
      {"cluster.nodes", "integer", "override the topology's node count"},
      {"cluster.gpus_per_node", "integer", "override the topology's GPUs per node"},
      {"cluster.devices", "integer", "GPUs in expert parallelism D (default: all GPUs of the topology)"},
      {"cluster.ep_size", "integer",
       "GPUs per expert-parallel group (default D): D / ep_size groups each hold all experts and route their "
       "own "
       "tokens (data x expert parallelism, e.g. DeepSeek-V3 on 1,024 GPUs as 16 groups of 64)"},
      {"cluster.nic_GBps", "number", "override the NIC bandwidth, GB/s per direction"},
      {"cluster.nvlink_GBps", "number", "override the NVLink bandwidth per GPU, GB/s per direction"},
      {"cluster.pcie_GBps", "number", "override the GPU-to-PCIe-switch bandwidth, GB/s per direction"},
      {"cluster.oversubscription", "number", "override the fabric's leaf uplink oversubscription (>= 1)"},
      {"cluster.pod_oversubscription", "number",
       "override a 3-level fat tree's pod uplink oversubscription (>= 1; docs/topologies.md)"},
      {"cluster.ecmp", "string",
       "override how fat-tree switches spread flows over their uplinks: spray (ideal adaptive routing) or "
       "hash (static per-flow ECMP; docs/topologies.md)"},
      {"cluster.ecmp_seed", "integer", "override the hashed ECMP seed (the same seed, the same paths)"},
      {"cluster.group_placement", "string",
       "where the expert-parallel groups sit: blocked (default: group g on nodes [g n, (g + 1) n)), strided "
       "(node j of group g on node j x groups + g, as a scheduler unaware of expert parallelism spreads "
       "them) or random (a shuffle of the nodes under the scenario's seed)"},

      {"compare.strategies", "string list", "strategies to simulate (default [\"standard\", \"occult\"])"},
      {"compare.placements", "string list",
       "placements: algorithm names (contiguous, round-robin, greedy, metis, hierarchical, load-aware) or "
       "placement .json files (default [\"contiguous\"])"},

      {"overlap.mode", "string", "none, or chunked (dispatch/compute/combine pipelined); default none"},
      {"overlap.chunks", "integer", "chunks for chunked overlap (default 4)"},

      {"calibration.profile", "path", "calibration profile JSON (occult calibrate); empty: roofline"},
      {"calibration.links", "string",
       "how a profile corrects links: calibrated (default: the topology's nominal bandwidth times the "
       "efficiency measured against the profile's own nominal figure, and the measured exchange floor; "
       "docs/calibration.md) or off (nominal links)"},
      {"calibration.peak_tflops", "number", "roofline: peak bf16 TFLOP/s (default 989, H200)"},
      {"calibration.gemm_efficiency", "number", "roofline: achieved / peak for expert GEMMs (default 0.6)"},
      {"calibration.hbm_GBps", "number", "roofline: HBM bandwidth GB/s (default 4800, H200)"},
      {"calibration.hbm_efficiency", "number",
       "roofline: achieved / peak for memory-bound kernels (default 0.8)"},
      {"calibration.launch_us", "number", "roofline: microseconds per kernel launch (default 5)"},

      {"execution.transport", "string",
       "how the exchanges move: nccl (default; grouped send/recv) or p2p (direct intranode copies; the "
       "profile needs a p2p curve)"},
      {"execution.nccl_mode", "string", "blocking (default, as PyTorch) or nonblocking NCCL communicators"},
      {"execution.counts", "string",
       "fused (default: receivers are sized from the plan, the counts ride the dispatch) or sync (a count "
       "exchange read back by the host before the pack)"},
      {"execution.comm_only", "boolean",
       "dispatch and combine without the expert FFN (a communication benchmark; default false)"},

      {"engine.per_pair_flows", "boolean",
       "force the exact per-(source, destination) flow model (default false)"},
      {"engine.flow_model", "string",
       "auto (up to 512 GPUs per simulated block: fluid; link-drain above), fluid, grouped, link-drain "
       "or per-pair (docs/simulator.md, Flow models)"},
      {"engine.fluid_quantum", "number",
       "fluid model: re-solve rates at most once per this share of the shortest exchange's busiest-link "
       "drain time, rounded down to a power of two seconds (0: at every pair start or end, exact; "
       "default: exact up to 128 GPUs per simulated block, 0.001 above)"},
  };
  return kKeys;
}

}  // namespace occult
