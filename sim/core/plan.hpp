#pragma once
// The communication plan of one MoE layer: built here by the core model, executed by both the
// SimGrid engine and the GPU backend, which is what makes validation an honest comparison.
#include <cstdint>
#include <vector>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/pair_matrix.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/routing_resolve.hpp"
#include "sim/core/strategy.hpp"
#include "sim/core/trace.hpp"

namespace occult {

// One exchange step. Rows of row_bytes each travel from src to dst (the diagonal counts rows that
// stay on their device and move no bytes). Stages run in order; combine runs them in reverse with
// every matrix transposed, because combine mirrors dispatch in every strategy.
//
// What the rows are, per strategy (token t on source device s, Dev_t its destination devices):
// - standard, one Direct stage: one row per (token, expert) pair, s -> device of the expert.
// - occult, one Direct stage: one row per (token, destination device), s -> d for d in Dev_t.
// - hierarchical (DeepEP style), stage Network then stage NodeFanout:
//   Network: one row per (token, remote destination node n), s -> relay(s, n), the GPU of node n
//   with the same local rank as s (same rail); plus one row per destination device d inside s's
//   own node, s -> d (NVLink, diagonal when d == s).
//   NodeFanout: for each remote destination node n, one row per destination device d in n,
//   relay(s, n) -> d (diagonal when the relay itself is a destination).
//   So the rows that reach a computing device (own-node rows of Network + all of NodeFanout) are
//   exactly one per (token, destination device), like occult; a relay that is not a destination
//   only forwards.
// Combine: stages in reverse order, each matrix transposed. Under occult and hierarchical every
// row is pre-reduced (gate-weighted sum of the device's or node's experts) before it travels.
struct PlanStage {
  enum class Kind { Direct, Network, NodeFanout } kind = Kind::Direct;
  PairMatrix rows;
};

struct CommPlan {
  Strategy strategy = Strategy::Standard;
  ClusterShape shape;
  std::int64_t row_bytes = 0;
  std::vector<PlanStage> stages;  // standard/occult: one Direct stage; hierarchical: Network then NodeFanout
  std::vector<std::int64_t> tokens_per_device;     // source tokens on each device
  std::vector<std::int64_t> pairs_per_device;      // (token, expert) pairs computed on each device
  std::vector<std::int64_t> rows_per_expert;       // tokens routed to each expert (E entries)
  std::vector<std::int64_t> recv_rows_per_device;  // distinct received rows each device computes on
};

// The relay of hierarchical dispatch: the GPU of node `dst_node` with the same local rank as `src`.
inline int relay_device(const ClusterShape& shape, int src, int dst_node) {
  return dst_node * shape.gpus_per_node + shape.local_rank(src);
}

// Accumulates one strategy's plan token by token. build_plan drives one with a TokenWalker;
// analyze_layer (metrics.hpp) drives one per strategy in a single walk over the tokens.
class PlanBuilder {
 public:
  PlanBuilder(Strategy strategy, int num_experts, const ClusterShape& shape, std::int64_t row_bytes);
  void add(const TokenDestinations& t);
  CommPlan finish() &&;

 private:
  CommPlan plan_;
};

// Routing must already be pruned when the strategy asks for it (see prune.hpp). Slots holding
// kDroppedExpert go nowhere. Replicated experts are resolved with routing_resolve.hpp.
CommPlan build_plan(const LayerRouting& routing, int num_experts, const LayerPlacement& placement,
                    const ClusterShape& shape, Strategy strategy, std::int64_t row_bytes);

// The plan of a cluster of `shape.devices` devices run as independent groups of `group_devices`
// (expert-parallel groups that never exchange tokens): block-diagonal matrices, so memory grows with
// D * group_devices instead of D^2. Starts empty (no rows); set_group_plan fills group g's block.
CommPlan grouped_cluster_plan(Strategy strategy, const ClusterShape& shape, int group_devices,
                              int num_experts, std::int64_t row_bytes);
// Copies `group` (a plan over group_devices devices of the same strategy and row size) onto devices
// [g * group_devices, (g + 1) * group_devices); rows_per_expert adds up over groups.
void set_group_plan(CommPlan& plan, const CommPlan& group, int g);

}  // namespace occult
