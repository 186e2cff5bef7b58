// The sweep's results log read back after damage: which rows count as done, what is set aside, and
// that a repair never loses or changes a complete row.
#include <gtest/gtest.h>
#include <sys/file.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "sim/cli/host/report_csv.hpp"
#include "sim/cli/host/report_results.hpp"
#include "sim/cli/host/results_log.hpp"
#include "sim/core/error.hpp"
#include "sim/core/results_columns.hpp"
#include "test_scenario_util.hpp"

namespace occult::cli {
namespace {

using test::slurp;
using test::TempDir;

std::string header() {
  std::string h;
  for (const auto& c : results_csv_columns()) h += c + ",";
  return h + "cluster.nodes";
}

// A row `occult report` accepts; `n` makes the run id and the axis value.
std::string row(int n) {
  char id[17];
  std::snprintf(id, sizeof id, "%016x", 0xabc000 + n);
  return std::string(id) +
         ",small,olmoe,train,node,8,8,1,256,occult,contiguous,none,0.001,0,0.0002,0.0003,0.0002,0,0,0.5,"
         "1000,0,1000,4,3,1,0.2,1.5,roofline,0.01," +
         std::to_string(n);
}

TEST(ResultsScan, CompleteRowsCountTornTailDoesNot) {
  const std::string text = header() + "\n" + row(1) + "\n" + row(2) + "\n" + row(3).substr(0, 40);
  const ResultsScan s = scan_results(text, header(), "r.csv");
  EXPECT_EQ(s.done.size(), 2u);
  EXPECT_TRUE(s.rejected.empty());
  EXPECT_EQ(s.torn_at, text.rfind('\n') + 1);
}

TEST(ResultsScan, TruncatedRowsWithANewlineAndGarbageAreRejected) {
  // A row cut short that still has its run_id and a line break (an editor, a crash of the machine, a
  // second writer) used to count as done; so did any line starting with something before a comma.
  const std::string cut = row(2).substr(0, row(2).size() / 2);
  const std::string text = header() + "\n" + row(1) + "\n" + cut + "\n" + "garbage, \"unterminated\n" +
                           row(3) + "\n" + row(1) + "\n" + std::string(20, '\0') + "\n" + row(4) + "\n";
  const ResultsScan s = scan_results(text, header(), "r.csv");
  EXPECT_EQ(s.done,
            (std::set<std::string>{row(1).substr(0, 16), row(3).substr(0, 16), row(4).substr(0, 16)}));
  ASSERT_EQ(s.rejected.size(), 4u);
  EXPECT_EQ(s.rejected[0].line, 3);
  EXPECT_EQ(s.rejected[0].text, cut);
  EXPECT_EQ(s.rejected[1].line, 4);  // the stray quote does not swallow the rows after it
  EXPECT_NE(s.rejected[2].why.find("repeats the run_id"), std::string::npos);
  EXPECT_EQ(s.torn_at, std::string_view::npos);
}

TEST(ResultsScan, CrlfCopyIsThisSweepAndAnotherSweepIsNamed) {
  const std::string crlf = header() + "\r\n" + row(1) + "\r\n" + row(2) + "\r\n";
  const ResultsScan s = scan_results(crlf, header(), "r.csv");
  EXPECT_TRUE(s.header_crlf);
  EXPECT_EQ(s.done.size(), 2u);
  EXPECT_TRUE(s.rejected.empty());
  std::string other = header();
  other.replace(other.rfind("cluster.nodes"), 13, "workload.skew");
  try {
    scan_results(other + "\n" + row(1) + "\n", header(), "r.csv");
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.line(), 1);
    EXPECT_NE(
        e.message().find("another sweep: its sweep axes are workload.skew, this sweep's are cluster.nodes"),
        std::string::npos)
        << e.what();
  }
}

TEST(ResultsLog, TornTailIsCutOffAndEveryCompleteByteStays) {
  TempDir dir("results_log_tail");
  const std::string good = header() + "\n" + row(1) + "\n" + row(2) + "\n";
  const std::string path = dir.file("r.csv", good + row(3).substr(0, 30));
  {
    ResultsLog log(path, header());
    EXPECT_EQ(log.done().size(), 2u);
    ASSERT_EQ(log.notes().size(), 1u);
    EXPECT_NE(log.notes()[0].find("unfinished last line"), std::string::npos);
    EXPECT_EQ(slurp(path), good);
    log.append(row(3) + "\n");
  }
  EXPECT_EQ(slurp(path), good + row(3) + "\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".rejected"));
}

TEST(ResultsLog, DamageInTheMiddleIsSetAsideAndTheFileStaysReadable) {
  TempDir dir("results_log_middle");
  const std::string path =
      dir.file("r.csv", header() + "\r\n" + row(1) + "\r\n" + "oops\r\n" + row(2) + "\r\n" + row(1) + "\r\n");
  {
    ResultsLog log(path, header());
    EXPECT_EQ(log.done().size(), 2u);
    log.append(row(5) + "\n");
  }
  EXPECT_EQ(slurp(path), header() + "\n" + row(1) + "\n" + row(2) + "\n" + row(5) + "\n");
  const std::string rejected = slurp(path + ".rejected");
  EXPECT_NE(rejected.find("line 3"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find("\noops\n"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find("line 5: repeats the run_id"), std::string::npos) << rejected;
  // What the sweep leaves is what `occult report` reads.
  EXPECT_EQ(report::load_results(report::read_csv_file(path)).rows.size(), 3u);
}

TEST(ResultsLog, NewFileGetsTheHeaderAndOneWriterAtATime) {
  TempDir dir("results_log_lock");
  const std::string path = dir.path("r.csv");
  ResultsLog log(path, header());
  log.append(row(1) + "\n");
  EXPECT_EQ(slurp(path), header() + "\n" + row(1) + "\n");
  try {
    ResultsLog second(path, header());
    FAIL() << "a second writer was let in";
  } catch (const InputError& e) {
    EXPECT_NE(e.message().find("another occult sweep is writing"), std::string::npos) << e.what();
  }
}

TEST(ResultsLog, FailedSweepLeavesNoFileItCreated) {
  TempDir dir("results_log_created");
  const std::string path = dir.path("r.csv");
  { ResultsLog log(path, header()); }  // e.g. a bad sweep point found before any row
  EXPECT_FALSE(std::filesystem::exists(path));
  for (const char* bad : {"-", "/dev/null"}) {
    EXPECT_THROW(ResultsLog(bad, header()), InputError) << bad;
  }
}

}  // namespace
}  // namespace occult::cli
