// `occult place` end to end through the binary: output file, --json, and exit code 2 on bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "sim/core/placement.hpp"

namespace {

namespace fs = std::filesystem;

struct Run {
  int code;
  std::string out;
};

Run occult(const std::string& args) {
  static int n = 0;
  const auto out = fs::temp_directory_path() /
                   ("occult_place_cli_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  const int status =
      std::system((std::string(OCCULT_BIN) + " " + args + " > " + out.string() + " 2>/dev/null").c_str());
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  fs::remove(out);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, ss.str()};
}

class PlaceCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("occult_place_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    ASSERT_EQ(occult("trace gen --experts 16 --top-k 4 --tokens 400 --layers 2 --skew 0.5 --affinity 0.6 "
                     "--seed 3 -o " +
                     path("t16"))
                  .code,
              0);
    ASSERT_EQ(
        occult("trace gen --experts 16 --top-k 4 --tokens 100 --layers 3 --seed 4 -o " + path("t16x3")).code,
        0);
    ASSERT_EQ(
        occult("trace gen --experts 8 --top-k 2 --tokens 100 --layers 2 --seed 5 -o " + path("t8")).code, 0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string path(const std::string& name) { return (dir_ / name).string(); }
  static fs::path dir_;
};
fs::path PlaceCli::dir_;

TEST_F(PlaceCli, WritesAPlacementAndPrintsOneJsonDocument) {
  const auto r = occult("place --trace " + path("t16") + " --devices 4 --gpus-per-node 2 --algo metis " +
                        "--profile-fraction 0.5 --recent-weight auto --json -o " + path("p.json"));
  ASSERT_EQ(r.code, 0);
  const auto doc =
      nlohmann::json::parse(r.out);  // throws (fails the test) unless stdout is one JSON document
  EXPECT_EQ(doc.at("algo"), "metis");
  EXPECT_TRUE(doc["params"].at("recent_weight_auto").get<bool>());
  EXPECT_TRUE(doc.at("metrics").contains("holdout"));
  // The in-sample optimum of the holdout sits beside it, so that the generalisation gap shows.
  EXPECT_LE(doc["metrics"].at("holdout_optimum").at("ct_occult").get<double>(),
            doc["metrics"]["holdout"]["ct_occult"].get<double>());
  EXPECT_LE(doc["metrics"]["profile"]["ct_occult"].get<double>(),
            doc["metrics"]["baseline_contiguous"]["profile"]["ct_occult"].get<double>());
  const auto p = occult::read_placement(path("p.json"));
  EXPECT_EQ(p.layers.size(), 2u);
  EXPECT_EQ(p.algo, "metis");
  // analyze accepts it for the same model and layer count...
  EXPECT_EQ(occult("analyze --trace " + path("t16") + " --placement " + path("p.json")).code, 0);
  // ...and rejects it for another layer count or another expert count.
  EXPECT_EQ(occult("analyze --trace " + path("t16x3") + " --placement " + path("p.json")).code, 2);
  EXPECT_EQ(occult("analyze --trace " + path("t8") + " --placement " + path("p.json")).code, 2);
}

TEST_F(PlaceCli, DefaultsAreTheCrossValidatedOptionSet) {
  const auto r =
      occult("place --trace " + path("t16") + " --devices 4 --algo metis --json -o " + path("d.json"));
  ASSERT_EQ(r.code, 0);
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["params"].at("recent_weight").get<int>(), 4);
  EXPECT_FALSE(doc["params"].at("recent_weight_auto").get<bool>());
  EXPECT_EQ(doc["params"].at("restarts").get<int>(), 8);
  EXPECT_FALSE(doc["metrics"].contains("holdout_optimum"));  // the whole trace is the profile
  const auto base = occult("place --trace " + path("t16") + " --devices 4 --algo contiguous " +
                           "--profile-fraction 0.5 --json -o " + path("c.json"));
  ASSERT_EQ(base.code, 0);
  EXPECT_FALSE(nlohmann::json::parse(base.out)["metrics"].contains("holdout_optimum"));  // reads no tokens
}

TEST_F(PlaceCli, SameSeedSameFile) {
  for (const char* name : {"a.json", "b.json"})
    ASSERT_EQ(
        occult("place --trace " + path("t16") + " -D 4 --algo hierarchical -G 2 --seed 9 -o " + path(name))
            .code,
        0);
  EXPECT_EQ(occult::placement_to_json(occult::read_placement(path("a.json"))),
            occult::placement_to_json(occult::read_placement(path("b.json"))));
}

TEST_F(PlaceCli, BadInputExitsWithCodeTwo) {
  const std::string base = "place --trace " + path("t16") + " -o " + path("bad.json") + " ";
  EXPECT_EQ(occult(base + "--devices 3 --algo metis").code, 2);                       // 3 does not divide 16
  EXPECT_EQ(occult(base + "--devices 8 --gpus-per-node 3 --algo metis").code, 2);     // G does not divide D
  EXPECT_EQ(occult(base + "--devices 4 --algo spectral").code, 2);                    // unknown algorithm
  EXPECT_EQ(occult(base + "--devices 4 --algo metis --profile-fraction 0").code, 2);  // empty profile
  EXPECT_EQ(occult(base + "--devices 4 --algo load-aware --max-load-ratio 0.5").code, 2);
  EXPECT_EQ(occult(base + "--devices 5 --algo metis --replicate 3").code, 2);  // 19 slots on 5 devices
  EXPECT_EQ(
      occult("place --trace " + path("missing") + " -o " + path("bad.json") + " -D 4 --algo metis").code, 2);
  EXPECT_EQ(occult(base + "--devices 4 --algo metis --recent-weight 0").code, 2);  // auto is spelled auto
  EXPECT_EQ(occult(base + "--devices 4 --algo metis --recent-weight 2x").code, 2);
  EXPECT_EQ(occult(base + "--devices 6 --algo greedy --replicate 2").code, 0);  // 18 slots, 3 per device
}

}  // namespace
