#pragma once
// Statistics of a routing trace: expert-load skew and co-activation structure (docs/traces.md).
#include <cstdint>
#include <vector>

#include "sim/core/trace.hpp"

namespace occult {

struct ExpertPair {
  int a = 0, b = 0;        // a < b
  std::int64_t count = 0;  // tokens that chose both
  double lift = 0;         // count / expected count if experts were chosen independently
};

struct LayerStats {
  int layer = 0;
  std::int64_t tokens = 0;
  std::vector<std::int64_t> load;  // (token, expert) pairs per expert
  double load_max_over_mean = 0;
  double load_cv = 0;        // coefficient of variation (std / mean) of the load
  double zipf_exponent = 0;  // -slope of log(load) against log(rank), loads sorted descending
  int unused_experts = 0;
  // Co-activation (computed when E <= kMaxPairExperts):
  bool has_pairs = false;
  double top10_pair_share = 0;  // share of all co-activations that fall in the top 10% of expert pairs
  double mean_lift = 0;         // co-activation-weighted mean lift (1 = independent choices)
  std::vector<ExpertPair> top_pairs;
};

struct TraceStats {
  int experts = 0, top_k = 0;
  std::int64_t tokens = 0;  // summed over layers
  std::vector<LayerStats> layers;
  // Means over layers of the per-layer values (the max for load_max_over_mean_max).
  double load_max_over_mean = 0, load_max_over_mean_max = 0, load_cv = 0, zipf_exponent = 0;
  double top10_pair_share = 0, mean_lift = 0;
  bool has_pairs = false;
};

inline constexpr int kMaxPairExperts = 2048;  // the pair table is E^2 counters

LayerStats layer_stats(const LayerRouting& routing, int experts, int top_pairs);
TraceStats trace_stats(const Trace& trace, int top_pairs = 10);

// Histogram of load / mean load: bins of width `width` starting at 0; the last bin collects the rest.
std::vector<int> load_histogram(const std::vector<std::int64_t>& load, double width, int bins);

}  // namespace occult
