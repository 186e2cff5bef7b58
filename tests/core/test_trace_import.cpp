// JSONL import: both field conventions, layers per file or per line, degenerate start-up runs,
// and every kind of bad record (as InputError in-process and as exit code 2 through the CLI).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sim/core/error.hpp"
#include "sim/core/trace_import.hpp"

namespace occult {
namespace {

namespace fs = std::filesystem;

class TraceImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("occult_import_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  fs::path dir_;
};

TEST_F(TraceImport, VllmConventionWithMetaAndWeights) {
  auto f =
      write("l3.jsonl",
            "{\"type\":\"meta\",\"model_id\":\"x\",\"top_k\":2}\n"
            "{\"type\":\"route\",\"token_idx\":0,\"layer\":3,\"topk_ids\":[1,4],\"topk_weights\":[0.6,0.3]}\n"
            "\n"
            "{\"type\":\"route\",\"token_idx\":1,\"layer\":3,\"topk_ids\":[0,2],\"topk_weights\":[0.5,0.1]}\n"
            "{\"type\":\"timing\",\"ms\":3}\n");
  ImportReport rep;
  Trace t = import_trace({f}, {}, &rep);
  EXPECT_EQ(t.top_k, 2);
  EXPECT_EQ(t.num_experts, 5);  // inferred: largest id + 1
  EXPECT_TRUE(rep.experts_inferred);
  EXPECT_EQ(rep.typed_skipped, 2);
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].layer, 3);
  EXPECT_EQ(t.layers[0].experts, (std::vector<std::int32_t>{1, 4, 0, 2}));
  EXPECT_FLOAT_EQ(t.layers[0].weight(1, 1), 0.1f);
}

TEST_F(TraceImport, MixtralConventionSeveralLayersInOneFile) {
  auto f = write("mix.jsonl",
                 "{\"layer\":0,\"experts\":[7,0],\"gating_probs\":[0.8,0.2],\"token_idx\":0}\n"
                 "{\"layer\":1,\"experts\":[3,5],\"gating_probs\":[0.7,0.3],\"token_idx\":0}\n"
                 "{\"layer\":0,\"experts\":[1,2],\"gating_probs\":[0.6,0.4],\"token_idx\":1}\n");
  ImportOptions o;
  o.experts = 8;
  Trace t = import_trace({f}, o, nullptr);
  EXPECT_EQ(t.num_experts, 8);
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].tokens(), 2);
  EXPECT_EQ(t.layers[1].tokens(), 1);
  EXPECT_EQ(t.layers[1].experts, (std::vector<std::int32_t>{3, 5}));
}

TEST_F(TraceImport, OneFilePerLayerAndNoWeights) {
  auto a = write("a.jsonl", "{\"layer\":2,\"topk_ids\":[0,1]}\n{\"layer\":2,\"topk_ids\":[2,3]}\n");
  auto b = write("b.jsonl", "{\"layer\":0,\"topk_ids\":[3,1]}\n");
  Trace t = import_trace({a, b}, {}, nullptr);
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].layer, 0);  // layers come out sorted by index
  EXPECT_EQ(t.layers[1].layer, 2);
  EXPECT_TRUE(t.layers[1].weights.empty());
  EXPECT_FLOAT_EQ(t.layers[1].weight(0, 0), 0.5f);
}

TEST_F(TraceImport, DropsDegenerateLeadingRunAndReportsIt) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "{\"layer\":0,\"topk_ids\":[5,2]}\n";
  for (int i = 0; i < 40; ++i) text += "{\"layer\":0,\"topk_ids\":[2,5]}\n";  // same set, other order
  text +=
      "{\"layer\":0,\"topk_ids\":[1,2]}\n{\"layer\":0,\"topk_ids\":[5,2]}\n{\"layer\":0,\"topk_ids\":[0,3]}"
      "\n";
  auto f = write("warm.jsonl", text);
  ImportReport rep;
  Trace t = import_trace({f}, {}, &rep);
  EXPECT_EQ(rep.degenerate_dropped, 80);
  ASSERT_EQ(rep.drops.size(), 1u);
  EXPECT_EQ(rep.drops[0].experts, (std::vector<std::int32_t>{2, 5}));
  EXPECT_EQ(t.layers[0].tokens(), 3);  // a later repeat of the set is real routing and stays
  EXPECT_EQ(t.layers[0].experts.front(), 1);

  ImportOptions keep;
  keep.keep_degenerate = true;
  EXPECT_EQ(import_trace({f}, keep, &rep).layers[0].tokens(), 83);
  EXPECT_EQ(rep.degenerate_dropped, 0);

  ImportOptions longer;
  longer.degenerate_min_run = 81;  // a run shorter than the threshold is not start-up noise
  EXPECT_EQ(import_trace({f}, longer, &rep).layers[0].tokens(), 83);
}

