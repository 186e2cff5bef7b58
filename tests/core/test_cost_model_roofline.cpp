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

ExpertShape shape(std::int64_t pairs, int experts, int h, int f) {
  return {pairs, pairs, experts, h, f, false};
}

TEST(CostModel, RooflineIsComputeBoundForLargeBatches) {
  RooflineParams r;
  const auto c = CostModel::roofline(r);
  const std::int64_t rows = 1 << 16;
  const double flops = 6.0 * 2048 * 1024 * double(rows);
  EXPECT_NEAR(c.expert_seconds(shape(rows, 4, 2048, 1024), false, 2),
              r.launch_s + flops / (r.peak_tflops * 1e12 * r.gemm_efficiency), 1e-12);
  EXPECT_NEAR(c.expert_seconds(shape(rows, 4, 2048, 1024), true, 2),
              r.launch_s + 2 * flops / (r.peak_tflops * 1e12 * r.gemm_efficiency), 1e-12);
  EXPECT_FALSE(c.measured());
  EXPECT_NE(c.describe().find("roofline"), std::string::npos);
  EXPECT_EQ(c.tag(), "roofline");
}

TEST(CostModel, RooflineIsWeightBoundForTinyBatches) {
  RooflineParams r;
  const auto c = CostModel::roofline(r);
  // One row on each of 4 experts: reading 4 experts' weights dominates.
  const double weights = 4.0 * 3 * 7168 * 2048 * 2;
  const double t = c.expert_seconds(shape(4, 4, 7168, 2048), false, 2);
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
  EXPECT_THROW(parse_link_correction("efficiency"), InputError);  // replaced, with a message saying so
  EXPECT_EQ(parse_link_correction("calibrated"), LinkCorrection::Calibrated);
}

TEST(CostModel, SharedExpertsAddLocalCompute) {
  const auto plan = two_device_plan();
  const auto c = CostModel::roofline({});
  auto m = small_model();
  const auto without = c.layer_work(plan, m, {4, 4}, Mode::Prefill);
  EXPECT_TRUE(without.expert_bwd_s.empty());
  m.shared_experts = 1;
  m.shared_ffn = 1024;
  const auto with = c.layer_work(plan, m, {4, 4}, Mode::Prefill);
  EXPECT_NEAR(with.expert_fwd_s[0] - without.expert_fwd_s[0],
              c.expert_seconds(shape(100, 1, 2048, 1024), false, 2), 1e-15);
}

// Every kernel from 1 us (copies 2 us) up to a second at x = 1e12; a 1 us event boundary.
CalibrationProfile measured_profile() {
  CalibrationProfile p;
  p.provenance.gpu_name = "NVIDIA H200";
  p.event_s = 1e-6;
  p.host_roundtrip_s = 9e-6;
  auto line = [](double fixed) { return MeasuredCurve({{1, fixed + 1e-12}, {1e12, fixed + 1.0}}); };
  for (const char* k : {"layout.standard", "layout.occult", "pack.standard", "pack.occult", "unpack",
                        "grad_pack", "weight_grad"})
    p.kernels[k] = line(1e-6);
  p.kernels["copy"] = line(2e-6);
  // The expert FFN at 500 TFLOP/s forward and 250 backward, whatever the shape.
  for (int l : {1, 64})
    for (std::int64_t rpe : {1, 1 << 20}) {
      const double f = 6.0 * 2048 * 1024 * double(rpe) * l;
      p.expert_forward.samples.push_back({2048, 1024, l, rpe, 1, 1, f / 500e12});
      p.expert_backward.samples.push_back({2048, 1024, l, rpe, 1, 1, 2 * f / 250e12});
    }
  LinkCalibration l;
  l.link_class = "nvlink";
  l.nominal_Bps = 400e9;
  // 45 us floor; at 120 KB messages a quarter of the nominal bandwidth, at 1 GB 300 GB/s.
  const double small = 30 * 4096.0;
  l.samples = {{4096, 45e-6}, {small, 45e-6 + small / 100e9}, {1e9, 45e-6 + 1e9 / 300e9}};
  l.message_s = 3e-6;
  p.links.push_back(l);
  return p;
}

TEST(CostModel, ProfileDrivesEveryPhase) {
  const auto plan = two_device_plan();  // occult: device 0 keeps 90 rows and sends 30
  const auto c = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Calibrated);
  EXPECT_TRUE(c.measured());
  EXPECT_EQ(c.tag(), "cal.json");
  EXPECT_NE(c.describe().find("NVIDIA H200"), std::string::npos);
  const auto w = c.layer_work(plan, small_model(), {4, 4}, Mode::Train);
  const double row = 4096, slots = 2;
  const auto k = [&](const char* name, double x) { return c.profile().kernel(name)->seconds(x); };
  EXPECT_DOUBLE_EQ(w.layout_s[0], k("layout.occult", 100));                  // per token
  EXPECT_DOUBLE_EQ(w.pack_s[0], k("pack.occult", 120 * (row + 8 * slots)));  // rows + metadata
  EXPECT_DOUBLE_EQ(w.unpack_s[0], k("unpack", (120 + 100) * row));
  EXPECT_NEAR(w.expert_fwd_s[0], 6.0 * 2048 * 1024 * 120 / 500e12, 1e-12);
  EXPECT_NEAR(w.expert_bwd_s[0], 12.0 * 2048 * 1024 * 120 / 250e12, 1e-12);
  // The dispatch's own block: rows, expert ids and gate weights, three copies with one event boundary.
  EXPECT_NEAR(w.dispatch.local_s[0], k("copy", 90 * row) + 2 * k("copy", 90 * 4 * slots) - 2 * 1e-6, 1e-15);
  EXPECT_DOUBLE_EQ(w.combine.local_s[1], k("copy", 95 * row));
  EXPECT_EQ(w.dispatch.messages, 4);  // rows, two metadata arrays, fused counts
  EXPECT_DOUBLE_EQ(w.dispatch.meta_bytes_per_row, 8 * slots);
  EXPECT_EQ(w.grad_combine.messages, 2);
  EXPECT_NEAR(w.grad_unpack_s[0], k("unpack", 220 * row) + k("weight_grad", 200) - 1e-6, 1e-15);
  EXPECT_FALSE(w.counts_exchange);
  LayerExecution sync;
  sync.counts_sync = true;
  sync.comm_only = true;
  const auto ws = c.layer_work(plan, small_model(), {4, 4}, Mode::Train, sync);
  EXPECT_TRUE(ws.counts_exchange);
  EXPECT_DOUBLE_EQ(ws.counts_host_s[1], 9e-6);
  EXPECT_EQ(ws.dispatch.messages, 3);
  EXPECT_EQ(ws.expert_fwd_s[0], 0.0);  // comm-only: no expert FFN
  EXPECT_EQ(ws.grad_combine.messages, 1);
  EXPECT_THROW(c.layer_work(plan, small_model(), {4}, Mode::Train), InputError);
}

