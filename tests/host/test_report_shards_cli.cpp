// `occult report` over the shards of one sweep (issue 18): shards run as parallel processes, one
// results file each, read as a folder or as a list; duplicated and missing runs are reported, never
// merged silently.
#include <gtest/gtest.h>

#include "test_scenario_util.hpp"

namespace occult {
namespace {

// Six points (3 device counts x 2 skews) x 2 strategies = 12 runs, in 3 shards of 2 points each.
struct Shards : test::ShellDir {
  Shards() : test::ShellDir("report_shards") {
    file("topo.toml", test::kNodeTopology);
    file("s.toml",
         test::small_scenario("[sweep]\ncluster.devices = [2, 4, 8]\nworkload.skew = [0.0, 0.5]\n"));
    // The three shards at once, as a job array would run them.
    const auto r = run(
        "mkdir shards && for i in 0 1 2; do $OCCULT sweep s.toml -q --shard $i/3 -o shards/r$i.csv & done; "
        "wait && $OCCULT sweep s.toml -q -o whole.csv",
        300);
    EXPECT_EQ(r.code, 0) << r.err;
  }
  test::ShellResult report(const std::string& inputs) const {
    return run("$OCCULT report " + inputs + " --format md -o r.md");
  }
};

TEST(ReportShards, AFolderOfShardsIsTheWholeSweep) {
  Shards s;
  const auto r = s.report("shards");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("3 results files, 12 runs; 0 duplicated (0 with different results), 0 missing"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  // The same tables as the report of one unsharded sweep (the pages differ only in their command line).
  ASSERT_EQ(s.run("$OCCULT report whole.csv --format md -o whole.md").code, 0);
  EXPECT_EQ(s.run("diff <(grep '^|' r.md | sort) <(grep '^|' whole.md | sort)").code, 0);
}

TEST(ReportShards, DuplicatedAndMissingRunsAreReported) {
  Shards s;
  // Shard 1 lost, shard 0 copied twice (as a rerun of a job that had finished).
  ASSERT_EQ(s.run("cp shards/r0.csv shards/r0-again.csv && rm shards/r1.csv").code, 0);
  const auto r = s.report("shards");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("8 runs; 4 duplicated (0 with different results), 4 missing"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("warning: run "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(the same results; kept once)"), std::string::npos) << r.err;
  // Shard 1 held points 1 and 4: (2 devices, skew 0.5) and (8 devices, skew 0.0).
  EXPECT_NE(r.err.find("missing: scenario small, cluster.devices=2, workload.skew=0.5, occult, contiguous"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("cluster.devices=8, workload.skew=0.0, standard"), std::string::npos) << r.err;
  // A list of files works as a folder does; files of another sweep are refused.
  EXPECT_EQ(s.report("shards/r0.csv shards/r2.csv").code, 0);
  s.file("other.toml", test::small_scenario("[sweep]\ncluster.devices = [2, 4]\n"));
  ASSERT_EQ(s.run("$OCCULT sweep other.toml -q -o other.csv").code, 0);
  s.refused("$OCCULT report shards/r0.csv other.csv --format md -o x.md", {"sweep axes differ"});
  s.refused("mkdir empty && $OCCULT report empty --format md -o x.md", {"no .csv results file"});
}

}  // namespace
}  // namespace occult
