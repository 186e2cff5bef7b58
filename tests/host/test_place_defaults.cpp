// The defaults of `occult place` on routing that drifts: held-out quality no worse than other option
// sets (within 1%), and the in-sample optimum of the holdout below what placing from the profile
// achieves.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/place/trace_placer.hpp"
#include "tests/host/test_place_support.hpp"

namespace occult::place {
namespace {

using testing::drifting_trace;

PlaceOptions options(int restarts, int recent_weight) {
  PlaceOptions o;
  o.algo = Algo::Metis;
  o.shape = {4, 1};
  o.restarts = restarts;
  o.recent_weight = recent_weight;
  return o;
}

double holdout_ct(const Trace& t, const PlaceOptions& o) {
  return evaluate_split(t, place_trace(t, o, 0.5), 0.5).at("holdout").at("ct_occult").get<double>();
}

// Each layer: 600 tokens of one routing, then 1,800 of another. The profile (first half) is 600 + 600
// tokens, the holdout 1,200 tokens of the later routing only.
TEST(PlaceDefaults, NoWorseThanFixedOptionsWhenRoutingDrifts) {
  const auto trace = drifting_trace(4, 600, 1800);
  const double defaults = holdout_ct(trace, options(kCliRestarts, kCliRecentWeight));
  const double old_defaults = holdout_ct(trace, options(2, 1));
  // Other option sets: fewer or more restarts with any weight, and the weight chosen per trace.
  double best_other = holdout_ct(trace, options(kCliRestarts, 0));
  for (int r : {2, 32})
    for (int w : {1, 2, 3, 4, 6, 8}) best_other = std::min(best_other, holdout_ct(trace, options(r, w)));
  RecordProperty("holdout_ct_defaults", std::to_string(defaults));
  RecordProperty("holdout_ct_best_other", std::to_string(best_other));
  // Half the profile routes unlike the holdout: without recency weighting ct_occult is 2.22 here,
  // with it 1.84 to 1.86 (seed 1).
  EXPECT_LT(defaults, 0.9 * old_defaults);
  // The best of 13 other option sets is a minimum over seed-dependent results, about 0.5% apart for
  // any weight >= 3 here; the defaults must come within 1% of it.
  EXPECT_LE(defaults, best_other * 1.01) << "best other option set " << best_other;
}

TEST(PlaceDefaults, HoldoutOptimumShowsTheGeneralisationGap) {
  const auto trace = drifting_trace(2, 600, 1800);
  const auto o = options(kCliRestarts, kCliRecentWeight);
  const auto optimum = holdout_optimum(trace, o, 0.5);
  ASSERT_FALSE(optimum.is_null());
  EXPECT_EQ(optimum.at("tokens").get<std::int64_t>(), 2 * 1200);
  const double placed = holdout_ct(trace, o);
  EXPECT_LT(optimum.at("ct_occult").get<double>(), placed);  // fitted to the holdout itself
  EXPECT_TRUE(holdout_optimum(trace, o, 1.0).is_null());     // no holdout, no optimum
}

}  // namespace
}  // namespace occult::place
