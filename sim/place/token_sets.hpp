#pragma once
// The profiling tokens of one layer in the shape the placement algorithms need: each token's distinct
// experts (CSR) and, inverted, the tokens that chose each expert. Duplicated ids inside a token are
// folded, so a token's set size can be below k.
#include <cstdint>
#include <span>
#include <vector>

#include "sim/core/trace.hpp"

namespace occult::place {

struct TokenSets {
  int num_experts = 0;
  std::vector<std::int64_t> token_begin;    // tokens()+1 offsets into token_experts
  std::vector<std::int32_t> token_experts;  // distinct expert ids of each token
  std::vector<std::int64_t> expert_begin;   // num_experts+1 offsets into expert_tokens
  std::vector<std::int32_t> expert_tokens;  // token indices (local to the range) choosing each expert
  // Parallel to expert_tokens: where the expert sits in that token's row of token_experts, so per-slot
  // state (GroupObjective's "alone" bits) is reached from the expert side without a search.
  std::vector<std::int64_t> expert_slots;

  std::int64_t tokens() const { return std::int64_t(token_begin.size()) - 1; }
  std::span<const std::int32_t> experts_of(std::int64_t t) const {
    return {token_experts.data() + token_begin[std::size_t(t)],
            std::size_t(token_begin[std::size_t(t) + 1] - token_begin[std::size_t(t)])};
  }
  // Vertices at or beyond num_experts (empty replica slots) have no tokens.
  std::span<const std::int32_t> tokens_of(int e) const {
    if (e >= num_experts) return {};
    return {expert_tokens.data() + expert_begin[std::size_t(e)],
            std::size_t(expert_begin[std::size_t(e) + 1] - expert_begin[std::size_t(e)])};
  }
  std::span<const std::int64_t> slots_of(int e) const {
    if (e >= num_experts) return {};
    return {expert_slots.data() + expert_begin[std::size_t(e)],
            std::size_t(expert_begin[std::size_t(e) + 1] - expert_begin[std::size_t(e)])};
  }
  // (token, expert) pairs that choose e: the token load the expert puts on its device.
  std::int64_t load(int e) const { return std::int64_t(tokens_of(e).size()); }
};

// Tokens [begin, end) of `routing`; ids are assumed valid for `experts` (validate_trace checked them).
// recent_weight W > 1 appends the later half of the range (tokens [begin + (end - begin) / 2, end)) W - 1
// more times, so recent tokens count W times in every objective built on the sets (routing drifts over
// a run, e.g. from prefill to decode, and the later tokens resemble what follows more).
TokenSets make_token_sets(const LayerRouting& routing, int experts, std::int64_t begin, std::int64_t end,
                          int recent_weight = 1);

}  // namespace occult::place
