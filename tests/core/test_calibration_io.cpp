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
  p.provenance.gpu_name = "NVIDIA H200";
  p.provenance.gpu_count = 1;
  p.provenance.gpu_uuid = "GPU-0";
  p.provenance.date = "2026-12-07T12:00:00Z";
  p.provenance.command = "occult calibrate -o p.json";
  p.peak_tflops = 790;
  p.event_s = 1.3e-6;
  p.host_roundtrip_s = 9e-6;
  p.expert_forward.kernel = "ffn";
  p.expert_forward.samples = {{2048, 1024, 8, 64, 1, 1, 1e-4}, {2048, 1024, 8, 64, 8, 4, 1.2e-4}};
  p.expert_backward.samples = {{2048, 1024, 8, 64, 1, 1, 3e-4}};
  p.kernels["copy"] = MeasuredCurve({{4096, 3e-6}, {1e9, 4e-4}});
  p.kernels["layout.standard"] = MeasuredCurve({{64, 10e-6}, {65536, 100e-6}});
  LinkCalibration l;
  l.link_class = "nvlink";
  l.how = "NCCL all-to-all";
  l.nominal_Bps = 450e9;
  l.message_s = 4e-6;
  l.provenance.gpu_name = "NVIDIA H200";
  l.samples = {{4096, 10e-6}, {16e6, 90e-6}, {1e9, 3.1e-3}};
  p.links.push_back(l);
  return p;
}

TEST(CalibrationIo, RoundTripsEveryField) {
  const auto p = sample_profile();
  const auto path = (std::filesystem::temp_directory_path() / "occult_cal_roundtrip.json").string();
  write_calibration(p, path);
  const auto q = read_calibration(path);
  std::filesystem::remove(path);
  EXPECT_EQ(calibration_to_json(q), calibration_to_json(p));
  EXPECT_EQ(q.provenance.gpu_uuid, "GPU-0");
  EXPECT_EQ(q.provenance.command, "occult calibrate -o p.json");
  ASSERT_NE(q.link("nvlink"), nullptr);
  EXPECT_EQ(q.link("nvlink", "p2p"), nullptr);
  EXPECT_EQ(q.link("nvlink", "nccl", "nonblocking"), nullptr);
  EXPECT_EQ(q.link("pcie"), nullptr);
  EXPECT_DOUBLE_EQ(q.link("nvlink")->nominal_Bps, 450e9);
  EXPECT_DOUBLE_EQ(q.link("nvlink")->message_s, 4e-6);
  EXPECT_DOUBLE_EQ(q.event_s, 1.3e-6);
  EXPECT_EQ(q.expert_forward.samples[1].pairs_per_row, 4);
  ASSERT_NE(q.kernel("copy"), nullptr);
  EXPECT_EQ(q.kernel("unpack"), nullptr);
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
  j["links"][0]["samples"][1]["seconds"] = "fast";
  expect_error(j, "links[0].samples[1].seconds");
  j = good;
  j["links"][0]["class"] = "nvlnk";  // a typo is refused, never ignored
  expect_error(j, "links[0].class");
  j = good;
  j["links"][0].erase("nominal_GBps");
  expect_error(j, "links[0].nominal_GBps");
  j = good;
  j["links"][0]["transport"] = "rdma";
  expect_error(j, "links[0].transport");
  j = good;
  j["links"].push_back(j["links"][0]);
  expect_error(j, "links[1].class");
  j = good;
  j["expert_forward"]["samples"][0]["hidden"] = 0;
  expect_error(j, "expert_forward.samples[0].hidden");
  j = good;
  j["expert_forward"]["samples"][0]["hidden"] = 2048.5;  // never truncated
  expect_error(j, "expert_forward.samples[0].hidden");
  j = good;
  j["expert_forward"]["samples"][1]["pairs_per_row"] = 9;
  expect_error(j, "expert_forward.samples[1].pairs_per_row");
  j = good;
  j["kernels"]["pakc.standard"] = j["kernels"]["copy"];
  expect_error(j, "kernels.pakc.standard");
  j = good;
  j["format"] = "something-else";
  expect_error(j, "format");
  j = good;
  j["version"] = 1;
  expect_error(j, "version");
}

TEST(CalibrationIo, MissingOrMalformedFileIsInputError) {
  EXPECT_THROW(read_calibration("/nonexistent/profile.json"), InputError);
  EXPECT_THROW(read_calibration(std::filesystem::temp_directory_path().string()), InputError);
  const auto path = (std::filesystem::temp_directory_path() / "occult_cal_bad.json").string();
  std::ofstream(path) << "{ not json";
  EXPECT_THROW(read_calibration(path), InputError);
  std::ofstream(path) << R"({"format": "occult-calibration", "version": 2, "event_s": 1E999})";  // beyond double
  EXPECT_THROW(read_calibration(path), InputError);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace occult
