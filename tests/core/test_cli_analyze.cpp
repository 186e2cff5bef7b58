// `occult analyze` through the binary: output contracts (--json is one document) and exit code 2
// on every kind of bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/metrics.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/trace.hpp"
#include "tests/core/analysis_test_util.hpp"

namespace occult {
namespace {

namespace fs = std::filesystem;

struct CmdResult {
  int code = -1;
  std::string out, err;
};

CmdResult occult_cmd(const std::string& args, const fs::path& dir) {
  const fs::path err = dir / "stderr.txt";
  const std::string cmd = std::string(OCCULT_BIN) + " " + args + " 2>" + err.string();
  CmdResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err);
  r.err.assign(std::istreambuf_iterator<char>(e), {});
  return r;
}

class CliAnalyze : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("occult_cli_analyze_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::mt19937_64 rng(11);
    trace_.num_experts = 16;
    trace_.top_k = 4;
    for (int l = 0; l < 2; ++l) {
      trace_.layers.push_back(analysis_test::random_routing(rng, 16, 4, 256, l == 1));
      trace_.layers.back().layer = l;
    }
    write_trace(trace_, path("t.bin"));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  CmdResult run(const std::string& args) const { return occult_cmd("analyze " + args, dir_); }

  fs::path dir_;
  Trace trace_;
};

TEST_F(CliAnalyze, JsonIsOneDocumentMatchingTheLibrary) {
  const CmdResult r =
      run("--trace " + path("t.bin") + " --devices 4 --gpus-per-node 2 --row-bytes 100 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);  // throws if anything else is on stdout
  EXPECT_EQ(doc["devices"], 4);
  EXPECT_EQ(doc["nodes"], 2);
  ASSERT_EQ(doc["layers"].size(), 2u);
  const auto placement = analysis_test::contiguous(16, 4);
  for (int l = 0; l < 2; ++l) {
    const auto m = analyze_layer(trace_.layers[std::size_t(l)], placement, {4, 2}, 100);
    EXPECT_DOUBLE_EQ(doc["layers"][std::size_t(l)]["ct_occult"].get<double>(), m.ct_occult);
    EXPECT_EQ(doc["layers"][std::size_t(l)]["bytes"]["occult"]["total"].get<std::int64_t>(),
              m.bytes_occult.total);
  }
  EXPECT_DOUBLE_EQ(doc["overall"]["ct_standard"].get<double>(), 4.0);
  EXPECT_TRUE(doc["pruning"].is_null());
}

TEST_F(CliAnalyze, MatricesAreThePlans) {
  const CmdResult r = run("--trace " + path("t.bin") + " --devices 4 --gpus-per-node 2 --json --matrices");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  const auto& hier = doc["layers"][0]["plan_rows"]["hierarchical"];
  ASSERT_EQ(hier.size(), 2u);
  EXPECT_EQ(hier[0]["kind"], "network");
  const auto plan =
      build_plan(trace_.layers[0], 16, analysis_test::contiguous(16, 4), {4, 2}, Strategy::Hierarchical, 1);
  for (int s = 0; s < 4; ++s)
    for (int d = 0; d < 4; ++d)
      EXPECT_EQ(hier[1]["rows"][std::size_t(s)][std::size_t(d)], plan.stages[1].rows.at(s, d));
  EXPECT_EQ(run("--trace " + path("t.bin") + " --devices 4 --matrices").code, 2);  // needs --json
}

TEST_F(CliAnalyze, TableExplainsItself) {
  const CmdResult r = run("--trace " + path("t.bin") + " --devices 4");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* s : {"ct_occult", "Replicas per token", "hierarchical", "contiguous (default)", "G=4"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

TEST_F(CliAnalyze, PlacementFileAndPruning) {
  Placement p = round_robin_placement(16, {4, 2}, 1);
  write_placement(p, path("p.json"));
  CmdResult r =
      run("--trace " + path("t.bin") + " --placement " + path("p.json") + " --strategy pruned:2 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["placement_algo"], "round-robin");
  EXPECT_LE(doc["overall"]["ct_occult"].get<double>(), 2.0);
  EXPECT_EQ(doc["pruning"]["strategy"], "pruned:2");
  EXPECT_LT(doc["pruning"]["choice_fraction"].get<double>(), 1.0);
}

TEST_F(CliAnalyze, BadInputExitsWithCode2) {
  Placement other_e = contiguous_placement(32, {4, 1}, 1);
  write_placement(other_e, path("e32.json"));
  Placement three_layers = contiguous_placement(16, {4, 1}, 3);
  write_placement(three_layers, path("l3.json"));
  std::ofstream(path("junk.bin")) << "not a trace";
  std::ofstream(path("empty.bin"));
  const std::string t = "--trace " + path("t.bin");
  const std::string cases[] = {
      t + " --devices 3",                      // D does not divide E
      t + " --devices 4 --gpus-per-node 3",    // G does not divide D
      t + " --devices 0",                      // D < 1
      t,                                       // no D and no placement
      t + " --placement " + path("e32.json"),  // placement for another E
      t + " --placement " + path("l3.json"),   // placement for another layer count
      t + " --placement " + path("e32.json") + " --devices 8",
      t + " --placement " + path("missing.json"),  // no such file
      t + " --devices 4 --strategy pruned:0",      // bad strategy
      t + " --devices 4 --strategy fastest",
      t + " --devices 4 --model no-such-model",
      t + " --devices 4 --row-bytes -5",
      "--trace " + path("missing.bin") + " --devices 4",  // no such trace
      "--trace " + path("junk.bin") + " --devices 4",     // not a trace
      "--trace " + path("empty.bin") + " --devices 4",    // empty file
      "--devices 4",                                      // no trace
  };
  for (const auto& args : cases) {
    const CmdResult r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\nstderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
    EXPECT_FALSE(r.err.empty()) << args;
  }
}

TEST_F(CliAnalyze, PlacementDevicesMustMatch) {
  write_placement(contiguous_placement(16, {4, 1}, 1), path("p4.json"));
  const CmdResult r = run("--trace " + path("t.bin") + " --placement " + path("p4.json") + " --devices 8");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("devices"), std::string::npos) << r.err;
}

TEST_F(CliAnalyze, HelpTeaches) {
  const CmdResult r = occult_cmd("analyze --help", dir_);
  EXPECT_EQ(r.code, 0);
  for (const char* s : {"--devices", "--gpus-per-node", "--placement", "--strategy", "Example", "replicas"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace occult
