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
  load_.assign(group_of_.size(), 0);
  for (int v = 0; v < tokens.num_experts; ++v) load_[std::size_t(v)] = std::int32_t(tokens.load(v));
  count_.assign(std::size_t(groups_), 0);
  alone_slot_.assign(tokens.token_experts.size(), 0);
  for (std::int64_t t = 0; t < tokens.tokens(); ++t) add_token(t);
}

void GroupObjective::add_token(std::int64_t token) {
  auto experts = tokens_->experts_of(token);
  const auto first = std::size_t(tokens_->token_begin[std::size_t(token)]);
  touched_.clear();
  for (auto e : experts) {
    const int g = group_of_[std::size_t(e)];
    if (count_[std::size_t(g)]++ == 0) touched_.push_back(g);
  }
  for (std::size_t i = 0; i < experts.size(); ++i) {
    const auto e = std::size_t(experts[i]);
    auto* row = &present_[e * std::size_t(groups_)];
    for (int g : touched_) ++row[g];
    const bool alone = count_[std::size_t(group_of_[e])] == 1;
    alone_slot_[first + i] = alone;
    alone_[e] += alone;
  }
  total_ += std::int64_t(touched_.size());
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
  for (int b = 0; b < V; ++b) out[std::size_t(b)] = swap_lower_bound(a, b);
  // A token holding a and b counted -[a alone in its group] - [b alone in its group] in the bound but
  // keeps its group set under the swap. The per-slot alone bits make this a plain scatter over a's
  // tokens (partners in a's own group are zeroed below, so they may collect garbage here).
  const auto tokens = tokens_->tokens_of(a);
  const auto slots = tokens_->slots_of(a);
  const auto* experts = tokens_->token_experts.data();
  const auto* alone = alone_slot_.data();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto t = std::size_t(tokens[i]);
    const std::int64_t a_alone = alone[slots[i]];
    const auto end = std::size_t(tokens_->token_begin[t + 1]);
    for (auto s = std::size_t(tokens_->token_begin[t]); s < end; ++s)
      out[std::size_t(experts[s])] += a_alone + std::int64_t(alone[s]);
  }
  for (int b = 0; b < V; ++b)
    if (group_of_[std::size_t(b)] == ga) out[std::size_t(b)] = 0;
}

void GroupObjective::move(int v, int to) {
  const int from = group_of_[std::size_t(v)];
  const auto G = std::size_t(groups_);
  const auto tokens = tokens_->tokens_of(v);
  const auto slots = tokens_->slots_of(v);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto t = std::size_t(tokens[i]);
    const auto first = std::size_t(tokens_->token_begin[t]), end = std::size_t(tokens_->token_begin[t + 1]);
    int in_from = 0, in_to = 0;
    std::size_t other_in_from = 0, one_in_to = 0;  // slots
    for (auto s = first; s < end; ++s) {
      const auto e = tokens_->token_experts[s];
      const int g = group_of_[std::size_t(e)];
      if (g == from) {
        ++in_from;
        if (e != v) other_in_from = s;
      } else if (g == to) {
        ++in_to;
        one_in_to = s;
      }
    }
    // Only the token's membership of `from` and `to` can change, and only their counts.
    if (in_from == 1)
      for (auto s = first; s < end; ++s)
        --present_[std::size_t(tokens_->token_experts[s]) * G + std::size_t(from)];
    if (in_to == 0)
      for (auto s = first; s < end; ++s)
        ++present_[std::size_t(tokens_->token_experts[s]) * G + std::size_t(to)];
    if (in_from == 2) {
      ++alone_[std::size_t(tokens_->token_experts[other_in_from])];
      alone_slot_[other_in_from] = 1;
    }
    if (in_to == 1) {
      --alone_[std::size_t(tokens_->token_experts[one_in_to])];
      alone_slot_[one_in_to] = 0;
    }
    alone_[std::size_t(v)] += std::int32_t(in_to == 0) - std::int32_t(in_from == 1);
    alone_slot_[std::size_t(slots[i])] = in_to == 0;
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
