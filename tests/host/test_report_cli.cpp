// `occult report` end to end through the binary: a report from a valid CSV, gnuplot absent, Markdown to
// stdout, and exit code 2 with file:line: column for bad input.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_report_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using occult::report::testing::fake_csv;
using occult::report::testing::FakeRow;

struct CliRun {
  int code;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("occult_report_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }

  // Runs `[env] occult report ARGS`, capturing stdout and stderr.
  CliRun report(const std::string& args, const std::string& env = "") {
    std::string cmd = env + " " + OCCULT_BIN + std::string(" report ") + args + " >" +
                      (dir_ / "out").string() + " 2>" + (dir_ / "err").string();
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "out"), slurp(dir_ / "err")};
  }

  static std::string sweep_csv() {
    std::vector<FakeRow> rows;
    for (int d : {8, 64}) {
      rows.emplace_back("standard", "contiguous", d, 2e-3);
      rows.emplace_back("occult", "contiguous", d, 1e-3);
    }
    return fake_csv(rows);
  }

  fs::path dir_;
};

TEST_F(ReportCli, WritesHtmlWithPlotsWhenGnuplotIsOnPath) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) GTEST_SKIP() << "gnuplot not installed";
  fs::path csv = write("r.csv", sweep_csv());
  CliRun r = report(csv.string() + " -o " + (dir_ / "r.html").string() + " --plots-dir " +
                    (dir_ / "plots").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());  // the report went to the file, messages to stderr
  std::string html = slurp(dir_ / "r.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("id=\"speedup\""), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "plots" / "report.gp"));
  EXPECT_TRUE(fs::exists(dir_ / "plots" / "time_0.svg"));
}

TEST_F(ReportCli, WithoutGnuplotStillWritesTables) {
  fs::path csv = write("r.csv", sweep_csv());
  fs::create_directories(dir_ / "empty-path");
  CliRun r =
      report(csv.string() + " -o " + (dir_ / "r.html").string(), "PATH=" + (dir_ / "empty-path").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("gnuplot was not found"), std::string::npos) << r.err;
  std::string html = slurp(dir_ / "r.html");
  EXPECT_NE(html.find("gnuplot was not found"), std::string::npos);
  EXPECT_NE(html.find("id=\"summary\""), std::string::npos);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
}

TEST_F(ReportCli, MarkdownToStdout) {
  fs::path csv = write("r.csv", sweep_csv());
  CliRun r = report(csv.string() + " --format md");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# occult scaling report", 0), 0u);
  EXPECT_NE(r.out.find("occult wins 2 of 2 configurations, by 2.00x over standard"), std::string::npos)
      << r.out;
}

TEST_F(ReportCli, BadInputExitsTwoNamingFileLineAndColumn) {
  std::string good = sweep_csv();
  std::string bad_number = good;
  bad_number.replace(bad_number.find(",0.002,"), 7, ",fast,");
  struct Case {
    std::string csv, expect;
  };
  const Case cases[] = {
      {bad_number, "bad.csv:2: t_total_s: 'fast' is not a number"},
      {"run_id,devices\n1,8\n", "bad.csv:1: scenario: missing columns scenario, model,"},
      {good + "9,x,\"unterminated\n", "bad.csv:6"},
      {"", "bad.csv: empty file"},
  };
  for (const Case& c : cases) {
    fs::path csv = write("bad.csv", c.csv);
    CliRun r = report(csv.string() + " -o " + (dir_ / "r.html").string());
    EXPECT_EQ(r.code, 2) << c.expect << "\n" << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  }
  CliRun missing = report((dir_ / "nope.csv").string());
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("nope.csv: cannot open"), std::string::npos) << missing.err;
  CliRun bad_format = report(write("r.csv", good).string() + " --format pdf");
  EXPECT_EQ(bad_format.code, 2);
}

TEST_F(ReportCli, HelpTeaches) {
  CliRun r = report("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Example: occult report"), std::string::npos);
  EXPECT_NE(r.out.find("--plots-dir"), std::string::npos);
}

}  // namespace
