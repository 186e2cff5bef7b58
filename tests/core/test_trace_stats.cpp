// Trace statistics: closed-form cases, and that the generator's knobs move them the right way.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sim/core/trace_gen.hpp"
#include "sim/core/trace_stats.hpp"

namespace occult {
namespace {

LayerRouting layer_of(std::vector<std::int32_t> ids, int k) {
  LayerRouting l;
  l.top_k = k;
  l.experts = std::move(ids);
  return l;
}

TEST(TraceStats, OnePairOnlyClosedForm) {
  // 10 tokens all choosing {0, 1} out of 4 experts: loads 10, 10, 0, 0.
  std::vector<std::int32_t> ids;
  for (int t = 0; t < 10; ++t) ids.insert(ids.end(), {t % 2 ? 0 : 1, t % 2 ? 1 : 0});
  LayerStats s = layer_stats(layer_of(ids, 2), 4, 3);
  EXPECT_EQ(s.tokens, 10);
  EXPECT_EQ(s.load, (std::vector<std::int64_t>{10, 10, 0, 0}));
  EXPECT_DOUBLE_EQ(s.load_max_over_mean, 2.0);
  EXPECT_DOUBLE_EQ(s.load_cv, 1.0);
  EXPECT_EQ(s.unused_experts, 2);
  ASSERT_TRUE(s.has_pairs);
  EXPECT_DOUBLE_EQ(s.top10_pair_share, 1.0);  // 6 pairs, top 10% = the one pair holding everything
  ASSERT_EQ(s.top_pairs.size(), 3u);
  EXPECT_EQ(s.top_pairs[0].a, 0);
  EXPECT_EQ(s.top_pairs[0].b, 1);
  EXPECT_EQ(s.top_pairs[0].count, 10);
  EXPECT_DOUBLE_EQ(s.mean_lift, 1.0);  // the only pair with load is exactly as expected
}

TEST(TraceStats, BalancedAllPairsHasNoSkewAndLiftOne) {
  // Each of the 6 pairs of 4 experts once: every load is 3, every pair count is 1.
  LayerStats s = layer_stats(layer_of({0, 1, 0, 2, 0, 3, 1, 2, 1, 3, 2, 3}, 2), 4, 10);
  EXPECT_DOUBLE_EQ(s.load_cv, 0.0);
  EXPECT_DOUBLE_EQ(s.load_max_over_mean, 1.0);
  EXPECT_NEAR(s.zipf_exponent, 0.0, 1e-12);
  EXPECT_NEAR(s.mean_lift, 1.0, 1e-12);
  EXPECT_NEAR(s.top10_pair_share, 1.0 / 6.0, 1e-12);
}

TEST(TraceStats, ZipfFitRecoversExactPowerLaw) {
  // Single-expert tokens (k = 1) with loads 1000 / r for ranks r = 1..8.
  std::vector<std::int32_t> ids;
  const int loads[] = {840, 420, 280, 210, 168, 140, 120, 105};  // 840 / r exactly
  for (int e = 0; e < 8; ++e) ids.insert(ids.end(), std::size_t(loads[e]), 7 - e);
  LayerStats s = layer_stats(layer_of(ids, 1), 8, 5);
  EXPECT_NEAR(s.zipf_exponent, 1.0, 1e-9);
  EXPECT_FALSE(s.has_pairs);  // k = 1 has no co-activations
}

TEST(TraceStats, HistogramBinsRelativeLoad) {
  auto h = load_histogram({0, 5, 10, 15, 20, 100}, 0.5, 4);  // mean 25: 0, .2, .4, .6, .8, 4
  EXPECT_EQ(h, (std::vector<int>{3, 2, 0, 1}));
}

double mean_stat(const TraceGenParams& p, double TraceStats::*field) {
  return trace_stats(generate_trace(p), 0).*field;
}

TraceGenParams base() {
  TraceGenParams p;
  p.experts = 32;
  p.top_k = 4;
  p.tokens = 6000;
  p.layers = 2;
  p.groups = 8;
  p.seed = 11;
  return p;
}

TEST(TraceStats, SkewKnobRaisesLoadImbalance) {
  double prev_cv = -1, prev_zipf = -1;
  for (double skew : {0.0, 0.5, 1.0}) {
    TraceGenParams p = base();
    p.skew = skew;
    const double cv = mean_stat(p, &TraceStats::load_cv), zipf = mean_stat(p, &TraceStats::zipf_exponent);
    EXPECT_GT(cv, prev_cv) << skew;
    EXPECT_GT(zipf, prev_zipf) << skew;
    prev_cv = cv, prev_zipf = zipf;
  }
  TraceGenParams uniform = base();
  EXPECT_LT(mean_stat(uniform, &TraceStats::load_cv), 0.1);  // only sampling noise
}

TEST(TraceStats, AffinityKnobRaisesCoActivationConcentration) {
  double prev_share = -1, prev_lift = -1;
  for (double aff : {0.0, 0.4, 0.8}) {
    TraceGenParams p = base();
    p.affinity = aff;
    const double share = mean_stat(p, &TraceStats::top10_pair_share);
    const double lift = mean_stat(p, &TraceStats::mean_lift);
    EXPECT_GT(share, prev_share) << aff;
    EXPECT_GT(lift, prev_lift) << aff;
    prev_share = share, prev_lift = lift;
  }
  TraceGenParams independent = base();
  EXPECT_NEAR(mean_stat(independent, &TraceStats::mean_lift), 1.0, 0.1);
}

TEST(TraceStats, CliJsonIsOneDocument) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto trace = (dir / "occult_stats_cli.trace").string();
  const std::string gen = std::string(OCCULT_BIN) +
                          " trace gen --experts 16 --top-k 2 --tokens 500 --layers 2 --skew 0.5" +
                          " --affinity 0.5 --seed 3 -o " + trace + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  FILE* p = popen((std::string(OCCULT_BIN) + " trace stats --json " + trace + " 2>/dev/null").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  const auto doc = nlohmann::json::parse(out);  // throws (fails the test) on anything but one JSON document
  EXPECT_EQ(doc["experts"], 16);
  EXPECT_EQ(doc["layers"], 2);
  EXPECT_EQ(doc["tokens"], 1000);
  EXPECT_EQ(doc["per_layer"][0]["load"].size(), 16u);
  std::filesystem::remove(trace);
}

TEST(TraceStats, CliBadArgumentsExitWith2) {
  for (const char* args :
       {"trace stats /nonexistent/x.trace", "trace gen --experts 8 --top-k 9 -o /tmp/x.trace",
        "trace gen --affinity 2 -o /tmp/x.trace", "trace gen --model nosuchmodel -o /tmp/x.trace"}) {
    const int status = std::system((std::string(OCCULT_BIN) + " " + args + " >/dev/null 2>&1").c_str());
    ASSERT_TRUE(WIFEXITED(status)) << args;
    EXPECT_EQ(WEXITSTATUS(status), 2) << args;
  }
}

}  // namespace
}  // namespace occult
