// Property tests of the collaboration metrics on many random routings (docs/design.md 2, issue 2).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

using analysis_test::random_placement;
using analysis_test::random_routing;
using analysis_test::ref_token;

struct Case {
  int experts, top_k, devices, gpus_per_node;
  std::int64_t tokens;
};

// Random shapes where D divides E and G divides D.
Case random_case(std::mt19937_64& rng) {
  const int experts_choices[] = {4, 8, 16, 32, 60, 64};
  Case c{};
  c.experts = experts_choices[std::uniform_int_distribution<int>(0, 5)(rng)];
  std::vector<int> divisors;
  for (int d = 1; d <= c.experts; ++d)
    if (c.experts % d == 0) divisors.push_back(d);
  c.devices = divisors[std::uniform_int_distribution<std::size_t>(0, divisors.size() - 1)(rng)];
  std::vector<int> g;
  for (int d = 1; d <= c.devices; ++d)
    if (c.devices % d == 0) g.push_back(d);
  c.gpus_per_node = g[std::uniform_int_distribution<std::size_t>(0, g.size() - 1)(rng)];
  c.top_k = std::uniform_int_distribution<int>(1, std::min(8, c.experts))(rng);
  c.tokens = std::uniform_int_distribution<std::int64_t>(1, 200)(rng);
  return c;
}

constexpr std::int64_t kRowBytes = 7;

TEST(MetricsProperties, BoundsConservationAndReferenceOnRandomTraces) {
  std::mt19937_64 rng(20250711);
  for (int iter = 0; iter < 300; ++iter) {
    const Case c = random_case(rng);
    const ClusterShape shape{c.devices, c.gpus_per_node};
    const auto routing = random_routing(rng, c.experts, c.top_k, c.tokens, iter % 2 == 1);
    const auto placement = random_placement(rng, c.experts, c.devices);
    SCOPED_TRACE(::testing::Message() << "iter " << iter << " E=" << c.experts << " k=" << c.top_k
                                      << " D=" << c.devices << " G=" << c.gpus_per_node << " T=" << c.tokens);
    const LayerMetrics m = analyze_layer(routing, placement, shape, kRowBytes);
    const double T = double(c.tokens);
    const double k = c.top_k;

    // Closed-form bounds.
    const double lower = std::ceil(k * c.devices / c.experts);
    EXPECT_LE(lower, m.ct_occult + 1e-12);
    EXPECT_LE(m.ct_occult, std::min<double>(k, c.devices) + 1e-12);
    EXPECT_LE(m.ct_node, m.ct_occult + 1e-12);
    EXPECT_LE(m.ct_occult, k + 1e-12);
    EXPECT_LE(m.ct_node, std::min<double>(k, shape.nodes()) + 1e-12);
    EXPECT_DOUBLE_EQ(m.ct_standard, k);
    EXPECT_GE(m.intra_ratio, 0.0);
    EXPECT_LE(m.intra_ratio, 1.0);

    // Against the brute-force reference.
    std::int64_t dev_sum = 0, node_sum = 0, rem_dev = 0, rem_node = 0, rem_slots = 0, intra = 0;
    for (std::int64_t t = 0; t < c.tokens; ++t) {
      const auto ref = ref_token(routing, placement, shape, t);
      dev_sum += std::int64_t(ref.devices.size());
      node_sum += std::int64_t(ref.nodes.size());
      rem_dev += std::int64_t(ref.devices.size()) - std::int64_t(ref.devices.count(ref.src));
      rem_node += std::int64_t(ref.nodes.size()) - std::int64_t(ref.nodes.count(shape.node_of(ref.src)));
      rem_slots += std::int64_t(ref.slot_devices.size()) - std::int64_t(ref.slot_devices.count(ref.src));
      for (int d : ref.devices) {
        const auto n = std::int64_t(ref.slot_devices.count(d));
        intra += n * (n - 1) / 2;
      }
    }
    EXPECT_DOUBLE_EQ(m.ct_occult, double(dev_sum) / T);
    EXPECT_DOUBLE_EQ(m.ct_node, double(node_sum) / T);
    EXPECT_DOUBLE_EQ(m.remote_ct_occult, double(rem_dev) / T);
    EXPECT_DOUBLE_EQ(m.remote_ct_node, double(rem_node) / T);
    EXPECT_DOUBLE_EQ(m.remote_ct_standard, double(rem_slots) / T);
    if (c.top_k > 1) {
      EXPECT_DOUBLE_EQ(m.intra_ratio, double(intra) / (T * k * (k - 1) / 2));
    }

    // Bytes: standard and occult remote bytes are the remote replicas times the row size.
    EXPECT_EQ(m.bytes_standard.total, rem_slots * kRowBytes);
    EXPECT_EQ(m.bytes_occult.total, rem_dev * kRowBytes);
    EXPECT_LE(m.bytes_occult.total, m.bytes_standard.total);
    EXPECT_LE(m.bytes_hierarchical.inter_node, m.bytes_occult.inter_node);
    for (const ByteSummary* b : {&m.bytes_standard, &m.bytes_occult, &m.bytes_hierarchical}) {
      EXPECT_EQ(b->total, b->intra_node + b->inter_node);
      EXPECT_LE(b->max_send, b->total);
      EXPECT_LE(b->max_send_inter, b->max_send);
      EXPECT_LE(b->max_recv_intra, b->max_recv);
    }
    if (c.devices == 1) {
      EXPECT_EQ(m.bytes_standard.total, 0);
      EXPECT_EQ(m.bytes_occult.total, 0);
      EXPECT_EQ(m.bytes_hierarchical.total, 0);
    }
    if (shape.nodes() == 1) {
      EXPECT_EQ(m.bytes_hierarchical.inter_node, 0);
    }

    // Hierarchical crosses the network exactly once per (token, remote destination node).
    EXPECT_EQ(m.bytes_hierarchical.inter_node, rem_node * kRowBytes);

    // Load: every (token, expert) pair lands on exactly one device.
    std::int64_t pairs = 0;
    for (auto x : m.pairs_per_device) pairs += x;
    EXPECT_EQ(pairs, c.tokens * c.top_k);
    EXPECT_EQ(m.pairs, pairs);
    EXPECT_GE(m.load_imbalance, 1.0 - 1e-12);
  }
}