TEST_F(TraceImport, AllDegenerateIsAnError) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "{\"layer\":0,\"topk_ids\":[5,2]}\n";
  EXPECT_THROW(import_trace({write("d.jsonl", text)}, {}, nullptr), InputError);
}

TEST_F(TraceImport, ErrorsNameFileLineAndField) {
  auto f = write("bad.jsonl", "{\"layer\":0,\"topk_ids\":[1,2]}\n{\"layer\":0,\"topk_ids\":[1,\"x\"]}\n");
  try {
    import_trace({f}, {}, nullptr);
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), f);
    EXPECT_EQ(e.line(), 2);
    EXPECT_EQ(e.field(), "topk_ids[1]");
  }
}

struct BadCase {
  const char* name;
  const char* text;
  int experts;
};

const BadCase kBadCases[] = {
    {"empty_file", "", 0},
    {"only_meta", "{\"type\":\"meta\"}\n", 0},
    {"not_json", "{\"layer\":0,\"topk_ids\":[1,2]}\n{layer:0}\n", 0},
    {"wrong_k", "{\"layer\":0,\"topk_ids\":[1,2]}\n{\"layer\":0,\"topk_ids\":[1,2,3]}\n", 0},
    {"id_ge_E", "{\"layer\":0,\"topk_ids\":[1,8]}\n", 8},
    {"negative_id", "{\"layer\":0,\"topk_ids\":[-1,2]}\n", 0},
    {"non_numeric_id", "{\"layer\":0,\"topk_ids\":[\"1\",2]}\n", 0},
    {"float_id", "{\"layer\":0,\"topk_ids\":[1.5,2]}\n", 0},
    {"non_numeric_weight", "{\"layer\":0,\"topk_ids\":[1,2],\"topk_weights\":[0.5,\"a\"]}\n", 0},
    {"weights_wrong_length", "{\"layer\":0,\"topk_ids\":[1,2],\"topk_weights\":[0.5]}\n", 0},
    {"negative_weight", "{\"layer\":0,\"topk_ids\":[1,2],\"topk_weights\":[0.5,-0.1]}\n", 0},
    {"missing_ids", "{\"layer\":0,\"topk_weights\":[0.5,0.5]}\n", 0},
    {"missing_layer", "{\"topk_ids\":[1,2]}\n", 0},
    {"negative_layer", "{\"layer\":-3,\"topk_ids\":[1,2]}\n", 0},
    {"duplicate_id", "{\"layer\":0,\"topk_ids\":[2,2]}\n", 0},
    {"ids_not_array", "{\"layer\":0,\"topk_ids\":3}\n", 0},
    {"huge_id", "{\"layer\":0,\"topk_ids\":[1,99999999999999999999]}\n", 0},
    {"non_integer_pass", "{\"layer\":0,\"pass\":\"a\",\"topk_ids\":[1,2]}\n", 0},
    {"weights_missing_later",
     "{\"layer\":0,\"topk_ids\":[1,2],\"topk_weights\":[0.5,0.5]}\n{\"layer\":0,\"topk_ids\":[1,3]}\n", 0},
};

TEST_F(TraceImport, EveryBadInputIsAnInputError) {
  for (const auto& c : kBadCases) {
    ImportOptions o;
    o.experts = c.experts;
    EXPECT_THROW(import_trace({write(std::string(c.name) + ".jsonl", c.text)}, o, nullptr), InputError)
        << c.name;
  }
  EXPECT_THROW(import_trace({(dir_ / "missing.jsonl").string()}, {}, nullptr), InputError);
}

TEST_F(TraceImport, EveryBadInputExitsWithCode2ThroughTheCli) {
  for (const auto& c : kBadCases) {
    const auto in = write(std::string(c.name) + ".jsonl", c.text);
    std::string cmd =
        std::string(OCCULT_BIN) + " trace import " + in + " -o " + (dir_ / "out.trace").string();
    if (c.experts > 0) cmd += " --experts " + std::to_string(c.experts);
    cmd += " >/dev/null 2>&1";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status)) << c.name;
    EXPECT_EQ(WEXITSTATUS(status), 2) << c.name;
  }
}

TEST_F(TraceImport, SkipBadCountsAndContinues) {
  auto f = write("mixed.jsonl",
                 "{\"layer\":0,\"topk_ids\":[1,2]}\n"
                 "{\"layer\":0,\"topk_ids\":[1,2,3]}\n"  // wrong k
                 "garbage\n"
                 "{\"layer\":0,\"topk_ids\":[-4,2]}\n"
                 "{\"layer\":0,\"topk_ids\":[3,0]}\n");
  ImportOptions o;
  o.skip_bad = true;
  ImportReport rep;
  Trace t = import_trace({f}, o, &rep);
  EXPECT_EQ(rep.bad_records, 3);
  EXPECT_NE(rep.first_bad.find(":2:"), std::string::npos) << rep.first_bad;
  EXPECT_EQ(t.layers[0].tokens(), 2);
}

}  // namespace
}  // namespace occult
