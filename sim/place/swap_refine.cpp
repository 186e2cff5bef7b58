#include "sim/place/swap_refine.hpp"

#include <algorithm>
#include <numeric>
#include <random>
#include <utility>

namespace occult::place {
namespace {

bool load_ok(const GroupObjective& obj, const SwapRules& rules, const std::vector<std::int64_t>& loads, int a,
             int b) {
  if (rules.max_group_load <= 0) return true;
  const int ga = obj.group_of()[std::size_t(a)], gb = obj.group_of()[std::size_t(b)];
  const std::int64_t la = rules.vertex_load[std::size_t(a)], lb = rules.vertex_load[std::size_t(b)];
  const std::int64_t new_a = loads[std::size_t(ga)] - la + lb, new_b = loads[std::size_t(gb)] - lb + la;
  const std::int64_t cap =
      std::max(rules.max_group_load, std::max(loads[std::size_t(ga)], loads[std::size_t(gb)]));
  return std::max(new_a, new_b) <= cap;
}

void apply(GroupObjective& obj, const SwapRules& rules, std::vector<std::int64_t>& loads, int a, int b) {
  if (rules.max_group_load > 0) {
    const int ga = obj.group_of()[std::size_t(a)], gb = obj.group_of()[std::size_t(b)];
    const std::int64_t d = rules.vertex_load[std::size_t(b)] - rules.vertex_load[std::size_t(a)];
    loads[std::size_t(ga)] += d;
    loads[std::size_t(gb)] -= d;
  }
  obj.swap(a, b);
}

}  // namespace

std::vector<std::int64_t> group_loads(const GroupObjective& obj, const SwapRules& rules) {
  std::vector<std::int64_t> loads(std::size_t(obj.groups()), 0);
  if (rules.vertex_load.empty()) return loads;
  for (int v = 0; v < obj.vertices(); ++v)
    loads[std::size_t(obj.group_of()[std::size_t(v)])] += rules.vertex_load[std::size_t(v)];
  return loads;
}

int refine_by_swaps(GroupObjective& obj, const SwapRules& rules, std::uint64_t seed, int max_passes) {
  const int V = obj.vertices();
  std::vector<int> order(static_cast<std::size_t>(V));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  auto loads = group_loads(obj, rules);
  std::vector<std::int64_t> delta;
  int swaps = 0;
  for (int pass = 0; pass < max_passes; ++pass) {
    std::shuffle(order.begin(), order.end(), rng);
    bool improved = false;
    for (int a : order) {
      if (obj.tokens().tokens_of(a).empty()) continue;  // an unused vertex gains only as someone's partner
      const int ga = obj.group_of()[std::size_t(a)];
      obj.swap_deltas(a, delta);
      std::int64_t best = 0;
      int best_b = -1;
      for (int b = 0; b < V; ++b) {
        const int gb = obj.group_of()[std::size_t(b)];
        if (delta[std::size_t(b)] >= best || gb == ga || !rules.allowed(ga, gb) ||
            !load_ok(obj, rules, loads, a, b))
          continue;
        best = delta[std::size_t(b)];
        best_b = b;
      }
      if (best_b >= 0) {
        apply(obj, rules, loads, a, best_b);
        ++swaps;
        improved = true;
      }
    }
    if (!improved) break;
  }
  return swaps;
}

bool repair_load(GroupObjective& obj, const SwapRules& rules) {
  if (rules.max_group_load <= 0) return true;
  auto loads = group_loads(obj, rules);
  const int V = obj.vertices();
  std::vector<std::int64_t> delta;
  // Each step lowers the largest load or the number of groups at it, so V^2 steps are plenty.
  for (int step = 0; step < V * V; ++step) {
    const int hot = int(std::max_element(loads.begin(), loads.end()) - loads.begin());
    const std::int64_t hot_load = loads[std::size_t(hot)];
    if (hot_load <= rules.max_group_load) return true;
    // Candidates: a leaves the hot group for b's group, the hot group gets lighter, b's group stays
    // below the hot group's old load. Cheapest objective change first; ties by the larger relief.
    std::int64_t best_delta = 0, best_relief = 0;
    int best_a = -1, best_b = -1;
    for (int a = 0; a < V; ++a) {
      if (obj.group_of()[std::size_t(a)] != hot) continue;
      obj.swap_deltas(a, delta);
      for (int b = 0; b < V; ++b) {
        const int gb = obj.group_of()[std::size_t(b)];
        if (gb == hot || !rules.allowed(hot, gb)) continue;
        const std::int64_t relief = rules.vertex_load[std::size_t(a)] - rules.vertex_load[std::size_t(b)];
        if (relief <= 0 || loads[std::size_t(gb)] + relief >= hot_load) continue;
        const std::int64_t d = delta[std::size_t(b)];
        if (best_a < 0 || d < best_delta || (d == best_delta && relief > best_relief)) {
          best_delta = d;
          best_relief = relief;
          best_a = a;
          best_b = b;
        }
      }
    }
    if (best_a < 0) return false;
    apply(obj, rules, loads, best_a, best_b);
  }
  return *std::max_element(loads.begin(), loads.end()) <= rules.max_group_load;
}

void perturb(GroupObjective& obj, const SwapRules& rules, std::uint64_t seed, int swaps) {
  const int V = obj.vertices();
  if (V < 2) return;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pick(0, V - 1);
  auto loads = group_loads(obj, rules);
  for (int tries = 0, done = 0; done < swaps && tries < 20 * swaps; ++tries) {
    const int a = pick(rng), b = pick(rng);
    const int ga = obj.group_of()[std::size_t(a)], gb = obj.group_of()[std::size_t(b)];
    if (ga == gb || !rules.allowed(ga, gb) || !load_ok(obj, rules, loads, a, b)) continue;
    apply(obj, rules, loads, a, b);
    ++done;
  }
}

}  // namespace occult::place
