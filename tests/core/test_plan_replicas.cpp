// Replica choice (routing_resolve.hpp): a replica never adds a destination device when avoidable.
#include <gtest/gtest.h>

#include <set>

#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/routing_resolve.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

// E=8 on D=4, experts 2d, 2d+1 on device d; expert 0 also on devices 2 and 3, expert 7 also on 0.
LayerPlacement replicated() {
  LayerPlacement p = analysis_test::contiguous(8, 4);
  p.replicas.assign(8, {});
  p.replicas[0] = {2, 3};
  p.replicas[7] = {0};
  return p;
}

std::vector<int> resolve(const LayerPlacement& p, std::vector<std::int32_t> experts, int src) {
  DeviceResolver r(p, 4);
  std::vector<int> out(experts.size());
  r.resolve(experts, src, out);
  return out;
}

TEST(Replicas, PrefersADeviceTheTokenAlreadyUses) {
  const auto p = replicated();
  EXPECT_EQ(resolve(p, {0, 6}, 0), (std::vector<int>{3, 3}));  // expert 6 is on 3: reuse it
  EXPECT_EQ(resolve(p, {4, 0}, 0), (std::vector<int>{2, 2}));
  EXPECT_EQ(resolve(p, {7, 1}, 3), (std::vector<int>{0, 0}));  // 1 is on 0, and so is a copy of 7
}

TEST(Replicas, ThenTheSourceDeviceThenThePrimary) {
  const auto p = replicated();
  EXPECT_EQ(resolve(p, {0, 2}, 3), (std::vector<int>{3, 1}));  // no shared device: source 3 has a copy
  EXPECT_EQ(resolve(p, {0, 2}, 1), (std::vector<int>{0, 1}));  // source 1 has none: primary 0
  EXPECT_EQ(resolve(p, {0, 7}, 1), (std::vector<int>{0, 0}));  // two replicated: the second reuses
  EXPECT_EQ(resolve(p, {0, kDroppedExpert}, 2), (std::vector<int>{2, -1}));
}

TEST(Replicas, NeverAddADestinationWhenAvoidable) {
  // Random replicated placements: every device a replica adds is the source device (no bytes move),
  // so the remote destinations of a token are a subset of those with replicas ignored.
  std::mt19937_64 rng(3);
  for (int iter = 0; iter < 200; ++iter) {
    const int E = 16, D = 4, k = 1 + iter % 6;
    LayerPlacement p = analysis_test::random_placement(rng, E, D);
    LayerPlacement primary_only = p;
    p.replicas.assign(std::size_t(E), {});
    for (int e = 0; e < E; ++e)
      if (rng() % 3 == 0) p.replicas[std::size_t(e)].push_back(int(rng() % D));
    const auto routing = analysis_test::random_routing(rng, E, k, 50);
    TokenWalker with(p, {D, 1}, k), without(primary_only, {D, 1}, k);
    for (std::int64_t t = 0; t < routing.tokens(); ++t) {
      const auto& a = with.resolve_token(routing, t, routing.tokens());
      const std::set<int> dev_with(a.devices.begin(), a.devices.end());
      // Each slot's device holds a copy of its expert.
      for (std::size_t j = 0; j < a.experts.size(); ++j) {
        const int e = a.experts[j], d = a.device_of_slot[j];
        const auto& r = p.replicas[std::size_t(e)];
        EXPECT_TRUE(d == p.device_of[std::size_t(e)] || std::find(r.begin(), r.end(), d) != r.end());
      }
      const auto& b = without.resolve_token(routing, t, routing.tokens());
      const std::set<int> dev_without(b.devices.begin(), b.devices.end());
      for (int d : dev_with)
        EXPECT_TRUE(d == a.src || dev_without.count(d)) << "token " << t << " device " << d;
    }
  }
}

TEST(Replicas, MetricsAndPlansAgreeUnderReplication) {
  std::mt19937_64 rng(4);
  const auto routing = analysis_test::random_routing(rng, 8, 3, 300);
  const auto p = replicated();
  const auto m = analyze_layer(routing, p, {4, 2}, 1);
  const auto oc = build_plan(routing, 8, p, {4, 2}, Strategy::Occult, 1);
  EXPECT_DOUBLE_EQ(m.ct_occult, double(oc.stages[0].rows.total()) / 300.0);
  const auto m_plain = analyze_layer(routing, analysis_test::contiguous(8, 4), {4, 2}, 1);
  EXPECT_LE(m.remote_ct_occult, m_plain.remote_ct_occult);
  EXPECT_LE(m.bytes_occult.total, m_plain.bytes_occult.total);
}

}  // namespace
}  // namespace occult
