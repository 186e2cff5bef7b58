#include "sim/cli/host/scenario_layer.hpp"

#include <algorithm>
#include <iostream>

#include "sim/core/error.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/trace_gen.hpp"
#include "sim/engine/layer_sim.hpp"
#include "sim/place/trace_placer.hpp"

namespace occult::cli {
namespace {

std::string sanitize(const std::string& s) {
  std::string o = s;
  for (char& c : o)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return o;
}

nlohmann::json stats_json(const PhaseStats& p) {
  return {
      {"max_s", p.max_s}, {"mean_s", p.mean_s}, {"min_s", p.min_s}, {"p50_s", p.p50_s}, {"p99_s", p.p99_s}};
}

nlohmann::json sim_json(const LayerSimResult& r) {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [name, p] : r.phases) phases[name] = stats_json(p);
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : r.busiest_links)
    links.push_back(
        {{"name", l.name}, {"class", l.link_class}, {"bytes", l.bytes}, {"busy_fraction", l.busy_fraction}});
  return {
      {"total_s", r.total_s},   {"phases", phases},           {"bytes_by_link_class", r.bytes_by_link_class},
      {"busiest_links", links}, {"model_note", r.model_note}, {"wall_s", r.wall_s}};
}

// One strategy's plan over the whole cluster, filled group by group, and what the groups measured.
struct StrategyRun {
  CommPlan plan;
  std::vector<LayerMetrics> metrics;
  PruneFidelity fidelity;
};

// Builds every strategy's plan group by group. Groups never exchange tokens, so the plans are
// block-diagonal (grouped_cluster_plan); only one group's routing is held at a time (`r` comes in with
// group 0's, later groups reuse its buffers), and the strategies that do not prune share each group's
// metrics pass and plan walk.
std::vector<StrategyRun> build_strategy_runs(const Scenario& s, const Trace* trace, int layer,
                                             WorkloadRouting& r, const LayerPlacement& lp, bool progress) {
  const int groups = s.devices / s.ep_size, E = s.model.experts;
  const ClusterShape gshape = s.group_shape();
  const std::int64_t row_bytes = s.model.row_bytes();
  std::vector<StrategyRun> runs;
  std::vector<std::size_t> exact;
  std::vector<Strategy> exact_bases;
  for (std::size_t i = 0; i < s.strategies.size(); ++i) {
    const StrategySpec& spec = s.strategies[i];
    runs.push_back({grouped_cluster_plan(spec.base, s.shape(), s.ep_size, E, row_bytes), {}, {}});
    if (!spec.pruned()) exact.push_back(i), exact_bases.push_back(spec.base);
  }
  const int report_every = std::max(1, groups / 8);
  const Workload w = s.workload();
  for (int g = 0; g < groups; ++g) {
    if (g > 0) workload_routing(w, layer, trace, g, r);
    if (!exact.empty()) {
      const LayerMetrics m = analyze_layer(r.sim, lp, gshape, row_bytes);
      std::vector<CommPlan> plans = build_plans(r.sim, E, lp, gshape, exact_bases, row_bytes);
      for (std::size_t j = 0; j < exact.size(); ++j) {
        runs[exact[j]].metrics.push_back(m);
        set_group_plan(runs[exact[j]].plan, plans[j], g);
      }
    }
    for (std::size_t i = 0; i < s.strategies.size(); ++i) {
      const StrategySpec& spec = s.strategies[i];
      if (!spec.pruned()) continue;
      const PrunedLayer pruned = prune_layer(r.sim, lp, gshape, spec);
      runs[i].fidelity.merge(pruned.fidelity);
      runs[i].metrics.push_back(analyze_layer(pruned.routing, lp, gshape, row_bytes));
      set_group_plan(runs[i].plan, build_plan(pruned.routing, E, lp, gshape, spec.base, row_bytes), g);
    }
    if (progress && groups > 1 && ((g + 1) % report_every == 0 || g + 1 == groups))
      std::cerr << "occult: plans of " << g + 1 << " of " << groups << " expert-parallel groups built\n";
  }
  return runs;
}

}  // namespace

