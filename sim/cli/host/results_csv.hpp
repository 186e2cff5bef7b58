#pragma once
// The sweep results CSV (docs/formats/results-csv.md, a contract with `occult report`): fixed columns,
// then one column per sweep axis; one row per (sweep point, strategy, placement), keyed by run_id.
#include <string>
#include <utility>
#include <vector>

#include "sim/cli/host/scenario_run.hpp"
#include "sim/core/results_columns.hpp"

namespace occult::cli {

// The run id of one row: a hash of the point's resolved configuration, strategy and placement, so
// a row is skipped on resume only when the very same run produced it.
std::string run_id(const Scenario& s, const std::string& strategy, const std::string& placement);

std::string csv_header(const std::vector<std::string>& axis_keys);
// The rows of one point; `axes` are (key, TOML literal) of the point.
std::string csv_rows(const ScenarioResult& r, const std::vector<std::pair<std::string, std::string>>& axes);

}  // namespace occult::cli
