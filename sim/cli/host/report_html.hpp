#pragma once
// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no external files) from the
// reports/templates/report.html template.
#include <string>

#include "sim/cli/host/report_analysis.hpp"
#include "sim/cli/host/report_gnuplot.hpp"

namespace occult::report {

struct PageInfo {
  std::string title;
  std::string command;  // how the report was made, shown in the footer
};

std::string html_report(const Results& res, const Analysis& a, const PlotOutcome& plots,
                        const PageInfo& info);

}  // namespace occult::report
