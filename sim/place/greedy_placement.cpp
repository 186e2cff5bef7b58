#include "sim/place/greedy_placement.hpp"

#include <limits>

namespace occult::place {

std::vector<int> greedy_groups(const std::vector<std::int64_t>& weights,
                               const std::vector<std::int64_t>& load, int groups, int capacity) {
  const std::size_t V = load.size();
  std::vector<int> group(V, -1);
  // affinity[g][v]: co-activation of v with the members of group g (for seeding: with all seeds).
  std::vector<std::int64_t> affinity(std::size_t(groups) * V, 0), to_seeds(V, 0);
  std::vector<int> size(std::size_t(groups), 0);
  auto assign = [&](std::size_t v, int g) {
    group[v] = g;
    ++size[std::size_t(g)];
    for (std::size_t u = 0; u < V; ++u) {
      affinity[std::size_t(g) * V + u] += weights[u * V + v];
      to_seeds[u] += weights[u * V + v];
    }
  };
  // Picks the unassigned vertex with the best score (higher is better; ties: heavier, then lower id).
  auto pick = [&](auto score) {
    std::size_t best = V;
    for (std::size_t v = 0; v < V; ++v) {
      if (group[v] >= 0) continue;
      if (best == V || score(v) > score(best) || (score(v) == score(best) && load[v] > load[best])) best = v;
    }
    return best;
  };
  for (int g = 0; g < groups; ++g) {
    const bool first = g == 0;
    assign(pick([&](std::size_t v) { return first ? load[v] : -to_seeds[v]; }), g);
  }
  for (bool progress = true; progress;) {
    progress = false;
    for (int g = 0; g < groups; ++g) {
      if (size[std::size_t(g)] >= capacity) continue;
      const std::size_t v = pick([&](std::size_t u) { return affinity[std::size_t(g) * V + u]; });
      if (v == V) break;
      assign(v, g);
      progress = true;
    }
  }
  return group;
}

}  // namespace occult::place
