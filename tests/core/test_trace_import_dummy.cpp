// Degenerate (dummy) blocks: forward passes on dummy input, in which every record picks the same expert
// set, are dropped wherever they sit in a log (start, middle, several times), and each is reported.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/core/trace_import.hpp"
#include "tests/core/temp_dir_test.hpp"

namespace occult {
namespace {

constexpr int kExperts = 16;

// Real-looking routing: record i of a stream picks {i mod 16, (7i + 3) mod 16}; two consecutive records
// never share a set, and the dummy sets below ({3,4}, {14,15}) never occur.
std::pair<int, int> real_pair(int i) { return {i % kExperts, (7 * i + 3) % kExperts}; }

// Builds a JSONL log; `marks` selects which pass fields the records carry.
class Log {
 public:
  enum class Marks { None, TokenIdx, Pass };
  explicit Log(Marks marks) : marks_(marks) {}

  // One forward pass of `n` records at `layer`: all with the set {a, b} when dummy, else real routing.
  Log& pass(int n, bool dummy, int a = 3, int b = 4, int layer = 0) {
    for (int t = 0; t < n; ++t) {
      auto [x, y] = dummy ? std::pair{a, b} : real_pair(next_real_++);
      if (!dummy) real_ids_.insert(real_ids_.end(), {x, y});
      out_ << "{\"layer\":" << layer;
      if (marks_ == Marks::Pass) out_ << ",\"pass\":" << pass_id_;
      if (marks_ != Marks::None) out_ << ",\"token_idx\":" << t;
      out_ << ",\"topk_ids\":[" << x << "," << y << "]}\n";
    }
    ++pass_id_;
    return *this;
  }
  std::string text() const { return out_.str(); }
  const std::vector<std::int32_t>& real_ids() const { return real_ids_; }

