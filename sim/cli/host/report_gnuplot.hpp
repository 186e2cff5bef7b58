#pragma once
// Runs gnuplot (found through PATH) on a report's plot script and brings the SVGs back as inline <svg>
// elements. A missing or failing gnuplot is not an error: the report says so and keeps its tables.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/cli/host/report_analysis.hpp"
#include "sim/cli/host/report_plot_script.hpp"

namespace occult::report {

struct RenderedPlot {
  std::string kind;
  std::size_t panel = 0;
  std::string svg;  // an inline <svg> element
};

struct PlotOutcome {
  std::vector<RenderedPlot> plots;
  std::string note;  // why plots are missing; empty when all were drawn
};

// Writes report.gp (and gnuplot.log, the SVGs) into plots_dir, or into a temporary folder that is removed
// afterwards when plots_dir is empty. Throws InputError when plots_dir cannot be created.
PlotOutcome render_plots(const Results& res, const Analysis& a, const std::string& plots_dir);
// The same for any plot script: `build` writes its SVGs into the folder it is given (plots_dir, or a
// temporary one).
PlotOutcome render_script(const std::function<PlotScript(const std::string&)>& build,
                          const std::string& plots_dir);

// The <svg> element of a gnuplot SVG file with its ids prefixed, so that several plots can share one page
// (gnuplot names its markers gpPt0, gpPt1, ... in every file).
std::string inline_svg(std::string_view svg_file, const std::string& id_prefix);

}  // namespace occult::report
