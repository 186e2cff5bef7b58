#include "sim/cli/host/scenario_run.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "sim/cli/host/scenario_layer.hpp"
#include "sim/core/calibration.hpp"
#include "sim/core/error.hpp"
#include "sim/engine/fork_run.hpp"

namespace occult::cli {
namespace {

// Mean over the simulated layers of one (strategy, placement); the simulator's wall time is summed, the
// busiest links and network model are the first layer's.
RunResult average(const std::vector<const RunResult*>& layers) {
  const RunResult& first = *layers.front();
  RunResult r;
  r.strategy = first.strategy;
  r.placement = first.placement;
  r.model_note = first.model_note;
  r.busiest_links = first.busiest_links;
  const double n = double(layers.size());
  r.kept_choices = r.kept_gate_mass = 0;
  for (const RunResult* l : layers) {
    r.total_s += l->total_s / n;
    r.wall_s += l->wall_s;
    for (const auto& [name, p] : l->phases) {
      PhaseStats& a = r.phases[name];
      a.max_s += p.max_s / n, a.mean_s += p.mean_s / n, a.min_s += p.min_s / n;
      a.p50_s += p.p50_s / n, a.p99_s += p.p99_s / n;
    }
    for (const auto& [cls, bytes] : l->bytes_by_link_class) r.bytes_by_link_class[cls] += bytes / n;
    r.bytes_remote += l->bytes_remote / n;
    r.bytes_inter_node += l->bytes_inter_node / n;
    r.bytes_intra_node += l->bytes_intra_node / n;
    r.ct_standard += l->ct_standard / n;
    r.ct_occult += l->ct_occult / n;
    r.ct_node += l->ct_node / n;
    r.intra_ratio += l->intra_ratio / n;
    r.kept_choices += l->kept_choices / n;
    r.kept_gate_mass += l->kept_gate_mass / n;
  }
  r.set_phase_totals();
  return r;
}

}  // namespace

ScenarioResult run_scenario(const Scenario& s, const RunOptions& opt) {
  ScenarioResult res;
  res.scenario = s;
  CostModel cost = s.profile_path.empty() ? CostModel::roofline(s.roofline)
                                          : CostModel::from_profile(read_calibration(s.profile_path),
                                                                    s.profile_path, s.link_correction);
  res.cost_model = cost.describe();
  if (const auto missing = cost.fallbacks(); !missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    res.notes.push_back("the profile has no samples of " + list + ": the roofline stands in for them");
  }
  res.profile_tag = cost.tag();

  std::optional<Trace> trace;
  if (!s.trace_path.empty()) {
    trace = read_trace(s.trace_path);
    if (trace->num_experts != s.model.experts || trace->top_k != s.model.top_k)
      throw InputError(s.file, 0, "workload.trace",
                       s.trace_path + " routes " + std::to_string(trace->num_experts) + " experts, top-" +
                           std::to_string(trace->top_k) + "; the model has " +
                           std::to_string(s.model.experts) + ", top-" + std::to_string(s.model.top_k));
    if (int(trace->layers.size()) < s.first_layer + s.layers)
      throw InputError(s.file, 0, "workload.layers",
                       std::to_string(s.first_layer + s.layers) + " layers needed (first_layer + layers), but " +
                           s.trace_path + " has " +
                           std::to_string(trace->layers.size()));
  }

  std::string timeline;
  if (!opt.timeline_path.empty()) {
    // One file per (strategy, placement): out.json -> out.<strategy>.<placement>.json, unless only one.
    std::filesystem::path p(opt.timeline_path);
    timeline = (p.parent_path() / p.stem()).string() + ".";
  }

  const int P = int(s.placements.size()), L = s.layers;
  std::vector<LayerRuns> per_job(std::size_t(P * L));
  const auto t0 = std::chrono::steady_clock::now();
  int finished = 0;
  run_jobs(
      P * L, opt.jobs,
      [&](int i) {
        const LayerRuns layer = simulate_scenario_layer(
            s, cost, trace ? &*trace : nullptr, i % L, s.placements[std::size_t(i / L)], timeline,
            opt.progress && opt.jobs <= 1, opt.verbose && opt.jobs <= 1);
        return layer_runs_json(layer).dump();
      },
      [&](int i, const std::string& out) {
        per_job[std::size_t(i)] = layer_runs_from_json(nlohmann::json::parse(out));
        ++finished;
        if (opt.progress) {
          const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          std::fprintf(stderr, "occult simulate: [%d/%d] placement %s, layer %d done (%.1f s elapsed)\n",
                       finished, P * L, s.placements[std::size_t(i / L)].c_str(), i % L, el);
        }
      });

  std::set<std::string> notes, details;
  for (int p = 0; p < P; ++p) {
    const std::size_t first_run = res.runs.size();
    for (std::size_t k = 0; k < s.strategies.size(); ++k) {
      std::vector<const RunResult*> layers;
      for (int l = 0; l < L; ++l) layers.push_back(&per_job[std::size_t(p * L + l)].runs.at(k));
      res.runs.push_back(average(layers));
    }
    for (int l = 0; l < L; ++l) {
      const LayerRuns& job = per_job[std::size_t(p * L + l)];
      notes.insert(job.notes.begin(), job.notes.end());
      details.insert(job.details.begin(), job.details.end());
    }
    const RunResult* standard = nullptr;
    for (std::size_t r = first_run; r < res.runs.size(); ++r)
      if (res.runs[r].strategy == "standard") standard = &res.runs[r];
    if (standard)
      for (std::size_t r = first_run; r < res.runs.size(); ++r)
        res.runs[r].speedup_vs_standard = standard->total_s / res.runs[r].total_s;
  }
  res.notes.insert(res.notes.end(), notes.begin(), notes.end());
  res.details.assign(details.begin(), details.end());
  if (!opt.timeline_path.empty()) {
    // With a single run the user gets exactly the file they named.
    if (res.runs.size() == 1) {
      const std::string& written = per_job[0].timelines.at(0);
      if (!written.empty()) std::filesystem::rename(written, opt.timeline_path);
    } else {
      res.notes.push_back("timelines of the first layer written to " + timeline +
                          "<strategy>.<placement>.json");
    }
  }
  return res;
}

}  // namespace occult::cli
