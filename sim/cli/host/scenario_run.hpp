#pragma once
// Running a resolved scenario: for every placement and simulated layer, the routing, the placement,
// and for every strategy the (pruned) routing, the plan, the cost model's work and the SimGrid run;
// then the per-layer results averaged into one result per (strategy, placement).
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/core/run_result.hpp"
#include "sim/core/scenario.hpp"

namespace occult::cli {

struct ScenarioResult {
  Scenario scenario;
  std::string cost_model;          // CostModel::describe()
  std::string profile_tag;         // CostModel::tag(): "roofline" or the profile path
  std::vector<std::string> notes;    // what the user should know (tiled traces, roofline fallbacks, ...)
  std::vector<std::string> details;  // what -v shows too: each link correction applied
  std::vector<RunResult> runs;       // placements outer, strategies inner, in scenario order
};

struct RunOptions {
  int jobs = 1;               // parallel forked jobs (one per placement and layer)
  bool progress = false;      // progress lines on stderr
  bool verbose = false;       // also what each simulation builds, and every link correction
  std::string timeline_path;  // Chrome/Perfetto trace of the first layer of each run
};

ScenarioResult run_scenario(const Scenario& s, const RunOptions& opt);

nlohmann::json scenario_result_json(const ScenarioResult& r);
// The run id of one results CSV row: a hash of the point's resolved configuration, strategy and
// placement, so a row is skipped on resume only when the very same run produced it.
std::string run_id(const Scenario& s, const std::string& strategy, const std::string& placement);
// The results CSV rows of a result (sim/core/results_csv.hpp); `axes` are (key, TOML literal) of the
// sweep point.
std::string csv_rows(const ScenarioResult& r, const std::vector<std::pair<std::string, std::string>>& axes);
// A table for people, with the units and a legend.
// `verbose`: also the details (every link correction the profile applied).
void print_result(const ScenarioResult& r, std::FILE* out, bool verbose = false);

}  // namespace occult::cli
