#pragma once
// Running a resolved scenario: for every placement and simulated layer, the routing, the placement,
// and for every strategy the (pruned) routing, the plan, the cost model's work and the SimGrid run;
// then the per-layer results averaged into one result per (strategy, placement).
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/scenario.hpp"
#include "sim/engine/layer_sim.hpp"

namespace occult::cli {

struct StrategyRun {
  std::string strategy, placement;
  // Per phase (sim/core/phases.hpp names): statistics of the per-device durations, each averaged over
  // the simulated layers.
  std::map<std::string, PhaseStats> phases;
  double total_s = 0;                                 // layer makespan, mean over simulated layers
  std::map<std::string, double> bytes_by_link_class;  // bytes carried per link class, per layer
  std::vector<LinkLoad> busiest_links;                // of the first simulated layer
  // Remote bytes of one direction (dispatch; combine mirrors it), per layer, all plan stages.
  double bytes_remote = 0, bytes_inter_node = 0, bytes_intra_node = 0;
  double ct_standard = 0, ct_occult = 0, ct_node = 0, intra_ratio = 0;  // of the routing this strategy sends
  double kept_choices = 1, kept_gate_mass = 1;                          // pruning fidelity (1: exact)
  double speedup_vs_standard =
      std::nan("");       // t_total(standard, same placement) / t_total; NaN without standard
  double sim_wall_s = 0;  // simulator wall time, summed over layers
  std::string model_note;

  double comm_s() const;         // the communication phases' max-over-devices durations (phases.hpp)
  double backward_s() const;     // the backward phases' max-over-devices durations
  double comm_fraction() const;  // comm_s / (sum of all phases' max durations)
};

struct ScenarioResult {
  Scenario scenario;
  std::string cost_model;          // CostModel::describe()
  std::string profile_tag;         // CostModel::tag(): "roofline" or the profile path
  std::vector<std::string> notes;    // what the user should know (tiled traces, roofline fallbacks, ...)
  std::vector<std::string> details;  // what -v shows too: each link correction applied
  std::vector<StrategyRun> runs;   // placements outer, strategies inner, in scenario order
};

struct RunOptions {
  int jobs = 1;               // parallel forked jobs (one per placement and layer)
  bool progress = false;      // progress lines on stderr
  bool verbose = false;       // also what each simulation builds, and every link correction
  std::string timeline_path;  // Chrome/Perfetto trace of the first layer of each run
};

ScenarioResult run_scenario(const Scenario& s, const RunOptions& opt);

nlohmann::json scenario_result_json(const ScenarioResult& r);
// A table for people, with the units and a legend.
// `verbose`: also the details (every link correction the profile applied).
void print_result(const ScenarioResult& r, std::FILE* out, bool verbose = false);

}  // namespace occult::cli