 private:
  Marks marks_;
  std::ostringstream out_;
  int pass_id_ = 0, next_real_ = 0;
  std::vector<std::int32_t> real_ids_;
};

class DummyBlocks : public testing::TempDirTest {
 protected:
  DummyBlocks() : TempDirTest("occult_dummy_") {}
  Trace import(const std::string& text, ImportReport& rep, bool keep = false) {
    ImportOptions o;
    o.experts = kExperts;
    o.keep_degenerate = keep;
    return import_trace({write("log.jsonl", text)}, o, &rep);
  }
};

void expect_block(const DegenerateDrop& d, std::int64_t first, std::int64_t records, std::int64_t passes,
                  std::vector<std::int32_t> set) {
  EXPECT_EQ(d.first_record, first);
  EXPECT_EQ(d.line, first + 1);  // one record per line
  EXPECT_EQ(d.records, records);
  EXPECT_EQ(d.passes, passes);
  EXPECT_EQ(d.experts, set);
}

TEST_F(DummyBlocks, AtTheStartInTheMiddleAndTwiceWithoutPassMarks) {
  Log log(Log::Marks::None);  // passes unknown: runs of one set are judged record by record
  log.pass(40, true).pass(10, false).pass(50, true, 14, 15).pass(10, false).pass(33, true).pass(5, false);
  ImportReport rep;
  const Trace t = import(log.text(), rep);
  ASSERT_EQ(rep.drops.size(), 3u);
  expect_block(rep.drops[0], 0, 40, 40, {3, 4});
  expect_block(rep.drops[1], 50, 50, 50, {14, 15});
  expect_block(rep.drops[2], 110, 33, 33, {3, 4});
  EXPECT_FALSE(rep.drops[0].passes_known);
  EXPECT_EQ(rep.degenerate_dropped, 123);
  EXPECT_EQ(t.layers[0].experts, log.real_ids());  // exactly the real records, in order
}

TEST_F(DummyBlocks, PassesFromRestartingTokenIdxMergeCudaGraphCapture) {
  Log log(Log::Marks::TokenIdx);
  log.pass(64, true).pass(16, true);  // memory profiling, then warm-up: one block of two passes
  log.pass(20, false);
  for (int n : {1, 2, 4, 8, 16, 32}) log.pass(n, true, 14, 15);  // CUDA graph capture, per batch size
  log.pass(7, false);
  log.pass(2, true).pass(9, false);  // a short uniform pass between real ones is real (one sequence)
  ImportReport rep;
  const Trace t = import(log.text(), rep);
  ASSERT_EQ(rep.drops.size(), 2u);
  expect_block(rep.drops[0], 0, 80, 2, {3, 4});
  expect_block(rep.drops[1], 100, 63, 6, {14, 15});
  EXPECT_TRUE(rep.drops[1].passes_known);
  EXPECT_EQ(t.layers[0].tokens(), 20 + 7 + 2 + 9);
}

TEST_F(DummyBlocks, ARealPassIsNeverCutEvenWhenItRepeatsTheDummySet) {
  // Passes known (token_idx restarts once): 40 identical records inside a pass that also has other
  // records are real routing. Without a restart, token_idx says nothing about passes, and the same 40
  // records are a run of their own, dropped.
  std::string text;
  for (int t = 0; t < 41; ++t)
    text += "{\"layer\":0,\"token_idx\":" + std::to_string(t) +
            ",\"topk_ids\":" + (t < 40 ? "[3,4]" : "[0,1]") + "}\n";
  ImportReport rep;
  EXPECT_EQ(import(text, rep).layers[0].tokens(), 1);
  EXPECT_EQ(rep.degenerate_dropped, 40);
  text += "{\"layer\":0,\"token_idx\":0,\"topk_ids\":[0,2]}\n";
  EXPECT_EQ(import(text, rep).layers[0].tokens(), 42);
  EXPECT_TRUE(rep.drops.empty());
}

TEST_F(DummyBlocks, ExplicitPassIdsWithLayersInterleaved) {
  // The capture tool's layout: per pass, every token of layer 0, then of layer 1.
  Log log(Log::Marks::Pass);
  auto both_layers = [&](int n, bool dummy) {
    log.pass(n, dummy, 3, 4, 0);
    log.pass(n, dummy, 14, 15, 1);
  };
  both_layers(12, false);
  both_layers(48, true);
  both_layers(12, false);
  both_layers(40, true);
  both_layers(12, false);
  ImportReport rep;
  const Trace t = import(log.text(), rep);
  ASSERT_EQ(rep.drops.size(), 4u);
  for (const auto& d : rep.drops) EXPECT_TRUE(d.passes_known);
  EXPECT_EQ(rep.drops[0].layer, 0);
  EXPECT_EQ(rep.drops[0].first_record, 12);
  EXPECT_EQ(rep.drops[1].layer, 0);
  EXPECT_EQ(rep.drops[1].first_record, 72);
  EXPECT_EQ(rep.drops[2].layer, 1);
  EXPECT_EQ(rep.drops[2].experts, (std::vector<std::int32_t>{14, 15}));
  for (const auto& l : t.layers) EXPECT_EQ(l.tokens(), 36);
}

TEST_F(DummyBlocks, KeepFlagReportsButKeepsAndThresholdApplies) {
  Log log(Log::Marks::None);
  log.pass(10, false).pass(40, true).pass(10, false);
  ImportReport rep;
  EXPECT_EQ(import(log.text(), rep, /*keep=*/true).layers[0].tokens(), 60);
  ASSERT_EQ(rep.drops.size(), 1u);
  EXPECT_FALSE(rep.drops[0].dropped);
  EXPECT_EQ(rep.degenerate_dropped, 0);

  ImportOptions longer;
  longer.degenerate_min_run = 41;  // shorter than the threshold: not dummy
  EXPECT_EQ(import_trace({write("l.jsonl", log.text())}, longer, &rep).layers[0].tokens(), 60);
  EXPECT_TRUE(rep.drops.empty());
}

TEST_F(DummyBlocks, PositionsCountPerFile) {
  Log a(Log::Marks::None), b(Log::Marks::None);
  a.pass(5, false).pass(32, true);
  b.pass(3, false).pass(32, true, 14, 15).pass(4, false);
  ImportReport rep;
  ImportOptions o;
  const auto fa = write("a.jsonl", a.text()), fb = write("b.jsonl", b.text());
  const Trace t = import_trace({fa, fb}, o, &rep);
  ASSERT_EQ(rep.drops.size(), 2u);
  EXPECT_EQ(rep.drops[0].file, fa);
  EXPECT_EQ(rep.drops[0].first_record, 5);
  EXPECT_EQ(rep.drops[1].file, fb);
  EXPECT_EQ(rep.drops[1].first_record, 3);
  EXPECT_EQ(t.layers[0].tokens(), 12);
}

TEST_F(DummyBlocks, CliReportsEachBlock) {
  Log log(Log::Marks::TokenIdx);
  log.pass(8, false).pass(64, true).pass(8, false).pass(50, true, 14, 15).pass(8, false);
  const auto in = write("cli.jsonl", log.text());
  const auto json_out = (dir_ / "report.json").string();
  const std::string cmd = std::string(OCCULT_BIN) + " trace import " + in + " --experts 16 -o " +
                          (dir_ / "o.trace").string() + " --json > " + json_out;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const auto doc = nlohmann::json::parse(std::ifstream(json_out));
  EXPECT_EQ(doc.at("degenerate_dropped"), 114);
  EXPECT_EQ(doc.at("records_kept"), 24);
  const auto& runs = doc.at("degenerate_runs");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1].at("first_record"), 80);
  EXPECT_EQ(runs[1].at("line"), 81);
  EXPECT_EQ(runs[1].at("records"), 50);
  EXPECT_EQ(runs[1].at("passes"), 1);
  EXPECT_EQ(runs[1].at("expert_set"), nlohmann::json({14, 15}));

  const auto text_out = (dir_ / "report.txt").string();
  const std::string plain = std::string(OCCULT_BIN) + " trace import " + in + " --experts 16 -o " +
                            (dir_ / "o.trace").string() + " > " + text_out;
  ASSERT_EQ(std::system(plain.c_str()), 0);
  std::stringstream text;
  text << std::ifstream(text_out).rdbuf();
  EXPECT_NE(text.str().find("records 80..129 (from line 81), 50 records in 1 forward pass(es), expert set "
                            "[14,15]"),
            std::string::npos)
      << text.str();
}

}  // namespace
}  // namespace occult
