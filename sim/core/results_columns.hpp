#pragma once
// The fixed columns of the results CSV (docs/formats/results-csv.md), in the order `occult sweep` writes
// them; `occult report` checks its input against the same list.
#include <string>
#include <vector>

namespace occult {

const std::vector<std::string>& results_csv_columns();

}  // namespace occult
