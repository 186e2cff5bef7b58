#include "sim/cli/host/validation.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "sim/cli/host/scenario_run.hpp"
#include "sim/core/error.hpp"
#include "sim/core/machines.hpp"
#include "sim/core/run_record.hpp"

namespace occult::cli {
namespace {

std::string group_of(const RunRecord& r) {
  std::string g = r.provenance.gpu_name + " x" + std::to_string(r.execution.ranks) + " " + r.execution.path;
  if (r.execution.transport != "nccl") g += " " + r.execution.transport;
  return g;
}

LayerExecution execution_of(const RunRecord& r) {
  LayerExecution e;
  e.transport = r.execution.transport;
  e.nccl_mode = r.execution.nccl_mode;
  e.counts_sync = r.execution.counts == "sync";
  e.comm_only = r.execution.comm_only;
  return e;
}

// The scenario of the identical layer: the record's workload on the machine's topology with its profile.
Scenario scenario_of(const NamedRecord& nr, const TopologySpec& topo, const std::string& profile) {
  const Workload& w = nr.record.workload;
  Scenario s;
  s.file = nr.name;
  s.name = nr.name;
  s.description = "validation of a measured run";
  s.seed = w.seed;
  s.model = w.model;
  s.model_source = "the run's record";
  s.mode = w.mode;
  s.tokens_per_device = w.tokens_per_device;
  s.layers = w.layers;
  s.first_layer = w.first_layer;
  s.trace_path = w.trace_path;
  s.synthetic = w.synthetic;
  s.topology = topo;
  s.devices = w.devices;
  s.ep_size = w.ep_size;
  s.strategies = w.strategies;
  s.placements = w.placements;
  s.profile_path = profile;
  s.link_correction = LinkCorrection::Calibrated;
  s.execution = execution_of(nr.record);
  s.resolved = {{"run", nr.name}};
  return s;
}

// Why a record cannot be compared (empty: it can).
std::string unmodelled(const NamedRecord& nr, const TopologySpec& topo, const CostModel& cost) {
  const RunRecord& r = nr.record;
  if (!r.pass) return "the run failed its correctness check";
  if (r.workload.devices > topo.gpus_per_node * topo.nodes)
    return "the topology " + topo.name + " has fewer GPUs than the run";
  if (r.execution.transport == "p2p" && r.execution.ranks > 1 && topo.nodes > 1)
    return "the direct P2P transport needs one node";
  if (!r.workload.trace_path.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(r.workload.trace_path, ec))
      return "its routing trace " + r.workload.trace_path + " is not here";
    if (file_digest(r.workload.trace_path) != r.workload.trace_digest)
      return "its routing trace " + r.workload.trace_path + " differs from the one that ran (digest)";
  }
  const auto gaps = cost.gaps(topo, r.workload.devices, r.workload.mode, execution_of(r));
  std::string why;
  for (const auto& g : gaps) why += (why.empty() ? "" : "; ") + g;
  return why;
}

void compare(const NamedRecord& nr, const std::string& group, const ScenarioResult& sim, const CostModel& cost,
             Validation& out) {
  const RunRecord& r = nr.record;
  const bool fused = r.execution.counts == "fused";
  for (const auto& m : r.strategies) {
    const auto it = std::find_if(sim.runs.begin(), sim.runs.end(),
                                 [&](const StrategyRun& s) { return s.strategy == m.strategy; });
    if (it == sim.runs.end()) {
      out.not_modelled.push_back({nr.name, "strategy " + m.strategy + " was not simulated"});
      continue;
    }
    for (const auto& [phase, t] : m.phase_s) {
      // With fused counts the count phase is empty: only the boundary of the events that time it.
      if (phase == "counts" && fused) continue;
      const auto p = it->phases.find(phase);
      if (p == it->phases.end()) {
        out.not_modelled.push_back({nr.name, m.strategy + " phase " + phase + " has no simulated counterpart"});
        continue;
      }
      out.rows.push_back({nr.name, m.strategy, phase, phase_class_name(phase_info(phase)->cls), group, t,
                          p->second.max_s});
    }
    // The measured layer spans the empty count phase's event boundary too (fused counts).
    const double instrumentation = fused && cost.measured() ? cost.profile().event_s : 0.0;
    out.rows.push_back({nr.name, m.strategy, "layer", "layer", group, m.layer_s(), it->total_s + instrumentation});
  }
}

}  // namespace

