#pragma once
// Incremental evaluator of the Occult objective: the sum over tokens of the number of distinct groups
// (devices, or nodes) their experts sit in. Divided by the token count this is ct_occult (groups =
// devices) or ct_node (groups = nodes). Swapping two vertices' groups is evaluated exactly in
// O((load_a + load_b) * k) and applied in the same time, so refinement scales with the
// tokens a swap touches rather than with the whole trace.
#include <cstdint>
#include <vector>

#include "sim/place/token_sets.hpp"

namespace occult::place {

class GroupObjective {
 public:
  // group_of has one entry per vertex: experts first, then empty replica slots (no tokens).
  GroupObjective(const TokenSets& tokens, std::vector<int> group_of, int groups);

  std::int64_t total() const { return total_; }
  const std::vector<int>& group_of() const { return group_of_; }
  int groups() const { return groups_; }
  int vertices() const { return int(group_of_.size()); }
  const TokenSets& tokens() const { return *tokens_; }

  // Exact change of total() if a and b exchanged groups.
  std::int64_t swap_delta(int a, int b) const;
  // A lower bound of swap_delta from per-(vertex, group) counters, O(1): it counts the tokens that
  // hold both a and b as if each vertex moved alone, which can only overstate the gain.
  std::int64_t swap_lower_bound(int a, int b) const {
    return move_bound(a, group_of_[std::size_t(b)]) + move_bound(b, group_of_[std::size_t(a)]);
  }
  // swap_delta(a, b) for every b at once, in O(vertices): the bound of each partner plus what it
  // overstates for the tokens holding both, which pair_alone_ keeps. out[b] is 0 for b in a's own group.
  void swap_deltas(int a, std::vector<std::int64_t>& out) const;
  void swap(int a, int b);
  // Moves v alone to group `to`, in O(load_v * k) plus O(k) per flipped "alone" bit. Group sizes change:
  // callers that keep them fixed use swap.
  void move(int v, int to);

 private:
  // Change of total() from moving v alone to group g, counting tokens that also hold the partner.
  std::int64_t move_bound(int v, int g) const {
    return std::int64_t(load_[std::size_t(v)]) -
           present_[std::size_t(v) * std::size_t(groups_) + std::size_t(g)] - alone_[std::size_t(v)];
  }
  void add_all_tokens();  // the counters of the initial assignment
  // Adds d to pair_alone_[x][y] and [y][x] for the expert x in `slot` and every other expert y of its
  // token (slots [first, end)): the slot's alone bit changed by d.
  void flip_alone(std::size_t slot, std::size_t first, std::size_t end, std::int32_t d);

  const TokenSets* tokens_;
  std::vector<int> group_of_;
  int groups_;
  std::int64_t total_ = 0;
  // present_[v][g]: tokens of v that touch group g. alone_[v]: tokens of v with no other expert in v's group.
  std::vector<std::int32_t> present_;
  std::vector<std::int32_t> alone_;
  std::vector<std::int32_t> load_;  // tokens of each vertex (0 for replica slots)
  // Parallel to tokens.token_experts: 1 where that slot's expert is the only one of its token in its group.
  std::vector<std::uint8_t> alone_slot_;
  // V x V, symmetric: over the tokens holding both u and v, [u alone in its group] + [v alone in its group].
  // It is exactly what swap_lower_bound(u, v) overstates (such a token keeps its group set under the
  // swap), so it turns the bounds into exact deltas without a token scan. Kept by move, O(k) per flipped
  // bit: on the benchmark trace a refinement evaluates about 40 vertices' deltas per swap it applies, so
  // keeping the matrix is far cheaper than one scan of the vertex's tokens per evaluation.
  std::vector<std::int32_t> pair_alone_;
};

}  // namespace occult::place
