// Collaboration pruning on random routings: the limit always holds, weights keep their mass, the
// fidelity metrics count what actually survived.
#include <gtest/gtest.h>

#include <set>

#include "sim/core/metrics.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/routing_resolve.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

void check_pruned(const LayerRouting& before, const PrunedLayer& after, const LayerPlacement& p,
                  const ClusterShape& shape, const StrategySpec& spec) {
  const int k = before.top_k;
  const std::int64_t T = before.tokens();
  ASSERT_EQ(after.routing.tokens(), T);
  TokenWalker walker(p, shape, k);
  std::int64_t kept = 0;
  double mass = 0, kept_mass = 0;
  for (std::int64_t t = 0; t < T; ++t) {
    const auto& d = walker.resolve_token(after.routing, t, T);
    EXPECT_LE(spec.prune_nodes ? d.nodes.size() : d.devices.size(), std::size_t(spec.prune_limit))
        << "token " << t;
    std::set<int> orig(before.token_experts(t).begin(), before.token_experts(t).end());
    std::set<int> seen;
    double w_before = 0, w_after = 0;
    for (int j = 0; j < k; ++j) {
      const std::int32_t e = after.routing.token_experts(t)[std::size_t(j)];
      w_before += before.weight(t, j);
      w_after += after.routing.weight(t, j);
      if (e == kDroppedExpert) {
        EXPECT_EQ(after.routing.weight(t, j), 0.0f);
        continue;
      }
      EXPECT_TRUE(seen.insert(e).second) << "expert chosen twice by token " << t;
      if (e == before.token_experts(t)[std::size_t(j)]) ++kept, kept_mass += before.weight(t, j);
      if (spec.criterion == PruneCriterion::Score) {
        EXPECT_TRUE(orig.count(e)) << "score never adds experts";
      }
    }
    mass += w_before;
    EXPECT_NEAR(w_after, w_before, 1e-5) << "token " << t << " keeps its gate mass";
  }
  EXPECT_EQ(after.fidelity.kept_choices, kept);
  EXPECT_EQ(after.fidelity.choices, T * k);
  EXPECT_NEAR(after.fidelity.mass_fraction(), kept_mass / mass, 1e-6);
  EXPECT_GE(after.fidelity.choice_fraction(), 0.0);
  EXPECT_LE(after.fidelity.choice_fraction(), 1.0);
}

TEST(PruneProperties, LimitHoldsOnRandomRoutings) {
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 60; ++iter) {
    const int E = 32, D = iter % 2 ? 8 : 16, G = 4, k = 2 + iter % 7;
    const ClusterShape shape{D, G};
    const auto routing = analysis_test::random_routing(rng, E, k, 120, iter % 3 == 0);
    auto placement = analysis_test::random_placement(rng, E, D);
    if (iter % 4 == 3) {  // some experts replicated
      placement.replicas.assign(std::size_t(E), {});
      for (int e = 0; e < E; e += 3) placement.replicas[std::size_t(e)] = {int(rng() % D), int(rng() % D)};
    }
    for (const char* s :
         {"pruned:1", "pruned:2", "pruned:3/similarity", "node-limited:1", "node-limited:2/similarity"}) {
      SCOPED_TRACE(::testing::Message() << "iter " << iter << " " << s);
      const auto spec = parse_strategy(s);
      const auto out = prune_layer(routing, placement, shape, spec);
      check_pruned(routing, out, placement, shape, spec);
      const auto before = analyze_layer(routing, placement, shape, 1);
      const auto after = analyze_layer(out.routing, placement, shape, 1);
      if (spec.prune_nodes) {  // a substitute may add a device inside an allowed node, never a node
        EXPECT_LE(after.remote_ct_node, before.remote_ct_node + 1e-12);
        EXPECT_LE(after.bytes_hierarchical.inter_node, before.bytes_hierarchical.inter_node);
      } else {
        EXPECT_LE(after.remote_ct_occult, before.remote_ct_occult + 1e-12);
        EXPECT_LE(after.bytes_occult.total, before.bytes_occult.total);
      }
    }
  }
}

TEST(PruneProperties, SimilarityKeepsMoreChoicesThanScoreNeverFewer) {
  std::mt19937_64 rng(43);
  const auto routing = analysis_test::random_routing(rng, 64, 8, 2000, true);
  const auto placement = analysis_test::random_placement(rng, 64, 16);
  const auto score = prune_layer(routing, placement, {16, 4}, parse_strategy("pruned:2"));
  const auto sim = prune_layer(routing, placement, {16, 4}, parse_strategy("pruned:2/similarity"));
  // Same devices kept either way, so the same original choices survive; similarity refills the rest.
  EXPECT_EQ(score.fidelity.kept_choices, sim.fidelity.kept_choices);
  EXPECT_DOUBLE_EQ(score.fidelity.kept_gate_mass, sim.fidelity.kept_gate_mass);
  EXPECT_GT(sim.fidelity.replaced, 0);
  const auto m_score = analyze_layer(score.routing, placement, {16, 4}, 1);
  const auto m_sim = analyze_layer(sim.routing, placement, {16, 4}, 1);
  EXPECT_GT(m_sim.ct_standard, m_score.ct_standard);
  EXPECT_LE(m_sim.ct_occult, 2.0);
}

TEST(PruneProperties, UnprunedSpecIsTheIdentity) {
  std::mt19937_64 rng(44);
  const auto routing = analysis_test::random_routing(rng, 16, 4, 50);
  const auto out = prune_layer(routing, analysis_test::contiguous(16, 4), {4, 1}, parse_strategy("occult"));
  EXPECT_EQ(out.routing.experts, routing.experts);
  EXPECT_DOUBLE_EQ(out.fidelity.choice_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(out.fidelity.mass_fraction(), 1.0);
}

TEST(PruneProperties, ImplicitUniformWeightsBecomeExplicit) {
  LayerRouting r;
  r.top_k = 2;
  r.experts = {0, 7};
  const auto out = prune_layer(r, analysis_test::contiguous(8, 4), {4, 1}, parse_strategy("pruned:1"));
  EXPECT_EQ(out.routing.experts, (std::vector<std::int32_t>{0, kDroppedExpert}));  // tie: lower device
  EXPECT_EQ(out.routing.weights, (std::vector<float>{1.0f, 0.0f}));
  EXPECT_DOUBLE_EQ(out.fidelity.mass_fraction(), 0.5);
}

}  // namespace
}  // namespace occult