Validation validate_runs(const std::vector<std::string>& files, const ValidateOptions& opt) {
  Validation out;
  std::vector<MachineEntry> machines;
  try {
    machines = read_machines(opt.machines);
  } catch (const InputError& e) {
    out.errors.push_back(e.what());
    return out;
  }
  std::map<std::string, CostModel> profiles;
  std::set<std::string> warned;
  for (const auto& file : files) {
    std::vector<NamedRecord> records;
    try {
      records = read_run_records(file);
    } catch (const InputError& e) {
      out.errors.push_back(e.what());
      continue;
    }
    for (const auto& nr : records) {
      const RunRecord& r = nr.record;
      const MachineEntry* m =
          find_machine(machines, r.provenance.gpu_name, r.execution.ranks, r.execution.path);
      if (!m) {
        out.errors.push_back(InputError(nr.name, 0, "provenance.gpu_name",
                                        "no machine of " + opt.machines + " is " + r.provenance.gpu_name + " x" +
                                            std::to_string(r.execution.ranks) + " over " + r.execution.path +
                                            "; add a [[machine]] with its topology and profile")
                                 .what());
        continue;
      }
      try {
        const TopologySpec topo = load_topology(m->topology);
        const std::string profile = opt.profile.empty() ? m->profile : opt.profile;
        auto cit = profiles.find(profile);
        if (cit == profiles.end())
          cit = profiles.emplace(profile, CostModel::from_profile(read_calibration(profile), profile,
                                                                  LinkCorrection::Calibrated))
                    .first;
        const CostModel& cost = cit->second;
        const std::string& pg = cost.profile().provenance.gpu_name;
        if (!topo.gpu.empty() && pg != topo.gpu && warned.insert(profile + "|" + topo.gpu).second)
          out.warnings.push_back("profile " + profile + " was measured on " + (pg.empty() ? "an unnamed GPU" : pg) +
                                 ", topology " + topo.name + " is for " + topo.gpu +
                                 ": compute and kernel times come from another GPU type");
        const std::string group = group_of(r);
        out.sources.push_back({nr.name, group, m->topology, profile, r.provenance.gpu_name, r.provenance.date,
                               r.provenance.command, r.provenance.commit});
        if (const std::string why = unmodelled(nr, topo, cost); !why.empty()) {
          out.not_modelled.push_back({nr.name, why});
          continue;
        }
        RunOptions ro;
        ro.jobs = opt.jobs;
        const ScenarioResult sim = run_scenario(scenario_of(nr, topo, profile), ro);
        compare(nr, group, sim, cost, out);
        if (opt.progress) std::cerr << "occult validate: " << nr.name << " simulated\n";
      } catch (const InputError& e) {
        out.errors.push_back(std::string(nr.name) + ": " + e.what());
      }
    }
  }
  return out;
}

ErrorStats error_stats(const std::vector<const Comparison*>& rows) {
  ErrorStats s;
  s.n = rows.size();
  if (rows.empty()) return s;
  std::vector<double> a;
  for (const auto* r : rows) {
    a.push_back(std::abs(r->error()));
    if (std::abs(r->error()) > std::abs(s.worst)) s.worst = r->error();
  }
  std::sort(a.begin(), a.end());
  const std::size_t n = a.size();
  s.median = n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
  s.p90 = a[std::min(n - 1, std::size_t(std::ceil(0.9 * double(n))) - 1)];
  return s;
}

std::vector<SummaryRow> summarize(const Validation& v) {
  std::vector<SummaryRow> out;
  const std::vector<std::string> classes = {"layer", "communication", "expert", "kernel"};
  std::vector<std::string> groups;
  for (const auto& r : v.rows)
    if (std::find(groups.begin(), groups.end(), r.group) == groups.end()) groups.push_back(r.group);
  std::sort(groups.begin(), groups.end());
  auto select = [&](const std::string& g, const std::string& c) {
    std::vector<const Comparison*> sel;
    for (const auto& r : v.rows)
      if ((g.empty() || r.group == g) && r.cls == c) sel.push_back(&r);
    return sel;
  };
  for (const auto& g : groups)
    for (const auto& c : classes)
      if (auto sel = select(g, c); !sel.empty()) out.push_back({g, c, error_stats(sel)});
  if (groups.size() > 1)  // with one machine and path the overall rows would repeat it
    for (const auto& c : classes)
      if (auto sel = select("", c); !sel.empty()) out.push_back({"all", c, error_stats(sel)});
  return out;
}

}  // namespace occult::cli
