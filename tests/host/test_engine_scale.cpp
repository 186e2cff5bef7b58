// The block split of large layers (sim/engine/block_split.hpp): found only when exact, and simulating
// each block alone gives the same result as simulating the whole cluster.
#include <gtest/gtest.h>

#include "sim/engine/block_split.hpp"
#include "tests/host/test_engine_util.hpp"

namespace occult {
namespace {

// `groups` expert-parallel groups of `group_devices` GPUs, each routing its own tokens (its own seed),
// merged block-diagonally as the scenario layer does.
CommPlan grouped_plan(int groups, int group_devices, int gpus_per_node, Strategy strategy, double skew,
                      int experts = 64) {
  const int d = groups * group_devices;
  CommPlan out;
  for (int g = 0; g < groups; ++g) {
    const CommPlan p = test::routed_plan(group_devices, gpus_per_node, strategy, skew, group_devices * 256,
                                         experts, 8, 7 + std::uint64_t(g));
    if (g == 0) {
      out = p;
      out.shape = {d, gpus_per_node};
      for (auto& st : out.stages) st.rows = PairMatrix(d);
      out.pairs_per_device.assign(d, 0);
      out.tokens_per_device.assign(d, 0);
      out.recv_rows_per_device.assign(d, 0);
    }
    const int off = g * group_devices;
    for (std::size_t k = 0; k < p.stages.size(); ++k)
      for (int s = 0; s < group_devices; ++s)
        for (int t = 0; t < group_devices; ++t)
          out.stages[k].rows.at(off + s, off + t) = p.stages[k].rows.at(s, t);
    for (int s = 0; s < group_devices; ++s) {
      out.pairs_per_device[off + s] = p.pairs_per_device[s];
      out.tokens_per_device[off + s] = p.tokens_per_device[s];
      out.recv_rows_per_device[off + s] = p.recv_rows_per_device[s];
    }
  }
  return out;
}

// `tol` (relative) plus 1 ns: SimGrid's solver stops at a precision that depends on how many flows run
// at once, so even an exact split moves times by ~1e-7 relative (~1e-10 s on a 10 us step).
void expect_same(const LayerSimResult& a, const LayerSimResult& b, const std::string& what) {
  constexpr double tol = 1e-5;
  auto near = [](double x, double y) {
    return std::abs(x - y) <= tol * std::max(std::abs(x), std::abs(y)) + 1e-9;
  };
  EXPECT_TRUE(near(a.total_s, b.total_s)) << what << ": total " << a.total_s << " vs " << b.total_s;
  ASSERT_EQ(a.phases.size(), b.phases.size()) << what;
  for (const auto& [name, p] : a.phases) {
    const PhaseStats& q = b.phases.at(name);
    EXPECT_TRUE(near(p.max_s, q.max_s)) << what << " " << name << " max " << p.max_s << " vs " << q.max_s;
    EXPECT_TRUE(near(p.mean_s, q.mean_s)) << what << " " << name << " mean";
    EXPECT_TRUE(near(p.min_s, q.min_s)) << what << " " << name << " min " << p.min_s << " vs " << q.min_s;
    EXPECT_TRUE(near(p.p50_s, q.p50_s)) << what << " " << name << " p50 " << p.p50_s << " vs " << q.p50_s;
    EXPECT_TRUE(near(p.p99_s, q.p99_s)) << what << " " << name << " p99";
  }
  for (const auto& [cls, bytes] : a.bytes_by_link_class)
    EXPECT_TRUE(near(bytes, b.bytes_by_link_class.at(cls))) << what << " " << cls;
  ASSERT_EQ(a.busiest_links.size(), b.busiest_links.size()) << what;
  for (std::size_t i = 0; i < a.busiest_links.size(); ++i)
    EXPECT_TRUE(near(a.busiest_links[i].bytes, b.busiest_links[i].bytes)) << what << " link " << i;
}

TEST(EngineScale, BlockSizeOfABlockDiagonalPlan) {
  const CommPlan p = grouped_plan(4, 16, 8, Strategy::Occult, 0.0);
  EXPECT_EQ(plan_block_size(p, 8), 16);
  const CommPlan whole = test::routed_plan(64, 8, Strategy::Occult, 0.0, 64 * 64);
  EXPECT_EQ(plan_block_size(whole, 8), 64);
}

TEST(EngineScale, NoSplitWhenBlocksShareALink) {
  // 2 nodes per leaf: blocks of 3 nodes share the middle leaf's uplinks.
  const TopologySpec t = test::rail_cluster(6, 8);
  const CommPlan p = grouped_plan(2, 24, 8, Strategy::Occult, 0.0, 48);
  ASSERT_EQ(plan_block_size(p, 8), 24);
  const NetworkGraph full(t, 48, {}), first(t, 24, {});
  EXPECT_EQ(find_block_split(full, first, p, 24).blocks, 0);
  // Blocks of 2 nodes sit under their own leaves: an exact split.
  const CommPlan q = grouped_plan(3, 16, 8, Strategy::Occult, 0.0);
  const NetworkGraph first2(t, 16, {});
  EXPECT_EQ(find_block_split(full, first2, q, 16).blocks, 3);
}

TEST(EngineScale, SplitGivesTheWholeClustersResult) {
  const TopologySpec t = test::rail_cluster(6, 8);
  for (Strategy s : {Strategy::Standard, Strategy::Occult, Strategy::Hierarchical})
    for (double skew : {0.0, 1.2})
      for (bool per_pair : {true, false}) {
        const CommPlan p = grouped_plan(3, 16, 8, s, skew);
        const LayerWork w = test::work_for(p, 2e-9);
        SimOptions split, whole;
        split.per_pair_flows = whole.per_pair_flows = per_pair;
        whole.split_blocks = false;
        const auto a = simulate_layer(t, w, whole);
        const auto b = simulate_layer(t, w, split);
        EXPECT_NE(b.model_note.find("independent blocks"), std::string::npos);
        expect_same(a, b,
                    "strategy " + std::to_string(int(s)) + " skew " + std::to_string(skew) +
                        (per_pair ? " per pair" : " aggregated"));
      }
}

TEST(EngineScale, TrainingAndChunkedSplitAlike) {
  const TopologySpec t = test::rail_cluster(4, 8);
  const CommPlan p = grouped_plan(2, 16, 8, Strategy::Occult, 1.2);
  LayerWork w = test::work_for(p, 2e-9, true);
  w.overlap = Overlap::Chunked;
  w.chunks = 2;
  SimOptions whole;
  whole.split_blocks = false;
  expect_same(simulate_layer(t, w, whole), simulate_layer(t, w, {}), "training, 2 chunks");
}

}  // namespace
}  // namespace occult
