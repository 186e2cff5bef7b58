// Plans on random routings: rows are conserved and agree with the metrics' view of each token.
#include <gtest/gtest.h>

#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

TEST(PlanProperties, RowsAreConservedForEveryStrategy) {
  std::mt19937_64 rng(99);
  for (int iter = 0; iter < 100; ++iter) {
    const int E = 32, k = 1 + iter % 8;
    const int D = (iter % 3 == 0) ? 8 : (iter % 3 == 1 ? 16 : 4);
    const int G = (iter % 2 == 0) ? 4 : 2;
    const ClusterShape shape{D, G};
    const std::int64_t T = 1 + iter * 7;
    const auto routing = analysis_test::random_routing(rng, E, k, T, iter % 2 == 0);
    const auto placement = analysis_test::random_placement(rng, E, D);
    std::int64_t sum_dev = 0, sum_remote_nodes = 0;
    for (std::int64_t t = 0; t < T; ++t) {
      const auto ref = analysis_test::ref_token(routing, placement, shape, t);
      sum_dev += std::int64_t(ref.devices.size());
      sum_remote_nodes +=
          std::int64_t(ref.nodes.size()) - std::int64_t(ref.nodes.count(shape.node_of(ref.src)));
    }
    const auto st = build_plan(routing, E, placement, shape, Strategy::Standard, 3);
    const auto oc = build_plan(routing, E, placement, shape, Strategy::Occult, 3);
    const auto hi = build_plan(routing, E, placement, shape, Strategy::Hierarchical, 3);

    EXPECT_EQ(st.stages[0].rows.total(), T * k);    // every (token, expert) pair, diagonal included
    EXPECT_EQ(oc.stages[0].rows.total(), sum_dev);  // every (token, destination device)
    // Hierarchical: rows reaching a computing device are one per (token, destination device);
    // the rest are the network rows to relays, one per (token, remote node).
    const PairMatrix& net = hi.stages[0].rows;
    std::int64_t own_node = 0, to_relay = 0;
    for (int s = 0; s < D; ++s)
      for (int d = 0; d < D; ++d)
        (shape.node_of(s) == shape.node_of(d) ? own_node : to_relay) += net.at(s, d);
    EXPECT_EQ(to_relay, sum_remote_nodes);
    EXPECT_EQ(own_node + hi.stages[1].rows.total(), sum_dev);
    // The fan-out never leaves a node.
    for (int s = 0; s < D; ++s)
      for (int d = 0; d < D; ++d)
        if (shape.node_of(s) != shape.node_of(d)) {
          EXPECT_EQ(hi.stages[1].rows.at(s, d), 0);
        }

    for (const CommPlan* p : {&st, &oc, &hi}) {
      std::int64_t tokens = 0, pairs = 0, experts = 0;
      for (auto x : p->tokens_per_device) tokens += x;
      for (auto x : p->pairs_per_device) pairs += x;
      for (auto x : p->rows_per_expert) experts += x;
      EXPECT_EQ(tokens, T);
      EXPECT_EQ(pairs, T * k);
      EXPECT_EQ(experts, T * k);
    }
    const PairMatrix oc_in = oc.stages[0].rows.transposed(), st_in = st.stages[0].rows.transposed();
    for (int d = 0; d < D; ++d) {
      EXPECT_EQ(oc.recv_rows_per_device[std::size_t(d)], oc_in.row_sum(d, true));
      EXPECT_EQ(hi.recv_rows_per_device[std::size_t(d)], oc.recv_rows_per_device[std::size_t(d)]);
      EXPECT_EQ(st.recv_rows_per_device[std::size_t(d)], st_in.row_sum(d, true));
    }
    // The metrics summarise exactly these plans.
    const auto m = analyze_layer(routing, placement, shape, 3);
    EXPECT_EQ(m.bytes_standard.total, summarize_bytes(st).total);
    EXPECT_EQ(m.bytes_occult.total, summarize_bytes(oc).total);
    EXPECT_EQ(m.bytes_hierarchical.total, summarize_bytes(hi).total);
    EXPECT_EQ(m.bytes_occult.total, oc.stages[0].rows.remote_total() * 3);
  }
}

TEST(PlanProperties, GpusPerNodeOneMakesHierarchicalEqualOccult) {
  std::mt19937_64 rng(5);
  const auto routing = analysis_test::random_routing(rng, 16, 4, 400);
  const auto p = analysis_test::random_placement(rng, 16, 8);
  const auto oc = build_plan(routing, 16, p, {8, 1}, Strategy::Occult, 1);
  const auto hi = build_plan(routing, 16, p, {8, 1}, Strategy::Hierarchical, 1);
  for (int s = 0; s < 8; ++s)
    for (int d = 0; d < 8; ++d) EXPECT_EQ(hi.stages[0].rows.at(s, d), oc.stages[0].rows.at(s, d));
  EXPECT_EQ(hi.stages[1].rows.remote_total(), 0);
}

TEST(PlanProperties, EmptyRoutingGivesEmptyPlan) {
  LayerRouting r;
  r.top_k = 4;
  const auto plan = build_plan(r, 8, analysis_test::contiguous(8, 2), {2, 1}, Strategy::Occult, 8);
  EXPECT_EQ(plan.stages[0].rows.total(), 0);
  EXPECT_EQ(plan.tokens_per_device, (std::vector<std::int64_t>{0, 0}));
}

TEST(PlanProperties, RejectsMismatchedPlacement) {
  LayerRouting r;
  r.top_k = 1;
  r.experts = {0};
  EXPECT_THROW(build_plan(r, 16, analysis_test::contiguous(8, 2), {2, 1}, Strategy::Occult, 8), InputError);
  EXPECT_THROW(build_plan(r, 8, analysis_test::contiguous(8, 2), {2, 4}, Strategy::Occult, 8), InputError);
}

}  // namespace
}  // namespace occult