LayerPlacement scenario_placement(const Scenario& s, const std::string& name, const LayerRouting& profile,
                                  int layer) {
  const PlacementAlgorithm algo = [](const std::string& a, const LayerRouting& prof, int experts, int top_k,
                                     const ClusterShape& shape, std::uint64_t seed) {
    place::PlaceOptions o;
    o.algo = place::parse_algo(a);
    o.shape = shape;
    o.seed = seed;
    Trace t;
    t.num_experts = experts;
    t.top_k = top_k;
    t.layers.push_back(prof);
    return place::place_trace(t, o, 1.0).layers.at(0);
  };
  return workload_placement(s.workload(), name, profile, layer, algo);
}

nlohmann::json simulate_scenario_layer(const Scenario& s, const CostModel& cost, const Trace* trace,
                                       int layer, const std::string& placement, const std::string& timeline,
                                       bool progress, bool verbose) {
  const int groups = s.devices / s.ep_size;
  WorkloadRouting routing;  // group 0's; each further group's reuses its buffers
  const Workload w = s.workload();
  workload_routing(w, layer, trace, 0, routing);
  const LayerPlacement lp = scenario_placement(s, placement, routing.profile, layer);
  const std::string routing_note = routing.note;
  routing.profile = {};
  std::vector<int> local(std::size_t(s.devices), 0);
  for (std::size_t e = 0; e < lp.device_of.size(); ++e)
    for (int g = 0; g < groups; ++g) {
      ++local[std::size_t(g * s.ep_size + lp.device_of[e])];
      if (e < lp.replicas.size())
        for (int d : lp.replicas[e]) ++local[std::size_t(g * s.ep_size + d)];
    }
  std::vector<StrategyRun> runs = build_strategy_runs(s, trace, layer, routing, lp, progress);

  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < s.strategies.size(); ++i) {
    const StrategySpec& spec = s.strategies[i];
    StrategyRun& run = runs[i];
    const LayerMetrics m = aggregate_layers(run.metrics);
    const ByteSummary b = summarize_bytes(run.plan);
    LayerWork w = cost.layer_work(run.plan, s.model, local, s.mode, s.execution);
    w.overlap = s.overlap;
    w.chunks = s.chunks;
    std::vector<std::string> notes;
    SimOptions o = cost.sim_options(s.topology, run.plan, &notes, s.execution);
    o.per_pair_flows = s.per_pair_flows;
    o.flow_model = s.flow_model;
    o.fluid_quantum = s.fluid_quantum;
    o.progress = progress;
    o.verbose = verbose;
    if (!timeline.empty() && layer == 0)
      o.timeline_path = timeline + sanitize(spec.name()) + "." + sanitize(placement) + ".json";
    const LayerSimResult res = simulate_layer(s.topology, w, o);
    run.plan = {};  // later strategies fork smaller processes
    nlohmann::json j = {{"strategy", spec.name()},
                        {"placement", placement},
                        {"layer", layer},
                        {"sim", sim_json(res)},
                        {"bytes_remote", b.total},
                        {"bytes_inter_node", b.inter_node},
                        {"bytes_intra_node", b.intra_node},
                        {"ct_standard", m.ct_standard},
                        {"ct_occult", m.ct_occult},
                        {"ct_node", m.ct_node},
                        {"intra_ratio", m.intra_ratio},
                        {"kept_choices", run.fidelity.choice_fraction()},
                        {"kept_gate_mass", run.fidelity.mass_fraction()},
                        {"notes", routing_note.empty() ? std::vector<std::string>{} : std::vector<std::string>{routing_note}},
                        {"details", notes}};
    if (!o.timeline_path.empty()) j["timeline"] = o.timeline_path;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace occult::cli
