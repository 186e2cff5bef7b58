#pragma once
// The communication plan of one MoE layer: built here by the core model, executed by both the
// SimGrid engine and the GPU backend, which is what makes validation an honest comparison.
#include <cstdint>
#include <vector>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/pair_matrix.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/trace.hpp"

namespace occult {

// One exchange step. Rows of row_bytes each travel from src to dst (the diagonal counts rows that
// stay on their device and move no bytes). Stages run in order; combine runs them in reverse with
// every matrix transposed, because combine mirrors dispatch in every strategy.
struct PlanStage {
  enum class Kind { Direct, Network, NodeFanout } kind = Kind::Direct;
  PairMatrix rows;
};

struct CommPlan {
  Strategy strategy = Strategy::Standard;
  ClusterShape shape;
  std::int64_t row_bytes = 0;
  std::vector<PlanStage> stages;  // standard/occult: one Direct stage; hierarchical: Network then NodeFanout
  std::vector<std::int64_t> tokens_per_device;  // source tokens on each device
  std::vector<std::int64_t> pairs_per_device;   // (token, expert) pairs computed on each device
  std::vector<std::int64_t> rows_per_expert;    // tokens routed to each expert (E entries)
  std::vector<std::int64_t> recv_rows_per_device;  // distinct received rows each device computes on
};

// Routing must already be pruned when the strategy asks for it (see prune.hpp).
CommPlan build_plan(const LayerRouting& routing, int num_experts, const LayerPlacement& placement,
                    const ClusterShape& shape, Strategy strategy, std::int64_t row_bytes);

}  // namespace occult
