// Properties of every placement algorithm, and optimality on graphs small enough to enumerate.
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "sim/core/error.hpp"
#include "sim/place/layer_placer.hpp"
#include "sim/place/trace_placer.hpp"
#include "tests/host/test_place_support.hpp"

namespace occult::place {
namespace {

using testing::for_each_balanced_partition;
using testing::mean_groups;
using testing::small_params;

PlaceOptions options(Algo algo, int devices, int gpus_per_node = 1) {
  PlaceOptions o;
  o.algo = algo;
  o.shape = {devices, gpus_per_node};
  return o;
}

std::vector<int> node_of(const std::vector<int>& device_of, int gpus_per_node) {
  std::vector<int> n(device_of.size());
  for (std::size_t e = 0; e < n.size(); ++e) n[e] = device_of[e] / gpus_per_node;
  return n;
}

class EveryAlgorithm : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryAlgorithm, PlacesEveryExpertExactlyEOverDPerDeviceLayersIndependentDeterministic) {
  const auto trace = generate_trace([] {
    auto p = small_params(32, 4, 500, 3);
    p.layers = 3;
    return p;
  }());
  auto o = options(parse_algo(GetParam()), 8, 4);
  const auto p = place_trace(trace, o, 1.0);
  ASSERT_EQ(p.layers.size(), 3u);
  EXPECT_NO_THROW(validate_placement(p, 32, 3, "test"));
  for (const auto& lp : p.layers) {
    std::vector<int> per_device(8, 0);
    for (int d : lp.device_of) ++per_device[std::size_t(d)];
    for (int c : per_device) EXPECT_EQ(c, 4);
    EXPECT_TRUE(lp.replicas.empty());
  }
  EXPECT_EQ(place_trace(trace, o, 1.0).layers[1].device_of, p.layers[1].device_of)
      << "same seed, same result";
  EXPECT_EQ(place_trace(trace, o, 1.0, {}, 3).layers[2].device_of, p.layers[2].device_of)
      << "threads change nothing";
  // Layer 1 alone, as layer 1 of another trace, gives the same placement: layers do not see each other.
  Trace other = trace;
  other.layers[0] = generate_layer(small_params(32, 4, 500, 99), 0);
  EXPECT_EQ(place_trace(other, o, 1.0).layers[1].device_of, p.layers[1].device_of);
}

TEST_P(EveryAlgorithm, ReplicationAddsTheStatedCopiesOfTheHottestExperts) {
  const auto trace = generate_trace(small_params(60, 4, 800, 5));
  auto o = options(parse_algo(GetParam()), 8, 1);
  o.replicate = 4;  // 60 + 4 = 64 slots, 8 per device
  const auto p = place_trace(trace, o, 1.0);
  const auto& lp = p.layers[0];
  ASSERT_EQ(lp.replicas.size(), 60u);
  std::vector<int> per_device(8, 0);
  int copies = 0;
  for (int e = 0; e < 60; ++e) {
    ++per_device[std::size_t(lp.device_of[std::size_t(e)])];
    for (int d : lp.replicas[std::size_t(e)]) {
      EXPECT_NE(d, lp.device_of[std::size_t(e)]) << "a copy on its own device helps nobody";
      ++per_device[std::size_t(d)];
      ++copies;
    }
  }
  EXPECT_EQ(copies, 4);
  for (int c : per_device) EXPECT_EQ(c, 8);
  EXPECT_NO_THROW(validate_placement(p, 60, 1, "test"));
}

INSTANTIATE_TEST_SUITE_P(Place, EveryAlgorithm, ::testing::ValuesIn(algo_names()),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string n = param.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// On 8 experts every balanced partition can be enumerated: metis + refinement must find the optimum.
TEST(PlaceOptimality, MetisReachesTheBruteForceOptimumOnTinyGraphs) {
  for (int devices : {2, 4})
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      auto params = small_params(8, 3, 300, seed);
      params.groups = seed % 2 == 0 ? 4 : 2;
      const auto r = generate_layer(params, 0);
      double optimum = std::numeric_limits<double>::max();
      for_each_balanced_partition(
          8, devices, [&](const std::vector<int>& g) { optimum = std::min(optimum, mean_groups(r, g)); });
      const auto ts = make_token_sets(r, 8, 0, r.tokens());
      const auto out = place_layer(ts, options(Algo::Metis, devices), seed);
      EXPECT_NEAR(mean_groups(r, out.placement.device_of), optimum, 1e-12)
          << "D=" << devices << " seed=" << seed;
    }
}

TEST(PlaceOptimality, MetisIsNoWorseThanGreedyOrContiguousOnTheProfile) {
  const auto r = generate_layer(small_params(64, 8, 2000, 21), 0);
  const auto ts = make_token_sets(r, 64, 0, r.tokens());
  for (int devices : {4, 8, 16}) {
    const double metis =
        mean_groups(r, place_layer(ts, options(Algo::Metis, devices), 1).placement.device_of);
    const double greedy =
        mean_groups(r, place_layer(ts, options(Algo::Greedy, devices), 1).placement.device_of);
    const double contiguous =
        mean_groups(r, place_layer(ts, options(Algo::Contiguous, devices), 1).placement.device_of);
    EXPECT_LE(metis, greedy) << devices;
    EXPECT_LT(greedy, contiguous) << devices;
  }
}

TEST(PlaceOptimality, HierarchicalNeverHasWorseCtNodeThanMetis) {
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    const auto r = generate_layer(small_params(64, 8, 800, seed), 0);
    const auto ts = make_token_sets(r, 64, 0, r.tokens());
    for (auto [devices, gpn] : {std::pair{8, 2}, std::pair{8, 4}, std::pair{16, 4}, std::pair{16, 8}}) {
      const auto metis = place_layer(ts, options(Algo::Metis, devices, gpn), seed).placement.device_of;
      const auto hier = place_layer(ts, options(Algo::Hierarchical, devices, gpn), seed).placement.device_of;
      EXPECT_LE(mean_groups(r, node_of(hier, gpn)), mean_groups(r, node_of(metis, gpn)) + 1e-12)
          << "seed=" << seed << " D=" << devices << " G=" << gpn;
    }
  }
}

