#pragma once
// "Where each strategy wins": for one configuration, who is fastest and why, in one sentence built only
// from the CSV's numbers (speedup, byte changes, the phases that changed most, communication share).
#include <string>

#include "sim/cli/host/report_analysis.hpp"

namespace occult::report {

struct Verdict {
  std::string winner;  // series label
  double factor = 0;   // speedup of the winner over the baseline; NaN without a standard row
  std::string reason;  // plain text, e.g. "inter-node bytes -38%, dispatch -45% (-1.20 ms), ..."
};

// Explains the configuration's winner, or with exact_only its fastest exact (unpruned) row; a Verdict
// with an empty winner when there is no such row.
Verdict explain(const Results& res, const Analysis& a, const Config& c, bool exact_only = false);

}  // namespace occult::report
