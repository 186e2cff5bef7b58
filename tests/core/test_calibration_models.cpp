// The time models inside a calibration profile: link time with size-dependent efficiency, GEMM time
// from achieved TFLOP/s by rows per expert and shape.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/calibration.hpp"

namespace occult {
namespace {

TEST(LinkModel, WithoutSamplesIsLatencyPlusSizeOverBandwidth) {
  LinkCalibration l;
  l.latency_s = 10e-6;
  l.bandwidth_Bps = 100e9;
  EXPECT_DOUBLE_EQ(l.seconds(1e9), 10e-6 + 1e9 / 100e9);
  EXPECT_DOUBLE_EQ(l.seconds(0), 0.0);
}

TEST(LinkModel, ReproducesEverySampleAndInterpolatesBetween) {
  LinkCalibration l;
  l.latency_s = 40e-6;
  l.bandwidth_Bps = 300e9;
  l.samples = {{1e6, 60e-6}, {16e6, 160e-6}, {1e9, 40e-6 + 1e9 / 300e9}};
  for (const auto& s : l.samples) EXPECT_NEAR(l.seconds(s.bytes), s.seconds, 1e-12) << s.bytes;
  // Between samples the efficiency is interpolated, so the time lies between the neighbours'
  // efficiencies applied to this size.
  const double mid = 4e6;
  const double eff_lo = 1e6 / (20e-6 * 300e9), eff_hi = 16e6 / (120e-6 * 300e9);
  const double t = l.seconds(mid);
  EXPECT_GT(t, l.latency_s + mid / (300e9 * eff_hi));
  EXPECT_LT(t, l.latency_s + mid / (300e9 * eff_lo));
  // Midpoint in log-size gets the mean efficiency.
  const double eff_mid = 0.5 * (eff_lo + eff_hi);
  EXPECT_NEAR(l.seconds(4e6), l.latency_s + 4e6 / (300e9 * eff_mid), 1e-12);
  // Beyond the samples the end efficiency holds.
  EXPECT_NEAR(l.seconds(4e9), l.latency_s + 4e9 / 300e9, 1e-9);
  EXPECT_NEAR(l.seconds(1e3), l.latency_s + 1e3 / (300e9 * eff_lo), 1e-12);
}

TEST(LinkModel, SamplesBelowTheLatencyFloorAreIgnored) {
  LinkCalibration l;
  l.latency_s = 50e-6;
  l.bandwidth_Bps = 10e9;
  l.samples = {{1e3, 40e-6}, {1e8, 50e-6 + 1e8 / 10e9}};
  EXPECT_NEAR(l.seconds(1e3), 50e-6 + 1e3 / 10e9, 1e-12);
}

TEST(GemmModel, TflopsOfASample) {
  GemmSample s{128, 2048, 1024, 8, 0};
  s.seconds = 2.0 * 3 * 2048 * 1024 * 128 * 8 / 500e12;
  EXPECT_NEAR(s.tflops(), 500, 1e-9);
}

TEST(GemmModel, InterpolatesAchievedThroughputByRowsPerExpert) {
  GemmCalibration g;
  auto at = [](std::int64_t rows, double tf) {
    GemmSample s{rows, 2048, 1024, 8, 0};
    s.seconds = 2.0 * 3 * 2048 * 1024 * double(rows) * 8 / (tf * 1e12);
    return s;
  };
  g.samples = {at(64, 100), at(1024, 500)};
  const double flops_per_row = 2.0 * 3 * 2048 * 1024;
  // Exact at the samples (rows = rows_per_expert * local experts).
  EXPECT_NEAR(g.seconds(64 * 8, 8, 2048, 1024), flops_per_row * 512 / 100e12, 1e-15);
  EXPECT_NEAR(g.seconds(1024 * 8, 8, 2048, 1024), flops_per_row * 8192 / 500e12, 1e-15);
  // 256 rows per expert is the log-midpoint of 64 and 1024: mean throughput.
  EXPECT_NEAR(g.seconds(256 * 8, 8, 2048, 1024), flops_per_row * 2048 / 300e12, 1e-15);
  // Clamped outside the samples; zero rows take no time.
  EXPECT_NEAR(g.seconds(8 * 8, 8, 2048, 1024), flops_per_row * 64 / 100e12, 1e-15);
  EXPECT_EQ(g.seconds(0, 8, 2048, 1024), 0.0);
}

TEST(GemmModel, PicksTheNearestShape) {
  GemmCalibration g;
  auto at = [](int h, int f, double tf) {
    GemmSample s{256, h, f, 4, 0};
    s.seconds = 2.0 * 3 * h * f * 256.0 * 4 / (tf * 1e12);
    return s;
  };
  g.samples = {at(2048, 1024, 200), at(7168, 2048, 600)};
  const double big = 2.0 * 3 * 7168 * 2048 * 1024;
  EXPECT_NEAR(g.seconds(1024, 4, 7168, 2048), big / 600e12, 1e-15);
  const double near_big = 2.0 * 3 * 6144 * 2048 * 1024;
  EXPECT_NEAR(g.seconds(1024, 4, 6144, 2048), near_big / 600e12, 1e-15);
  const double small = 2.0 * 3 * 2048 * 1408 * 1024;
  EXPECT_NEAR(g.seconds(1024, 4, 2048, 1408), small / 200e12, 1e-15);
}

TEST(GemmModel, FallsBackToPeakWithoutSamples) {
  GemmCalibration g;
  g.peak_tflops = 400;
  EXPECT_NEAR(g.seconds(100, 2, 1000, 1000), 6.0 * 1000 * 1000 * 100 / 400e12, 1e-18);
}

}  // namespace
}  // namespace occult
