// occult validate through the binary: a committed measured file reproduces its committed table, and bad
// input (missing fields, another version, no machine, an unknown transport, a truncated file) is a clear
// error with exit code 2 that replaces no output.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "test_scenario_util.hpp"

namespace occult {
namespace {

using test::run_occult;
using test::TempDir;

const std::string kData = std::string(OCCULT_SOURCE_DIR) + "/tests/data/validation/";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

nlohmann::json runs() { return nlohmann::json::parse(slurp(kData + "runs.json")); }

// A measured file of one record, edited by `edit`, in `dir`.
std::string one_record(const TempDir& dir, const std::string& name,
                       const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json r = runs()["runs"]["olmoe-256-train"];
  edit(r);
  return dir.file(name, r.dump());
}

std::string validate(const std::string& args) { return "validate " + args + " --machines " + kData + "machines.toml"; }

// Regenerate after a model change with:
//   build/occult validate tests/data/validation/runs.json --machines tests/data/validation/machines.toml \
//     --csv tests/data/validation/expected.csv
TEST(ValidateCli, ReproducesTheCommittedTable) {
  TempDir dir("validate_table");
  const auto csv = dir.path("out.csv");
  const auto r = run_occult(validate(kData + "runs.json --csv " + csv));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(csv), slurp(kData + "expected.csv"));
  // The table names every run and what was not modelled, with the reason.
  EXPECT_NE(r.out.find("runs.json:a2a-pcie-128"), std::string::npos);
  EXPECT_NE(r.out.find("not modelled"), std::string::npos);
  EXPECT_NE(r.out.find("no nvlink curve for transport p2p"), std::string::npos);
  // The profile of the H200 box's entries is the H100's compute: said, not hidden.
  EXPECT_NE(r.err.find("warning: profile"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("another GPU type"), std::string::npos) << r.err;
}

TEST(ValidateCli, JsonIsOneDocumentWithASummary) {
  const auto r = run_occult(validate(kData + "runs.json --json"));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["not_modelled"].size(), 1u);
  bool layer = false;
  for (const auto& s : j["summary"]) layer = layer || (s["group"] == "all" && s["class"] == "layer");
  EXPECT_TRUE(layer);
  for (const auto& c : j["comparisons"]) EXPECT_GT(c["measured_s"].get<double>(), 0) << c;
}

void expect_bad_input(const std::string& args, const std::string& says, const std::string& keep) {
  const auto before = slurp(keep);
  const auto r = run_occult(validate(args + " --csv " + keep));
  EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
  EXPECT_NE(r.err.find("occult: error:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << "expected '" << says << "' in: " << r.err;
  EXPECT_EQ(slurp(keep), before) << "bad input replaced an output";
}

TEST(ValidateCli, BadInputIsExit2AndReplacesNothing) {
  TempDir dir("validate_bad");
  const auto keep = dir.file("keep.csv", "an earlier table\n");
  expect_bad_input(one_record(dir, "missing.json", [](auto& r) { r["workload"].erase("tokens_per_device"); }),
                   "workload.tokens_per_device", keep);
  expect_bad_input(one_record(dir, "version.json", [](auto& r) { r["version"] = 1; }), "another version", keep);
  expect_bad_input(one_record(dir, "transport.json", [](auto& r) { r["execution"]["transport"] = "rdma"; }),
                   "execution.transport", keep);
  expect_bad_input(
      one_record(dir, "machine.json", [](auto& r) { r["provenance"]["gpu_name"] = "NVIDIA B200"; }),
      "no machine", keep);
  const auto whole = runs()["runs"]["olmoe-256-train"].dump();
  expect_bad_input(dir.file("truncated.json", whole.substr(0, whole.size() / 2)), "not valid JSON", keep);
  expect_bad_input(dir.path("absent.json"), "cannot open", keep);
  expect_bad_input(dir.path(""), "is a directory", keep);
  // A good file beside a bad one: the error still wins (nothing half-written).
  expect_bad_input(kData + "runs.json " + dir.path("absent.json"), "cannot open", keep);
}

TEST(ValidateCli, MachinesFileErrorsNameTheField) {
  TempDir dir("validate_machines");
  const auto m = dir.file("m.toml", "[[machine]]\ngpu = \"X\"\ngpus = 1\npath = \"nvlnk\"\ntopology = \"t\"\n"
                                    "profile = \"p\"\n");
  const auto r = run_occult("validate " + kData + "runs.json --machines " + m);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("machine.path"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace occult
