#pragma once
// Local search on a GroupObjective by pairwise swaps, which keep every group's size unchanged (exactly
// E/D experts per device stays exact). Optional rules restrict which swaps are allowed.
#include <cstdint>
#include <vector>

#include "sim/place/group_objective.hpp"

namespace occult::place {

struct SwapRules {
  // When non-empty, a and b may swap only if their groups have the same parent (GPUs of one node).
  std::vector<int> parent_of_group;
  // When max_group_load > 0: a swap may not take a group above max(bound, the larger of the two
  // groups' current loads), so a placement inside the bound stays inside it.
  std::vector<std::int64_t> vertex_load;
  std::int64_t max_group_load = 0;

  bool allowed(int group_a, int group_b) const {
    return parent_of_group.empty() ||
           parent_of_group[std::size_t(group_a)] == parent_of_group[std::size_t(group_b)];
  }
};

// Repeats passes over the vertices (in a seeded random order); each vertex takes its best improving
// swap (exact deltas of all partners at once, GroupObjective::swap_deltas). Stops when a pass improves
// nothing. Returns the number of swaps applied.
int refine_by_swaps(GroupObjective& obj, const SwapRules& rules, std::uint64_t seed, int max_passes = 100);

// Per-group loads under `rules.vertex_load`.
std::vector<std::int64_t> group_loads(const GroupObjective& obj, const SwapRules& rules);

// Brings every group under rules.max_group_load, each step taking the swap off the most loaded group
// that costs the least objective. Returns whether the bound holds at the end (it may be infeasible,
// e.g. one expert heavier than the bound).
bool repair_load(GroupObjective& obj, const SwapRules& rules);

// Random swaps (allowed ones, load rules respected) to leave a local optimum before refining again.
void perturb(GroupObjective& obj, const SwapRules& rules, std::uint64_t seed, int swaps);

}  // namespace occult::place
