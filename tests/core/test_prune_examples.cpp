// Collaboration pruning on hand examples: E=8 on D=4 (experts 2d, 2d+1 on device d), G=2, two
// tokens: t0 from device 0, t1 from device 2.
//   t0: experts {0, 2, 4, 6} (devices 0, 1, 2, 3), weights {0.4, 0.3, 0.2, 0.1}
//   t1: experts {1, 3, 5, 7} (devices 0, 1, 2, 3), weights all 0.25 (ties everywhere)
#include <gtest/gtest.h>

#include "sim/core/metrics.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/routing_resolve.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

LayerRouting example() {
  LayerRouting r;
  r.top_k = 4;
  r.experts = {0, 2, 4, 6, 1, 3, 5, 7};
  r.weights = {0.4f, 0.3f, 0.2f, 0.1f, 0.25f, 0.25f, 0.25f, 0.25f};
  return r;
}
const ClusterShape kShape{4, 2};

TEST(PruneExample, ScoreKeepsTheHeaviestDevicesAndRenormalises) {
  const auto out =
      prune_layer(example(), analysis_test::contiguous(8, 4), kShape, parse_strategy("pruned:2"));
  const std::int32_t X = kDroppedExpert;
  EXPECT_EQ(out.routing.experts,
            (std::vector<std::int32_t>{0, 2, X, X, 1, X, 5, X}));  // t1: tie -> own device 2, then 0
  EXPECT_NEAR(out.routing.weights[0], 0.4 / 0.7, 1e-6);
  EXPECT_NEAR(out.routing.weights[1], 0.3 / 0.7, 1e-6);
  EXPECT_EQ(out.routing.weights[2], 0.0f);
  EXPECT_NEAR(out.routing.weights[4], 0.5, 1e-6);
  EXPECT_NEAR(out.routing.weights[6], 0.5, 1e-6);
  EXPECT_EQ(out.fidelity.choices, 8);
  EXPECT_EQ(out.fidelity.kept_choices, 4);
  EXPECT_DOUBLE_EQ(out.fidelity.choice_fraction(), 0.5);
  EXPECT_NEAR(out.fidelity.mass_fraction(), 1.2 / 2.0, 1e-6);
  EXPECT_EQ(out.fidelity.tokens_pruned, 2);
  EXPECT_EQ(out.fidelity.replaced, 0);

  const auto m = analyze_layer(out.routing, analysis_test::contiguous(8, 4), kShape, 1);
  EXPECT_DOUBLE_EQ(m.ct_occult, 2.0);
  EXPECT_DOUBLE_EQ(m.ct_standard, 2.0);  // two experts left per token
  EXPECT_EQ(m.pairs, 4);
  EXPECT_DOUBLE_EQ(m.intra_ratio, 0.0);
}

TEST(PruneExample, NodeLimitedKeepsWholeNodes) {
  const auto out =
      prune_layer(example(), analysis_test::contiguous(8, 4), kShape, parse_strategy("node-limited:1"));
  const std::int32_t X = kDroppedExpert;
  // t0: node 0 holds 0.7 of the mass; t1: 0.5 each, the tie goes to t1's own node 1.
  EXPECT_EQ(out.routing.experts, (std::vector<std::int32_t>{0, 2, X, X, X, X, 5, 7}));
  EXPECT_NEAR(out.fidelity.mass_fraction(), 0.6, 1e-6);
  EXPECT_DOUBLE_EQ(analyze_layer(out.routing, analysis_test::contiguous(8, 4), kShape, 1).ct_node, 1.0);
}

TEST(PruneExample, LimitAtOrAboveTheDevicesUsedChangesNothing) {
  const auto out =
      prune_layer(example(), analysis_test::contiguous(8, 4), kShape, parse_strategy("pruned:4"));
  EXPECT_EQ(out.routing.experts, example().experts);
  EXPECT_EQ(out.routing.weights, example().weights);
  EXPECT_DOUBLE_EQ(out.fidelity.choice_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(out.fidelity.mass_fraction(), 1.0);
  EXPECT_EQ(out.fidelity.tokens_pruned, 0);
}

TEST(PruneExample, SimilarityReplacesEachDroppedExpertByItsClosestAllowedOne) {
  // Profile: 4 and 1 co-activate with the same partner (5), and so do 6 and 3 (partner 7).
  LayerRouting profile;
  profile.top_k = 2;
  profile.experts = {4, 5, 1, 5, 6, 7, 3, 7};
  const auto sim = SimilarityMatrix::profile(profile, 8);
  EXPECT_DOUBLE_EQ(sim.at(4, 1), 1.0);
  EXPECT_DOUBLE_EQ(sim.at(6, 3), 1.0);
  EXPECT_DOUBLE_EQ(sim.at(4, 3), 0.0);
  EXPECT_EQ(sim.neighbours(4)[0], 1);

  LayerRouting one;
  one.top_k = 4;
  one.experts = {0, 2, 4, 6};
  one.weights = {0.4f, 0.3f, 0.2f, 0.1f};
  const auto out =
      prune_layer(one, analysis_test::contiguous(8, 4), kShape, parse_strategy("pruned:2/similarity"), &sim);
  EXPECT_EQ(out.routing.experts, (std::vector<std::int32_t>{0, 2, 1, 3}));
  EXPECT_EQ(out.routing.weights, one.weights);  // substitutes carry the dropped weight
  EXPECT_EQ(out.fidelity.kept_choices, 2);
  EXPECT_EQ(out.fidelity.replaced, 2);
  EXPECT_NEAR(out.fidelity.mass_fraction(), 0.7, 1e-6);
  EXPECT_DOUBLE_EQ(analyze_layer(out.routing, analysis_test::contiguous(8, 4), kShape, 1).ct_occult, 2.0);
}

TEST(PruneExample, SimilarityDropsWhenNoAllowedExpertIsLeft) {
  // pruned:1 on a token using both experts of its heaviest device leaves nothing to substitute.
  LayerRouting one;
  one.top_k = 3;
  one.experts = {0, 1, 2};
  one.weights = {0.5f, 0.3f, 0.2f};
  const auto out =
      prune_layer(one, analysis_test::contiguous(8, 4), kShape, parse_strategy("pruned:1/similarity"));
  EXPECT_EQ(out.routing.experts, (std::vector<std::int32_t>{0, 1, kDroppedExpert}));
  EXPECT_NEAR(out.routing.weights[0], 0.5 / 0.8, 1e-6);
  EXPECT_EQ(out.fidelity.replaced, 0);
}

TEST(PruneExample, RejectsASimilarityForAnotherExpertCount) {
  LayerRouting profile;
  profile.top_k = 2;
  profile.experts = {0, 1};
  const auto sim = SimilarityMatrix::profile(profile, 4);
  EXPECT_THROW(prune_layer(example(), analysis_test::contiguous(8, 4), kShape,
                           parse_strategy("pruned:1/similarity"), &sim),
               InputError);
}

}  // namespace
}  // namespace occult
