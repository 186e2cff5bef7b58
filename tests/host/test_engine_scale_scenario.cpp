// `occult simulate` on a cluster of independent expert-parallel groups builds its plans group by group
// into block-diagonal matrices (sim/cli/host/scenario_layer.cpp). These tests rebuild each strategy's
// plan the way the scenario layer did before, as one dense D x D matrix per stage merged from the
// groups' plans, simulate it, and require the command's results to be the same numbers.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sim/core/cost_model.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/trace_gen.hpp"
#include "sim/engine/layer_sim.hpp"
#include "test_scenario_util.hpp"

namespace occult {
namespace {

// 8-GPU nodes, one NIC per GPU, rail-optimized with 2 nodes per leaf and rail.
std::string rail_topology(int nodes) {
  return "name = \"test-rail\"\ngpus_per_node = 8\nnodes = " + std::to_string(nodes) +
         "\nintra = \"nvswitch\"\n[nvlink]\nbandwidth_GBps = 450\nlatency_us = 1.0\n"
         "[fabric]\nkind = \"rail-optimized\"\nnics_per_node = 8\nlevels = 2\nradix = 4\noversubscription = "
         "1\n"
         "[fabric.nic]\nbandwidth_Gbps = 400\nlatency_us = 1.5\n"
         "[fabric.link]\nbandwidth_Gbps = 400\nlatency_us = 0.5\n";
}

// The dense reference: every group's plan from its slice of the trace, merged into one D x D matrix.
CommPlan dense_plan(const Scenario& s, const LayerRouting& layer, const LayerPlacement& lp,
                    const StrategySpec& spec) {
  const int groups = s.devices / s.ep_size, D = s.devices, n = s.ep_size;
  const std::int64_t T = s.tokens_per_device * n;
  const ClusterShape gshape = s.group_shape();
  CommPlan out;
  for (int g = 0; g < groups; ++g) {
    LayerRouting r;
    r.top_k = layer.top_k;
    const auto k = std::size_t(layer.top_k), from = std::size_t(g * T) * k, to = std::size_t((g + 1) * T) * k;
    r.experts.assign(layer.experts.begin() + std::ptrdiff_t(from),
                     layer.experts.begin() + std::ptrdiff_t(to));
    r.weights.assign(layer.weights.begin() + std::ptrdiff_t(from),
                     layer.weights.begin() + std::ptrdiff_t(to));
    if (spec.pruned()) r = prune_layer(r, lp, gshape, spec).routing;
    const CommPlan p = build_plan(r, s.model.experts, lp, gshape, spec.base, s.model.row_bytes());
    if (g == 0) {
      out = p;
      out.shape = s.shape();
      for (auto& st : out.stages) st.rows = PairMatrix(D);
      out.tokens_per_device.assign(std::size_t(D), 0);
      out.pairs_per_device.assign(std::size_t(D), 0);
      out.recv_rows_per_device.assign(std::size_t(D), 0);
      out.rows_per_expert.assign(p.rows_per_expert.size(), 0);
    }
    for (std::size_t st = 0; st < p.stages.size(); ++st)
      for (int a = 0; a < n; ++a)
        for (int b = 0; b < n; ++b) out.stages[st].rows.at(g * n + a, g * n + b) = p.stages[st].rows.at(a, b);
    for (int a = 0; a < n; ++a) {
      out.tokens_per_device[std::size_t(g * n + a)] = p.tokens_per_device[std::size_t(a)];
      out.pairs_per_device[std::size_t(g * n + a)] = p.pairs_per_device[std::size_t(a)];
      out.recv_rows_per_device[std::size_t(g * n + a)] = p.recv_rows_per_device[std::size_t(a)];
    }
    for (std::size_t e = 0; e < p.rows_per_expert.size(); ++e) out.rows_per_expert[e] += p.rows_per_expert[e];
  }
  return out;
}

void expect_same_stats(const nlohmann::json& got, const PhaseStats& want, const std::string& what) {
  EXPECT_EQ(got.at("max_s").get<double>(), want.max_s) << what;
  EXPECT_EQ(got.at("mean_s").get<double>(), want.mean_s) << what;
  EXPECT_EQ(got.at("min_s").get<double>(), want.min_s) << what;
  EXPECT_EQ(got.at("p50_s").get<double>(), want.p50_s) << what;
  EXPECT_EQ(got.at("p99_s").get<double>(), want.p99_s) << what;
}

// nodes, ep_size: 4 groups of 2 nodes under their own leaves (split into blocks), and 2 groups of 3
// nodes that share a leaf's uplinks (simulated as one cluster).
void check(int nodes, int ep_size, bool split) {
  test::TempDir dir("scale_scenario");
  dir.file("topo.toml", rail_topology(nodes));
  const int D = nodes * 8, tokens_per_device = 48;
  TraceGenParams g;
  g.experts = 48;
  g.top_k = 4;
  g.tokens = std::int64_t(D) * tokens_per_device;
  g.skew = 1.0;
  g.affinity = 0.6;
  g.seed = 5;
  write_trace(generate_trace(g), dir.path("routing.trace"));
  const std::string path =
      dir.file("s.toml",
               "name = \"blocks\"\n[model]\npreset = \"olmoe-1b-7b\"\nexperts = 48\ntop_k = 4\nhidden = 512\n"
               "ffn = 256\n[workload]\nmode = \"prefill\"\ntokens_per_device = " +
                   std::to_string(tokens_per_device) +
                   "\ntrace = \"routing.trace\"\n[cluster]\ntopology = \"topo.toml\"\nep_size = " +
                   std::to_string(ep_size) +
                   "\n[compare]\nstrategies = [\"standard\", \"occult\", \"hierarchical\", \"pruned:2\"]\n"
                   "placements = [\"contiguous\"]\n");
  const auto run = test::run_occult("simulate " + path + " --json -q");
  ASSERT_EQ(run.code, 0) << run.err;
  const auto j = nlohmann::json::parse(run.out);

  const Scenario s = ScenarioDoc::load(path).resolve();
  ASSERT_EQ(s.devices, D);
  const Trace trace = read_trace(dir.path("routing.trace"));
  const LayerPlacement lp = contiguous_placement(s.model.experts, s.group_shape(), 1).layer(0);
  std::vector<int> local(std::size_t(D), 0);
  for (int dev = 0; dev < D; ++dev)
    for (int home : lp.device_of) local[std::size_t(dev)] += home == dev % ep_size ? 1 : 0;
  const CostModel cost = CostModel::roofline(s.roofline);
  ASSERT_EQ(j.at("runs").size(), s.strategies.size());
  for (std::size_t i = 0; i < s.strategies.size(); ++i) {
    const std::string what = s.strategies[i].name() + " at ep_size " + std::to_string(ep_size);
    const CommPlan plan = dense_plan(s, trace.layers[0], lp, s.strategies[i]);
    LayerWork w = cost.layer_work(plan, s.model, local, s.mode);
    SimOptions o = cost.sim_options(s.topology, plan, nullptr);
    o.flow_model = s.flow_model;
    o.per_pair_flows = s.per_pair_flows;
    const LayerSimResult want = simulate_layer(s.topology, w, o);
    const auto& got = j["runs"][i];
    ASSERT_EQ(got.at("strategy"), s.strategies[i].name());
    EXPECT_EQ(got.at("network_model").get<std::string>().find("independent blocks") != std::string::npos,
              split)
        << what << ": " << got.at("network_model");
    EXPECT_EQ(got.at("total_s").get<double>(), want.total_s) << what;
    ASSERT_EQ(got.at("phases").size(), want.phases.size()) << what;
    for (const auto& [name, p] : want.phases)
      expect_same_stats(got.at("phases").at(name), p, what + " " + name);
    for (const auto& [cls, bytes] : want.bytes_by_link_class)
      EXPECT_EQ(got.at("bytes_by_link_class").at(cls).get<double>(), bytes) << what << " " << cls;
    const ByteSummary b = summarize_bytes(plan);
    EXPECT_EQ(got.at("bytes_remote").get<std::int64_t>(), b.total) << what;
    EXPECT_EQ(got.at("bytes_inter_node").get<std::int64_t>(), b.inter_node) << what;
    EXPECT_GT(b.inter_node, 0) << what;
  }
}

TEST(EngineScaleScenario, GroupsUnderTheirOwnLeavesMatchTheDensePlan) { check(8, 16, true); }

TEST(EngineScaleScenario, GroupsSharingALeafMatchTheDensePlan) { check(6, 24, false); }

}  // namespace
}  // namespace occult
