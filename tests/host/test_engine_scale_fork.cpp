// run_jobs (sim/engine/fork_run.hpp): the one fork-and-pipe helper behind block-split simulation,
// `occult simulate -j` and `occult sweep -j`.
#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include "sim/core/error.hpp"
#include "sim/engine/fork_run.hpp"

namespace occult {
namespace {

TEST(EngineScaleFork, EveryJobRunsOnceInAChildAndReportsBack) {
  const std::string parent = std::to_string(::getpid());
  std::map<int, std::string> got;
  run_jobs(
      7, 3, [&](int i) { return std::to_string(i * i) + "/" + std::to_string(::getpid()); },
      [&](int i, const std::string& out) { EXPECT_TRUE(got.emplace(i, out).second) << i; });
  ASSERT_EQ(got.size(), 7u);
  std::set<std::string> pids;
  for (const auto& [i, out] : got) {
    EXPECT_EQ(out.substr(0, out.find('/')), std::to_string(i * i));
    pids.insert(out.substr(out.find('/') + 1));
  }
  EXPECT_EQ(pids.size(), 7u);  // one process per job
  EXPECT_FALSE(pids.count(parent));
}

TEST(EngineScaleFork, SerialJobsRunInThisProcessInOrder) {
  std::vector<int> order;
  run_jobs(
      4, 1, [&](int i) { return std::to_string(::getpid() + i); },
      [&](int i, const std::string& out) {
        order.push_back(i);
        EXPECT_EQ(out, std::to_string(::getpid() + i));
      });
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(EngineScaleFork, AnInputErrorComesBackAsOneAndStopsNewJobs) {
  int done = 0;
  try {
    run_jobs(
        20, 2,
        [](int i) -> std::string {
          if (i == 1) throw InputError("f.toml", 3, "cluster.nodes", "bad");
          return "ok";
        },
        [&](int, const std::string&) { ++done; });
    FAIL() << "no exception";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "f.toml");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.field(), "cluster.nodes");
  }
  EXPECT_LT(done, 19);
}

// A child that runs out of memory is an input too large for the machine (the CLI's exit code 2),
// not an internal error: the parent throws std::bad_alloc, as the same job run in-process would.
TEST(EngineScaleFork, AChildOutOfMemoryComesBackAsBadAlloc) {
  EXPECT_THROW(run_jobs(
                   3, 2,
                   [](int i) -> std::string {
                     if (i == 1) throw std::bad_alloc();
                     return "ok";
                   },
                   [](int, const std::string&) {}),
               std::bad_alloc);
}

TEST(EngineScaleFork, AChildThatDiesIsNamed) {
  try {
    run_jobs(
        3, 2,
        [](int i) -> std::string {
          if (i == 2) ::raise(SIGKILL);
          return "ok";
        },
        [](int, const std::string&) {});
    FAIL() << "no exception";
  } catch (const InputError&) {
    FAIL() << "a crash is not an input error";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("job 2"), std::string::npos) << what;
    EXPECT_NE(what.find("signal 9"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace occult
