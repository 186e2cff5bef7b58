#pragma once
// The Markdown summary (`occult report --format md`): context, where each strategy wins, and the full
// results tables, for docs and pull requests. Same content as the HTML page, without plots.
#include <string>

#include "sim/cli/host/report_analysis.hpp"
#include "sim/cli/host/report_html.hpp"

namespace occult::report {

std::string markdown_report(const Results& res, const Analysis& a, const PageInfo& info);

}  // namespace occult::report
