#pragma once
// Hand-built topologies, plans and work for the engine tests.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/placement.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/trace_gen.hpp"
#include "sim/engine/layer_sim.hpp"

namespace occult::test {

inline TopologySpec nvswitch_node(int gpus, double bw, double lat) {
  TopologySpec t;
  t.name = "test-nvswitch";
  t.gpus_per_node = gpus;
  t.intra = IntraNode::NVSwitch;
  t.nvlink = {bw, lat};
  return t;
}

// `nodes` single-GPU nodes with one NIC each on a two-level fat tree of `nics_per_leaf` ports down.
inline TopologySpec fat_tree(int nodes, int nics_per_leaf, double oversub, double bw, double lat) {
  TopologySpec t;
  t.name = "test-fattree";
  t.gpus_per_node = 1;
  t.nodes = nodes;
  t.intra = IntraNode::None;
  t.fabric = Fabric::FatTree;
  t.nics_per_node = 1;
  t.radix = 2 * nics_per_leaf;
  t.oversubscription = oversub;
  t.nic = {bw, lat};
  t.fabric_link = {bw, lat};
  return t;
}

inline TopologySpec rail_cluster(int nodes, int gpus, double oversub = 1) {
  TopologySpec t;
  t.name = "test-rail";
  t.gpus_per_node = gpus;
  t.nodes = nodes;
  t.intra = IntraNode::NVSwitch;
  t.nvlink = {450e9, 1e-6};
  t.fabric = Fabric::RailOptimized;
  t.nics_per_node = gpus;
  t.radix = 4;  // 2 nodes per leaf, so the spine matters at a few nodes
  t.oversubscription = oversub;
  t.nic = {50e9, 1.5e-6};
  t.fabric_link = {50e9, 0.5e-6};
  return t;
}

inline CommPlan direct_plan(const PairMatrix& rows, int gpus_per_node, std::int64_t row_bytes) {
  CommPlan p;
  p.shape = {rows.size(), gpus_per_node};
  p.row_bytes = row_bytes;
  p.stages.push_back({PlanStage::Kind::Direct, rows});
  return p;
}

inline PairMatrix all_to_all(int n, std::int64_t rows) {
  PairMatrix m(n);
  for (int s = 0; s < n; ++s)
    for (int d = 0; d < n; ++d)
      if (s != d) m.at(s, d) = rows;
  return m;
}

// A plan from synthetic routing (contiguous placement), as the scenario layer would build it.
inline CommPlan routed_plan(int devices, int gpus_per_node, Strategy strategy, double skew,
                            std::int64_t tokens, int experts = 64, int top_k = 8, std::uint64_t seed = 7) {
  TraceGenParams g;
  g.experts = experts;
  g.top_k = top_k;
  g.tokens = tokens;
  g.skew = skew;
  g.seed = seed;
  const ClusterShape shape{devices, gpus_per_node};
  const Placement pl = contiguous_placement(experts, shape, 1);
  return build_plan(generate_layer(g, 0), experts, pl.layer(0), shape, strategy, 7168 * 2);
}

// Compute times proportional to each device's work, so imbalanced routing staggers the senders.
inline LayerWork work_for(const CommPlan& p, double sec_per_pair = 0, bool training = false) {
  LayerWork w;
  w.plan = &p;
  const int d = p.shape.devices;
  w.layout_s.assign(d, 5e-6);
  w.pack_s.assign(d, 10e-6);
  w.unpack_s.assign(d, 10e-6);
  w.expert_fwd_s.assign(d, 0.0);
  for (int i = 0; i < d && i < int(p.pairs_per_device.size()); ++i)
    w.expert_fwd_s[i] = double(p.pairs_per_device[i]) * sec_per_pair;
  if (training) {
    w.expert_bwd_s = w.expert_fwd_s;
    for (double& x : w.expert_bwd_s) x *= 2;
  }
  return w;
}

// The 24 routed regimes the flow models are checked on (docs/simulator.md, "Flow models"): 16 GPUs as 4
// rail-optimized nodes of 4 (2 nodes per leaf), synthetic routing over 32 experts with 512 tokens per
// GPU, expert compute proportional to the rows a device receives (skewed routing staggers senders).
struct Regime {
  Strategy strategy;
  double skew;
  bool training;
  int chunks;
};

inline std::vector<Regime> routed_regimes() {
  std::vector<Regime> out;
  for (Strategy s : {Strategy::Standard, Strategy::Occult, Strategy::Hierarchical})
    for (double skew : {0.0, 1.2})
      for (bool training : {false, true})
        for (int chunks : {1, 2}) out.push_back({s, skew, training, chunks});
  return out;
}

inline TopologySpec regime_topology() { return rail_cluster(4, 4); }
inline CommPlan regime_plan(const Regime& r) { return routed_plan(16, 4, r.strategy, r.skew, 16 * 512, 32); }
inline LayerWork regime_work(const Regime& r, const CommPlan& plan) {
  LayerWork w = work_for(plan, 2e-9, r.training);
  if (r.chunks > 1) {
    w.overlap = Overlap::Chunked;
    w.chunks = r.chunks;
  }
  return w;
}
// e.g. "occ_skew_train_chunk"
inline std::string regime_name(const Regime& r) {
  return std::string(r.strategy == Strategy::Standard ? "std"
                     : r.strategy == Strategy::Occult ? "occ"
                                                      : "hier") +
         (r.skew > 0 ? "_skew" : "_unif") + (r.training ? "_train" : "_fwd") + (r.chunks > 1 ? "_chunk" : "");
}

}  // namespace occult::test
