// occult simulate through the binary: JSON output, strategy properties, and bad input (exit code 2).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_scenario_util.hpp"

namespace occult {
namespace {

using test::run_occult;
using test::TempDir;

struct Cli {
  TempDir dir{"simulate_cli"};
  std::string topo = dir.file("topo.toml", test::kNodeTopology);
  std::string scenario = dir.file("s.toml", test::small_scenario());
};

nlohmann::json simulate_json(const std::string& args) {
  auto r = run_occult("simulate " + args + " --json -q");
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);  // exactly one JSON document on stdout
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

TEST(SimulateCli, JsonHasEveryRunAndSaysWhichComputeModel) {
  Cli c;
  const auto j =
      simulate_json(c.scenario + " --set compare.strategies='[\"standard\",\"occult\",\"hierarchical\"]'");
  ASSERT_EQ(j["runs"].size(), 3u);
  EXPECT_NE(j["cost_model"].get<std::string>().find("roofline"), std::string::npos);
  EXPECT_EQ(j["profile"], "roofline");
  for (const auto& r : j["runs"]) {
    EXPECT_GT(r["total_s"].get<double>(), 0) << r;
    EXPECT_TRUE(r["phases"].contains("dispatch"));
    EXPECT_TRUE(r["phases"].contains("expert"));
    EXPECT_LE(r["phases"]["dispatch"]["p50_s"].get<double>(), r["phases"]["dispatch"]["max_s"].get<double>());
  }
  EXPECT_DOUBLE_EQ(j["runs"][0]["speedup_vs_standard"].get<double>(), 1.0);
}

TEST(SimulateCli, OccultNeverMovesMoreBytesThanStandard) {
  Cli c;
  for (const char* placement : {"contiguous", "round-robin"}) {
    const auto j = simulate_json(c.scenario + " --set 'compare.placements=[\"" + placement + "\"]'");
    const auto& std_run = j["runs"][0];
    const auto& occ_run = j["runs"][1];
    ASSERT_EQ(std_run["strategy"], "standard");
    ASSERT_EQ(occ_run["strategy"], "occult");
    EXPECT_LE(occ_run["bytes_remote"].get<double>(), std_run["bytes_remote"].get<double>());
    EXPECT_LE(occ_run["ct_occult"].get<double>(), 4.0);
    EXPECT_LE(occ_run["total_s"].get<double>(), std_run["total_s"].get<double>() * 1.0001);
  }
}

TEST(SimulateCli, OneDeviceHasNoCommunication) {
  Cli c;
  const auto j = simulate_json(c.scenario + " --set cluster.devices=1");
  for (const auto& r : j["runs"]) EXPECT_EQ(r["bytes_remote"].get<double>(), 0.0);
}

TEST(SimulateCli, TrainingAddsBackwardPhases) {
  Cli c;
  const auto j = simulate_json(c.scenario + " --set workload.mode=train");
  bool bwd = false;
  for (const auto& [name, p] : j["runs"][0]["phases"].items()) bwd = bwd || name == "expert_backward";
  EXPECT_TRUE(bwd);
  const auto f = simulate_json(c.scenario);
  EXPECT_GT(j["runs"][0]["total_s"].get<double>(), f["runs"][0]["total_s"].get<double>());
}

TEST(SimulateCli, TableExplainsItsColumns) {
  Cli c;
  auto r = run_occult("simulate " + c.scenario + " -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("layer_ms"), std::string::npos);
  EXPECT_NE(r.out.find("roofline"), std::string::npos);
  EXPECT_NE(r.out.find("slowest GPU"), std::string::npos);
}

void expect_bad_input(const std::string& args, const std::string& needle) {
  auto r = run_occult(args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(SimulateCli, BadInputExitsWithTwo) {
  Cli c;
  expect_bad_input("simulate " + c.scenario + " --set model.preset=gpt-17", "unknown preset");
  expect_bad_input("simulate " + c.scenario + " --set workload.trace=/nonexistent/t.bin", "workload.trace");
  expect_bad_input("simulate " + c.scenario + " --set cluster.devices=64", "only 8 GPUs");
  expect_bad_input("simulate " + c.scenario + " --set cluster.nodez=2", "cluster.nodez");
  expect_bad_input("simulate " + c.scenario + " --set cluster.nvlink_GBps=-5", "cluster.nvlink_GBps");
  std::string neg = test::kNodeTopology;
  neg.replace(neg.find("bandwidth_GBps = 100"), 20, "bandwidth_GBps = -100");
  c.dir.file("neg.toml", neg);
  expect_bad_input("simulate " + c.scenario + " --set cluster.topology=" + c.dir.path("neg.toml"),
                   "bandwidth");
  expect_bad_input("simulate " + c.dir.file("bad.toml", "[model]\npreset = 3\n") + " --json", "model.preset");
}

}  // namespace
}  // namespace occult
