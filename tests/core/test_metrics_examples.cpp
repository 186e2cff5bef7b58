// Hand-computed tiny example: E=8, k=3, D=4 (experts 2d, 2d+1 on device d), G=2 (devices 0,1 on
// node 0; 2,3 on node 1), one token per device (token t comes from device t), rows of 10 bytes.
//   t0 from dev 0: experts {0,1,2} -> devices {0,0,1}
//   t1 from dev 1: experts {4,5,6} -> devices {2,2,3}
//   t2 from dev 2: experts {4,5,6} -> devices {2,2,3}
//   t3 from dev 3: experts {0,1,5} -> devices {0,0,2}
#include <gtest/gtest.h>

#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

LayerRouting example_routing() {
  LayerRouting r;
  r.layer = 3;
  r.top_k = 3;
  r.experts = {0, 1, 2, 4, 5, 6, 4, 5, 6, 0, 1, 5};
  return r;
}
const ClusterShape kShape{4, 2};

TEST(MetricsExample, CollaborationMetrics) {
  const auto m = analyze_layer(example_routing(), analysis_test::contiguous(8, 4), kShape, 10);
  EXPECT_EQ(m.layer, 3);
  EXPECT_EQ(m.tokens, 4);
  EXPECT_DOUBLE_EQ(m.ct_standard, 3.0);
  EXPECT_DOUBLE_EQ(m.ct_occult, 2.0);           // |Dev_t| = 2, 2, 2, 2
  EXPECT_DOUBLE_EQ(m.ct_node, 1.25);            // |Node_t| = 1, 1, 1, 2
  EXPECT_DOUBLE_EQ(m.remote_ct_standard, 2.0);  // 1 + 3 + 1 + 3 slots off the source device
  EXPECT_DOUBLE_EQ(m.remote_ct_occult, 1.5);    // 1 + 2 + 1 + 2
  EXPECT_DOUBLE_EQ(m.remote_ct_node, 0.5);      // t1 and t3 reach the other node
  EXPECT_DOUBLE_EQ(m.intra_ratio, 4.0 / 12.0);  // one same-device pair per token, 3 pairs each
  EXPECT_EQ(m.pairs_per_device, (std::vector<std::int64_t>{4, 1, 5, 2}));
  EXPECT_DOUBLE_EQ(m.load_imbalance, 5.0 / 3.0);
}

TEST(MetricsExample, BytesPerStrategy) {
  const auto m = analyze_layer(example_routing(), analysis_test::contiguous(8, 4), kShape, 10);
  // standard rows: 0->1, 1->2 x2, 1->3, 2->3, 3->0 x2, 3->2
  EXPECT_EQ(m.bytes_standard.total, 80);
  EXPECT_EQ(m.bytes_standard.intra_node, 30);
  EXPECT_EQ(m.bytes_standard.inter_node, 50);
  EXPECT_EQ(m.bytes_standard.max_send, 30);
  EXPECT_EQ(m.bytes_standard.max_recv, 30);
  EXPECT_EQ(m.bytes_standard.max_send_inter, 30);
  // occult rows: 0->1, 1->2, 1->3, 2->3, 3->0, 3->2
  EXPECT_EQ(m.bytes_occult.total, 60);
  EXPECT_EQ(m.bytes_occult.intra_node, 30);
  EXPECT_EQ(m.bytes_occult.inter_node, 30);
  EXPECT_EQ(m.bytes_occult.max_send, 20);
  EXPECT_EQ(m.bytes_occult.max_recv, 20);
  // hierarchical: network 0->1, 1->3 (relay), 2->3, 3->1 (relay), 3->2; fanout 3->2, 1->0
  EXPECT_EQ(m.bytes_hierarchical.total, 70);
  EXPECT_EQ(m.bytes_hierarchical.inter_node, 20);
  EXPECT_EQ(m.bytes_hierarchical.intra_node, 50);
  EXPECT_EQ(m.bytes_hierarchical.max_send, 30);
  EXPECT_EQ(m.bytes_hierarchical.max_recv, 20);
  EXPECT_EQ(m.bytes_hierarchical.max_send_inter, 10);
  EXPECT_EQ(m.bytes_hierarchical.max_recv_inter, 10);
  EXPECT_EQ(m.bytes_hierarchical.max_send_intra, 20);
}

TEST(PlanExample, HierarchicalStages) {
  const auto plan =
      build_plan(example_routing(), 8, analysis_test::contiguous(8, 4), kShape, Strategy::Hierarchical, 10);
  ASSERT_EQ(plan.stages.size(), 2u);
  EXPECT_EQ(plan.stages[0].kind, PlanStage::Kind::Network);
  EXPECT_EQ(plan.stages[1].kind, PlanStage::Kind::NodeFanout);
  const PairMatrix& net = plan.stages[0].rows;
  const PairMatrix& fan = plan.stages[1].rows;
  const std::int64_t want_net[4][4] = {{1, 1, 0, 0}, {0, 0, 0, 1}, {0, 0, 1, 1}, {0, 1, 1, 0}};
  const std::int64_t want_fan[4][4] = {{0, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 1, 1}};
  for (int s = 0; s < 4; ++s)
    for (int d = 0; d < 4; ++d) {
      EXPECT_EQ(net.at(s, d), want_net[s][d]) << s << "->" << d;
      EXPECT_EQ(fan.at(s, d), want_fan[s][d]) << s << "->" << d;
    }
  EXPECT_EQ(plan.tokens_per_device, (std::vector<std::int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(plan.pairs_per_device, (std::vector<std::int64_t>{4, 1, 5, 2}));
  EXPECT_EQ(plan.recv_rows_per_device, (std::vector<std::int64_t>{2, 1, 3, 2}));
  EXPECT_EQ(plan.rows_per_expert, (std::vector<std::int64_t>{2, 2, 1, 0, 2, 3, 2, 0}));
}

TEST(PlanExample, StandardAndOccultMatrices) {
  const auto std_plan =
      build_plan(example_routing(), 8, analysis_test::contiguous(8, 4), kShape, Strategy::Standard, 10);
  const auto occ_plan =
      build_plan(example_routing(), 8, analysis_test::contiguous(8, 4), kShape, Strategy::Occult, 10);
  ASSERT_EQ(std_plan.stages.size(), 1u);
  ASSERT_EQ(occ_plan.stages.size(), 1u);
  const std::int64_t want_std[4][4] = {{2, 1, 0, 0}, {0, 0, 2, 1}, {0, 0, 2, 1}, {2, 0, 1, 0}};
  const std::int64_t want_occ[4][4] = {{1, 1, 0, 0}, {0, 0, 1, 1}, {0, 0, 1, 1}, {1, 0, 1, 0}};
  for (int s = 0; s < 4; ++s)
    for (int d = 0; d < 4; ++d) {
      EXPECT_EQ(std_plan.stages[0].rows.at(s, d), want_std[s][d]) << s << "->" << d;
      EXPECT_EQ(occ_plan.stages[0].rows.at(s, d), want_occ[s][d]) << s << "->" << d;
    }
  EXPECT_EQ(std_plan.recv_rows_per_device, std_plan.pairs_per_device);
  EXPECT_EQ(occ_plan.recv_rows_per_device, (std::vector<std::int64_t>{2, 1, 3, 2}));
}

}  // namespace
}  // namespace occult
