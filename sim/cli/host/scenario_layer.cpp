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

// One strategy's plan over the whole cluster, filled group by group, and what the groups measured.
struct StrategyPlan {
  CommPlan plan;
  std::vector<LayerMetrics> metrics;
  PruneFidelity fidelity;
};

// Builds every strategy's plan group by group. Groups never exchange tokens, so the plans are
// block-diagonal (grouped_cluster_plan); only one group's routing is held at a time (`r` comes in with
// group 0's, later groups reuse its buffers). One walk over a group's tokens gives its metrics and the
// three strategies' plans (analyze_layer), shared by the strategies that do not prune; each pruned
// strategy walks its own pruned routing once.
std::vector<StrategyPlan> build_strategy_plans(const Scenario& s, const Trace* trace, int layer,
                                               WorkloadRouting& r, const LayerPlacement& lp, bool progress) {
  const int groups = s.devices / s.ep_size, E = s.model.experts;
  const ClusterShape gshape = s.group_shape();
  const std::int64_t row_bytes = s.model.row_bytes();
  std::vector<StrategyPlan> runs;
  std::vector<std::size_t> exact;
  for (std::size_t i = 0; i < s.strategies.size(); ++i) {
    const StrategySpec& spec = s.strategies[i];
    runs.push_back({grouped_cluster_plan(spec.base, s.shape(), s.ep_size, E, row_bytes), {}, {}});
    if (!spec.pruned()) exact.push_back(i);
  }
  const int report_every = std::max(1, groups / 8);
  const Workload w = s.workload();
  for (int g = 0; g < groups; ++g) {
    if (g > 0) workload_routing(w, layer, trace, g, r);
    if (!exact.empty()) {
      LayerPlans plans;
      const LayerMetrics m = analyze_layer(r.sim, lp, gshape, row_bytes, &plans);
      for (std::size_t i : exact) {
        runs[i].metrics.push_back(m);
        set_group_plan(runs[i].plan, plans.of(s.strategies[i].base), g);
      }
    }
    for (std::size_t i = 0; i < s.strategies.size(); ++i) {
      const StrategySpec& spec = s.strategies[i];
      if (!spec.pruned()) continue;
      const PrunedLayer pruned = prune_layer(r.sim, lp, gshape, spec);
      runs[i].fidelity.merge(pruned.fidelity);
      LayerPlans plans;
      runs[i].metrics.push_back(analyze_layer(pruned.routing, lp, gshape, row_bytes, &plans));
      set_group_plan(runs[i].plan, plans.of(spec.base), g);
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

nlohmann::json layer_runs_json(const LayerRuns& l) {
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : l.runs) runs.push_back(run_result_json(r));
  return {{"runs", runs}, {"notes", l.notes}, {"details", l.details}, {"timelines", l.timelines}};
}

LayerRuns layer_runs_from_json(const nlohmann::json& j) {
  LayerRuns l;
  for (const auto& r : j.at("runs")) l.runs.push_back(run_result_from_json(r));
  l.notes = j.at("notes").get<std::vector<std::string>>();
  l.details = j.at("details").get<std::vector<std::string>>();
  l.timelines = j.at("timelines").get<std::vector<std::string>>();
  return l;
}

LayerRuns simulate_scenario_layer(const Scenario& s, const CostModel& cost, const Trace* trace, int layer,
                                  const std::string& placement, const std::string& timeline, bool progress,
                                  bool verbose) {
  const int groups = s.devices / s.ep_size;
  WorkloadRouting routing;  // group 0's; each further group's reuses its buffers
  const Workload workload = s.workload();
  workload_routing(workload, layer, trace, 0, routing);
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
  std::vector<StrategyPlan> runs = build_strategy_plans(s, trace, layer, routing, lp, progress);

  LayerRuns out;
  if (!routing_note.empty()) out.notes.push_back(routing_note);
  for (std::size_t i = 0; i < s.strategies.size(); ++i) {
    const StrategySpec& spec = s.strategies[i];
    StrategyPlan& run = runs[i];
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
    RunResult res;
    static_cast<LayerSimResult&>(res) = simulate_layer(s.topology, w, o);
    run.plan = {};  // later strategies fork smaller processes
    res.strategy = spec.name();
    res.placement = placement;
    res.bytes_remote = double(b.total);
    res.bytes_inter_node = double(b.inter_node);
    res.bytes_intra_node = double(b.intra_node);
    res.ct_standard = m.ct_standard;
    res.ct_occult = m.ct_occult;
    res.ct_node = m.ct_node;
    res.intra_ratio = m.intra_ratio;
    res.kept_choices = run.fidelity.choice_fraction();
    res.kept_gate_mass = run.fidelity.mass_fraction();
    out.runs.push_back(std::move(res));
    out.details.insert(out.details.end(), notes.begin(), notes.end());
    out.timelines.push_back(o.timeline_path);
  }
  return out;
}

}  // namespace occult::cli
