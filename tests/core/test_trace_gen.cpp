#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "sim/core/error.hpp"
#include "sim/core/trace_gen.hpp"

namespace occult {
namespace {

TraceGenParams params(double skew, double affinity, std::uint64_t seed = 3) {
  TraceGenParams p;
  p.experts = 64;
  p.top_k = 8;
  p.tokens = 4000;
  p.layers = 2;
  p.skew = skew;
  p.affinity = affinity;
  p.seed = seed;
  return p;
}

TEST(TraceGen, DeterministicUnderSeedAndLayersIndependent) {
  Trace a = generate_trace(params(1.0, 0.5));
  Trace b = generate_trace(params(1.0, 0.5));
  Trace c = generate_trace(params(1.0, 0.5, 4));
  ASSERT_EQ(a.layers.size(), 2u);
  EXPECT_EQ(a.layers[0].experts, b.layers[0].experts);
  EXPECT_EQ(a.layers[1].weights, b.layers[1].weights);
  EXPECT_NE(a.layers[0].experts, c.layers[0].experts);
  EXPECT_NE(a.layers[0].experts, a.layers[1].experts);
  EXPECT_EQ(generate_layer(params(1.0, 0.5), 1).experts, a.layers[1].experts);
  LayerRouting reused = a.layers[0];  // a buffer holding another layer must be fully overwritten
  generate_layer_into(params(1.0, 0.5), 1, reused);
  EXPECT_EQ(reused.layer, 1);
  EXPECT_EQ(reused.experts, a.layers[1].experts);
  EXPECT_EQ(reused.weights, a.layers[1].weights);
}

TEST(TraceGen, TokensHaveDistinctValidExpertsAndNormalisedSortedWeights) {
  for (double skew : {0.0, 2.5}) {
    for (double aff : {0.0, 1.0}) {
      TraceGenParams p = params(skew, aff);
      p.experts = 10;  // k close to E and to the group size stresses the distinct-draw fallback
      p.top_k = 8;
      p.groups = 3;
      Trace t = generate_trace(p);
      EXPECT_NO_THROW(validate_trace(t, "gen"));  // ids in range and distinct per token
      const auto& l = t.layers[0];
      for (std::int64_t i = 0; i < l.tokens(); ++i) {
        float sum = 0;
        for (int j = 0; j < p.top_k; ++j) {
          sum += l.weight(i, j);
          if (j > 0) {
            EXPECT_GE(l.weight(i, j - 1), l.weight(i, j));
          }
        }
        EXPECT_NEAR(sum, 1.0f, 1e-5f);
      }
    }
  }
}

TEST(TraceGen, RejectsBadParameters) {
  auto bad = [](auto mutate) {
    TraceGenParams p = params(1, 0.5);
    mutate(p);
    EXPECT_THROW(generate_trace(p), InputError);
  };
  bad([](TraceGenParams& p) { p.experts = 0; });
  bad([](TraceGenParams& p) { p.top_k = 65; });
  bad([](TraceGenParams& p) { p.tokens = 0; });
  bad([](TraceGenParams& p) { p.layers = 0; });
  bad([](TraceGenParams& p) { p.skew = -1; });
  bad([](TraceGenParams& p) { p.affinity = 1.5; });
  bad([](TraceGenParams& p) { p.groups = 65; });
  bad([](TraceGenParams& p) { p.skew = std::nan(""); });
}

}  // namespace
}  // namespace occult
