// Topology files: every shipped file parses; bad values are InputErrors naming the field and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/core/topology.hpp"

namespace occult {
namespace {

namespace fs = std::filesystem;

std::string write_tmp(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("occult_topo_" + name + ".toml");
  std::ofstream(p) << text;
  return p.string();
}

const char* kNode = R"(name = "n"
gpus_per_node = 8
intra = "nvswitch"
[nvlink]
bandwidth_GBps = 450
latency_us = 1
)";

TEST(TopologyParse, EveryShippedFileLoads) {
  int count = 0;
  for (const auto& e : fs::directory_iterator(fs::path(OCCULT_SOURCE_DIR) / "topologies")) {
    if (e.path().extension() != ".toml") continue;
    SCOPED_TRACE(e.path().string());
    const TopologySpec t = load_topology(e.path().string());
    EXPECT_FALSE(t.name.empty());
    EXPECT_GE(t.gpus_per_node * t.nodes, 1);
    ++count;
  }
  EXPECT_GE(count, 8);
}

TEST(TopologyParse, UnitsAndDefaults) {
  const TopologySpec t = load_topology(OCCULT_SOURCE_DIR "/topologies/railopt-h200-1024.toml");
  EXPECT_EQ(t.shape().devices, 1024);
  EXPECT_EQ(t.fabric, Fabric::RailOptimized);
  EXPECT_DOUBLE_EQ(t.nic.bandwidth_Bps, 400e9 / 8);  // Gb/s -> bytes/s
  EXPECT_DOUBLE_EQ(t.nvlink.bandwidth_Bps, 450e9);
  EXPECT_DOUBLE_EQ(t.nvlink.latency_s, 1e-6);
}

struct Bad {
  const char* name;
  std::string text;
  const char* field;
  long line;
};

class TopologyBad : public ::testing::TestWithParam<Bad> {};

TEST_P(TopologyBad, IsAnInputErrorWithFieldAndLine) {
  const Bad& b = GetParam();
  const std::string path = write_tmp(b.name, b.text);
  try {
    load_topology(path);
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), b.field) << e.what();
    EXPECT_EQ(e.line(), b.line) << e.what();
    EXPECT_EQ(e.file(), path);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Files, TopologyBad,
    ::testing::Values(
        Bad{"negative_bw", std::string(kNode).replace(std::string(kNode).find("450"), 3, "-450"),
            "nvlink.bandwidth_GBps", 5},
        Bad{"missing_gpus", "name = \"n\"\nintra = \"none\"\n", "gpus_per_node", 1},
        Bad{"missing_link", "name = \"n\"\ngpus_per_node = 8\nintra = \"nvswitch\"\n", "nvlink", 1},
        Bad{"unknown_key", "colour = \"red\"\n" + std::string(kNode), "colour", 1},
        Bad{"bad_intra", "name = \"n\"\ngpus_per_node = 1\nintra = \"warp\"\n", "intra", 3},
        Bad{"both_units",
            "name = \"n\"\ngpus_per_node = 2\nintra = \"nvlink-direct\"\n[nvlink]\nbandwidth_GBps = "
            "1\nbandwidth_Gbps = 8\n",
            "nvlink.bandwidth_GBps", 5},
        // Checks across keys point at a line too: the key, its table, or the key that calls for it.
        Bad{"nodes_without_fabric", "name = \"n\"\ngpus_per_node = 1\nnodes = 4\nintra = \"none\"\n",
            "fabric.kind", 3},
        Bad{"torus_dims",
            "nodes = 8\n" + std::string(kNode) +
                "[fabric]\nkind = \"torus\"\ntorus_dims = [2, 2]\n[fabric.nic]\nbandwidth_Gbps = "
                "400\n[fabric.link]\nbandwidth_Gbps = 400\n",
            "fabric.torus_dims", 10},
        Bad{"oversubscription",
            "nodes = 2\n" + std::string(kNode) +
                "[fabric]\nkind = \"fat-tree\"\noversubscription = 0.5\n[fabric.nic]\nbandwidth_Gbps = 400\n",
            "fabric.oversubscription", 10},
        Bad{"syntax", "name = \"n\"\ngpus_per_node = = 8\n", "", 2}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(TopologyParse, NegativeLatency) {
  std::string text = kNode;
  text.replace(text.find("latency_us = 1"), 14, "latency_us = -1");
  try {
    load_topology(write_tmp("neglat", text));
    FAIL() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "nvlink.latency_us");
    EXPECT_EQ(e.line(), 6);
  }
}

TEST(TopologyParse, MissingFile) { EXPECT_THROW(load_topology("/nonexistent/topology.toml"), InputError); }

TEST(TopologyValidate, OverridesAreRechecked) {
  TopologySpec t = load_topology(OCCULT_SOURCE_DIR "/topologies/railopt-h200-1024.toml");
  t.nic.bandwidth_Bps = -1;
  EXPECT_THROW(validate_topology(t, "--set"), InputError);
}

}  // namespace
}  // namespace occult
