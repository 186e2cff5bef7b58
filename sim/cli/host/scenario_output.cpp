// The forms of a scenario result: one JSON document (--json), a table for people, and results CSV rows.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>

#include "sim/cli/host/scenario_run.hpp"
#include "sim/core/input_file.hpp"
#include "sim/core/results_csv.hpp"

namespace occult::cli {
namespace {

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

// Axis values as people read them: TOML strings without their quotes.
std::string axis_value(const std::string& literal) {
  if (literal.size() >= 2 && (literal.front() == '"' || literal.front() == '\'') &&
      literal.back() == literal.front())
    return literal.substr(1, literal.size() - 2);
  return literal;
}

}  // namespace

std::string run_id(const Scenario& s, const std::string& strategy, const std::string& placement) {
  // FNV-1a 64 over the canonical JSON (keys sorted) of everything that determines the result. The
  // profile's contents count, not only its path: a re-measured profile must not resume old rows.
  // Read once per process: a sweep asks for every point's ids, and the file does not change meanwhile.
  static std::map<std::string, std::string> profiles;
  std::string profile;
  if (!s.profile_path.empty()) {
    auto it = profiles.find(s.profile_path);
    if (it == profiles.end())
      it = profiles.emplace(s.profile_path, InputFile(s.profile_path).read_all("calibration profile")).first;
    profile = it->second;
  }
  const std::string text = nlohmann::json{
      {"config", s.resolved},
      {"strategy", strategy},
      {"placement", placement},
      {"profile", profile}}.dump();
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string csv_rows(const ScenarioResult& res,
                     const std::vector<std::pair<std::string, std::string>>& axes) {
  const Scenario& s = res.scenario;
  std::string out;
  for (const auto& r : res.runs) {
    ResultRow row;
    row.run_id = run_id(s, r.strategy, r.placement);
    row.scenario = s.name;
    row.model = s.model.name;
    row.mode = mode_name(s.mode);
    row.topology = s.topology.name;
    row.devices = s.devices;
    row.gpus_per_node = s.shape().gpus_per_node;
    row.nodes = s.shape().nodes();
    row.tokens_per_device = double(s.tokens_per_device);
    row.overlap = s.overlap == Overlap::Chunked ? "chunked:" + std::to_string(s.chunks) : "none";
    row.profile = res.profile_tag;
    for (const auto& [key, value] : axes) row.axis_values.push_back(axis_value(value));
    row.run = r;
    out += results_csv_line(row) + "\n";
  }
  return out;
}

nlohmann::json scenario_result_json(const ScenarioResult& res) {
  const Scenario& s = res.scenario;
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& r : res.runs) runs.push_back(run_result_json(r));
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
        r.total_s * 1e3, r.phase_max("dispatch") * 1e3, r.phase_max("expert") * 1e3,
        r.phase_max("combine") * 1e3, r.backward_s * 1e3, 100 * r.comm_fraction, speed, r.bytes_remote / 1e6,
        r.bytes_inter_node / 1e6, r.ct_occult, r.ct_node, r.intra_ratio);
  }
  std::fprintf(
      out,
      "\nlayer_ms: simulated time of one MoE layer (makespan, ms; mean over simulated layers). dispatch, "
      "expert,\ncombine, backward: the slowest GPU's time in that phase (ms; backward sums the backward "
      "phases).\ncomm%%: dispatch+combine share of the summed phase times. speedup: standard's layer_ms / "
      "this\nlayer_ms, same placement. remote_MB / network_MB: MB one direction of dispatch moves between "
      "GPUs /\nacross nodes (combine moves the same). ct_occ, ct_node: replicas per token (devices, nodes); "
      "intra:\nshare of co-chosen expert pairs on one GPU (docs/design.md 2).\n");
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
