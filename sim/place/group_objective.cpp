#include "sim/place/group_objective.hpp"

#include <algorithm>
#include <climits>
#include <stdexcept>
#include <utility>

namespace occult::place {
namespace {
constexpr std::size_t kAhead = 8;  // tokens prefetched ahead in walks over an expert's tokens
}  // namespace

GroupObjective::GroupObjective(const TokenSets& tokens, std::vector<int> group_of, int groups)
    : tokens_(&tokens), group_of_(std::move(group_of)), groups_(groups) {
  if (int(group_of_.size()) < tokens.num_experts)
    throw std::invalid_argument("GroupObjective: too few vertices");
  for (int g : group_of_)
    if (g < 0 || g >= groups_) throw std::invalid_argument("GroupObjective: group out of range");
  // pair_alone_ counts up to 2 per token in int32.
  if (tokens.tokens() > INT32_MAX / 2) throw std::length_error("GroupObjective: too many tokens");
  present_.assign(group_of_.size() * std::size_t(groups_), 0);
  alone_.assign(group_of_.size(), 0);
  load_.assign(group_of_.size(), 0);
  for (int v = 0; v < tokens.num_experts; ++v) load_[std::size_t(v)] = std::int32_t(tokens.load(v));
  alone_slot_.assign(tokens.token_experts.size(), 0);
  pair_alone_.assign(group_of_.size() * group_of_.size(), 0);
  add_all_tokens();
}

void GroupObjective::add_all_tokens() {
  // Raw pointers and local scratch: through the members, every store to a counter would make the compiler
  // reload the others' data pointers (they may alias), which doubled the cost of this loop.
  const auto G = std::size_t(groups_), V = std::size_t(vertices());
  const auto& ts = *tokens_;
  const int* group_of = group_of_.data();
  std::int32_t* present = present_.data();
  std::int32_t* alone_count = alone_.data();
  std::int32_t* pair = pair_alone_.data();
  std::uint8_t* alone_slot = alone_slot_.data();
  std::vector<std::int32_t> count(G, 0);
  std::vector<int> touched;
  for (std::int64_t t = 0; t < ts.tokens(); ++t) {
    const auto first = std::size_t(ts.token_begin[std::size_t(t)]);
    const auto n = std::size_t(ts.token_begin[std::size_t(t) + 1]) - first;
    const std::int32_t* experts = ts.token_experts.data() + first;
    touched.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const int g = group_of[experts[i]];
      if (count[std::size_t(g)]++ == 0) touched.push_back(g);
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto e = std::size_t(experts[i]);
      auto* row = present + e * G;
      for (int g : touched) ++row[g];
      const bool alone = count[std::size_t(group_of[e])] == 1;
      alone_slot[first + i] = alone;
      alone_count[e] += alone;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto ei = std::size_t(experts[i]);
      const std::int32_t ai = alone_slot[first + i];
      for (std::size_t j = i + 1; j < n; ++j) {
        const auto ej = std::size_t(experts[j]);
        const std::int32_t d = ai + alone_slot[first + j];
        pair[ei * V + ej] += d;
        pair[ej * V + ei] += d;
      }
    }
    total_ += std::int64_t(touched.size());
    for (int g : touched) count[std::size_t(g)] = 0;
  }
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
  const auto V = std::size_t(vertices());
  const auto G = std::size_t(groups_);
  const auto ua = std::size_t(a);
  const auto ga = std::size_t(group_of_[ua]);
  out.resize(V);
  const std::int64_t own = std::int64_t(load_[ua]) - alone_[ua];
  const auto* present_a = &present_[ua * G];
  const auto* pair_a = &pair_alone_[ua * V];
  for (std::size_t b = 0; b < V; ++b) {
    const auto gb = std::size_t(group_of_[b]);
    out[b] = gb == ga ? 0
                      : own - present_a[gb] + std::int64_t(load_[b]) - present_[b * G + ga] - alone_[b] +
                            pair_a[b];
  }
}

void GroupObjective::flip_alone(std::size_t slot, std::size_t first, std::size_t end, std::int32_t d) {
  const auto V = std::size_t(vertices());
  const auto* experts = tokens_->token_experts.data();
  const auto x = std::size_t(experts[slot]);
  auto* row = &pair_alone_[x * V];
  for (auto s = first; s < end; ++s) {
    if (s == slot) continue;
    const auto y = std::size_t(experts[s]);
    row[y] += d;
    pair_alone_[y * V + x] += d;
  }
}

void GroupObjective::move(int v, int to) {
  const int from = group_of_[std::size_t(v)];
  const auto G = std::size_t(groups_);
  const auto tokens = tokens_->tokens_of(v);
  const auto slots = tokens_->slots_of(v);
  const auto n = tokens.size();
  for (std::size_t i = 0; i < n; ++i) {
    // v's tokens lie all over the token arrays: the walk is bound by memory latency, so fetch a few
    // tokens ahead (their offsets further ahead, since the rows' addresses depend on them).
    if (i + 2 * kAhead < n) __builtin_prefetch(&tokens_->token_begin[std::size_t(tokens[i + 2 * kAhead])]);
    if (i + kAhead < n) {
      const auto ahead = std::size_t(tokens_->token_begin[std::size_t(tokens[i + kAhead])]);
      __builtin_prefetch(&tokens_->token_experts[ahead]);
      __builtin_prefetch(&alone_slot_[ahead]);
    }
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
      flip_alone(other_in_from, first, end, 1);
    }
    if (in_to == 1) {
      --alone_[std::size_t(tokens_->token_experts[one_in_to])];
      alone_slot_[one_in_to] = 0;
      flip_alone(one_in_to, first, end, -1);
    }
    const std::int32_t v_flip = std::int32_t(in_to == 0) - std::int32_t(in_from == 1);
    alone_[std::size_t(v)] += v_flip;
    alone_slot_[std::size_t(slots[i])] = in_to == 0;
    if (v_flip != 0) flip_alone(std::size_t(slots[i]), first, end, v_flip);
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
