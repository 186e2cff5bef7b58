// Cost model: per-device compute seconds from a plan, under the roofline and under a profile, and
// the link corrections a profile implies.
#include <gtest/gtest.h>

#include "sim/core/cost_model.hpp"
#include "sim/core/error.hpp"

namespace occult {
namespace {

// Two devices, 100 tokens each, top-2; device 0 sends 30 rows to device 1, device 1 sends 10 to 0.
CommPlan two_device_plan() {
  CommPlan p;
  p.strategy = Strategy::Occult;
  p.shape = {2, 2};
  p.row_bytes = 4096;
  PlanStage s;
  s.rows = PairMatrix(2);
  s.rows.at(0, 0) = 90;
  s.rows.at(0, 1) = 30;
  s.rows.at(1, 0) = 10;
  s.rows.at(1, 1) = 95;
  p.stages.push_back(s);
  p.tokens_per_device = {100, 100};
  p.pairs_per_device = {120, 80};
  p.recv_rows_per_device = {100, 125};
  return p;
}

ModelConfig small_model() { return {"m", 8, 2, 2048, 1024, 0, 0, 4, 2}; }

TEST(CostModel, ModeNamesRoundTrip) {
  for (Mode m : {Mode::Train, Mode::Prefill, Mode::Decode}) EXPECT_EQ(parse_mode(mode_name(m)), m);
  EXPECT_THROW(parse_mode("training"), InputError);
  EXPECT_THROW(parse_link_correction("some"), InputError);
}

TEST(CostModel, RooflineIsComputeBoundForLargeBatches) {
  RooflineParams r;
  const auto c = CostModel::roofline(r);
  const std::int64_t rows = 1 << 16;
  const double flops = 6.0 * 2048 * 1024 * double(rows);
  EXPECT_NEAR(c.expert_fwd_seconds(rows, 4, 2048, 1024, 2),
              r.launch_s + flops / (r.peak_tflops * 1e12 * r.gemm_efficiency), 1e-12);
  EXPECT_FALSE(c.measured());
  EXPECT_NE(c.describe().find("roofline"), std::string::npos);
  EXPECT_EQ(c.tag(), "roofline");
}

TEST(CostModel, RooflineIsWeightBoundForTinyBatches) {
  RooflineParams r;
  const auto c = CostModel::roofline(r);
  // One row on each of 4 experts: reading 4 experts' weights dominates.
  const double weights = 4.0 * 3 * 7168 * 2048 * 2;
  const double t = c.expert_fwd_seconds(4, 4, 7168, 2048, 2);
  EXPECT_GT(t, r.launch_s + weights / (r.hbm_Bps * r.hbm_efficiency));
  EXPECT_LT(t, r.launch_s + 1.01 * weights / (r.hbm_Bps * r.hbm_efficiency));
}

TEST(CostModel, RejectsBadRooflineParameters) {
  RooflineParams r;
  r.gemm_efficiency = 1.5;
  EXPECT_THROW(CostModel::roofline(r), InputError);
  r = {};
  r.hbm_Bps = -1;
  EXPECT_THROW(CostModel::roofline(r), InputError);
}

TEST(CostModel, LayerWorkFollowsThePlan) {
  const auto plan = two_device_plan();
  const auto c = CostModel::roofline({});
  const auto m = small_model();
  const auto fwd = c.layer_work(plan, m, {4, 4}, Mode::Prefill);
  ASSERT_EQ(fwd.expert_fwd_s.size(), 2u);
  EXPECT_TRUE(fwd.expert_bwd_s.empty());
  EXPECT_EQ(fwd.plan, &plan);
  // More (token, expert) pairs, more expert time.
  EXPECT_GT(fwd.expert_fwd_s[0], fwd.expert_fwd_s[1]);
  EXPECT_DOUBLE_EQ(fwd.expert_fwd_s[0], c.expert_fwd_seconds(120, 4, 2048, 1024, 2));
  // Pack copies every row the device sends (local rows included), read + write.
  EXPECT_DOUBLE_EQ(fwd.pack_s[0], c.pack_seconds(2.0 * 120 * 4096));
  EXPECT_DOUBLE_EQ(fwd.pack_s[1], c.pack_seconds(2.0 * 105 * 4096));
  const auto train = c.layer_work(plan, m, {4, 4}, Mode::Train);
  ASSERT_EQ(train.expert_bwd_s.size(), 2u);
  for (int d = 0; d < 2; ++d)
    EXPECT_DOUBLE_EQ(train.expert_bwd_s[std::size_t(d)], 2 * train.expert_fwd_s[std::size_t(d)]);
  EXPECT_THROW(c.layer_work(plan, m, {4}, Mode::Train), InputError);
}

TEST(CostModel, SharedExpertsAddLocalCompute) {
  const auto plan = two_device_plan();
  const auto c = CostModel::roofline({});
  auto m = small_model();
  const auto without = c.layer_work(plan, m, {4, 4}, Mode::Prefill);
  m.shared_experts = 1;
  m.shared_ffn = 1024;
  const auto with = c.layer_work(plan, m, {4, 4}, Mode::Prefill);
  EXPECT_NEAR(with.expert_fwd_s[0] - without.expert_fwd_s[0], c.expert_fwd_seconds(100, 1, 2048, 1024, 2),
              1e-15);
}

CalibrationProfile measured_profile() {
  CalibrationProfile p;
  p.measured = true;
  p.provenance.gpu_name = "NVIDIA H200";
  p.provenance.gpu_count = 2;
  LinkCalibration l;
  l.link_class = "nvlink";
  l.latency_s = 45e-6;
  l.bandwidth_Bps = 330e9;
  // At 64 KB messages NCCL reaches a quarter of its asymptotic bandwidth.
  const double small = 30 * 4096.0;
  l.samples = {{small, 45e-6 + small / (0.25 * 330e9)}, {1e9, 45e-6 + 1e9 / 330e9}};
  p.links.push_back(l);
  p.gemm.peak_tflops = 500;
  p.layout = {1e-6, 1e12};
  p.pack = {2e-6, 1e12};
  p.unpack = {3e-6, 1e12};
  return p;
}

TEST(CostModel, ProfileDrivesComputeTimes) {
  const auto c = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Efficiency);
  EXPECT_TRUE(c.measured());
  EXPECT_EQ(c.tag(), "cal.json");
  EXPECT_NE(c.describe().find("NVIDIA H200"), std::string::npos);
  EXPECT_NEAR(c.expert_fwd_seconds(1000, 4, 1000, 1000, 2), 6e9 / 500e12, 1e-15);
  EXPECT_DOUBLE_EQ(c.pack_seconds(1e6), 2e-6 + 1e-6);
}

TEST(CostModel, EfficiencyCorrectionReadsTheCurveAtThePlansMessageSize) {
  const auto plan = two_device_plan();  // remote messages of 30 and 10 rows: mean 20 rows
  TopologySpec t;
  t.nvlink = {450e9, 1e-6};
  const auto c = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Efficiency);
  std::vector<std::string> notes;
  const auto o = c.sim_options(t, plan, &notes);
  ASSERT_EQ(o.bandwidth_factor.count("nvlink"), 1u);
  EXPECT_GT(o.bandwidth_factor.at("nvlink"), 0.0);
  EXPECT_NEAR(o.bandwidth_factor.at("nvlink"), 0.25, 1e-9);
  EXPECT_TRUE(o.extra_latency_s.empty());
  EXPECT_EQ(notes.size(), 1u);

  const auto abs = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Absolute);
  const auto oa = abs.sim_options(t, plan, nullptr);
  EXPECT_NEAR(oa.bandwidth_factor.at("nvlink"), 0.25 * 330e9 / 450e9, 1e-9);
  EXPECT_NEAR(oa.extra_latency_s.at("nvlink"), 44e-6, 1e-12);

  const auto off = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Off);
  EXPECT_TRUE(off.sim_options(t, plan, nullptr).bandwidth_factor.empty());
  EXPECT_TRUE(CostModel::roofline({}).sim_options(t, plan, nullptr).bandwidth_factor.empty());
}

}  // namespace
}  // namespace occult
