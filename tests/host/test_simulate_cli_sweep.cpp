// occult sweep through the binary: CSV columns, resumability, shards, parallel runs.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_scenario_util.hpp"

namespace occult {
namespace {

using test::run_occult;
using test::TempDir;

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

struct Sweep {
  TempDir dir{"sweep_cli"};
  std::string topo = dir.file("topo.toml", test::kNodeTopology);
  std::string scenario = dir.file("s.toml", test::small_scenario("[sweep]\ncluster.devices = [2, 4, 8]\n"));
  std::string csv = dir.path("r.csv");
};

TEST(SweepCli, WritesTheContractColumnsThenOneColumnPerAxis) {
  Sweep s;
  auto r = run_occult("sweep " + s.scenario + " -o " + s.csv + " -q");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto lines = lines_of(s.csv);
  ASSERT_EQ(lines.size(), 1u + 3 * 2);  // header + 3 points x 2 strategies x 1 placement
  EXPECT_EQ(
      lines[0],
      "run_id,scenario,model,mode,topology,devices,gpus_per_node,nodes,tokens_per_device,strategy,placement,"
      "overlap,t_total_s,t_layout_s,t_dispatch_s,t_expert_s,t_combine_s,t_unpack_s,t_bwd_s,comm_fraction,"
      "bytes_remote,bytes_inter_node,bytes_intra_node,ct_standard,ct_occult,ct_node,intra_ratio,"
      "speedup_vs_standard,profile,sim_wall_s,cluster.devices");
  EXPECT_NE(lines[1].find(",standard,contiguous,"), std::string::npos);
  EXPECT_EQ(lines[1].substr(lines[1].rfind(',') + 1), "2");
  EXPECT_EQ(lines[6].substr(lines[6].rfind(',') + 1), "8");
}

TEST(SweepCli, ResumesWithoutRepeatingRows) {
  Sweep s;
  // First only shard 0/2 (points 0 and 2), then everything: only point 1 is new.
  ASSERT_EQ(run_occult("sweep " + s.scenario + " -o " + s.csv + " -q --shard 0/2").code, 0);
  EXPECT_EQ(lines_of(s.csv).size(), 1u + 2 * 2);
  auto r = run_occult("sweep " + s.scenario + " -o " + s.csv + " -j 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2 already in"), std::string::npos) << r.err;
  auto lines = lines_of(s.csv);
  EXPECT_EQ(lines.size(), 1u + 3 * 2);
  std::set<std::string> ids;
  for (std::size_t i = 1; i < lines.size(); ++i) ids.insert(lines[i].substr(0, lines[i].find(',')));
  EXPECT_EQ(ids.size(), 6u);
  // Nothing left to do; a torn last row is dropped and simulated again.
  { std::ofstream(s.csv, std::ios::app) << "deadbeef,partial"; }
  r = run_occult("sweep " + s.scenario + " -o " + s.csv);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines_of(s.csv).size(), 1u + 3 * 2);
}

TEST(SweepCli, ChangedScenarioGetsNewRunIds) {
  Sweep s;
  ASSERT_EQ(run_occult("sweep " + s.scenario + " -o " + s.csv + " -q --set sweep.cluster.devices=[8]").code,
            0);
  ASSERT_EQ(run_occult("sweep " + s.scenario + " -o " + s.csv +
                       " -q --set sweep.cluster.devices=[8] --set "
                       "workload.tokens_per_device=128")
                .code,
            0);
  EXPECT_EQ(lines_of(s.csv).size(), 1u + 2 * 2);
}

TEST(SweepCli, BadInputExitsWithTwo) {
  Sweep s;
  EXPECT_EQ(run_occult("sweep " + s.scenario + " -o " + s.csv + " --shard 2/2").code, 2);
  EXPECT_EQ(run_occult("sweep " + s.scenario + " -o " + s.csv + " --set sweep.cluster.devices=[2,3]").code,
            2);
  // A results file of another sweep (other columns) is not appended to.
  std::ofstream(s.csv) << "run_id,something\n";
  auto r = run_occult("sweep " + s.scenario + " -o " + s.csv);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("another sweep"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace occult
