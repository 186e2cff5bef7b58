#include "sim/place/replication.hpp"

#include <algorithm>
#include <numeric>

namespace occult::place {

LayerPlacement place_replicas(const TokenSets& tokens, const std::vector<int>& group_of, int devices) {
  const int E = tokens.num_experts;
  LayerPlacement lp;
  lp.device_of.assign(group_of.begin(), group_of.begin() + E);
  const std::size_t R = group_of.size() - std::size_t(E);
  if (R == 0) return lp;
  lp.replicas.assign(std::size_t(E), {});
  std::vector<int> free_slots(std::size_t(devices), 0);
  for (std::size_t v = std::size_t(E); v < group_of.size(); ++v) ++free_slots[std::size_t(group_of[v])];
  std::vector<std::int64_t> device_load(std::size_t(devices), 0);
  for (int e = 0; e < E; ++e) device_load[std::size_t(lp.device_of[std::size_t(e)])] += tokens.load(e);

  std::vector<int> hottest(static_cast<std::size_t>(E));
  std::iota(hottest.begin(), hottest.end(), 0);
  std::stable_sort(hottest.begin(), hottest.end(),
                   [&](int a, int b) { return tokens.load(a) > tokens.load(b); });
  std::vector<std::int64_t> saves(static_cast<std::size_t>(devices));
  std::vector<int> count(std::size_t(devices), 0);
  std::size_t placed = 0;
  for (int e : hottest) {
    if (placed == R) break;
    const int home = lp.device_of[std::size_t(e)];
    std::fill(saves.begin(), saves.end(), 0);
    for (auto t : tokens.tokens_of(e)) {
      auto experts = tokens.experts_of(t);
      for (auto x : experts) ++count[std::size_t(lp.device_of[std::size_t(x)])];
      if (count[std::size_t(home)] == 1)
        for (int d = 0; d < devices; ++d) saves[std::size_t(d)] += count[std::size_t(d)] > 0;
      for (auto x : experts) count[std::size_t(lp.device_of[std::size_t(x)])] = 0;
    }
    int best = -1;
    for (int d = 0; d < devices; ++d) {
      if (d == home || free_slots[std::size_t(d)] == 0) continue;
      if (best < 0 || saves[std::size_t(d)] > saves[std::size_t(best)] ||
          (saves[std::size_t(d)] == saves[std::size_t(best)] &&
           device_load[std::size_t(d)] < device_load[std::size_t(best)]))
        best = d;
    }
    if (best < 0) continue;
    lp.replicas[std::size_t(e)].push_back(best);
    --free_slots[std::size_t(best)];
    // The copy takes about half of the expert's tokens off its home device.
    device_load[std::size_t(best)] += tokens.load(e) / 2;
    device_load[std::size_t(home)] -= tokens.load(e) / 2;
    ++placed;
  }
  return lp;
}

}  // namespace occult::place
