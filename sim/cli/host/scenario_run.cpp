#include "sim/cli/host/scenario_run.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>

#include "sim/cli/host/scenario_layer.hpp"
#include "sim/core/calibration.hpp"
#include "sim/core/error.hpp"
#include "sim/core/phases.hpp"
#include "sim/engine/fork_run.hpp"

namespace occult::cli {
namespace {

bool is_comm(const std::string& phase) {
  const PhaseInfo* p = phase_info(phase);
  return p && p->cls == PhaseClass::Communication;
}

PhaseStats stats_from(const nlohmann::json& j) {
  return {j.at("max_s").get<double>(), j.at("mean_s").get<double>(), j.at("min_s").get<double>(),
          j.at("p50_s").get<double>(), j.at("p99_s").get<double>()};
}

// Mean over the simulated layers of one (strategy, placement).
StrategyRun average(const std::vector<const nlohmann::json*>& layers) {
  StrategyRun r;
  const auto& first = *layers.front();
  r.strategy = first.at("strategy").get<std::string>();
  r.placement = first.at("placement").get<std::string>();
  r.model_note = first.at("sim").at("model_note").get<std::string>();
  for (const auto& l : first.at("sim").at("busiest_links"))
    r.busiest_links.push_back({l.at("name").get<std::string>(), l.at("class").get<std::string>(),
                               l.at("bytes").get<double>(), l.at("busy_fraction").get<double>()});
  const double n = double(layers.size());
  r.kept_choices = r.kept_gate_mass = 0;
  for (const nlohmann::json* lj : layers) {
    const auto& j = *lj;
    const auto& sim = j.at("sim");
    r.total_s += sim.at("total_s").get<double>() / n;
    r.sim_wall_s += sim.at("wall_s").get<double>();
    for (const auto& [name, pj] : sim.at("phases").items()) {
      const PhaseStats p = stats_from(pj);
      PhaseStats& a = r.phases[name];
      a.max_s += p.max_s / n, a.mean_s += p.mean_s / n, a.min_s += p.min_s / n;
      a.p50_s += p.p50_s / n, a.p99_s += p.p99_s / n;
    }
    for (const auto& [cls, bytes] : sim.at("bytes_by_link_class").items())
      r.bytes_by_link_class[cls] += bytes.get<double>() / n;
    r.bytes_remote += j.at("bytes_remote").get<double>() / n;
    r.bytes_inter_node += j.at("bytes_inter_node").get<double>() / n;
    r.bytes_intra_node += j.at("bytes_intra_node").get<double>() / n;
    r.ct_standard += j.at("ct_standard").get<double>() / n;
    r.ct_occult += j.at("ct_occult").get<double>() / n;
    r.ct_node += j.at("ct_node").get<double>() / n;
    r.intra_ratio += j.at("intra_ratio").get<double>() / n;
    r.kept_choices += j.at("kept_choices").get<double>() / n;
    r.kept_gate_mass += j.at("kept_gate_mass").get<double>() / n;
  }
  return r;
}

}  // namespace

double StrategyRun::comm_s() const {
  double t = 0;
  for (const auto& [name, p] : phases)
    if (is_comm(name)) t += p.max_s;
  return t;
}

double StrategyRun::backward_s() const {
  double t = 0;
  for (const auto& [name, p] : phases)
    if (const PhaseInfo* i = phase_info(name); i && i->backward) t += p.max_s;
  return t;
}

double StrategyRun::comm_fraction() const {
  double all = 0;
  for (const auto& [name, p] : phases) all += p.max_s;
  return all > 0 ? comm_s() / all : 0;
}

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
  std::vector<nlohmann::json> per_job(std::size_t(P * L));
  const auto t0 = std::chrono::steady_clock::now();
  int finished = 0;
  run_jobs(
      P * L, opt.jobs,
      [&](int i) {
        return simulate_scenario_layer(s, cost, trace ? &*trace : nullptr, i % L,
                                       s.placements[std::size_t(i / L)], timeline,
                                       opt.progress && opt.jobs <= 1, opt.verbose && opt.jobs <= 1)
            .dump();
      },
      [&](int i, const std::string& out) {
        per_job[std::size_t(i)] = nlohmann::json::parse(out);
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
      std::vector<const nlohmann::json*> layers;
      for (int l = 0; l < L; ++l) {
        const auto& j = per_job[std::size_t(p * L + l)].at(k);
        layers.push_back(&j);
        for (const auto& n : j.at("notes")) notes.insert(n.get<std::string>());
        for (const auto& n : j.at("details")) details.insert(n.get<std::string>());
      }
      res.runs.push_back(average(layers));
    }
    const StrategyRun* standard = nullptr;
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
      const auto& j = per_job[0].at(0);
      if (j.contains("timeline"))
        std::filesystem::rename(j["timeline"].get<std::string>(), opt.timeline_path);
    } else {
      res.notes.push_back("timelines of the first layer written to " + timeline +
                          "<strategy>.<placement>.json");
    }
  }
  return res;
}

}  // namespace occult::cli
