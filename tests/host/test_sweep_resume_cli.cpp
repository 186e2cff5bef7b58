// `occult sweep` resuming a results file that is not as it left it (a CRLF copy, rows cut short,
// garbage), sweeps that would repeat a run, and scenarios and results read from pipes: the file the
// sweep leaves is always one `occult report` reads.
#include <gtest/gtest.h>
#include <sys/file.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "test_scenario_util.hpp"

namespace occult {
namespace {

using test::run_occult;
using test::slurp;

struct Sweep : test::ShellDir {
  Sweep() : test::ShellDir("sweep_resume") {
    file("topo.toml", test::kNodeTopology);
    file("s.toml", test::small_scenario("[sweep]\ncluster.devices = [2, 4, 8]\n"));
  }
  std::string csv() const { return path("r.csv"); }
  test::ShellResult sweep(const std::string& extra = "") const {
    return run("$OCCULT sweep s.toml -o r.csv " + extra);
  }
  int report_code() const { return run("$OCCULT report r.csv --format md -o r.md").code; }
  std::size_t rows() const {
    const std::string t = slurp(csv());
    return std::size_t(std::count(t.begin(), t.end(), '\n')) - 1;
  }
};

TEST(SweepResume, CrlfCopyIsResumedNotCalledAnotherSweep) {
  Sweep s;
  ASSERT_EQ(s.sweep("-q").code, 0);
  ASSERT_EQ(s.run("sed -i 's/$/\\r/' r.csv").code, 0);
  const auto r = s.sweep();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("3 already in"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(s.csv()).find('\r'), std::string::npos);
  EXPECT_EQ(s.report_code(), 0);
}

TEST(SweepResume, RowsCutShortAndGarbageRunAgainAndTheReportReadsTheFile) {
  Sweep s;
  ASSERT_EQ(s.sweep("-q").code, 0);
  const std::string full = slurp(s.csv());
  // The last row cut in half but ended by a line break (it kept its run_id), then a garbage line.
  const std::size_t last = full.rfind('\n', full.size() - 2) + 1;
  std::ofstream(s.csv(), std::ios::binary)
      << full.substr(0, last + (full.size() - last) / 2) << "\nnot a row\n";
  EXPECT_NE(s.report_code(), 0);
  const auto r = s.sweep();
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("set aside 2 line(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1 to run"), std::string::npos) << r.err;
  EXPECT_EQ(s.rows(), 6u);
  EXPECT_EQ(s.report_code(), 0);
  EXPECT_NE(slurp(s.csv() + ".rejected").find("not a row"), std::string::npos);
}

TEST(SweepResume, NoSweepWritesOneRunTwice) {
  Sweep s;
  // Repeated values and strategies are refused where they are written.
  s.refused("$OCCULT sweep s.toml -o r.csv --set sweep.cluster.devices=[2,4,2]",
            {"the value 2 appears twice"});
  s.refused("$OCCULT sweep s.toml -o r.csv --set 'compare.strategies=[\"occult\",\"standard\",\"occult\"]'",
            {"listed twice"});
  EXPECT_FALSE(std::filesystem::exists(s.csv()));  // a refused sweep leaves no file behind
  // Values written differently that resolve to the same run (0 and 0.0) run once.
  const auto r = s.sweep("--set 'sweep.workload.skew=[0, 0.0]' --set cluster.devices=8");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("1 repeating earlier points"), std::string::npos) << r.err;
  EXPECT_EQ(s.rows(), 2u);
  EXPECT_EQ(s.report_code(), 0);
}

TEST(SweepResume, OneSweepPerFile) {
  Sweep s;
  ASSERT_EQ(s.sweep("-q --shard 0/3").code, 0);
  const int fd = ::open(s.csv().c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running sweep holds it
  const auto r = s.sweep("-q");
  ::close(fd);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("another occult sweep is writing"), std::string::npos) << r.err;
  EXPECT_EQ(s.rows(), 2u);
}

TEST(SweepResume, ScenariosAndResultsFromPipes) {
  Sweep s;
  // Relative paths of a scenario read from a pipe or stdin are relative to the current directory.
  auto r = s.run("$OCCULT simulate - -q < s.toml");
  EXPECT_EQ(r.code, 0) << r.err;
  r = s.run("$OCCULT sweep <(cat s.toml) -o r.csv -q");
  ASSERT_EQ(r.code, 0) << r.err;
  r = s.run("cat r.csv | $OCCULT report - --format md");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("occult"), std::string::npos);
  // Files a scenario names are read more than once: a FIFO there is refused clearly.
  s.refused("mkfifo fifo.trace && $OCCULT simulate s.toml -q --set workload.trace=fifo.trace",
            {"not a regular file"});
  // Outputs that would destroy an input.
  s.refused("$OCCULT report r.csv -o r.csv", {"is also an input"});
  s.refused("$OCCULT sweep s.toml -o s.toml", {"is also an input"});
  s.refused("$OCCULT sweep s.toml -o -", {"give a file name"});
}

}  // namespace
}  // namespace occult
