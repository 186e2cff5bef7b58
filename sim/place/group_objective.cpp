#include "sim/place/group_objective.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace occult::place {

GroupObjective::GroupObjective(const TokenSets& tokens, std::vector<int> group_of, int groups)
    : tokens_(&tokens), group_of_(std::move(group_of)), groups_(groups) {
  if (int(group_of_.size()) < tokens.num_experts)
    throw std::invalid_argument("GroupObjective: too few vertices");
  for (int g : group_of_)
    if (g < 0 || g >= groups_) throw std::invalid_argument("GroupObjective: group out of range");
  present_.assign(group_of_.size() * std::size_t(groups_), 0);
  alone_.assign(group_of_.size(), 0);
  count_.assign(std::size_t(groups_), 0);
  for (std::int64_t t = 0; t < tokens.tokens(); ++t) account(t, +1);
}

void GroupObjective::account(std::int64_t token, int sign) {
  auto experts = tokens_->experts_of(token);
  touched_.clear();
  for (auto e : experts) {
    const int g = group_of_[std::size_t(e)];
    if (count_[std::size_t(g)]++ == 0) touched_.push_back(g);
  }
  for (auto e : experts) {
    auto* row = &present_[std::size_t(e) * std::size_t(groups_)];
    for (int g : touched_) row[g] += sign;
    if (count_[std::size_t(group_of_[std::size_t(e)])] == 1) alone_[std::size_t(e)] += sign;
  }
  total_ += sign * std::int64_t(touched_.size());
  for (int g : touched_) count_[std::size_t(g)] = 0;
}

std::int64_t GroupObjective::swap_delta(int a, int b) const {
  const int ga = group_of_[std::size_t(a)], gb = group_of_[std::size_t(b)];
  if (ga == gb) return 0;
  // A token holding both keeps its group set; a token holding one of them loses the source group if the
  // mover was alone there and gains the target group if it had nobody there.
  auto one_side = [&](int mover, int other, int from, int to) {
    std::int64_t d = 0;
    for (auto t : tokens_->tokens_of(mover)) {
      int in_from = 0, in_to = 0;
      bool has_other = false;
      for (auto e : tokens_->experts_of(t)) {
        const int g = group_of_[std::size_t(e)];
        in_from += g == from;
        in_to += g == to;
        has_other |= e == other;
      }
      if (!has_other) d += std::int64_t(in_to == 0) - std::int64_t(in_from == 1);
    }
    return d;
  };
  return one_side(a, b, ga, gb) + one_side(b, a, gb, ga);
}

void GroupObjective::swap_deltas(int a, std::vector<std::int64_t>& out) const {
  const int V = vertices();
  const int ga = group_of_[std::size_t(a)];
  out.resize(std::size_t(V));
  for (int b = 0; b < V; ++b)
    out[std::size_t(b)] = group_of_[std::size_t(b)] == ga ? 0 : swap_lower_bound(a, b);
  // A token holding a and b counted -[a alone in its group] - [b alone in its group] in the bound but
  // keeps its group set under the swap.
  for (auto t : tokens_->tokens_of(a)) {
    auto experts = tokens_->experts_of(t);
    for (auto e : experts) ++count_[std::size_t(group_of_[std::size_t(e)])];
    const bool a_alone = count_[std::size_t(ga)] == 1;
    for (auto b : experts) {
      const int gb = group_of_[std::size_t(b)];
      if (gb != ga) out[std::size_t(b)] += std::int64_t(a_alone) + std::int64_t(count_[std::size_t(gb)] == 1);
    }
    for (auto e : experts) count_[std::size_t(group_of_[std::size_t(e)])] = 0;
  }
}

void GroupObjective::move(int v, int to) {
  const int from = group_of_[std::size_t(v)];
  const auto G = std::size_t(groups_);
  for (auto t : tokens_->tokens_of(v)) {
    auto experts = tokens_->experts_of(t);
    int in_from = 0, in_to = 0, other_in_from = -1, one_in_to = -1;
    for (auto e : experts) {
      const int g = group_of_[std::size_t(e)];
      if (g == from) {
        ++in_from;
        if (e != v) other_in_from = e;
      } else if (g == to) {
        ++in_to;
        one_in_to = e;
      }
    }
    // Only the token's membership of `from` and `to` can change, and only their counts.
    if (in_from == 1)
      for (auto e : experts) --present_[std::size_t(e) * G + std::size_t(from)];
    if (in_to == 0)
      for (auto e : experts) ++present_[std::size_t(e) * G + std::size_t(to)];
    if (in_from == 2) ++alone_[std::size_t(other_in_from)];
    if (in_to == 1) --alone_[std::size_t(one_in_to)];
    alone_[std::size_t(v)] += std::int32_t(in_to == 0) - std::int32_t(in_from == 1);
    total_ += std::int64_t(in_to == 0) - std::int64_t(in_from == 1);
  }
  group_of_[std::size_t(v)] = to;
}

void GroupObjective::swap(int a, int b) {
  const int ga = group_of_[std::size_t(a)], gb = group_of_[std::size_t(b)];
  if (ga == gb) return;
  // Two single moves compose exactly (the state in between has unequal group sizes, which the
  // counters do not care about).
  move(a, gb);
  move(b, ga);
}

}  // namespace occult::place