TEST(PlaceOptimality, LoadAwareRespectsItsBound) {
  auto params = small_params(64, 8, 3000, 4);
  params.skew = 1.2;  // hot experts: co-locating them would overload a device
  const auto r = generate_layer(params, 0);
  const auto ts = make_token_sets(r, 64, 0, r.tokens());
  for (double ratio : {1.05, 1.2}) {
    auto o = options(Algo::LoadAware, 8);
    o.max_load_ratio = ratio;
    const auto out = place_layer(ts, o, 1);
    ASSERT_TRUE(out.load_bound_met) << ratio;
    std::vector<std::int64_t> load(8, 0);
    for (int e = 0; e < 64; ++e) load[std::size_t(out.placement.device_of[std::size_t(e)])] += ts.load(e);
    const double mean = double(r.tokens() * 8) / 8.0;
    EXPECT_LE(double(*std::max_element(load.begin(), load.end())), ratio* mean) << ratio;
    EXPECT_EQ(out.load_bound, std::int64_t(ratio * mean));
  }
}

TEST(PlaceOptions, RejectsBadShapesAndNames) {
  EXPECT_THROW(parse_algo("kmeans"), InputError);
  auto o = options(Algo::Metis, 7);
  EXPECT_THROW(validate_options(o, 64), InputError);  // 7 does not divide 64
  o.replicate = 6;
  EXPECT_NO_THROW(validate_options(o, 64));  // 70 slots, 10 per device
  o = options(Algo::Metis, 8, 3);
  EXPECT_THROW(validate_options(o, 64), InputError);  // G does not divide D
  o = options(Algo::LoadAware, 8);
  o.max_load_ratio = 0.9;
  EXPECT_THROW(validate_options(o, 64), InputError);
  EXPECT_THROW(profile_tokens(100, 0.0), InputError);
  EXPECT_THROW(profile_tokens(100, 1.5), InputError);
  EXPECT_EQ(profile_tokens(100, 0.5), 50);
}

}  // namespace
}  // namespace occult::place