// The two strategies' unpack and gradient pack run the same kernel with different rows per token
// (one block per token), so a profile times each strategy on its own curve; a profile from before
// that split has one curve, which both read.
TEST(CostModel, UnpackAndGradPackReadTheStrategysOwnCurve) {
  auto p = measured_profile();
  const auto line = [](double fixed) { return MeasuredCurve({{1, fixed}, {1e12, fixed + 1.0}}); };
  p.kernels["unpack.occult"] = line(7e-6);
  p.kernels["unpack.standard"] = line(19e-6);
  p.kernels["grad_pack.occult"] = line(5e-6);
  const auto c = CostModel::from_profile(p, "cal.json", LinkCorrection::Calibrated);
  auto plan = two_device_plan();
  const double row = 4096, x = (120 + 100) * row;
  const auto occ = c.layer_work(plan, small_model(), {4, 4}, Mode::Train);
  EXPECT_DOUBLE_EQ(occ.unpack_s[0], p.kernels["unpack.occult"].seconds(x));
  EXPECT_DOUBLE_EQ(occ.grad_pack_s[0], p.kernels["grad_pack.occult"].seconds(x));
  plan.strategy = Strategy::Standard;
  const auto std_ = c.layer_work(plan, small_model(), {4, 4}, Mode::Train);
  EXPECT_DOUBLE_EQ(std_.unpack_s[0], p.kernels["unpack.standard"].seconds(x));
  EXPECT_DOUBLE_EQ(std_.grad_pack_s[0], p.kernels["grad_pack"].seconds(x));  // the shared curve
  EXPECT_TRUE(c.fallbacks().empty());
  p.kernels.erase("grad_pack");
  const auto without = CostModel::from_profile(p, "cal.json", LinkCorrection::Calibrated);
  EXPECT_EQ(without.fallbacks(), std::vector<std::string>{"grad_pack.standard"});
}

TEST(CostModel, CalibratedLinksReproduceTheMachineAndScaleByNominalFigures) {
  const auto plan = two_device_plan();  // remote messages of 30 and 10 rows: mean 20 rows
  TopologySpec t;
  t.intra = IntraNode::NVLinkDirect;
  t.nvlink = {400e9, 1e-6};  // the calibrated machine's own nominal figure
  const auto c = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Calibrated);
  std::vector<std::string> notes;
  const auto o = c.sim_options(t, plan, &notes);
  const double msg = 20 * 4096.0;
  const auto& l = c.profile().links[0];
  ASSERT_EQ(o.links.bandwidth_factor.count("nvlink"), 1u);
  // floor + bytes / (nominal * factor) is the measured curve at the plan's message size.
  EXPECT_NEAR(45e-6 + msg / (400e9 * o.links.bandwidth_factor.at("nvlink")), l.seconds(msg), 1e-12);
  EXPECT_DOUBLE_EQ(o.links.floor_latency_s.at("nvlink"), 45e-6);
  EXPECT_DOUBLE_EQ(o.links.message_s.at("nvlink"), 3e-6);
  EXPECT_EQ(notes.size(), 1u);
  // Another machine: the same efficiency on its own nominal figure.
  t.nvlink = {800e9, 1e-6};
  EXPECT_DOUBLE_EQ(c.sim_options(t, plan, nullptr).links.bandwidth_factor.at("nvlink"),
                   o.links.bandwidth_factor.at("nvlink"));
  // No P2P curve in the profile: a gap, and no correction for that transport.
  LayerExecution p2p;
  p2p.transport = "p2p";
  EXPECT_EQ(c.gaps(t, 2, Mode::Prefill, p2p).size(), 1u);
  EXPECT_TRUE(c.gaps(t, 2, Mode::Prefill, {}).empty());
  EXPECT_TRUE(c.sim_options(t, plan, nullptr, p2p).links.bandwidth_factor.empty());

  const auto off = CostModel::from_profile(measured_profile(), "cal.json", LinkCorrection::Off);
  EXPECT_TRUE(off.sim_options(t, plan, nullptr).links.bandwidth_factor.empty());
  EXPECT_TRUE(CostModel::roofline({}).sim_options(t, plan, nullptr).links.bandwidth_factor.empty());
}

}  // namespace
}  // namespace occult
