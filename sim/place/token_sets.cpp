#include "sim/place/token_sets.hpp"

#include <algorithm>
#include <stdexcept>

namespace occult::place {

TokenSets make_token_sets(const LayerRouting& routing, int experts, std::int64_t begin, std::int64_t end,
                          int recent_weight) {
  if (begin < 0 || end < begin || end > routing.tokens())
    throw std::out_of_range("make_token_sets: bad token range");
  if (recent_weight < 1) throw std::invalid_argument("make_token_sets: recent_weight must be >= 1");
  const std::int64_t mid = begin + (end - begin) / 2;
  const std::int64_t n = (end - begin) + std::int64_t(recent_weight - 1) * (end - mid);
  // Token indices are stored as int32 to halve the inverted index; a layer never holds 2^31 profiling tokens.
  if (n > std::int64_t(INT32_MAX)) throw std::length_error("make_token_sets: too many tokens in one layer");
  TokenSets ts;
  ts.num_experts = experts;
  ts.token_begin.reserve(std::size_t(n) + 1);
  ts.token_begin.push_back(0);
  ts.token_experts.reserve(std::size_t(n) * std::size_t(routing.top_k));
  std::vector<std::int64_t> count(std::size_t(experts) + 1, 0);
  auto append = [&](std::int64_t t) {
    const auto row_start = ts.token_experts.size();
    for (std::int32_t e : routing.token_experts(t))
      if (std::find(ts.token_experts.begin() + std::ptrdiff_t(row_start), ts.token_experts.end(), e) ==
          ts.token_experts.end()) {
        ts.token_experts.push_back(e);
        ++count[std::size_t(e) + 1];
      }
    ts.token_begin.push_back(std::int64_t(ts.token_experts.size()));
  };
  for (std::int64_t t = begin; t < end; ++t) append(t);
  for (int copy = 1; copy < recent_weight; ++copy)
    for (std::int64_t t = mid; t < end; ++t) append(t);
  for (int e = 0; e < experts; ++e) count[std::size_t(e) + 1] += count[std::size_t(e)];
  ts.expert_begin = count;
  ts.expert_tokens.resize(ts.token_experts.size());
  ts.expert_slots.resize(ts.token_experts.size());
  for (std::int64_t t = 0; t < n; ++t)
    for (auto s = ts.token_begin[std::size_t(t)]; s < ts.token_begin[std::size_t(t) + 1]; ++s) {
      const auto at = std::size_t(count[std::size_t(ts.token_experts[std::size_t(s)])]++);
      ts.expert_tokens[at] = std::int32_t(t);
      ts.expert_slots[at] = s;
    }
  return ts;
}

}  // namespace occult::place
