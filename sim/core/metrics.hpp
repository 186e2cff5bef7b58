#pragma once
// Collaboration metrics of Occult (docs/design.md 2; names and formulas are a contract).
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/trace.hpp"

namespace occult {

struct ByteSummary {
  std::int64_t total = 0;       // remote bytes (the diagonal excluded)
  std::int64_t max_send = 0;    // most bytes sent by one device
  std::int64_t max_recv = 0;    // most bytes received by one device
  std::int64_t intra_node = 0;  // remote bytes between devices of one node
  std::int64_t inter_node = 0;  // bytes crossing the network
  // Per link class: the most bytes one device sends / receives over NVLink-class (same node) and
  // network-class (other node) links.
  std::int64_t max_send_intra = 0, max_recv_intra = 0;
  std::int64_t max_send_inter = 0, max_recv_inter = 0;
};

struct LayerMetrics {
  int layer = 0;
  std::int64_t tokens = 0;
  double ct_standard = 0, ct_occult = 0, ct_node = 0;
  double remote_ct_standard = 0, remote_ct_occult = 0, remote_ct_node = 0;
  double intra_ratio = 0;
  ByteSummary bytes_standard, bytes_occult, bytes_hierarchical;  // dispatch; combine is the same
  std::vector<std::int64_t> pairs_per_device;   // (token, expert) pairs computed on each device
  double load_imbalance = 0;                    // max / mean of pairs_per_device
  std::int64_t pairs = 0;                       // (token, expert) pairs routed (pruned slots excluded)
};

// Remote bytes of one direction of a plan, over all its stages (bytes = rows * row_bytes).
ByteSummary summarize_bytes(const CommPlan& plan);

// The dispatch plans of the three strategies of one layer.
struct LayerPlans {
  CommPlan standard, occult, hierarchical;
  CommPlan& of(Strategy s);
};

// One pass over the layer's tokens, which builds the three strategies' plans on the way: the bytes come
// from them, and `plans` (when given) receives them so that no caller walks the tokens again.
// ct_standard is mean_t |S_t| (= k unless pruning dropped slots); intra_ratio divides by
// |S_t|(|S_t|-1)/2 per token (= k(k-1)/2 unpruned). Replicas are resolved by routing_resolve.hpp. E is
// placement.device_of.size(). Throws InputError for ids outside [0, E) and for placements outside the
// cluster.
LayerMetrics analyze_layer(const LayerRouting& routing, const LayerPlacement& placement,
                           const ClusterShape& shape, std::int64_t row_bytes, LayerPlans* plans = nullptr);

// Token-weighted means over layers; byte totals, pairs_per_device and pairs summed; max fields
// (max_*, load_imbalance) take the max over layers; layer is -1.
LayerMetrics aggregate_layers(const std::vector<LayerMetrics>& layers);

// Machine-readable form (metrics_json.cpp), the keys named as in docs/design.md 2; bytes are integers.
nlohmann::json byte_summary_to_json(const ByteSummary& b);
nlohmann::json layer_metrics_to_json(const LayerMetrics& m);

}  // namespace occult
