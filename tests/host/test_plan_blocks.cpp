// Block-diagonal plans (sim/core/pair_matrix.hpp, plan.hpp): a cluster of independent expert-parallel
// groups stores only its diagonal blocks, and every reader sees the same numbers as with a dense matrix.
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "sim/core/cost_model.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

void expect_same_matrix(const PairMatrix& a, const PairMatrix& b) {
  ASSERT_EQ(a.size(), b.size());
  for (int s = 0; s < a.size(); ++s)
    for (int d = 0; d < a.size(); ++d) ASSERT_EQ(a.at(s, d), b.at(s, d)) << s << "->" << d;
}

void expect_same_plan(const CommPlan& a, const CommPlan& b) {
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.shape.devices, b.shape.devices);
  EXPECT_EQ(a.row_bytes, b.row_bytes);
  ASSERT_EQ(a.stages.size(), b.stages.size());
  for (std::size_t k = 0; k < a.stages.size(); ++k) {
    EXPECT_EQ(a.stages[k].kind, b.stages[k].kind);
    expect_same_matrix(a.stages[k].rows, b.stages[k].rows);
  }
  EXPECT_EQ(a.tokens_per_device, b.tokens_per_device);
  EXPECT_EQ(a.pairs_per_device, b.pairs_per_device);
  EXPECT_EQ(a.recv_rows_per_device, b.recv_rows_per_device);
  EXPECT_EQ(a.rows_per_expert, b.rows_per_expert);
}

TEST(PlanBlocks, BlockDiagonalMatrixReadsLikeItsDenseTwin) {
  std::mt19937 rng(3);
  const int n = 12, block = 4;
  PairMatrix sparse(n, block), dense(n);
  for (int s = 0; s < n; ++s)
    for (int d = sparse.band_begin(s); d < sparse.band_end(s); ++d)
      sparse.at(s, d) = dense.at(s, d) = std::int64_t(rng() % 7);
  EXPECT_EQ(sparse.block(), block);
  EXPECT_EQ(dense.block(), n);
  expect_same_matrix(sparse, dense);
  EXPECT_EQ(sparse.total(), dense.total());
  EXPECT_EQ(sparse.remote_total(), dense.remote_total());
  for (int i = 0; i < n; ++i)
    for (bool local : {true, false}) {
      EXPECT_EQ(sparse.row_sum(i, local), dense.row_sum(i, local)) << i;
    }
  const PairMatrix t = sparse.transposed();
  EXPECT_EQ(t.block(), block);
  expect_same_matrix(t, dense.transposed());
}

TEST(PlanBlocks, OutsideTheBlocksIsZeroAndReadOnly) {
  PairMatrix m(8, 4);
  const PairMatrix& c = m;
  EXPECT_EQ(c.at(0, 5), 0);
  EXPECT_EQ(c.at(7, 3), 0);
  EXPECT_THROW(m.at(0, 5), std::out_of_range);
  EXPECT_THROW(m.at(4, 3), std::out_of_range);
  EXPECT_NO_THROW(m.at(4, 7) = 1);
  EXPECT_THROW(PairMatrix(8, 3), std::invalid_argument);
  EXPECT_THROW(PairMatrix(8, 0), std::invalid_argument);
}

// analyze_layer's one walk over the tokens gives every strategy's plan, the same as build_plan's.
TEST(PlanBlocks, OneWalkBuildsEveryStrategysPlan) {
  TraceGenParams g;
  g.experts = 32;
  g.top_k = 4;
  g.tokens = 4096;
  g.skew = 1.0;
  g.affinity = 0.5;
  const LayerRouting r = generate_layer(g, 0);
  const ClusterShape shape{16, 4};
  const LayerPlacement pl = contiguous_placement(32, shape, 1).layer(0);
  const std::vector<Strategy> all = {Strategy::Hierarchical, Strategy::Standard, Strategy::Occult};
  LayerPlans plans;
  analyze_layer(r, pl, shape, 100, &plans);
  for (Strategy s : all) expect_same_plan(plans.of(s), build_plan(r, 32, pl, shape, s, 100));
}

