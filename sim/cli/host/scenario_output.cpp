// The two forms of a scenario result: one JSON document (--json) and a table for people.
#include <cmath>
#include <cstdio>

#include "sim/cli/host/scenario_run.hpp"

namespace occult::cli {
namespace {

nlohmann::json num_or_null(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

std::string describe_workload(const Scenario& s) {
  char buf[256];
  std::string routing = s.trace_path.empty()
                            ? "synthetic routing (skew " + std::to_string(s.synthetic.skew).substr(0, 4) +
                                  ", affinity " + std::to_string(s.synthetic.affinity).substr(0, 4) +
                                  ", seed " + std::to_string(s.seed) + ")"
                            : "routing from " + s.trace_path;
  std::snprintf(buf, sizeof buf, "%s, %lld tokens per GPU, %d layer%s simulated, %s",
                mode_name(s.mode).c_str(), static_cast<long long>(s.tokens_per_device), s.layers,
                s.layers == 1 ? "" : "s", routing.c_str());
  return buf;
}

double phase_max(const StrategyRun& r, const std::string& name) {
  auto it = r.phases.find(name);
  return it == r.phases.end() ? 0.0 : it->second.max_s;
}


}  // namespace

nlohmann::json scenario_result_json(const ScenarioResult& res) {
  const Scenario& s = res.scenario;
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : res.runs) {
    nlohmann::json phases = nlohmann::json::object();
    for (const auto& [name, p] : r.phases)
      phases[name] = {{"max_s", p.max_s},
                      {"mean_s", p.mean_s},
                      {"min_s", p.min_s},
                      {"p50_s", p.p50_s},
                      {"p99_s", p.p99_s}};
    nlohmann::json links = nlohmann::json::array();
    for (const auto& l : r.busiest_links)
      links.push_back({{"name", l.name},
                       {"class", l.link_class},
                       {"bytes", l.bytes},
                       {"busy_fraction", l.busy_fraction}});
    runs.push_back({{"strategy", r.strategy},
                    {"placement", r.placement},
                    {"total_s", r.total_s},
                    {"phases", phases},
                    {"comm_s", r.comm_s()},
                    {"comm_fraction", r.comm_fraction()},
                    {"speedup_vs_standard", num_or_null(r.speedup_vs_standard)},
                    {"bytes_remote", r.bytes_remote},
                    {"bytes_inter_node", r.bytes_inter_node},
                    {"bytes_intra_node", r.bytes_intra_node},
                    {"bytes_by_link_class", r.bytes_by_link_class},
                    {"busiest_links", links},
                    {"ct_standard", r.ct_standard},
                    {"ct_occult", r.ct_occult},
                    {"ct_node", r.ct_node},
                    {"intra_ratio", r.intra_ratio},
                    {"kept_choices", r.kept_choices},
                    {"kept_gate_mass", r.kept_gate_mass},
                    {"sim_wall_s", r.sim_wall_s},
                    {"network_model", r.model_note}});
  }
  return {{"scenario", s.name},
          {"file", s.file},
          {"description", s.description},
          {"config", s.resolved},
          {"model",
           {{"name", s.model.name},
            {"source", s.model_source},
            {"experts", s.model.experts},
            {"top_k", s.model.top_k},
            {"hidden", s.model.hidden},
            {"ffn", s.model.ffn}}},
          {"cluster",
           {{"topology", s.topology.name},
            {"devices", s.devices},
            {"ep_size", s.ep_size},
            {"gpus_per_node", s.shape().gpus_per_node},
            {"nodes", s.shape().nodes()}}},
          {"cost_model", res.cost_model},
          {"profile", res.profile_tag},
          {"notes", res.notes},
          {"details", res.details},
          {"units",
           {{"time", "seconds per MoE layer (mean over simulated layers)"},
            {"bytes", "bytes per layer, one direction (dispatch; combine moves the same)"}}},
          {"runs", runs}};
}

void print_result(const ScenarioResult& res, std::FILE* out, bool verbose) {
  const Scenario& s = res.scenario;
  std::fprintf(out, "occult simulate: %s (%s)\n", s.name.c_str(), s.file.c_str());
  if (!s.description.empty()) std::fprintf(out, "  %s\n", s.description.c_str());
  std::fprintf(out, "  model    %s (%s): E=%d, top-%d, h=%d, f=%d\n", s.model.name.c_str(),
               s.model_source.c_str(), s.model.experts, s.model.top_k, s.model.hidden, s.model.ffn);
  std::fprintf(out, "  workload %s\n", describe_workload(s).c_str());
  const std::string groups = s.ep_size == s.devices ? "one expert-parallel group"
                                                     : std::to_string(s.devices / s.ep_size) +
                                                           " expert-parallel groups of " + std::to_string(s.ep_size);
  std::fprintf(out, "  cluster  %s: D=%d GPUs (%s), %d per node, %d node%s; overlap %s\n",
               s.topology.name.c_str(), s.devices, groups.c_str(), s.shape().gpus_per_node, s.shape().nodes(),
               s.shape().nodes() == 1 ? "" : "s",
               s.overlap == Overlap::Chunked ? ("chunked x" + std::to_string(s.chunks)).c_str() : "none");
  std::fprintf(out, "  compute  %s\n", res.cost_model.c_str());
  if (!res.runs.empty()) std::fprintf(out, "  network  %s\n", res.runs.front().model_note.c_str());
  std::fprintf(out, "\n%-16s %-12s %10s %9s %9s %9s %9s %6s %8s %10s %10s %6s %6s %6s\n", "strategy",
               "placement", "layer_ms", "dispatch", "expert", "combine", "backward", "comm%", "speedup",
               "remote_MB", "network_MB", "ct_occ", "ct_node", "intra");
  for (const auto& r : res.runs) {
    char speed[16] = "-";
    if (std::isfinite(r.speedup_vs_standard))
      std::snprintf(speed, sizeof speed, "%.2fx", r.speedup_vs_standard);
    std::fprintf(
        out, "%-16s %-12s %10.3f %9.3f %9.3f %9.3f %9.3f %5.0f%% %8s %10.1f %10.1f %6.2f %6.2f %6.3f\n",
        r.strategy.c_str(),
        r.placement.size() > 12 ? r.placement.substr(r.placement.size() - 12).c_str() : r.placement.c_str(),
        r.total_s * 1e3, phase_max(r, "dispatch") * 1e3, phase_max(r, "expert") * 1e3,
        phase_max(r, "combine") * 1e3, r.backward_s() * 1e3, 100 * r.comm_fraction(), speed, r.bytes_remote / 1e6,
        r.bytes_inter_node / 1e6, r.ct_occult, r.ct_node, r.intra_ratio);
  }
  std::fprintf(
      out,
      "\nlayer_ms: simulated time of one MoE layer (makespan, ms; mean over simulated layers). dispatch, "
      "expert,\ncombine, backward: the slowest GPU's time in that phase (ms; backward sums the backward "
      "phases).\ncomm%%: dispatch+combine share of the summed phase times. speedup: standard's layer_ms / "
      "this\nlayer_ms, same placement. remote_MB / network_MB: MB one direction of dispatch moves between "
      "GPUs /\nacross nodes (combine moves the same). ct_occ, ct_node: replicas per token (devices, nodes); "
      "intra:\nshare of co-chosen expert pairs on one GPU (DESIGN.md 2).\n");
  std::fprintf(out, "\nbytes per link class (MB per layer) and busiest links (first layer):\n");
  for (const auto& r : res.runs) {
    std::fprintf(out, "  %-16s %-12s", r.strategy.c_str(), r.placement.c_str());
    for (const auto& [cls, b] : r.bytes_by_link_class)
      if (b > 0) std::fprintf(out, " %s %.1f", cls.c_str(), b / 1e6);
    for (std::size_t i = 0; i < r.busiest_links.size() && i < 2; ++i)
      std::fprintf(out, " | %s %.1f MB busy %.0f%%", r.busiest_links[i].name.c_str(),
                   r.busiest_links[i].bytes / 1e6, 100 * r.busiest_links[i].busy_fraction);
    std::fprintf(out, "\n");
  }
  bool pruned = false;
  for (const auto& r : res.runs) pruned = pruned || r.kept_choices < 1;
  if (pruned) {
    std::fprintf(
        out, "\npruning fidelity (lossy strategies): share of (token, expert) choices / gate mass kept:\n");
    for (const auto& r : res.runs)
      if (r.kept_choices < 1)
        std::fprintf(out, "  %-16s %-12s %.3f / %.3f\n", r.strategy.c_str(), r.placement.c_str(),
                     r.kept_choices, r.kept_gate_mass);
  }
  for (const auto& n : res.notes) std::fprintf(out, "note: %s\n", n.c_str());
  if (verbose)
    for (const auto& n : res.details) std::fprintf(out, "detail: %s\n", n.c_str());
}

}  // namespace occult::cli
