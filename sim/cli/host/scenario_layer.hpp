#pragma once
// One job of a scenario run: one simulated layer under one placement, every strategy.
#include <string>

#include <nlohmann/json.hpp>

#include "sim/core/cost_model.hpp"
#include "sim/core/placement.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/trace.hpp"

namespace occult::cli {

// The routing of simulated layer `layer` in expert-parallel group `group`: `sim` holds
// ep_size * tokens_per_device tokens; `profile` (group 0 only) holds other tokens of the same
// distribution, on which placement algorithms are profiled (so placements are judged on tokens they
// did not see). `note` says when that could not be done.
struct ScenarioRouting {
  LayerRouting sim, profile;
  std::string note;
};
// `trace` is the scenario's trace file, already read (nullptr for synthetic routing). Fills `out`,
// reusing its buffers: a large cluster's groups are routed one after another into one ScenarioRouting.
void scenario_routing(const Scenario& s, int layer, const Trace* trace, int group, ScenarioRouting& out);

// The placement of one expert-parallel group (every group uses the same one).
LayerPlacement scenario_placement(const Scenario& s, const std::string& placement,
                                  const LayerRouting& profile, int layer);

// Every strategy of the scenario on one layer: a JSON array, one object per strategy with the
// engine's result, the collaboration metrics and the bytes of the plan. `timeline` (may be empty) is
// a path prefix for Chrome traces.
nlohmann::json simulate_scenario_layer(const Scenario& s, const CostModel& cost, const Trace* trace,
                                       int layer, const std::string& placement, const std::string& timeline,
                                       bool progress);

}  // namespace occult::cli
