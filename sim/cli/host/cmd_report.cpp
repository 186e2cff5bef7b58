// occult report: turn a sweep's results CSV into a scaling report (HTML with plots, or Markdown).
#include <iostream>

#include "sim/cli/commands.hpp"
#include "sim/cli/host/report_analysis.hpp"
#include "sim/cli/host/report_gnuplot.hpp"
#include "sim/cli/host/report_html.hpp"
#include "sim/cli/host/report_markdown.hpp"
#include "sim/cli/host/report_shards.hpp"
#include "sim/core/error.hpp"
#include "sim/core/output_file.hpp"
#include "sim/core/results_csv.hpp"

namespace occult::cli {
namespace {

struct ReportOptions {
  std::vector<std::string> inputs;
  std::string output = "-";
  std::string title = "occult scaling report";
  std::string plots_dir;
  std::string format = "html";
  bool no_plots = false;
};

// The command line as the footer shows it: what a reader types to make the same report again.
std::string command_line(const ReportOptions& o) {
  std::string cmd = "occult report";
  for (const auto& in : o.inputs) cmd += " " + in;
  if (o.output != "-") cmd += " -o " + o.output;
  if (o.format != "html") cmd += " --format " + o.format;
  if (o.title != ReportOptions{}.title) cmd += " --title '" + o.title + "'";
  if (o.no_plots) cmd += " --no-plots";
  return cmd;
}

void write_output(const std::string& path, const std::string& text) {
  OutputFile out(path);
  out.stream() << text;
  out.commit();
}

void run(const ReportOptions& o) {
  const std::vector<std::string> files = report::expand_results_paths(o.inputs);
  refuse_overwriting_input(o.output, files, "output");
  std::vector<Results> parts;
  for (const auto& f : files) parts.push_back(read_results(f));
  Results res;
  if (parts.size() == 1) {
    res = std::move(parts.front());
  } else {
    // Shards of one sweep: merged by run_id; duplicated and missing runs are said, not hidden.
    report::MergedResults m = report::merge_results(parts);
    std::cerr << "occult report: " << files.size() << " results files, " << m.results.rows.size() << " runs; "
              << m.duplicates << " duplicated (" << m.conflicting << " with different results), " << m.missing
              << " missing from the grid the files span\n";
    for (const auto& note : m.notes) std::cerr << "occult report: warning: " << note << "\n";
    res = std::move(m.results);
  }
  report::Analysis a = report::analyze_results(res);
  report::PageInfo info{o.title, command_line(o)};
  std::string text;
  std::size_t plot_count = 0;
  if (o.format == "md") {
    text = report::markdown_report(res, a, info);
  } else {
    report::PlotOutcome plots;
    if (!o.no_plots) plots = report::render_plots(res, a, o.plots_dir);
    if (!plots.note.empty()) std::cerr << "occult report: warning: " << plots.note << "\n";
    plot_count = plots.plots.size();
    text = report::html_report(res, a, plots, info);
  }
  write_output(o.output, text);
  std::cerr << "occult report: " << res.rows.size() << " rows, " << a.configs.size() << " configurations, "
            << plot_count << " plots" << (o.output == "-" ? "" : " -> " + o.output) << "\n";
}

}  // namespace

void add_report_command(CLI::App& app) {
  auto opts = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Scaling report from a sweep's results CSV: where each strategy (standard, occult, hierarchical,\n"
      "pruned) and placement wins, and why (bytes, copies per token, which phase dominates).\n"
      "HTML: one self-contained page with plots drawn by gnuplot (found on PATH; without it the page has\n"
      "tables only). Markdown (--format md): the same summary and tables, no plots.\n"
      "Rows with equal inputs except strategy/placement form a configuration; speedup = layer time of its\n"
      "fastest standard row / layer time of the row. Input columns: docs/formats/results-csv.md.\n"
      "Several files, or folders of them (every *.csv inside), are the shards of one sweep (`occult sweep\n"
      "--shard i/N`, one file per shard): runs are merged by run_id, and runs found in two files (kept\n"
      "once) and points missing from the grid the files span (axis values x strategies x placements) are\n"
      "listed on stderr; docs/sweeps-on-a-cluster.md has a Slurm recipe.\n"
      "Example: occult report out/default.csv -o out/report.html --plots-dir out/plots\n"
      "         occult report shards/ --format md -o report.md");
  cmd->add_option(
         "results", opts->inputs,
         "results CSV written by `occult sweep` ('-': standard input), or several, or folders of them")
      ->required();
  cmd->add_option("-o,--output", opts->output, "report file; '-' for stdout")->capture_default_str();
  cmd->add_option("--title", opts->title, "page title")->capture_default_str();
  cmd->add_option("--plots-dir", opts->plots_dir,
                  "keep the gnuplot script (report.gp, data inside), its log and the SVGs in this folder "
                  "(default: a temporary folder, removed)");
  cmd->add_option("--format", opts->format, "html or md")
      ->check(CLI::IsMember({"html", "md"}))
      ->capture_default_str();
  cmd->add_flag("--no-plots", opts->no_plots, "do not run gnuplot (HTML tables only)");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace occult::cli
