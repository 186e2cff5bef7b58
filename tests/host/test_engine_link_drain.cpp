// The link-drain flow model (sim/engine/link_drain.hpp), which `auto` picks above kFluidMaxDevices
// devices per block: exact where every link's traffic starts together and drains at one rate, and
// close to per pair on routed (skewed) traffic; the bounds below are the measured error rounded up.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

SimOptions with_model(FlowModel m) {
  SimOptions o;
  o.flow_model = m;
  return o;
}

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-12); }

// Every phase's slowest-device time and the total, link drain against per pair.
void expect_close(const LayerSimResult& drain, const LayerSimResult& pair, double tol,
                  const std::string& what, double phase_tol = -1) {
  EXPECT_LE(rel(drain.total_s, pair.total_s), tol)
      << what << ": total " << drain.total_s << " vs " << pair.total_s;
  for (const auto& [name, p] : pair.phases)
    EXPECT_LE(rel(drain.phases.at(name).max_s, p.max_s), phase_tol < 0 ? tol : phase_tol)
        << what << " " << name << ": " << drain.phases.at(name).max_s << " vs " << p.max_s;
}

TEST(FlowModelChoice, AutoIsFluidUpToTheThresholdThenLinkDrain) {
  SimOptions o;
  EXPECT_EQ(effective_flow_model(o, kFluidMaxDevices), FlowModel::Fluid);
  EXPECT_EQ(effective_flow_model(o, kFluidMaxDevices + 1), FlowModel::LinkDrain);
  o.flow_model = FlowModel::Fluid;  // asked for: any size
  EXPECT_EQ(effective_flow_model(o, 4096), FlowModel::Fluid);
  o.flow_model = FlowModel::Grouped;
  EXPECT_EQ(effective_flow_model(o, 4096), FlowModel::Grouped);
  o.per_pair_flows = true;  // the validation switch wins
  EXPECT_EQ(effective_flow_model(o, 4096), FlowModel::PerPair);
}

TEST(LinkDrain, UniformAllToAllOnAFatTreeIsExact) {
  // 8 single-GPU nodes, 4 per leaf, no oversubscription: every NIC link carries 7 equal flows that start
  // together, so each drains at 7 * bytes / bw in both models (measured 0.07% apart: route latency is
  // charged per receiver in link drain, per flow in per pair).
  const TopologySpec topo = test::fat_tree(8, 4, 1.0, 10e9, 1e-6);
  const CommPlan plan = test::direct_plan(test::all_to_all(8, 1000), 1, 4096);
  const LayerWork w = test::work_for(plan);
  SimOptions pair;
  pair.per_pair_flows = true;
  expect_close(simulate_layer(topo, w, with_model(FlowModel::LinkDrain)), simulate_layer(topo, w, pair), 1e-3,
               "uniform fat tree");
}

TEST(LinkDrain, RoutedTrafficStaysCloseToPerPair) {
  const TopologySpec topo = test::rail_cluster(4, 8);
  SimOptions pair;
  pair.per_pair_flows = true;
  for (const Strategy s : {Strategy::Standard, Strategy::Occult}) {
    const CommPlan plan = test::routed_plan(32, 8, s, 1.2, 32 * 256);
    const LayerWork w = test::work_for(plan, 2e-7);
    const std::string what = StrategySpec{s}.name() + " skew 1.2, 32 GPUs";
    const LayerSimResult drain = simulate_layer(topo, w, with_model(FlowModel::LinkDrain));
    const LayerSimResult exact = simulate_layer(topo, w, pair);
    // Measured: the total within 3%; a phase within 19.8% (combine at skew 1.2 on 32 GPUs). Phases are
    // spans from the device's previous phase, so an exchange includes the wait for a straggler, whose
    // end time link drain places less well than its own exchanges' (issue 18 replaces it).
    expect_close(drain, exact, 0.03, what, 0.21);
    // Same bytes on every link class whatever the flow model.
    for (const auto& [cls, bytes] : exact.bytes_by_link_class)
      EXPECT_NEAR(drain.bytes_by_link_class.at(cls), bytes, 1e-6 * bytes + 1) << what << " " << cls;
  }
}

}  // namespace
}  // namespace occult