TEST(MetricsProperties, OneExpertPerDeviceGivesCtOccultEqualK) {
  std::mt19937_64 rng(7);
  for (int k : {1, 2, 4, 8}) {
    const auto routing = random_routing(rng, 16, k, 500);
    const auto m = analyze_layer(routing, analysis_test::contiguous(16, 16), {16, 4}, 1);
    EXPECT_DOUBLE_EQ(m.ct_occult, k);
    EXPECT_DOUBLE_EQ(m.intra_ratio, 0.0);
    EXPECT_EQ(m.bytes_occult.total, m.bytes_standard.total);
  }
}

TEST(MetricsProperties, SingleDeviceMovesNothing) {
  std::mt19937_64 rng(8);
  const auto routing = random_routing(rng, 8, 4, 300);
  const auto m = analyze_layer(routing, analysis_test::contiguous(8, 1), {1, 1}, 4096);
  EXPECT_DOUBLE_EQ(m.ct_occult, 1.0);
  EXPECT_DOUBLE_EQ(m.ct_node, 1.0);
  EXPECT_DOUBLE_EQ(m.remote_ct_occult, 0.0);
  EXPECT_DOUBLE_EQ(m.intra_ratio, 1.0);
  EXPECT_EQ(m.bytes_standard.total + m.bytes_occult.total + m.bytes_hierarchical.total, 0);
}

TEST(MetricsProperties, AggregateIsTokenWeighted) {
  std::mt19937_64 rng(9);
  const auto p = analysis_test::contiguous(16, 4);
  auto a = analyze_layer(random_routing(rng, 16, 4, 100), p, {4, 2}, 2);
  auto b = analyze_layer(random_routing(rng, 16, 4, 300, true), p, {4, 2}, 2);
  const auto all = aggregate_layers({a, b});
  EXPECT_EQ(all.layer, -1);
  EXPECT_EQ(all.tokens, 400);
  EXPECT_NEAR(all.ct_occult, (100 * a.ct_occult + 300 * b.ct_occult) / 400, 1e-12);
  EXPECT_EQ(all.bytes_occult.total, a.bytes_occult.total + b.bytes_occult.total);
  EXPECT_EQ(all.bytes_standard.max_send, std::max(a.bytes_standard.max_send, b.bytes_standard.max_send));
  EXPECT_EQ(all.pairs_per_device[2], a.pairs_per_device[2] + b.pairs_per_device[2]);
  EXPECT_DOUBLE_EQ(all.load_imbalance, std::max(a.load_imbalance, b.load_imbalance));
}

TEST(MetricsProperties, RejectsExpertIdsOutsideThePlacement) {
  LayerRouting r;
  r.top_k = 2;
  r.experts = {0, 1, 2, 8};
  EXPECT_THROW(analyze_layer(r, analysis_test::contiguous(8, 2), {2, 1}, 1), InputError);
  r.experts = {0, 1, -3, 2};
  EXPECT_THROW(analyze_layer(r, analysis_test::contiguous(8, 2), {2, 1}, 1), InputError);
}

}  // namespace
}  // namespace occult
