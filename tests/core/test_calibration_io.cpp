// Calibration profile JSON: round trip, provenance, and errors that name the field at fault.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/core/calibration.hpp"
#include "sim/core/error.hpp"

namespace occult {
namespace {

CalibrationProfile sample_profile() {
  CalibrationProfile p;
  p.measured = true;
  p.provenance = {
      "NVIDIA H200", 2, "570.1", "13.0", "2.27", "2026-11-28T12:00:00Z", "occult calibrate -o p.json",
      "gpu1"};
  LinkCalibration l;
  l.link_class = "nvlink";
  l.how = "NCCL all-to-all";
  l.latency_s = 45e-6;
  l.bandwidth_Bps = 330e9;
  l.samples = {{1e6, 60e-6}, {16e6, 160e-6}, {1e9, 3.1e-3}};
  p.links.push_back(l);
  p.gemm.kernel = "sparse_ffn";
  p.gemm.peak_tflops = 760;
  p.gemm.samples = {{64, 2048, 1024, 8, 1e-4}, {1024, 2048, 1024, 8, 8e-4}};
  p.layout = {3e-6, 2e12};
  p.pack = {4e-6, 3e12};
  p.unpack = {5e-6, 3.5e12};
  return p;
}

TEST(CalibrationIo, RoundTripsEveryField) {
  const auto p = sample_profile();
  const auto path = (std::filesystem::temp_directory_path() / "occult_cal_roundtrip.json").string();
  write_calibration(p, path);
  const auto q = read_calibration(path);
  std::filesystem::remove(path);
  EXPECT_EQ(calibration_to_json(q), calibration_to_json(p));
  EXPECT_TRUE(q.measured);
  EXPECT_EQ(q.provenance.gpu_name, "NVIDIA H200");
  EXPECT_EQ(q.provenance.command, "occult calibrate -o p.json");
  ASSERT_NE(q.link("nvlink"), nullptr);
  EXPECT_EQ(q.link("pcie"), nullptr);
  EXPECT_EQ(q.link("nvlink")->samples.size(), 3u);
  EXPECT_DOUBLE_EQ(q.unpack.launch_s, 5e-6);
}

TEST(CalibrationIo, SortsSamplesBySize) {
  auto j = calibration_to_json(sample_profile());
  std::swap(j["links"][0]["samples"][0], j["links"][0]["samples"][2]);
  const auto q = calibration_from_json(j, "mem");
  EXPECT_LT(q.links[0].samples[0].bytes, q.links[0].samples[1].bytes);
  EXPECT_LT(q.links[0].samples[1].bytes, q.links[0].samples[2].bytes);
}

void expect_error(nlohmann::json j, const std::string& field) {
  try {
    calibration_from_json(j, "p.json");
    ADD_FAILURE() << "accepted a bad profile; expected an error at " << field;
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), field) << e.what();
    EXPECT_EQ(e.file(), "p.json");
  }
}

TEST(CalibrationIo, BadProfilesNameTheField) {
  const auto good = calibration_to_json(sample_profile());
  auto j = good;
  j["links"][0]["bandwidth_Bps"] = -1;
  expect_error(j, "links[0].bandwidth_Bps");
  j = good;
  j["links"][0]["samples"][1]["seconds"] = "fast";
  expect_error(j, "links[0].samples[1].seconds");
  j = good;
  j["gemm"]["samples"][0]["hidden"] = 0;
  expect_error(j, "gemm.samples[0].hidden");
  j = good;
  j.erase("kernels");
  expect_error(j, "kernels");
  j = good;
  j["format"] = "something-else";
  expect_error(j, "format");
  j = good;
  j["version"] = 2;
  expect_error(j, "version");
  j = good;
  j["links"].push_back(j["links"][0]);
  expect_error(j, "links[1].class");
  j = good;
  j["gemm"]["samples"] = nlohmann::json::array();
  j["gemm"]["peak_tflops"] = 0;
  expect_error(j, "gemm");
}

TEST(CalibrationIo, MissingOrMalformedFileIsInputError) {
  EXPECT_THROW(read_calibration("/nonexistent/profile.json"), InputError);
  const auto path = (std::filesystem::temp_directory_path() / "occult_cal_bad.json").string();
  std::ofstream(path) << "{ not json";
  EXPECT_THROW(read_calibration(path), InputError);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace occult
