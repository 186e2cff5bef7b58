#include "sim/core/run_result.hpp"

#include "sim/core/phases.hpp"

namespace occult {
namespace {

nlohmann::json num_or_null(double x) {
  return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
}

}  // namespace

double RunResult::phase_max(const std::string& phase) const {
  auto it = phases.find(phase);
  return it == phases.end() ? 0.0 : it->second.max_s;
}

void RunResult::set_phase_totals() {
  double all = 0;
  comm_s = backward_s = 0;
  for (const auto& [name, p] : phases) {
    all += p.max_s;
    const PhaseInfo* info = phase_info(name);
    if (info && info->cls == PhaseClass::Communication) comm_s += p.max_s;
    if (info && info->backward) backward_s += p.max_s;
  }
  comm_fraction = all > 0 ? comm_s / all : 0;
}

nlohmann::json run_result_json(const RunResult& r) {
  nlohmann::json phases = nlohmann::json::object();
  for (const auto& [name, p] : r.phases)
    phases[name] = {
        {"max_s", p.max_s}, {"mean_s", p.mean_s}, {"min_s", p.min_s}, {"p50_s", p.p50_s}, {"p99_s", p.p99_s}};
  nlohmann::json links = nlohmann::json::array();
  for (const auto& l : r.busiest_links)
    links.push_back(
        {{"name", l.name}, {"class", l.link_class}, {"bytes", l.bytes}, {"busy_fraction", l.busy_fraction}});
  return {{"strategy", r.strategy},
          {"placement", r.placement},
          {"total_s", r.total_s},
          {"phases", phases},
          {"comm_s", r.comm_s},
          {"comm_fraction", r.comm_fraction},
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
          {"sim_wall_s", r.wall_s},
          {"network_model", r.model_note}};
}

RunResult run_result_from_json(const nlohmann::json& j) {
  RunResult r;
  r.strategy = j.at("strategy").get<std::string>();
  r.placement = j.at("placement").get<std::string>();
  r.total_s = j.at("total_s").get<double>();
  for (const auto& [name, p] : j.at("phases").items())
    r.phases[name] = {p.at("max_s").get<double>(), p.at("mean_s").get<double>(), p.at("min_s").get<double>(),
                      p.at("p50_s").get<double>(), p.at("p99_s").get<double>()};
  const auto& speedup = j.at("speedup_vs_standard");
  r.speedup_vs_standard = speedup.is_null() ? std::nan("") : speedup.get<double>();
  r.bytes_remote = j.at("bytes_remote").get<double>();
  r.bytes_inter_node = j.at("bytes_inter_node").get<double>();
  r.bytes_intra_node = j.at("bytes_intra_node").get<double>();
  r.bytes_by_link_class = j.at("bytes_by_link_class").get<std::map<std::string, double>>();
  for (const auto& l : j.at("busiest_links"))
    r.busiest_links.push_back({l.at("name").get<std::string>(), l.at("class").get<std::string>(),
                               l.at("bytes").get<double>(), l.at("busy_fraction").get<double>()});
  r.ct_standard = j.at("ct_standard").get<double>();
  r.ct_occult = j.at("ct_occult").get<double>();
  r.ct_node = j.at("ct_node").get<double>();
  r.intra_ratio = j.at("intra_ratio").get<double>();
  r.kept_choices = j.at("kept_choices").get<double>();
  r.kept_gate_mass = j.at("kept_gate_mass").get<double>();
  r.wall_s = j.at("sim_wall_s").get<double>();
  r.model_note = j.at("network_model").get<std::string>();
  // comm_s, comm_fraction and backward_s follow from the phases, which the JSON keeps whole.
  r.set_phase_totals();
  return r;
}

}  // namespace occult
