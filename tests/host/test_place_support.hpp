#pragma once
// Shared helpers of the placement tests: small synthetic layers and an independent ct oracle.
#include <cstdint>
#include <set>
#include <vector>

#include "sim/core/trace_gen.hpp"
#include "sim/place/token_sets.hpp"

namespace occult::place::testing {

inline TraceGenParams small_params(int experts, int top_k, std::int64_t tokens, std::uint64_t seed) {
  TraceGenParams p;
  p.experts = experts;
  p.top_k = top_k;
  p.tokens = tokens;
  p.skew = 0.8;
  p.affinity = 0.6;
  p.groups = 0;
  p.seed = seed;
  return p;
}

// Routing that drifts: each layer's first `early` tokens are drawn from one set of co-activation
// clusters, the next `late` from another (two generated layers of different seeds, concatenated), like
// a log whose prefill and decode route differently. E = 32, k = 4.
inline Trace drifting_trace(int layers = 2, std::int64_t early = 600, std::int64_t late = 1800) {
  Trace t;
  t.model = "synthetic";
  t.num_experts = 32;
  t.top_k = 4;
  for (int l = 0; l < layers; ++l) {
    auto first = generate_layer(small_params(32, 4, early, 100 + std::uint64_t(l)), 0);
    const auto then = generate_layer(small_params(32, 4, late, 200 + std::uint64_t(l)), 0);
    first.experts.insert(first.experts.end(), then.experts.begin(), then.experts.end());
    first.weights.insert(first.weights.end(), then.weights.begin(), then.weights.end());
    first.layer = l;
    t.layers.push_back(first);
  }
  validate_trace(t, "drifting_trace");
  return t;
}

// Mean over tokens of the distinct groups their experts land in, from scratch (the test oracle).
inline double mean_groups(const LayerRouting& r, const std::vector<int>& group_of) {
  std::int64_t sum = 0;
  for (std::int64_t t = 0; t < r.tokens(); ++t) {
    std::set<int> g;
    for (auto e : r.token_experts(t)) g.insert(group_of[std::size_t(e)]);
    sum += std::int64_t(g.size());
  }
  return double(sum) / double(r.tokens());
}

// Calls visit(group_of) for every partition of `n` vertices into `groups` groups of n/groups vertices,
// each partition once (groups are unlabelled: a group's label is the order of its smallest vertex).
template <class Visit>
void for_each_balanced_partition(int n, int groups, Visit&& visit) {
  const int cap = n / groups;
  std::vector<int> group_of(std::size_t(n), -1), size(std::size_t(groups), 0);
  auto rec = [&](auto&& self, int v, int opened) -> void {
    if (v == n) {
      visit(group_of);
      return;
    }
    for (int g = 0; g < std::min(opened + 1, groups); ++g) {
      if (size[std::size_t(g)] == cap) continue;
      group_of[std::size_t(v)] = g;
      ++size[std::size_t(g)];
      self(self, v + 1, std::max(opened, g + 1));
      --size[std::size_t(g)];
    }
  };
  rec(rec, 0, 0);
}

}  // namespace occult::place::testing
