// The fluid flow model (sim/engine/fluid_flows.hpp): its max-min solver against hand-computed sharing,
// and whole layers against the per-pair model where every pair's route is its own class.
#include <gtest/gtest.h>

#include <string>

#include "sim/engine/fluid_flows.hpp"
#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

// Links A, B (1 B/s) and C (10 B/s); devices 0-3 send one pair each, to devices 4-7. Pair 0 crosses A
// (1 B), pair 1 A and B (1 B), pair 2 B (3 B), all from t = 0; pair 3 crosses C and A (0.5 B), its
// source is ready at t = 1. Max-min: 1/2 each until t = 1; then A is shared three ways (1/3) and pair
// 2 gets B's other 2/3; pairs 0, 1, 3 end at 2.5; pair 2 has 1.5 B left at 2.5 and ends at 4.
FluidChain hand_chain() {
  FluidChain c;
  c.capacity = {1, 1, 10};
  c.class_links = {{0}, {0, 1}, {1}, {2, 0}};
  c.ready = {{0, 0, 0, 1, 0, 0, 0, 0}};
  c.pairs = {
      {0, 4, 0, 0, -1, 0, 1}, {1, 5, 1, 0, -1, 0, 1}, {2, 6, 2, 0, -1, 0, 3}, {3, 7, 3, 0, -1, 0, 0.5}};
  return c;
}

TEST(FluidFlows, SolverMatchesHandComputedMaxMin) {
  FluidChain c = hand_chain();
  c.solve();
  const auto& end = c.end[0];
  EXPECT_NEAR(end[4], 2.5, 1e-9);
  EXPECT_NEAR(end[5], 2.5, 1e-9);
  EXPECT_NEAR(end[6], 4.0, 1e-9);
  EXPECT_NEAR(end[7], 2.5, 1e-9);
  EXPECT_EQ(end[0], 0.0);  // sends only: done when ready
  EXPECT_EQ(end[3], 1.0);
  // Half the bytes: pairs 0 and 1 end at 1 (1/2 each), as pair 3 starts alone on A (ends at 1.25);
  // pair 2 has 1 B left at 1, alone on B: it ends at 2.
  FluidChain half = hand_chain();
  half.solve(0.5);
  EXPECT_NEAR(half.end[0][4], 1.0, 1e-3);
  EXPECT_NEAR(half.end[0][7], 1.25, 1e-3);
  EXPECT_NEAR(half.end[0][6], 2.0, 1e-3);
}

// A second step starts on each device when it has received the first, plus its compute: device 4
// (received at 2.5) computes 1 s and sends 1 B to device 0 over link B from 3.5, while pair 2 of the
// first step still has 0.5 B to move there. They share B (1/2 each): pair 2 ends at 4.5, the new pair
// has 0.5 B left then and ends alone at 5.
TEST(FluidFlows, ChainedStepsShareLinksWhenTheyOverlap) {
  FluidChain c = hand_chain();
  c.ready.push_back({0, 0, 0, 0, 1, 0, 0, 0});
  c.class_links.push_back({1});
  c.pairs.push_back({4, 0, 4, 1, -1, 0, 1});
  c.solve();
  EXPECT_NEAR(c.gate[1][4], 3.5, 1e-9);
  EXPECT_NEAR(c.end[0][6], 4.5, 1e-6);
  EXPECT_NEAR(c.end[1][0], 5.0, 1e-6);
}

// A uniform all-to-all on a rail-optimized cluster: all senders start together and every class drains
// at its bottleneck, so the fluid model matches per pair.
TEST(FluidFlows, UniformAllToAllMatchesPerPair) {
  const TopologySpec topo = test::rail_cluster(2, 4);
  const CommPlan plan = test::direct_plan(test::all_to_all(8, 64), 4, 7168 * 2);
  const LayerWork w = test::work_for(plan);
  SimOptions exact, fluid;
  exact.per_pair_flows = true;
  fluid.flow_model = FlowModel::Fluid;
  const auto a = simulate_layer(topo, w, exact);
  const auto b = simulate_layer(topo, w, fluid);
  for (const auto& [name, pa] : a.phases)
    EXPECT_NEAR(b.phases.at(name).max_s, pa.max_s, 1e-3 * pa.max_s) << name;
  EXPECT_NEAR(b.total_s, a.total_s, 1e-3 * a.total_s);
}

// The routed regimes of test_engine_aggregation.cpp without chunked overlap (16 GPUs as 4
// rail-optimized nodes of 4, 2 nodes per leaf; standard/occult/hierarchical x uniform/skewed x
// forward/training): every phase and the total within 0.1% of per pair (measured: at most 0.02%, the
// batching of pair ends; BM_FlowModelRegimes/-2). The steps of a layer are solved together: a device's
// combine overlaps other devices' dispatch, which per pair also lets share links.
TEST(FluidFlows, RoutedRegimesMatchPerPair) {
  const TopologySpec topo = test::rail_cluster(4, 4);
  SimOptions exact, fluid;
  exact.per_pair_flows = true;
  fluid.flow_model = FlowModel::Fluid;
  for (Strategy s : {Strategy::Standard, Strategy::Occult, Strategy::Hierarchical})
    for (double skew : {0.0, 1.2})
      for (bool training : {false, true}) {
        const CommPlan plan = test::routed_plan(16, 4, s, skew, 16 * 512, 32);
        const LayerWork w = test::work_for(plan, 2e-9, training);
        const auto a = simulate_layer(topo, w, exact);
        const auto b = simulate_layer(topo, w, fluid);
        const std::string what = std::to_string(int(s)) + (skew > 0 ? " skewed" : " uniform") +
                                 (training ? " training" : " forward");
        for (const auto& [name, pa] : a.phases)
          EXPECT_NEAR(b.phases.at(name).max_s, pa.max_s, 1e-3 * pa.max_s + 1e-12) << what << " " << name;
        EXPECT_NEAR(b.total_s, a.total_s, 1e-3 * a.total_s) << what;
        for (const auto& [cls, bytes] : a.bytes_by_link_class)
          EXPECT_DOUBLE_EQ(b.bytes_by_link_class.at(cls), bytes) << what;
      }
}

// Chunked overlap is not a chain of steps: asked for the fluid model, a chunked layer runs what `auto`
// picks for it (the grouped model here), and says so.
TEST(FluidFlows, ChunkedLayersFallBack) {
  const TopologySpec topo = test::rail_cluster(2, 4);
  const CommPlan plan = test::routed_plan(8, 4, Strategy::Occult, 1.2, 8 * 512, 32);
  LayerWork w = test::work_for(plan, 2e-9);
  w.overlap = Overlap::Chunked;
  w.chunks = 2;
  SimOptions fluid, grouped;
  fluid.flow_model = FlowModel::Fluid;
  grouped.flow_model = FlowModel::Grouped;
  const auto a = simulate_layer(topo, w, fluid);
  const auto b = simulate_layer(topo, w, grouped);
  EXPECT_DOUBLE_EQ(a.total_s, b.total_s);
  EXPECT_EQ(a.model_note, b.model_note);
}

}  // namespace
}  // namespace occult
