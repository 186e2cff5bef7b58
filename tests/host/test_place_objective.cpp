// The incremental evaluator and the swap refinement against from-scratch recomputation.
#include <gtest/gtest.h>

#include <random>

#include "sim/place/coactivation_graph.hpp"
#include "sim/place/group_objective.hpp"
#include "sim/place/swap_refine.hpp"
#include "tests/host/test_place_support.hpp"

namespace occult::place {
namespace {

using testing::mean_groups;
using testing::small_params;

TEST(PlaceObjective, SwapDeltaIsExactAndBoundIsBelowIt) {
  const auto r = generate_layer(small_params(32, 4, 600, 7), 0);
  const auto ts = make_token_sets(r, 32, 0, r.tokens());
  std::vector<int> group_of(32);
  for (int e = 0; e < 32; ++e) group_of[std::size_t(e)] = e % 8;
  GroupObjective obj(ts, group_of, 8);
  EXPECT_DOUBLE_EQ(double(obj.total()) / double(r.tokens()), mean_groups(r, obj.group_of()));
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> pick(0, 31);
  for (int i = 0; i < 300; ++i) {
    const int a = pick(rng), b = pick(rng);
    const auto before = obj.total();
    const auto delta = obj.swap_delta(a, b);
    EXPECT_LE(obj.swap_lower_bound(a, b), delta) << a << " " << b;
    obj.swap(a, b);
    EXPECT_EQ(obj.total(), before + delta);
    ASSERT_DOUBLE_EQ(double(obj.total()) / double(r.tokens()), mean_groups(r, obj.group_of()));
  }
}

TEST(PlaceObjective, RefinementNeverWorsensAndKeepsGroupSizes) {
  const auto r = generate_layer(small_params(64, 8, 2000, 11), 0);
  const auto ts = make_token_sets(r, 64, 0, r.tokens());
  std::vector<int> group_of(64);
  for (int e = 0; e < 64; ++e) group_of[std::size_t(e)] = e / 8;
  GroupObjective obj(ts, group_of, 8);
  const auto before = obj.total();
  refine_by_swaps(obj, {}, 1);
  EXPECT_LT(obj.total(), before);
  EXPECT_DOUBLE_EQ(double(obj.total()) / double(r.tokens()), mean_groups(r, obj.group_of()));
  std::vector<int> size(8, 0);
  for (int g : obj.group_of()) ++size[std::size_t(g)];
  for (int s : size) EXPECT_EQ(s, 8);
}

TEST(PlaceObjective, ParentRuleKeepsVerticesInsideTheirParent) {
  const auto r = generate_layer(small_params(32, 4, 800, 5), 0);
  const auto ts = make_token_sets(r, 32, 0, r.tokens());
  std::vector<int> group_of(32);
  for (int e = 0; e < 32; ++e) group_of[std::size_t(e)] = e % 8;
  GroupObjective obj(ts, group_of, 8);
  SwapRules rules;
  rules.parent_of_group = {0, 0, 0, 0, 1, 1, 1, 1};
  refine_by_swaps(obj, rules, 2);
  for (int e = 0; e < 32; ++e) EXPECT_EQ(obj.group_of()[std::size_t(e)] / 4, (e % 8) / 4);
}

// The co-activation counts as a dense E x E matrix (symmetric, zero diagonal).
std::vector<std::int64_t> dense_weights(const CoactivationGraph& g) {
  const auto E = boost::num_vertices(g);
  std::vector<std::int64_t> w(E * E, 0);
  for (auto [it, end] = boost::edges(g); it != end; ++it) {
    auto a = boost::source(*it, g), b = boost::target(*it, g);
    w[a * E + b] = w[b * E + a] = g[*it].weight;
  }
  return w;
}

TEST(PlaceObjective, CoactivationGraphCountsPairsAndLoads) {
  LayerRouting r;
  r.top_k = 3;
  r.experts = {0, 1, 2, 0, 1, 3, 2, 2, 1};  // the last token repeats expert 2: one pair {1,2}
  const auto ts = make_token_sets(r, 4, 0, 3);
  const auto g = build_coactivation_graph(ts);
  const auto w = dense_weights(g);
  EXPECT_EQ(w[0 * 4 + 1], 2);
  EXPECT_EQ(w[1 * 4 + 2], 2);
  EXPECT_EQ(w[0 * 4 + 2], 1);
  EXPECT_EQ(w[2 * 4 + 3], 0);
  EXPECT_EQ(g[2].load, 2);
  EXPECT_EQ(g[1].load, 3);
  EXPECT_EQ(boost::num_edges(g), 5u);
}

}  // namespace
}  // namespace occult::place
