#pragma once
// The gnuplot script of a report: for every panel (configurations that differ only in x), the layer time,
// speedup over standard, stacked phase times, bytes (remote and inter-node) and copies per token, each
// written as one SVG file. The data travels inside the script as datablocks, so the script alone
// reproduces the plots (`occult report --plots-dir DIR` keeps it).
#include <string>
#include <vector>

#include "sim/cli/host/report_analysis.hpp"

namespace occult::report {

struct PlotSpec {
  std::string kind;   // "time", "speedup", "phases", "bytes", "ct"
  std::size_t panel;  // index into Analysis::panels
  std::string file;   // SVG the script writes
};

struct PlotScript {
  std::string text;
  std::vector<PlotSpec> plots;
};

// Plot kinds in the order the report shows them.
const std::vector<std::string>& plot_kinds();

// SVG files go to out_dir/<kind>_<panel>.svg.
PlotScript build_plot_script(const Results& res, const Analysis& a, const std::string& out_dir);

}  // namespace occult::report
