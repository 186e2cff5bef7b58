#pragma once
// Collaboration metrics of Occult (DESIGN.md 2; names and formulas are a contract).
#include <cstdint>
#include <vector>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/trace.hpp"

namespace occult {

struct ByteSummary {
  std::int64_t total = 0;           // remote bytes (the diagonal excluded)
  std::int64_t max_send = 0;        // most bytes sent by one device
  std::int64_t max_recv = 0;        // most bytes received by one device
  std::int64_t intra_node = 0;      // remote bytes between devices of one node
  std::int64_t inter_node = 0;      // bytes crossing the network
};

struct LayerMetrics {
  int layer = 0;
  std::int64_t tokens = 0;
  double ct_standard = 0, ct_occult = 0, ct_node = 0;
  double remote_ct_standard = 0, remote_ct_occult = 0, remote_ct_node = 0;
  double intra_ratio = 0;
  ByteSummary bytes_standard, bytes_occult, bytes_hierarchical;  // dispatch; combine is the same
  std::vector<std::int64_t> tokens_per_device;  // (token, expert) pairs landing on each device
  double load_imbalance = 0;                    // max / mean of tokens_per_device
};

LayerMetrics analyze_layer(const LayerRouting& routing, const LayerPlacement& placement,
                           const ClusterShape& shape, std::int64_t row_bytes);

// Token-weighted means over layers; byte totals summed; max fields take the max.
LayerMetrics aggregate_layers(const std::vector<LayerMetrics>& layers);

}  // namespace occult
