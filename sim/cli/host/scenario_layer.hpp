#pragma once
// One job of a scenario run: one simulated layer under one placement, every strategy.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/cost_model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/run_result.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/trace.hpp"

namespace occult::cli {

// The placement of one expert-parallel group (every group uses the same one).
LayerPlacement scenario_placement(const Scenario& s, const std::string& placement,
                                  const LayerRouting& profile, int layer);

// One job of a run: every strategy of the scenario on one layer under one placement.
struct LayerRuns {
  std::vector<RunResult> runs;         // one per strategy, in the scenario's order
  std::vector<std::string> notes;      // what the user should know (a tiled trace, ...)
  std::vector<std::string> details;    // what -v shows too: each link correction applied
  std::vector<std::string> timelines;  // per strategy, the Chrome trace written (empty: none)
};
// The job's JSON (the runs in their one JSON form): it crosses the pipe from the forked job.
nlohmann::json layer_runs_json(const LayerRuns& l);
LayerRuns layer_runs_from_json(const nlohmann::json& j);

// `timeline` (may be empty) is a path prefix for Chrome traces.
LayerRuns simulate_scenario_layer(const Scenario& s, const CostModel& cost, const Trace* trace, int layer,
                                  const std::string& placement, const std::string& timeline, bool progress,
                                  bool verbose = false);

}  // namespace occult::cli
