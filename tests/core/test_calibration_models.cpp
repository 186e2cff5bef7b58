// The time models inside a calibration profile, in closed form: measured curves (log-log between
// samples, the floor below, in proportion above), link efficiency against the nominal figure, and the
// expert FFN grid (rows per expert, local experts, pairs per row, GEMM size).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/calibration.hpp"

namespace occult {
namespace {

TEST(MeasuredCurve, ReproducesSamplesAndInterpolatesLogLog) {
  const MeasuredCurve c({{1e6, 10e-6}, {1e3, 5e-6}, {1e9, 2e-3}});  // unsorted on purpose
  EXPECT_DOUBLE_EQ(c.seconds(1e3), 5e-6);
  EXPECT_DOUBLE_EQ(c.seconds(1e6), 10e-6);
  EXPECT_DOUBLE_EQ(c.seconds(1e9), 2e-3);
  // The log-midpoint of two samples gets the geometric mean of their times.
  EXPECT_NEAR(c.seconds(std::sqrt(1e3 * 1e6)), std::sqrt(5e-6 * 10e-6), 1e-15);
  EXPECT_DOUBLE_EQ(c.seconds(10), 5e-6);          // the floor: a smaller call is no faster
  EXPECT_NEAR(c.seconds(4e9), 8e-3, 1e-15);       // the last rate holds
  EXPECT_EQ(c.seconds(0), 0.0);
  EXPECT_EQ(MeasuredCurve().seconds(1e6), 0.0);
}

TEST(MeasuredCurve, AveragesSamplesOfEqualSize) {
  const MeasuredCurve c({{100, 2e-6}, {100, 4e-6}});
  ASSERT_EQ(c.samples().size(), 1u);
  EXPECT_DOUBLE_EQ(c.seconds(100), 3e-6);
}

TEST(LinkModel, EfficiencyIsAgainstTheNominalFigureAndReproducesTheSamples) {
  LinkCalibration l;
  l.nominal_Bps = 450e9;
  l.samples = {{4096, 10e-6}, {16e6, 90e-6}, {1e9, 3.0e-3}};
  EXPECT_DOUBLE_EQ(l.latency_s(), 10e-6);
  for (const auto& s : l.samples) {
    if (s.seconds <= l.latency_s()) continue;
    // On the calibrated machine: floor + bytes / (nominal * efficiency) is the measured time.
    EXPECT_NEAR(l.latency_s() + s.bytes / (l.nominal_Bps * l.efficiency(s.bytes)), s.seconds, 1e-12);
  }
  EXPECT_NEAR(l.efficiency(1e9), 1e9 / ((3.0e-3 - 10e-6) * 450e9), 1e-12);
  // At the floor's size the time says nothing about bandwidth: the next sample's efficiency.
  EXPECT_NEAR(l.efficiency(4096), 16e6 / (80e-6 * 450e9), 1e-12);
}

ExpertSample at(int h, int f, int experts, std::int64_t rpe, int slots, int ppr, double tflops) {
  return {h, f, experts, rpe, slots, ppr, 6.0 * h * f * double(rpe) * experts / (tflops * 1e12)};
}

double fwd_flops(int h, int f, double pairs) { return 6.0 * h * f * pairs; }

TEST(ExpertModel, ExactAtSamplesAndLogLogBetweenRowsPerExpert) {
  ExpertCalibration g;
  g.samples = {at(2048, 1024, 8, 64, 1, 1, 100), at(2048, 1024, 8, 1024, 1, 1, 500)};
  const ExpertShape s64{64 * 8, 64 * 8, 8, 2048, 1024, false};
  EXPECT_NEAR(g.seconds(s64), fwd_flops(2048, 1024, 512) / 100e12, 1e-15);
  const ExpertShape s1024{1024 * 8, 1024 * 8, 8, 2048, 1024, false};
  EXPECT_NEAR(g.seconds(s1024), fwd_flops(2048, 1024, 8192) / 500e12, 1e-15);
  const ExpertShape s256{256 * 8, 256 * 8, 8, 2048, 1024, false};
  EXPECT_NEAR(g.seconds(s256), std::sqrt(g.seconds(s64) * g.seconds(s1024)), 1e-15);
  const ExpertShape s8{8 * 8, 8 * 8, 8, 2048, 1024, false};
  EXPECT_DOUBLE_EQ(g.seconds(s8), g.seconds(s64));  // below the grid: the floor
  EXPECT_EQ(g.seconds({0, 0, 8, 2048, 1024, false}), 0.0);
  EXPECT_TRUE(std::isinf(ExpertCalibration{}.seconds(s64)));
}

TEST(ExpertModel, LocalExpertsBetweenAndBeyondTheGrid) {
  ExpertCalibration g;
  g.samples = {at(2048, 1024, 4, 256, 1, 1, 200), at(2048, 1024, 16, 256, 1, 1, 400)};
  const auto t = [&](int experts) { return g.seconds({256LL * experts, 256LL * experts, experts, 2048, 1024, false}); };
  EXPECT_NEAR(t(8), std::sqrt(t(4) * t(16)), 1e-15);  // log-midpoint of 4 and 16
  EXPECT_NEAR(t(32), 2 * t(16), 1e-15);               // beyond: in proportion to the work
  EXPECT_NEAR(t(2), 0.5 * t(4), 1e-15);               // below: likewise
}

TEST(ExpertModel, PairsPerRowAndSlotLayout) {
  ExpertCalibration g;
  g.samples = {at(2048, 1024, 8, 256, 1, 1, 400), at(2048, 1024, 8, 256, 8, 1, 300),
               at(2048, 1024, 8, 256, 8, 4, 350)};
  const std::int64_t pairs = 256 * 8;
  const double one = g.seconds({pairs, pairs, 8, 2048, 1024, true});
  const double four = g.seconds({pairs, pairs / 4, 8, 2048, 1024, true});
  EXPECT_NEAR(one, fwd_flops(2048, 1024, double(pairs)) / 300e12, 1e-15);
  EXPECT_NEAR(four, fwd_flops(2048, 1024, double(pairs)) / 350e12, 1e-15);
  EXPECT_NEAR(g.seconds({pairs, pairs / 2, 8, 2048, 1024, true}), one + (four - one) / 3, 1e-15);
  EXPECT_NEAR(g.seconds({pairs, pairs, 8, 2048, 1024, false}), fwd_flops(2048, 1024, double(pairs)) / 400e12,
              1e-15);
}

TEST(ExpertModel, AnotherGemmSizeScalesByFlops) {
  ExpertCalibration g;
  g.samples = {at(2048, 1024, 8, 256, 1, 1, 300), at(7168, 2048, 8, 256, 1, 1, 600)};
  const std::int64_t pairs = 2048;
  EXPECT_NEAR(g.seconds({pairs, pairs, 8, 6144, 2048, false}), fwd_flops(6144, 2048, pairs) / 600e12, 1e-15);
  EXPECT_NEAR(g.seconds({pairs, pairs, 8, 2048, 1408, false}), fwd_flops(2048, 1408, pairs) / 300e12, 1e-15);
}

}  // namespace
}  // namespace occult
