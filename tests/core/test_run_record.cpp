// Measured run records (sim/core/run_record.hpp) and the workload they carry (sim/core/workload.hpp):
// the codec round-trips, refuses what is wrong by field, and a workload gives the same routing whoever
// asks for it (the GPU run, the simulator, validate).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/core/error.hpp"
#include "sim/core/model.hpp"
#include "sim/core/run_record.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult {
namespace {

Workload sample_workload() {
  Workload w;
  w.model = model_preset("olmoe-1b-7b");
  w.mode = Mode::Train;
  w.tokens_per_device = 64;
  w.seed = 7;
  w.synthetic = {0.6, 0.5, 0};
  w.devices = w.ep_size = w.gpus_per_node = 2;
  w.strategies = {parse_strategy("standard"), parse_strategy("occult")};
  w.placements = {"contiguous"};
  return w;
}

RunRecord sample_record() {
  RunRecord r;
  r.provenance.gpu_name = "NVIDIA H100 80GB HBM3";
  r.provenance.gpu_count = 2;
  r.provenance.date = "2026-12-07T22:00:00Z";
  r.provenance.command = "occult gpu-run --json";
  r.workload = sample_workload();
  r.execution.path = "nvlink";
  r.execution.ranks = 2;
  r.execution.iters = 20;
  r.execution.warmup = 3;
  MeasuredStrategy m;
  m.strategy = "occult";
  m.forward_s = 1e-3;
  m.backward_s = 2e-3;
  m.phase_s = {{"dispatch", 1e-4}, {"expert_backward", 1.5e-3}};
  m.wire_rows = {{"dispatch", 1e6}};
  m.wire_meta = {{"dispatch", 1e3}};
  m.pass = true;
  r.strategies.push_back(m);
  r.pass = true;
  r.extra["plain_nccl"] = {{"bytes", 5}};
  return r;
}

// Equal but for the last bits of numbers (times travel in microseconds).
bool near(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number())
    return std::abs(a.get<double>() - b.get<double>()) <= 1e-12 * std::max(1.0, std::abs(b.get<double>()));
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.is_object()) {
    for (const auto& [k, v] : a.items())
      if (!b.contains(k) || !near(v, b.at(k))) return false;
    return true;
  }
  if (a.is_array()) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!near(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}

TEST(RunRecord, RoundTripsEveryField) {
  const RunRecord r = sample_record();
  const auto j = run_record_to_json(r);
  const RunRecord q = run_record_from_json(j, "mem");
  EXPECT_TRUE(near(run_record_to_json(q), j)) << run_record_to_json(q) << "\n" << j;
  EXPECT_NEAR(q.strategies[0].phase_s.at("dispatch"), 1e-4, 1e-18);
  EXPECT_DOUBLE_EQ(q.strategies[0].layer_s(), 3e-3);
  EXPECT_EQ(q.workload.synthetic.affinity, 0.5);
  EXPECT_EQ(q.workload.strategies[1].name(), "occult");
}

void expect_error(const nlohmann::json& j, const std::string& field) {
  try {
    run_record_from_json(j, "r.json");
    ADD_FAILURE() << "accepted; expected an error at " << field;
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

TEST(RunRecord, BadRecordsNameTheField) {
  const auto good = run_record_to_json(sample_record());
  auto j = good;
  j["version"] = 1;
  expect_error(j, "version");
  j = good;
  j["workload"]["model"]["experts"] = 4294967300.0;  // never truncated
  expect_error(j, "workload.model.experts");
  j = good;
  j["workload"]["devices"] = 4;  // the ranks that ran disagree
  expect_error(j, "execution.ranks");
  j = good;
  j["execution"]["counts"] = "lazy";
  expect_error(j, "execution.counts");
  j = good;
  j["strategies"][0]["phases_us"]["dispach"] = 1.0;
  expect_error(j, "strategies[0].phases_us.dispach");
  j = good;
  j["workload"]["mode"] = "prefill";  // then a backward phase cannot be there
  expect_error(j, "strategies[0].phases_us.expert_backward");
  j = good;
  j["strategies"][0].erase("forward_us");
  expect_error(j, "strategies[0].forward_us");
}

TEST(Workload, RoutingIsTheSameForEveryCaller) {
  const Workload w = sample_workload();
  WorkloadRouting a, b;
  workload_routing(w, 0, nullptr, 0, a);
  // What a bare generator call gives for the run's tokens (how gpu-run drew routing before the
  // workload path): the same tokens, since the generator draws them one after another.
  TraceGenParams p;
  p.experts = w.model.experts;
  p.top_k = w.model.top_k;
  p.tokens = w.tokens_per_device * w.ep_size;
  p.skew = w.synthetic.skew;
  p.affinity = w.synthetic.affinity;
  p.seed = w.seed;
  const LayerRouting direct = generate_layer(p, 0);
  EXPECT_EQ(a.sim.experts, direct.experts);
  EXPECT_EQ(a.sim.weights, direct.weights);
  // The profiling tokens (placement algorithms) are other tokens of the same distribution.
  EXPECT_EQ(a.profile.tokens(), a.sim.tokens());
  EXPECT_NE(a.profile.experts, a.sim.experts);
  // Another group draws its own tokens.
  workload_routing(w, 0, nullptr, 1, b);
  EXPECT_NE(b.sim.experts, a.sim.experts);
  EXPECT_THROW(workload_placement(w, "metis", a.profile, 0, {}), InputError);  // needs the host tools
  EXPECT_EQ(workload_placement(w, "contiguous", a.profile, 0, {}).device_of.size(), 64u);
}

}  // namespace
}  // namespace occult
