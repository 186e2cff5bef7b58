#include "sim/cli/host/scenario_layer.hpp"

#include <algorithm>

#include "sim/core/error.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/plan.hpp"
#include "sim/core/prune.hpp"
#include "sim/core/trace_gen.hpp"
#include "sim/engine/layer_sim.hpp"
#include "sim/place/trace_placer.hpp"

namespace occult::cli {
namespace {

// Placement algorithms are profiled on at most this many tokens: enough for stable co-activation
// statistics, small enough to keep placement fast at thousands of GPUs.
constexpr std::int64_t kMaxProfileTokens = std::int64_t(1) << 18;

// Tokens [begin, end) of r; indices past r's end wrap around (a trace shorter than the workload).
LayerRouting take(const LayerRouting& r, std::int64_t begin, std::int64_t end) {
  LayerRouting out;
  out.layer = r.layer;
  out.top_k = r.top_k;
  const std::int64_t n = r.tokens();
  const auto k = std::size_t(r.top_k);
  out.experts.resize(std::size_t(end - begin) * k);
  if (!r.weights.empty()) out.weights.resize(out.experts.size());
  for (std::int64_t t = begin; t < end; ++t) {
    const auto src = std::size_t(t % n) * k, dst = std::size_t(t - begin) * k;
    std::copy_n(r.experts.begin() + std::ptrdiff_t(src), k, out.experts.begin() + std::ptrdiff_t(dst));
    if (!r.weights.empty())
      std::copy_n(r.weights.begin() + std::ptrdiff_t(src), k, out.weights.begin() + std::ptrdiff_t(dst));
  }
  return out;
}

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

// Places group g's plan (over ep_size devices) on devices [g * ep_size, (g + 1) * ep_size) of the
// whole cluster's plan: groups never exchange tokens, so the matrices are block-diagonal.
void merge_group_plan(CommPlan& plan, const CommPlan& gp, const ClusterShape& shape, int g) {
  const int D = shape.devices, ep = gp.shape.devices, off = g * ep;
  if (plan.stages.empty()) {
    plan.strategy = gp.strategy;
    plan.shape = shape;
    plan.row_bytes = gp.row_bytes;
    for (const auto& st : gp.stages) plan.stages.push_back({st.kind, PairMatrix(D)});
    plan.tokens_per_device.assign(std::size_t(D), 0);
    plan.pairs_per_device.assign(std::size_t(D), 0);
    plan.recv_rows_per_device.assign(std::size_t(D), 0);
    plan.rows_per_expert.assign(gp.rows_per_expert.size(), 0);
  }
  for (std::size_t k = 0; k < gp.stages.size(); ++k)
    for (int a = 0; a < ep; ++a)
      for (int b = 0; b < ep; ++b) plan.stages[k].rows.at(off + a, off + b) = gp.stages[k].rows.at(a, b);
  for (int d = 0; d < ep; ++d) {
    const auto i = std::size_t(off + d), j = std::size_t(d);
    plan.tokens_per_device[i] = gp.tokens_per_device[j];
    plan.pairs_per_device[i] = gp.pairs_per_device[j];
    plan.recv_rows_per_device[i] = gp.recv_rows_per_device[j];
  }
  for (std::size_t e = 0; e < gp.rows_per_expert.size(); ++e)
    plan.rows_per_expert[e] += gp.rows_per_expert[e];
}

}  // namespace

ScenarioRouting scenario_routing(const Scenario& s, int layer, const Trace* trace, int group) {
  const std::int64_t T = s.tokens_per_device * s.ep_size;
  ScenarioRouting out;
  if (!trace) {
    TraceGenParams p;
    p.experts = s.model.experts;
    p.top_k = s.model.top_k;
    p.skew = s.synthetic.skew;
    p.affinity = s.synthetic.affinity;
    p.groups = s.synthetic.groups;
    // Every group draws its own tokens; group 0 uses the scenario's seed as is.
    p.seed = s.seed + std::uint64_t(group) * 1000003ull;
    const std::int64_t P = group == 0 ? std::min(T, kMaxProfileTokens) : 0;
    p.tokens = T + P;
    p.layers = layer + 1;
    const LayerRouting all = generate_layer(p, layer);
    out.sim = take(all, 0, T);
    if (group == 0) out.profile = take(all, T, T + P);
    return out;
  }
  const LayerRouting& r = trace->layers.at(std::size_t(layer));
  const std::int64_t n = r.tokens(), total = T * (s.devices / s.ep_size);
  out.sim = take(r, std::int64_t(group) * T, std::int64_t(group + 1) * T);
  if (group != 0) return out;
  if (n >= total + std::min<std::int64_t>(total, 1024)) {
    out.profile = take(r, total, std::min(n, total + kMaxProfileTokens));
  } else {
    // Not enough tokens for a separate profiling set: placements see the tokens they are judged on.
    out.profile = take(r, 0, std::min(n, kMaxProfileTokens));
    out.note = "trace layer " + std::to_string(layer) + " has " + std::to_string(n) + " tokens for " +
               std::to_string(total) + " needed" + (n < total ? " (reused cyclically)" : "") +
               "; placements were profiled on the same tokens (in-sample)";
  }
  return out;
}

LayerPlacement scenario_placement(const Scenario& s, const std::string& name, const LayerRouting& profile,
                                  int layer) {
  const ClusterShape shape = s.group_shape();
  const int E = s.model.experts;
  if (name == "contiguous") return contiguous_placement(E, shape, 1).layers[0];
  if (name == "round-robin") return round_robin_placement(E, shape, 1).layers[0];
  if (name.ends_with(".json")) {
    Placement p = read_placement(name);
    if (p.shape.devices != shape.devices || p.shape.gpus_per_node != shape.gpus_per_node)
      throw InputError(name, 0, "shape",
                       "placement is for " + std::to_string(p.shape.devices) + " devices (" +
                           std::to_string(p.shape.gpus_per_node) + " per node); the scenario has " +
                           std::to_string(shape.devices) + " (" + std::to_string(shape.gpus_per_node) + ")");
    validate_placement(p, E, std::max(int(p.layers.size()), 1), name);
    if (p.layers.size() != 1 && std::size_t(layer) >= p.layers.size())
      throw InputError(name, 0, "layers",
                       "has " + std::to_string(p.layers.size()) + " layers; the scenario simulates layer " +
                           std::to_string(layer));
    return p.layer(std::size_t(layer));
  }
  place::PlaceOptions o;
  o.algo = place::parse_algo(name);
  o.shape = shape;
  o.seed = s.seed + std::uint64_t(layer);
  Trace t;
  t.num_experts = E;
  t.top_k = s.model.top_k;
  t.layers.push_back(profile);
  return place::place_trace(t, o, 1.0).layers.at(0);
}

nlohmann::json simulate_scenario_layer(const Scenario& s, const CostModel& cost, const Trace* trace,
                                       int layer, const std::string& placement, const std::string& timeline,
                                       bool progress) {
  const int groups = s.devices / s.ep_size;
  std::vector<ScenarioRouting> routing;
  for (int g = 0; g < groups; ++g) routing.push_back(scenario_routing(s, layer, trace, g));
  const LayerPlacement lp = scenario_placement(s, placement, routing[0].profile, layer);
  const ClusterShape gshape = s.group_shape();
  const std::int64_t row_bytes = s.model.row_bytes();
  std::vector<int> local(std::size_t(s.devices), 0);
  for (std::size_t e = 0; e < lp.device_of.size(); ++e)
    for (int g = 0; g < groups; ++g) {
      ++local[std::size_t(g * s.ep_size + lp.device_of[e])];
      if (e < lp.replicas.size())
        for (int d : lp.replicas[e]) ++local[std::size_t(g * s.ep_size + d)];
    }

  nlohmann::json out = nlohmann::json::array();
  for (const auto& spec : s.strategies) {
    CommPlan plan;
    std::vector<LayerMetrics> metrics;
    PruneFidelity fidelity;
    for (int g = 0; g < groups; ++g) {
      PrunedLayer pruned;
      const LayerRouting* r = &routing[std::size_t(g)].sim;
      if (spec.pruned()) {
        pruned = prune_layer(*r, lp, gshape, spec);
        fidelity.merge(pruned.fidelity);
        r = &pruned.routing;
      }
      metrics.push_back(analyze_layer(*r, lp, gshape, row_bytes));
      CommPlan gp = build_plan(*r, s.model.experts, lp, gshape, spec.base, row_bytes);
      if (groups == 1) {
        plan = std::move(gp);
      } else {
        merge_group_plan(plan, gp, s.shape(), g);
      }
    }
    const LayerMetrics m = aggregate_layers(metrics);
    const ByteSummary b = summarize_bytes(plan);
    LayerWork w = cost.layer_work(plan, s.model, local, s.mode);
    w.overlap = s.overlap;
    w.chunks = s.chunks;
    std::vector<std::string> notes;
    SimOptions o = cost.sim_options(s.topology, plan, &notes);
    o.per_pair_flows = s.per_pair_flows;
    o.flow_model = s.flow_model;
    o.progress = progress;
    if (!timeline.empty() && layer == 0)
      o.timeline_path = timeline + sanitize(spec.name()) + "." + sanitize(placement) + ".json";
    const LayerSimResult res = simulate_layer(s.topology, w, o);
    if (!routing[0].note.empty()) notes.push_back(routing[0].note);
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
                        {"kept_choices", fidelity.choice_fraction()},
                        {"kept_gate_mass", fidelity.mass_fraction()},
                        {"notes", notes}};
    if (!o.timeline_path.empty()) j["timeline"] = o.timeline_path;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace occult::cli
