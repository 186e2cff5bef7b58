// Closed-form checks of the engine, in both flow models: each within 1% of the formula.
#include <gtest/gtest.h>

#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

using test::all_to_all;
using test::direct_plan;

LayerWork bare(const CommPlan& p) {
  LayerWork w;
  w.plan = &p;
  return w;
}

class ClosedForm : public ::testing::TestWithParam<bool> {
 protected:
  SimOptions opt() const {
    SimOptions o;
    o.per_pair_flows = GetParam();
    return o;
  }
};

TEST_P(ClosedForm, OneFlowOverOneLink) {
  TopologySpec t;
  t.name = "two-gpus";
  t.gpus_per_node = 2;
  t.intra = IntraNode::NVLinkDirect;
  t.nvlink = {100e9, 5e-6};
  PairMatrix m(2);
  m.at(0, 1) = 1000;
  const CommPlan p = direct_plan(m, 2, 1'000'000);  // 1 GB
  const auto r = simulate_layer(t, bare(p), opt());
  const double want = 5e-6 + 1e9 / 100e9;
  EXPECT_NEAR(r.phases.at("dispatch").max_s, want, 0.01 * want);
  // GPU 1 returns its rows right after receiving them and expects none back: its combine ends at once
  // (an exchange ends when the device has received what is addressed to it). GPU 0, which received
  // nothing in the dispatch, waits from the start for them: a phase is the span from the device's
  // previous phase, as CUDA events measure it.
  EXPECT_EQ(r.phases.at("combine").min_s, 0.0);
  EXPECT_NEAR(r.phases.at("combine").max_s, 2 * want, 0.01 * 2 * want);
  EXPECT_NEAR(r.total_s, 2 * want, 0.01 * 2 * want);
  EXPECT_DOUBLE_EQ(r.bytes_by_link_class.at("nvlink"), 2e9);
}

TEST_P(ClosedForm, KFlowsShareALink) {
  const int k = 5;
  const TopologySpec t = test::nvswitch_node(k + 1, 200e9, 1e-6);
  PairMatrix m(k + 1);
  for (int s = 1; s <= k; ++s) m.at(s, 0) = 100;
  const CommPlan p = direct_plan(m, k + 1, 1'000'000);  // 100 MB per flow, all into GPU 0
  const auto r = simulate_layer(t, bare(p), opt());
  const double want = 2e-6 + k * 100e6 / 200e9;
  EXPECT_NEAR(r.phases.at("dispatch").max_s, want, 0.01 * want);
}

TEST_P(ClosedForm, NVSwitchAllToAll) {
  const TopologySpec t = test::nvswitch_node(8, 450e9, 1e-6);
  const CommPlan p = direct_plan(all_to_all(8, 1000), 8, 14336);
  const auto r = simulate_layer(t, bare(p), opt());
  const double want = 2e-6 + 7 * 1000 * 14336.0 / 450e9;
  EXPECT_NEAR(r.phases.at("dispatch").max_s, want, 0.01 * want);
  EXPECT_NEAR(r.phases.at("dispatch").min_s, want, 0.01 * want);
}

TEST_P(ClosedForm, BisectionLimitedFatTree) {
  // 16 hosts, 4 per leaf, leaf uplinks 4:1 oversubscribed: each leaf pushes 4 x 12 flows through
  // uplinks worth one NIC, so the exchange takes 48 flow-times instead of the NICs' 15.
  const int n = 16, per_leaf = 4;
  const double bw = 10e9, lat = 1e-6;
  const TopologySpec t = test::fat_tree(n, per_leaf, 4.0, bw, lat);
  const std::int64_t rows = 1000, row_bytes = 10000;  // 10 MB per pair
  const CommPlan p = direct_plan(all_to_all(n, rows), 1, row_bytes);
  const auto r = simulate_layer(t, bare(p), opt());
  const double per_pair = double(rows * row_bytes);
  const double want = 4 * lat + per_leaf * (n - per_leaf) * per_pair / (per_leaf * bw / 4.0);
  EXPECT_NEAR(r.phases.at("dispatch").max_s, want, 0.01 * want);
  ASSERT_FALSE(r.busiest_links.empty());
  EXPECT_NE(r.busiest_links.front().name.find("uplinks"), std::string::npos);
  EXPECT_NEAR(r.busiest_links.front().busy_fraction, 1.0, 0.02);
}

INSTANTIATE_TEST_SUITE_P(Models, ClosedForm, ::testing::Values(true, false),
                         [](const auto& tp) { return tp.param ? "PerPair" : "Aggregated"; });

}  // namespace
}  // namespace occult
