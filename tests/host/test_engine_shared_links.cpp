// Expert-parallel groups that share links (issue 18): node-to-group placement, the closed form of two
// groups on one uplink, and hashed ECMP (deterministic under its seed).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "sim/core/group_placement.hpp"
#include "sim/engine/network_graph.hpp"
#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

TEST(GroupPlacement, StridedSpreadsEachGroupOverTheNodes) {
  // 8 nodes in 2 groups: group 0 (simulated nodes 0-3) on physical nodes 0, 2, 4, 6.
  EXPECT_EQ(group_node_order(GroupPlacement::Strided, 8, 2, 0), (std::vector<int>{0, 2, 4, 6, 1, 3, 5, 7}));
  EXPECT_TRUE(group_node_order(GroupPlacement::Blocked, 8, 2, 0).empty());
  const auto a = group_node_order(GroupPlacement::Random, 64, 4, 5);
  EXPECT_EQ(a, group_node_order(GroupPlacement::Random, 64, 4, 5));
  EXPECT_NE(a, group_node_order(GroupPlacement::Random, 64, 4, 6));
  EXPECT_EQ(std::set<int>(a.begin(), a.end()).size(), 64u);  // a permutation
  EXPECT_THROW(parse_group_placement("striped"), InputError);
}

LayerWork bare(const CommPlan& p) {
  LayerWork w;
  w.plan = &p;
  return w;
}

// Four single-GPU nodes, two per leaf, leaf uplinks 2:1 oversubscribed (one NIC's worth). Two
// expert-parallel groups of 2 GPUs each swap X bytes between their two GPUs. Blocked, each group sits
// under one leaf and never crosses an uplink: X / bw. Strided, each group spans both leaves, and each
// leaf's uplink carries one flow of each group: half each, 2 X / bw on every receiver. Every flow model
// must get it, whole-cluster or split into blocks.
class SharedUplink : public ::testing::TestWithParam<FlowModel> {};

TEST_P(SharedUplink, TwoGroupsOnOneUplinkGetHalfEach) {
  const double bw = 10e9, lat = 1e-6;
  TopologySpec t = test::fat_tree(4, 2, 2.0, bw, lat);
  PairMatrix m(4);
  for (auto [a, b] : {std::pair{0, 1}, {1, 0}, {2, 3}, {3, 2}}) m.at(a, b) = 1000;
  const CommPlan p = test::direct_plan(m, 1, 10'000);
  SimOptions o;
  o.flow_model = GetParam();
  const double bytes = 1000.0 * 10'000;
  const double alone = 2 * lat + bytes / bw;  // NIC up, NIC down
  const auto blocked = simulate_layer(t, bare(p), o);
  EXPECT_NEAR(blocked.phases.at("dispatch").max_s, alone, 0.01 * alone);
  EXPECT_NEAR(blocked.phases.at("dispatch").min_s, alone, 0.01 * alone);

  t.node_of = group_node_order(GroupPlacement::Strided, 4, 2, 0);
  ASSERT_EQ(t.node_of, (std::vector<int>{0, 2, 1, 3}));
  const double shared = 4 * lat + bytes / (bw / 2);  // NIC, leaf uplink, leaf downlink, NIC
  const auto strided = simulate_layer(t, bare(p), o);
  EXPECT_NEAR(strided.phases.at("dispatch").max_s, shared, 0.01 * shared);
  EXPECT_NEAR(strided.phases.at("dispatch").min_s, shared, 0.01 * shared);
}

INSTANTIATE_TEST_SUITE_P(FlowModels, SharedUplink,
                         ::testing::Values(FlowModel::PerPair, FlowModel::Fluid, FlowModel::LinkDrain,
                                           FlowModel::Auto),
                         [](const ::testing::TestParamInfo<FlowModel>& p) {
                           return std::string(p.param == FlowModel::PerPair     ? "PerPair"
                                              : p.param == FlowModel::Fluid     ? "Fluid"
                                              : p.param == FlowModel::LinkDrain ? "LinkDrain"
                                                                                : "Auto");
                         });

// The uplink port of every route from a leaf, as names.
std::vector<std::string> port_paths(const TopologySpec& t) {
  const NetworkGraph net(t, t.gpus_per_node * t.nodes, LinkCorrections{});
  std::vector<std::string> out;
  std::vector<int> route;
  for (int s = 0; s < t.nodes; ++s)
    for (int d = 0; d < t.nodes; ++d) {
      if (s == d) continue;
      net.route(s, d, route);
      std::string path;
      for (int l : route) path += net.links()[std::size_t(l)].name + " ";
      out.push_back(path);
    }
  return out;
}

TEST(HashedEcmp, DeterministicUnderItsSeedAndDifferentAcrossSeeds) {
  TopologySpec t = test::fat_tree(32, 8, 1.0, 10e9, 1e-6);  // 4 leaves of 8 ports up
  t.ecmp = Ecmp::Hash;
  t.ecmp_seed = 1;
  const auto a = port_paths(t);
  EXPECT_EQ(a, port_paths(t));
  t.ecmp_seed = 2;
  EXPECT_NE(a, port_paths(t));
  // A route off its leaf crosses exactly one uplink port and one downlink port.
  for (const auto& path : a) {
    int ports = 0;
    for (auto at = path.find(".port"); at != std::string::npos; at = path.find(".port", at + 1)) ++ports;
    EXPECT_TRUE(ports == 0 || ports == 2) << path;
  }
}

// Spraying spreads a leaf's flows over its uplinks as one bundle; hashing pins each flow to one port.
// Eight flows on eight ports all miss each other with probability 8! / 8^8 < 0.3%; with these seeds two
// share a port, and those two take twice as long as with spraying (which the NICs bound). The same seed
// gives the same answer.
TEST(HashedEcmp, CollisionsMakeTheExchangeSlowerThanSpraying) {
  TopologySpec t = test::fat_tree(16, 8, 1.0, 10e9, 1e-6);  // leaf 0: nodes 0-7, leaf 1: nodes 8-15
  PairMatrix m(16);
  for (int s = 0; s < 8; ++s) m.at(s, s + 8) = 1000;
  const CommPlan p = test::direct_plan(m, 1, 10'000);
  SimOptions o;
  o.flow_model = FlowModel::Fluid;
  const double spray = simulate_layer(t, bare(p), o).phases.at("dispatch").max_s;
  t.ecmp = Ecmp::Hash;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    t.ecmp_seed = seed;
    const double hashed = simulate_layer(t, bare(p), o).phases.at("dispatch").max_s;
    EXPECT_GT(hashed, 1.5 * spray) << "seed " << seed;
    EXPECT_EQ(hashed, simulate_layer(t, bare(p), o).phases.at("dispatch").max_s) << "seed " << seed;
  }
}

}  // namespace
}  // namespace occult
