// Recency weighting of the profile (make_token_sets' recent_weight) and its choice by validation.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sim/place/group_objective.hpp"
#include "sim/place/trace_placer.hpp"
#include "tests/host/test_place_support.hpp"

namespace occult::place {
namespace {

using testing::drifting_trace;
using testing::small_params;

TEST(PlaceRecency, RecentWeightRepeatsTheLaterHalfOfTheRange) {
  const auto r = generate_layer(small_params(16, 4, 101, 3), 0);
  const auto plain = make_token_sets(r, 16, 10, 101);
  const auto weighted = make_token_sets(r, 16, 10, 101, 3);
  const std::int64_t mid = 10 + 91 / 2;  // later half: tokens [55, 101), 46 tokens
  ASSERT_EQ(weighted.tokens(), 91 + 2 * 46);
  const auto recent = make_token_sets(r, 16, mid, 101);
  for (int e = 0; e < 16; ++e) EXPECT_EQ(weighted.load(e), plain.load(e) + 2 * recent.load(e)) << e;
  for (std::int64_t t = 0; t < 46; ++t) {
    auto a = weighted.experts_of(91 + t), b = weighted.experts_of(91 + 46 + t), c = recent.experts_of(t);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), c.begin(), c.end()));
    EXPECT_TRUE(std::equal(b.begin(), b.end(), c.begin(), c.end()));
  }
  // The slot index of every (expert, token) entry points back at the expert.
  for (int e = 0; e < 16; ++e) {
    auto tokens = weighted.tokens_of(e);
    auto slots = weighted.slots_of(e);
    ASSERT_EQ(tokens.size(), slots.size());
    for (std::size_t i = 0; i < slots.size(); ++i) {
      EXPECT_EQ(weighted.token_experts[std::size_t(slots[i])], e);
      EXPECT_GE(slots[i], weighted.token_begin[std::size_t(tokens[i])]);
      EXPECT_LT(slots[i], weighted.token_begin[std::size_t(tokens[i]) + 1]);
    }
  }
  EXPECT_THROW(make_token_sets(r, 16, 0, 10, 0), std::invalid_argument);
}

// swap_deltas (from the incrementally kept counters and pair matrix, no token scan) against swap_delta
// (a from-scratch pass) after many swaps, on weighted sets (repeated tokens).
TEST(PlaceRecency, AllPartnerDeltasStayExactAcrossSwaps) {
  const auto r = generate_layer(small_params(24, 4, 400, 9), 0);
  const auto ts = make_token_sets(r, 24, 0, r.tokens(), 2);
  std::vector<int> group_of(24);
  for (int e = 0; e < 24; ++e) group_of[std::size_t(e)] = e % 6;
  GroupObjective obj(ts, group_of, 6);
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> pick(0, 23);
  std::vector<std::int64_t> deltas;
  for (int i = 0; i < 60; ++i) {
    const int a = pick(rng);
    obj.swap_deltas(a, deltas);
    for (int b = 0; b < 24; ++b)
      ASSERT_EQ(deltas[std::size_t(b)], obj.swap_delta(a, b)) << i << " " << a << " " << b;
    obj.swap(a, pick(rng));
  }
  EXPECT_EQ(obj.total(), GroupObjective(ts, obj.group_of(), 6).total());
}

// drifting_trace(): the first half of the profile comes from one set of co-activation clusters, the
// rest of each layer from another. Recency weighting must then be chosen, and the choice is what the
// file says.
TEST(PlaceRecency, AutoChoosesOnTheProfileAndMatchesTheFixedWeight) {
  const auto trace = drifting_trace();
  PlaceOptions o;
  o.algo = Algo::Metis;
  o.shape = {4, 1};
  o.recent_weight = 0;
  const auto chosen = place_trace(trace, o, 0.5);
  const int w = chosen.params.at("recent_weight").get<int>();
  EXPECT_GT(w, 1) << chosen.params.dump();
  EXPECT_EQ(chosen.params.at("recent_weight_validation").size(), recent_weight_candidates().size());
  o.recent_weight = w;
  const auto fixed = place_trace(trace, o, 0.5);
  for (std::size_t l = 0; l < 2; ++l) EXPECT_EQ(chosen.layers[l].device_of, fixed.layers[l].device_of);
  o.recent_weight = 0;
  EXPECT_EQ(place_trace(trace, o, 0.5, {}, 2).params, chosen.params) << "threads change nothing";
}

}  // namespace
}  // namespace occult::place