// The cluster plan filled group by group equals the dense block-diagonal merge (the scenario layer's
// former path), and everything computed from it (bytes, compute times, block size) is the same.
TEST(PlanBlocks, GroupedClusterPlanEqualsTheDenseMerge) {
  const int groups = 4, n = 16, gpn = 8, D = groups * n;
  for (Strategy s : {Strategy::Standard, Strategy::Occult, Strategy::Hierarchical}) {
    CommPlan blocks = grouped_cluster_plan(s, {D, gpn}, n, 64, 7168 * 2);
    CommPlan dense = grouped_cluster_plan(s, {D, gpn}, D, 64, 7168 * 2);
    for (int g = 0; g < groups; ++g) {
      const CommPlan p = test::routed_plan(n, gpn, s, 1.2, n * 256, 64, 8, 11 + std::uint64_t(g));
      set_group_plan(blocks, p, g);
      for (std::size_t k = 0; k < p.stages.size(); ++k)
        for (int a = 0; a < n; ++a)
          for (int b = 0; b < n; ++b)
            dense.stages[k].rows.at(g * n + a, g * n + b) = p.stages[k].rows.at(a, b);
      for (int a = 0; a < n; ++a) {
        dense.tokens_per_device[std::size_t(g * n + a)] = p.tokens_per_device[std::size_t(a)];
        dense.pairs_per_device[std::size_t(g * n + a)] = p.pairs_per_device[std::size_t(a)];
        dense.recv_rows_per_device[std::size_t(g * n + a)] = p.recv_rows_per_device[std::size_t(a)];
      }
      for (std::size_t e = 0; e < p.rows_per_expert.size(); ++e)
        dense.rows_per_expert[e] += p.rows_per_expert[e];
    }
    EXPECT_EQ(blocks.stages[0].rows.block(), n);
    EXPECT_EQ(dense.stages[0].rows.block(), D);
    expect_same_plan(blocks, dense);

    const ByteSummary a = summarize_bytes(blocks), b = summarize_bytes(dense);
    EXPECT_EQ(a.total, b.total);
    EXPECT_EQ(a.inter_node, b.inter_node);
    EXPECT_EQ(a.max_send, b.max_send);
    EXPECT_EQ(a.max_recv_inter, b.max_recv_inter);
    EXPECT_GT(a.inter_node, 0);

    const CostModel cost = CostModel::roofline({});
    ModelConfig model;
    model.experts = 64;
    model.top_k = 8;
    model.hidden = 7168;
    model.ffn = 2048;
    const std::vector<int> local(std::size_t(D), 4);
    const LayerWork wa = cost.layer_work(blocks, model, local, Mode::Prefill);
    const LayerWork wb = cost.layer_work(dense, model, local, Mode::Prefill);
    EXPECT_EQ(wa.pack_s, wb.pack_s);
    EXPECT_EQ(wa.unpack_s, wb.unpack_s);
    EXPECT_EQ(wa.expert_fwd_s, wb.expert_fwd_s);
  }
}

TEST(PlanBlocks, GroupPlanMustFitItsBlock) {
  CommPlan cluster = grouped_cluster_plan(Strategy::Occult, {32, 8}, 16, 64, 7168 * 2);
  const CommPlan wrong_size = test::routed_plan(8, 8, Strategy::Occult, 0, 1024, 64, 8);
  EXPECT_THROW(set_group_plan(cluster, wrong_size, 0), std::invalid_argument);
  const CommPlan other = test::routed_plan(16, 8, Strategy::Standard, 0, 1024, 64, 8);
  EXPECT_THROW(set_group_plan(cluster, other, 0), std::invalid_argument);
  const CommPlan fits = test::routed_plan(16, 8, Strategy::Occult, 0, 1024, 64, 8);
  EXPECT_THROW(set_group_plan(cluster, fits, 2), std::invalid_argument);  // past the cluster's end
  EXPECT_NO_THROW(set_group_plan(cluster, fits, 1));
  EXPECT_THROW(grouped_cluster_plan(Strategy::Occult, {32, 8}, 12, 64, 10), InputError);
}

}  // namespace
}  // namespace occult
