#pragma once
// One job of a scenario run: one simulated layer under one placement, every strategy.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/cost_model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/trace.hpp"

namespace occult::cli {

// The placement of one expert-parallel group (every group uses the same one).
LayerPlacement scenario_placement(const Scenario& s, const std::string& placement,
                                  const LayerRouting& profile, int layer);

// Every strategy of the scenario on one layer: a JSON array, one object per strategy with the
// engine's result, the collaboration metrics and the bytes of the plan. `timeline` (may be empty) is
// a path prefix for Chrome traces.
nlohmann::json simulate_scenario_layer(const Scenario& s, const CostModel& cost, const Trace* trace,
                                       int layer, const std::string& placement, const std::string& timeline,
                                       bool progress, bool verbose = false);

}  // namespace occult::cli
