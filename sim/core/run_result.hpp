#pragma once
// The result of a run, in one type from the engine to the report: LayerSimResult is what the engine
// measures of one simulated layer; RunResult adds what the plan and the routing say, for one
// (strategy, placement). `occult simulate` prints it, `occult sweep` writes it as a results CSV row
// (sim/core/results_csv.hpp), `occult report` reads it back from there and `occult validate` compares
// it with a measured run. Its one JSON form (run_result_json) is the element of `runs` in
// `occult simulate --json` and also what crosses the pipes from the forked simulation processes.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace occult {

struct PhaseStats {
  double max_s = 0, mean_s = 0, min_s = 0, p50_s = 0, p99_s = 0;  // over devices
};

struct LinkLoad {
  std::string name;
  std::string link_class;
  double bytes = 0;
  double busy_fraction = 0;
};

// What the engine measures of one layer.
struct LayerSimResult {
  double total_s = 0;                        // makespan of the layer
  std::map<std::string, PhaseStats> phases;  // by phase name (sim/core/phases.hpp), over devices
  std::map<std::string, double> bytes_by_link_class;
  std::vector<LinkLoad> busiest_links;  // top few by bytes
  std::string model_note;               // which network model/aggregation was used
  double wall_s = 0;                    // simulator wall time
};

// One (strategy, placement) of a run: the engine's numbers (per layer, or averaged over the simulated
// layers, in which case wall_s is their sum and busiest_links those of the first layer) and the plan's.
struct RunResult : LayerSimResult {
  std::string strategy, placement;
  // Remote bytes of one direction (dispatch; combine mirrors it), per layer, all plan stages.
  double bytes_remote = 0, bytes_inter_node = 0, bytes_intra_node = 0;
  double ct_standard = 0, ct_occult = 0, ct_node = 0, intra_ratio = 0;  // of the routing this strategy sends
  double kept_choices = 1, kept_gate_mass = 1;                          // pruning fidelity (1: exact)
  double speedup_vs_standard = std::nan("");  // t_total(standard, same placement) / t_total; NaN: no standard
  // Totals over `phases` (set_phase_totals): the results CSV keeps these and only the forward phases'
  // max_s, so they are stored rather than recomputed. comm_s is NaN in a row read from a CSV.
  double comm_s = 0;         // the communication phases' max-over-devices durations (phases.hpp)
  double backward_s = 0;     // the backward phases' max-over-devices durations
  double comm_fraction = 0;  // comm_s / (sum of all phases' max durations)

  // The slowest device's time in one phase; 0 when the run has no such phase.
  double phase_max(const std::string& phase) const;
  // Computes comm_s, backward_s and comm_fraction from `phases`.
  void set_phase_totals();
};

// The JSON form: the fields by name, except that model_note is "network_model", wall_s is "sim_wall_s",
// a link's link_class is "class" and a NaN speedup is null.
nlohmann::json run_result_json(const RunResult& r);
RunResult run_result_from_json(const nlohmann::json& j);

}  // namespace occult
