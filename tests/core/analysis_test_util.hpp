#pragma once
// Shared by the metrics, plan and prune tests: random routings and placements (the project's own
// generated data), and a brute-force reference of the per-token destination sets.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include "sim/core/cluster_shape.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/trace.hpp"

namespace occult::analysis_test {

// Tokens with k distinct experts drawn uniformly, or (skewed) from a small hot set of experts.
inline LayerRouting random_routing(std::mt19937_64& rng, int experts, int k, std::int64_t tokens,
                                   bool skewed = false) {
  LayerRouting r;
  r.top_k = k;
  r.experts.reserve(std::size_t(tokens * k));
  r.weights.reserve(std::size_t(tokens * k));
  std::vector<int> ids(static_cast<std::size_t>(experts));
  std::iota(ids.begin(), ids.end(), 0);
  std::uniform_real_distribution<float> u(0.05f, 1.0f);
  for (std::int64_t t = 0; t < tokens; ++t) {
    if (skewed) {
      // Partial shuffle biased to low ids: experts [0, E/4) are picked far more often.
      std::sort(ids.begin(), ids.end());
      for (int j = 0; j < k; ++j) {
        std::uniform_int_distribution<int> pick(j, std::min(experts - 1, j + std::max(k, experts / 4)));
        std::swap(ids[std::size_t(j)], ids[std::size_t(pick(rng))]);
      }
    } else {
      for (int j = 0; j < k; ++j) {
        std::uniform_int_distribution<int> pick(j, experts - 1);
        std::swap(ids[std::size_t(j)], ids[std::size_t(pick(rng))]);
      }
    }
    float sum = 0;
    std::vector<float> w(static_cast<std::size_t>(k));
    for (auto& x : w) sum += (x = u(rng));
    std::sort(w.begin(), w.end(), std::greater<>());
    for (int j = 0; j < k; ++j) {
      r.experts.push_back(ids[std::size_t(j)]);
      r.weights.push_back(w[std::size_t(j)] / sum);
    }
  }
  return r;
}

// A balanced placement: a random permutation of the contiguous one (E/D experts per device).
inline LayerPlacement random_placement(std::mt19937_64& rng, int experts, int devices) {
  LayerPlacement p;
  p.device_of.resize(std::size_t(experts));
  for (int e = 0; e < experts; ++e) p.device_of[std::size_t(e)] = e / (experts / devices);
  std::shuffle(p.device_of.begin(), p.device_of.end(), rng);
  return p;
}

inline LayerPlacement contiguous(int experts, int devices) {
  return contiguous_placement(experts, {devices, 1}, 1).layers[0];
}

// Brute-force destination sets of one token (no replicas): the reference the fast walk must match.
struct RefToken {
  int src = 0;
  std::multiset<int> slot_devices;
  std::set<int> devices, nodes;
};
inline RefToken ref_token(const LayerRouting& r, const LayerPlacement& p, const ClusterShape& s,
                          std::int64_t t) {
  RefToken ref;
  ref.src = source_device(t, r.tokens(), s.devices);
  for (std::int32_t e : r.token_experts(t)) {
    if (e < 0) continue;
    const int d = p.device_of[std::size_t(e)];
    ref.slot_devices.insert(d);
    ref.devices.insert(d);
    ref.nodes.insert(s.node_of(d));
  }
  return ref;
}

}  // namespace occult::analysis_test
